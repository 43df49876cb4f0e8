"""BG/NBD: the log-space likelihood against its textbook form, its gradient, grouping,
expectations, and finiteness anywhere in the search box."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from scipy.special import beta as beta_fn
from scipy.special import gamma as gamma_fn
from scipy.special import hyp2f1

from crm.insights import FitFailed, Histories, bgnbd, simulation
from crm.insights.estimation import central_differences
from tests.unit.crm.insights.strategies import histories_and_params

PARAMS = bgnbd.BgNbdParams(r=0.24, alpha=4.4, a=0.79, b=2.4)


def textbook_likelihood(p: bgnbd.BgNbdParams, x: int, t_x: float, T: float) -> float:
    """FHL 2005, equation (6), with plain gamma and beta functions."""
    r, alpha, a, b = p.as_tuple()
    rate = gamma_fn(r + x) * alpha**r / gamma_fn(r)
    alive = beta_fn(a, b + x) / beta_fn(a, b) / (alpha + T) ** (r + x)
    dead = beta_fn(a + 1, b + x - 1) / beta_fn(a, b) / (alpha + t_x) ** (r + x) if x else 0.0
    return float(rate * (alive + dead))


@pytest.mark.parametrize(
    ("x", "t_x", "T"), [(0, 0.0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86), (7, 12.0, 12.0)]
)
def test_log_likelihood_is_the_log_of_the_textbook_formula(x: int, t_x: float, T: float) -> None:
    ll = bgnbd.log_likelihood(PARAMS, Histories.of([x], [t_x], [T]))[0]
    assert ll == pytest.approx(math.log(textbook_likelihood(PARAMS, x, t_x, T)), rel=1e-12)


def test_a_customer_without_repeat_purchases_on_the_last_day_has_likelihood_one() -> None:
    assert bgnbd.log_likelihood(PARAMS, Histories.of([0], [0.0], [0.0]))[0] == 0.0


def test_the_gradient_is_the_derivative_of_the_likelihood() -> None:
    histories = simulation.draw_bgnbd(
        PARAMS, simulation.Cohort(2_000), np.random.default_rng(3)
    ).grouped()
    columns = bgnbd._Columns.of(histories)
    at = np.log(np.array([0.5, 3.0, 1.2, 0.8]))

    def value(log_params: np.ndarray) -> float:
        ll, _ = bgnbd._terms(tuple(np.exp(log_params)), columns)
        return float((histories.weight * ll).sum())

    _, grad = bgnbd._terms(tuple(np.exp(at)), columns, gradient=True)
    assert grad * np.exp(at) == pytest.approx(central_differences(value, at), rel=1e-6)


def test_grouping_identical_histories_changes_nothing_but_the_work() -> None:
    histories = simulation.draw_bgnbd(PARAMS, simulation.Cohort(5_000), np.random.default_rng(4))
    grouped = histories.grouped()
    assert grouped.x.size < histories.x.size / 2
    assert grouped.customers == histories.customers == 5_000
    total = bgnbd.log_likelihood(PARAMS, histories).sum()
    assert grouped.weight @ bgnbd.log_likelihood(PARAMS, grouped) == pytest.approx(total)


def test_the_expectation_of_a_new_customer_is_the_published_formula() -> None:
    r, alpha, a, b = PARAMS.as_tuple()
    t = 39.0
    published = (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )
    assert bgnbd.expected_purchases(PARAMS, t) == pytest.approx(published, rel=1e-10)


def test_the_conditional_expectation_is_the_published_formula() -> None:
    """FHL 2005, equation (10), evaluated directly where it does not overflow."""
    r, alpha, a, b = PARAMS.as_tuple()
    x, t_x, T, t = 3, 20.0, 35.0, 39.0
    z = t / (alpha + T + t)
    numerator = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    )
    alive = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    expected = bgnbd.conditional_expected_purchases(PARAMS, t, Histories.of([x], [t_x], [T]))
    assert expected[0] == pytest.approx(numerator * alive, rel=1e-10)


def test_a_customer_without_repeat_purchases_is_alive_and_a_long_silent_one_is_not() -> None:
    histories = Histories.of([0, 10], [0.0, 1.0], [50.0, 300.0])
    alive = bgnbd.probability_alive(PARAMS, histories)
    assert alive[0] == 1.0
    assert 0.0 <= alive[1] < 1e-6
    expected = bgnbd.conditional_expected_purchases(PARAMS, 1e6, histories)
    assert np.all(np.isfinite(expected))


def test_data_without_a_repeat_purchase_identify_no_model() -> None:
    with pytest.raises(FitFailed, match="do not identify the model"):
        bgnbd.fit(Histories.of([0] * 50, [0.0] * 50, np.linspace(1, 50, 50)))


@pytest.mark.parametrize("start", [1e-4, 1.0, 1e4])
def test_the_fit_recovers_the_parameters_from_far_starting_values(start: float) -> None:
    histories = simulation.draw_bgnbd(PARAMS, simulation.Cohort(20_000), np.random.default_rng(5))
    fitted = bgnbd.fit(histories, bgnbd.BgNbdParams(start, start, start, start)).params
    reference = bgnbd.fit(histories).params
    assert fitted.as_tuple() == pytest.approx(reference.as_tuple(), rel=1e-4)


@settings(max_examples=300, deadline=None)
@given(histories_and_params())
def test_the_log_likelihood_is_finite_anywhere_in_the_search_box(
    case: tuple[Histories, tuple[float, float, float, float]],
) -> None:
    histories, params = case
    ll = bgnbd.log_likelihood(bgnbd.BgNbdParams(*params), histories)
    assert np.all(np.isfinite(ll))
    assert np.all(ll <= 1e-9 + np.where(histories.x == 0, 0.0, np.inf))
