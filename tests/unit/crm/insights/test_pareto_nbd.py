"""Pareto/NBD: the likelihood against its integral form, both hypergeometric branches, the
quadrature used where 2F1 fails, expectations, and finiteness anywhere in the search box."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from scipy import integrate
from scipy.special import gammaln, hyp2f1

from crm.insights import FitFailed, Histories, pareto_nbd, simulation
from tests.unit.crm.insights.strategies import histories_and_params

PARAMS = pareto_nbd.ParetoNbdParams(r=0.55, alpha=10.6, s=0.61, beta=11.7)


def integral_form(p: pareto_nbd.ParetoNbdParams, x: float, t_x: float, T: float) -> float:
    """log L with the death time integrated numerically (QUADPACK, with break points on the
    scale the integrand falls on), the integrand divided by its value at t_x."""
    r, alpha, s, beta = p.as_tuple()
    base = gammaln(r + x) - gammaln(r) + r * math.log(alpha) + s * math.log(beta)
    alive = -(r + x) * math.log(alpha + T) - s * math.log(beta + T)
    if t_x >= T:
        return float(base + alive)
    a, b = alpha + t_x, beta + t_x
    scale = 1 / ((r + x) / a + (s + 1) / b)
    points = [scale * 2.0**k for k in range(-4, 200) if scale * 2.0**k < T - t_x]
    integral, _ = integrate.quad(
        lambda u: math.exp(-(r + x) * math.log1p(u / a) - (s + 1) * math.log1p(u / b)),
        0.0,
        T - t_x,
        points=points or None,
        limit=len(points) + 200,
        epsabs=0.0,
        epsrel=1e-12,
    )
    died = math.log(s) + math.log(integral) - (r + x) * math.log(a) - (s + 1) * math.log(b)
    return float(base + np.logaddexp(alive, died))


@pytest.mark.parametrize(
    "params",
    [PARAMS, pareto_nbd.ParetoNbdParams(0.55, 11.7, 0.61, 10.6)],
    ids=["alpha<beta", "alpha>beta"],
)
@pytest.mark.parametrize(
    ("x", "t_x", "T"), [(0, 0.0, 38.86), (1, 1.71, 38.86), (2, 30.43, 38.86), (9, 12.0, 12.0)]
)
def test_log_likelihood_is_the_integral_over_the_death_time(
    params: pareto_nbd.ParetoNbdParams, x: int, t_x: float, T: float
) -> None:
    ll = pareto_nbd.log_likelihood(params, Histories.of([x], [t_x], [T]))[0]
    assert ll == pytest.approx(integral_form(params, x, t_x, T), rel=1e-10)


def test_equal_alpha_and_beta_need_no_hypergeometric_function() -> None:
    params = pareto_nbd.ParetoNbdParams(0.5, 10.0, 0.6, 10.0)
    ll = pareto_nbd.log_likelihood(params, Histories.of([3], [5.0], [20.0]))[0]
    assert ll == pytest.approx(integral_form(params, 3, 5.0, 20.0), rel=1e-10)


def test_the_quadrature_agrees_with_the_hypergeometric_function_where_both_work() -> None:
    m = np.array([0.7, 1.2, 5.5, 40.0, 300.0])
    c = np.array([1.6, 1.2, 0.9, 3.0, 1.6])
    z = np.array([0.0, 0.3, 0.9, 0.5, 0.99])
    quadrature = pareto_nbd._log_series_by_quadrature(m, c, z, np.log1p(-z))
    assert quadrature == pytest.approx(np.log(hyp2f1(m, c, m + 1, z)), rel=1e-11, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(histories_and_params(size=1))
def test_the_log_likelihood_is_accurate_anywhere_in_the_search_box(
    case: tuple[Histories, tuple[float, float, float, float]],
) -> None:
    histories, params = case
    p = pareto_nbd.ParetoNbdParams(*params)
    ll = pareto_nbd.log_likelihood(p, histories)[0]
    x, t_x, T = histories.x[0], histories.t_x[0], histories.T[0]
    assert ll == pytest.approx(integral_form(p, x, t_x, T), rel=1e-8, abs=1e-8)


@settings(max_examples=300, deadline=None)
@given(histories_and_params())
def test_the_log_likelihood_is_finite_anywhere_in_the_search_box(
    case: tuple[Histories, tuple[float, float, float, float]],
) -> None:
    histories, params = case
    p = pareto_nbd.ParetoNbdParams(*params)
    assert np.all(np.isfinite(pareto_nbd.log_likelihood(p, histories)))
    alive = pareto_nbd.probability_alive(p, histories)
    assert np.all((alive >= 0) & (alive <= 1))


def test_grouping_identical_histories_changes_nothing_but_the_work() -> None:
    histories = simulation.draw_pareto_nbd(
        PARAMS, simulation.Cohort(5_000), np.random.default_rng(4)
    )
    grouped = histories.grouped()
    total = pareto_nbd.log_likelihood(PARAMS, histories).sum()
    assert grouped.weight @ pareto_nbd.log_likelihood(PARAMS, grouped) == pytest.approx(total)


def test_expectations_follow_the_published_formulas() -> None:
    r, alpha, s, beta = PARAMS.as_tuple()
    t = 39.0
    published = r * beta / (alpha * (s - 1)) * (1 - (beta / (beta + t)) ** (s - 1))
    assert pareto_nbd.expected_purchases(PARAMS, t) == pytest.approx(published, rel=1e-12)
    new = Histories.of([0], [0.0], [0.0])
    assert pareto_nbd.probability_alive(PARAMS, new)[0] == 1.0
    conditional = pareto_nbd.conditional_expected_purchases(PARAMS, t, new)[0]
    assert conditional == pytest.approx(published, rel=1e-12)


def test_the_expectation_is_continuous_through_s_equal_to_one() -> None:
    near = [
        pareto_nbd.expected_purchases(pareto_nbd.ParetoNbdParams(0.5, 10.0, s, 12.0), 39.0)
        for s in (1 - 1e-7, 1.0, 1 + 1e-7)
    ]
    assert near[0] == pytest.approx(near[1], rel=1e-6)
    assert near[2] == pytest.approx(near[1], rel=1e-6)


def test_a_long_silent_customer_is_probably_gone() -> None:
    histories = Histories.of([10, 10], [50.0, 1.0], [50.0, 300.0])
    alive = pareto_nbd.probability_alive(PARAMS, histories)
    assert alive[0] > 0.5 > 1e-3 > alive[1]


def test_data_without_a_repeat_purchase_identify_no_model() -> None:
    with pytest.raises(FitFailed, match="do not identify the model"):
        pareto_nbd.fit(Histories.of([0] * 50, [0.0] * 50, np.linspace(1, 50, 50)))
