"""Synthetic customers drawn from known parameters: what a fit must recover.

Histories are recorded as transaction data records them, by the day: each customer's age
T is a whole number of days (first purchases spread evenly over `cohort_days` before the
calibration period's last `min_age_days`), and the time of the last purchase is rounded to
a whole day at random (up with probability equal to the fraction), which leaves it unbiased.
Times are returned in weeks. Counts are of purchases, not of distinct days: at the rates
drawn here two purchases on one day are rare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm.insights.bgnbd import BgNbdParams
from crm.insights.gamma_gamma import GammaGammaParams, Spend
from crm.insights.pareto_nbd import ParetoNbdParams
from crm.insights.summary import FloatArray, Histories

DAYS_PER_WEEK = 7.0


@dataclass(frozen=True)
class Cohort:
    """Customers' ages: first purchases on each of `cohort_days` days, observed until the
    last of them is `min_age_days` old."""

    customers: int
    cohort_days: int = 91
    min_age_days: int = 273


def draw_bgnbd(params: BgNbdParams, cohort: Cohort, rng: np.random.Generator) -> Histories:
    """Poisson purchases at rate λ ~ Gamma(r, α) per week; after each repeat purchase the
    customer drops out with probability p ~ Beta(a, b)."""
    n = cohort.customers
    age_days = _ages(cohort, rng)
    T = age_days / DAYS_PER_WEEK
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    dropout = rng.beta(params.a, params.b, n)
    # Purchases in (0, T] had the customer lived; they stop at the one after which they
    # dropped out (geometric on 1, 2, ...).
    possible = rng.poisson(rate * T)
    last_alive = rng.geometric(dropout)
    x = np.minimum(possible, last_alive)
    return _with_recency(x, possible, T, age_days, rng)


def draw_pareto_nbd(params: ParetoNbdParams, cohort: Cohort, rng: np.random.Generator) -> Histories:
    """Poisson purchases at rate λ ~ Gamma(r, α) per week until an exponential lifetime of
    rate μ ~ Gamma(s, β) ends."""
    n = cohort.customers
    age_days = _ages(cohort, rng)
    T = age_days / DAYS_PER_WEEK
    rate = rng.gamma(params.r, 1.0 / params.alpha, n)
    death_rate = rng.gamma(params.s, 1.0 / params.beta, n)
    observed = np.minimum(rng.exponential(1.0 / death_rate), T)
    x = rng.poisson(rate * observed)
    # The last of x uniform purchase times in (0, observed].
    with np.errstate(divide="ignore"):
        last = observed * rng.random(n) ** (1.0 / np.maximum(x, 1))
    t_days = np.where(x > 0, last * DAYS_PER_WEEK, 0.0)
    return Histories.of(x, _round_days(t_days, age_days, rng) / DAYS_PER_WEEK, T)


def draw_spend(params: GammaGammaParams, x: FloatArray, rng: np.random.Generator) -> Spend:
    """The mean of x purchases each worth Gamma(p, ν), ν ~ Gamma(q, γ) per customer; only
    customers with x >= 1 are kept."""
    x = x[x >= 1]
    nu = rng.gamma(params.q, 1.0 / params.gamma, x.size)
    total = rng.gamma(params.p * x, 1.0 / nu)
    return Spend.of(x, total / x)


def _ages(cohort: Cohort, rng: np.random.Generator) -> FloatArray:
    offsets = rng.integers(0, cohort.cohort_days, cohort.customers)
    return np.asarray(cohort.min_age_days + offsets, dtype=np.float64)


def _with_recency(
    x: np.ndarray,
    possible: np.ndarray,
    T: FloatArray,
    age_days: FloatArray,
    rng: np.random.Generator,
) -> Histories:
    # Given `possible` uniform purchase times in (0, T], the x-th earliest is T · Beta(x,
    # possible - x + 1).
    has = x > 0
    fraction = np.zeros(x.size)
    fraction[has] = rng.beta(x[has], possible[has] - x[has] + 1)
    t_days = fraction * T * DAYS_PER_WEEK
    return Histories.of(x, _round_days(t_days, age_days, rng) / DAYS_PER_WEEK, T)


def _round_days(days: FloatArray, limit: FloatArray, rng: np.random.Generator) -> FloatArray:
    whole = np.floor(days + rng.random(days.size))
    return np.asarray(np.minimum(whole, limit), dtype=np.float64)
