"""The BG/NBD model (Fader, Hardie & Lee 2005): repeat purchases while a customer is alive.

Customer i buys at Poisson rate λ ~ Gamma(r, α) and, after each purchase, drops out with
probability p ~ Beta(a, b). Everything here works in log space (`gammaln`, `betaln`,
`logaddexp`), so no term overflows however many purchases or customers there are.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from crm.insights.estimation import Objective, log_add_exp, maximise
from crm.insights.summary import Distinct, FloatArray, Histories


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.r, self.alpha, self.a, self.b)


@dataclass(frozen=True)
class BgNbdFit:
    params: BgNbdParams
    log_likelihood: float
    customers: int
    iterations: int


DEFAULT_START = BgNbdParams(r=1.0, alpha=1.0, a=1.0, b=1.0)


def log_likelihood(params: BgNbdParams, histories: Histories) -> FloatArray:
    """log L of each history (not weighted): FHL 2005, equation (6)."""
    return _terms(params.as_tuple(), _Columns.of(histories))[0]


def fit(histories: Histories, start: BgNbdParams = DEFAULT_START) -> BgNbdFit:
    """Maximum-likelihood (r, α, a, b) with the analytic gradient; raises `FitFailed` if no
    maximum is found."""
    columns = _Columns.of(histories.grouped())
    total = float(columns.histories.weight.sum())

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        values = np.exp(log_params)
        ll, grad = _terms(tuple(values), columns, gradient=True)
        # d/d log θ = θ · d/dθ
        return -float((columns.histories.weight * ll).sum()) / total, -grad * values / total

    optimum = maximise(
        Objective.with_gradient(objective),
        start.as_tuple(),
        model="BG/NBD",
        names=("r", "alpha", "a", "b"),
    )
    return BgNbdFit(
        params=BgNbdParams(*optimum.params),
        log_likelihood=optimum.mean_log_likelihood * total,
        customers=histories.customers,
        iterations=optimum.iterations,
    )


@dataclass(frozen=True)
class _Columns:
    """The histories with their distinct x, t_x and T, and the customers per distinct x."""

    histories: Histories
    x: Distinct
    t_x: Distinct
    T: Distinct
    x_weight: FloatArray

    @classmethod
    def of(cls, histories: Histories) -> _Columns:
        x = Distinct.of(histories.x)
        return cls(
            histories,
            x,
            Distinct.of(histories.t_x),
            Distinct.of(histories.T),
            np.bincount(x.at, weights=histories.weight, minlength=x.values.size).astype(np.float64),
        )


def _terms(
    params: tuple[float, ...], columns: _Columns, *, gradient: bool = False
) -> tuple[FloatArray, FloatArray]:
    """log L per history and, with `gradient`, the gradient of their weighted sum. Terms of
    x alone are computed per distinct x and summed with its customer count."""
    r, alpha, a, b = params
    ux, at_x = columns.x.values, columns.x.at
    x, weight = columns.histories.x, columns.histories.weight
    repeat = ux > 0
    # Per distinct x: the rate part, and the two ways the history can end, alive at T or
    # dropped out after the last purchase (only possible with one, x > 0; its beta
    # function needs b + x - 1 > 0, so it is computed on x > 0 alone).
    b_x = np.where(repeat, b + ux - 1, 1.0)
    beta_ab = betaln(a, b)
    rate_x = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
    alive_x = betaln(a, b + ux) - beta_ab
    dead_x = np.where(repeat, betaln(a + 1, b_x) - beta_ab, -np.inf)
    log_alpha_T = np.log(alpha + columns.T.values)[columns.T.at]
    log_alpha_tx = np.log(alpha + columns.t_x.values)[columns.t_x.at]
    r_x = r + x
    alive = alive_x[at_x] - r_x * log_alpha_T
    dead = dead_x[at_x] - r_x * log_alpha_tx
    total = log_add_exp(alive, dead)
    ll = rate_x[at_x] + total
    if not gradient:
        return ll, np.empty(0)
    # Customers of each history alive at T, and dropped out, in the posterior's proportions.
    w_alive = weight * np.exp(alive - total)
    w_dead = weight - w_alive
    psi_ab = digamma(a + b)
    psi_abx = digamma(a + b + ux)
    per_x = columns.x_weight
    dr = per_x @ (digamma(r + ux) - digamma(r) + np.log(alpha)) - (
        (w_alive * log_alpha_T).sum() + (w_dead * log_alpha_tx).sum()
    )
    inverse_T = (1.0 / (alpha + columns.T.values))[columns.T.at]
    inverse_tx = (1.0 / (alpha + columns.t_x.values))[columns.t_x.at]
    dalpha = r / alpha * per_x.sum() - (r_x * (w_alive * inverse_T + w_dead * inverse_tx)).sum()
    dead_x_weight = np.bincount(at_x, weights=w_dead, minlength=ux.size)
    alive_x_weight = per_x - dead_x_weight
    da = per_x @ (psi_ab - psi_abx) + dead_x_weight.sum() * (digamma(a + 1) - digamma(a))
    db = alive_x_weight @ (digamma(b + ux) - psi_abx - digamma(b) + psi_ab) + dead_x_weight @ (
        digamma(b_x) - psi_abx - digamma(b) + psi_ab
    )
    return ll, np.array([dr, dalpha, da, db])


def probability_alive(params: BgNbdParams, histories: Histories) -> FloatArray:
    """P(alive at T | x, t_x, T); 1 for customers without repeat purchases."""
    r, alpha, a, b = params.as_tuple()
    x = histories.x
    b_x = np.where(x > 0, b + x - 1, 1.0)
    odds = (
        np.log(a)
        - np.log(b_x)
        + (r + x) * (np.log(alpha + histories.T) - np.log(alpha + histories.t_x))
    )
    return np.where(x > 0, expit(-odds), 1.0)


def expected_purchases(params: BgNbdParams, t: float) -> float:
    """E[X(t)]: repeat purchases of a new customer in the first t after the first purchase."""
    zero = np.zeros(1)
    history = Histories(zero, zero, zero, np.ones(1))
    return float(conditional_expected_purchases(params, t, history)[0])


def conditional_expected_purchases(
    params: BgNbdParams, t: float, histories: Histories
) -> FloatArray:
    """E[Y(t) | x, t_x, T]: repeat purchases in the next t after T (FHL 2005, eq. 10).

    ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x-1; z) is computed through Euler's
    transformation as (1-z)^(a-1) · 2F1(a+b-1-r, a-1; a+b+x-1; z), which neither overflows
    nor cancels for large x.
    """
    r, alpha, a, b = params.as_tuple()
    x, T = histories.x, histories.T
    z = t / (alpha + T + t)
    c = a + b + x - 1
    tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)
    purchases = c / (a - 1) * (1 - tail)
    return np.asarray(purchases * probability_alive(params, histories), dtype=np.float64)
