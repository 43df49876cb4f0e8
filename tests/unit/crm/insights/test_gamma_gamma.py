"""Gamma-Gamma: the density of a mean spend, its gradient, who it covers, and finiteness."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import gamma as gamma_fn

from crm.insights import NoCustomers, bgnbd, gamma_gamma, simulation
from crm.insights.estimation import central_differences

PARAMS = gamma_gamma.GammaGammaParams(p=6.25, q=3.74, gamma=15.44)


def textbook_density(p: gamma_gamma.GammaGammaParams, x: int, z: float) -> float:
    """Fader & Hardie (2013), equation (4)."""
    a, q, g = p.as_tuple()
    return float(
        gamma_fn(a * x + q)
        / (gamma_fn(a * x) * gamma_fn(q))
        * g**q
        * x ** (a * x)
        * z ** (a * x - 1)
        / (g + x * z) ** (a * x + q)
    )


@pytest.mark.parametrize(("x", "z"), [(1, 29.33), (2, 14.96), (5, 40.0), (12, 3.5)])
def test_log_likelihood_is_the_log_of_the_textbook_density(x: int, z: float) -> None:
    ll = gamma_gamma.log_likelihood(PARAMS, gamma_gamma.Spend.of([x], [z]))[0]
    assert ll == pytest.approx(math.log(textbook_density(PARAMS, x, z)), rel=1e-12)


def test_only_repeat_buyers_with_a_positive_mean_spend_are_covered() -> None:
    spend = gamma_gamma.Spend.of([0, 1, 2, 3, 4], [np.nan, 10.0, 0.0, -5.0, 7.5])
    assert spend.customers == 2
    assert spend.x.tolist() == [1.0, 4.0]
    with pytest.raises(NoCustomers):
        gamma_gamma.fit(gamma_gamma.Spend.of([0, 2], [np.nan, 0.0]))


def test_the_gradient_is_the_derivative_of_the_likelihood() -> None:
    x = simulation.draw_bgnbd(
        bgnbd.BgNbdParams(0.5, 2.0, 0.8, 2.5),
        simulation.Cohort(2_000),
        np.random.default_rng(1),
    ).x
    columns = gamma_gamma._Columns.of(simulation.draw_spend(PARAMS, x, np.random.default_rng(2)))
    at = np.log(np.array([3.0, 5.0, 10.0]))

    def value(log_params: np.ndarray) -> float:
        return float(gamma_gamma._terms(tuple(np.exp(log_params)), columns)[0].sum())

    _, grad = gamma_gamma._terms(tuple(np.exp(at)), columns, gradient=True)
    assert grad * np.exp(at) == pytest.approx(central_differences(value, at), rel=1e-6)


def test_expected_spend_weighs_the_customer_by_their_purchases() -> None:
    p, q, g = PARAMS.as_tuple()
    population = gamma_gamma.population_mean_spend(PARAMS)
    assert population == pytest.approx(p * g / (q - 1))
    spend = gamma_gamma.Spend.of([1, 50], [100.0, 100.0])
    expected = gamma_gamma.conditional_expected_spend(PARAMS, spend)
    assert population < expected[0] < expected[1] < 100.0
    weight = p * 50 / (p * 50 + q - 1)
    assert expected[1] == pytest.approx(weight * 100.0 + (1 - weight) * population)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 1_000_000), st.floats(min_value=1e-6, max_value=1e9)),
        min_size=1,
        max_size=4,
    ),
    st.tuples(*(st.floats(min_value=1e-6, max_value=1e6),) * 3),
)
def test_the_log_likelihood_is_finite_anywhere_in_the_search_box(
    rows: list[tuple[int, float]], params: tuple[float, float, float]
) -> None:
    x, z = zip(*rows, strict=True)
    spend = gamma_gamma.Spend.of(x, z)
    ll = gamma_gamma.log_likelihood(gamma_gamma.GammaGammaParams(*params), spend)
    assert np.all(np.isfinite(ll))
