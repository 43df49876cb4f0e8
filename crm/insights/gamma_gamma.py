"""The Gamma-Gamma model of spend (Fader & Hardie 2013): what a customer's purchases are worth.

A customer's purchases are worth Gamma(p, ν) each, with ν ~ Gamma(q, γ) across customers;
the mean z̄ of x purchases then has the density below, which depends on nothing but x and
z̄. It is fitted on customers with repeat purchases and a positive mean spend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import digamma, gammaln

from crm.insights.errors import NoCustomers
from crm.insights.estimation import Objective, maximise
from crm.insights.summary import Distinct, FloatArray


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float

    def as_tuple(self) -> tuple[float, float, float]:
        return (self.p, self.q, self.gamma)


@dataclass(frozen=True)
class GammaGammaFit:
    params: GammaGammaParams
    log_likelihood: float
    customers: int
    iterations: int


DEFAULT_START = GammaGammaParams(p=1.0, q=1.0, gamma=1.0)


@dataclass(frozen=True)
class Spend:
    """Repeat purchases `x` (>= 1) and their mean value `mean` (> 0), one row per customer."""

    x: FloatArray
    mean: FloatArray

    @classmethod
    def of(cls, x: npt.ArrayLike, mean: npt.ArrayLike) -> Spend:
        """Keeps the customers the model covers: x >= 1 and a finite, positive mean."""
        xs = np.asarray(x, dtype=np.float64).ravel()
        means = np.asarray(mean, dtype=np.float64).ravel()
        if xs.size != means.size:
            raise ValueError("x and mean need one value per customer")
        with np.errstate(invalid="ignore"):
            keep = (xs >= 1) & np.isfinite(means) & (means > 0)
        return cls(xs[keep], means[keep])

    @property
    def customers(self) -> int:
        return int(self.x.size)


def log_likelihood(params: GammaGammaParams, spend: Spend) -> FloatArray:
    """log f(z̄ | p, q, γ; x) of each customer (Fader & Hardie 2013, equation 4)."""
    return _terms(params.as_tuple(), _Columns.of(spend))[0]


def fit(spend: Spend, start: GammaGammaParams = DEFAULT_START) -> GammaGammaFit:
    """Maximum-likelihood (p, q, γ) with the analytic gradient; raises `NoCustomers`
    without a repeat buyer with a positive mean spend and `FitFailed` if no maximum is
    found."""
    if spend.customers == 0:
        raise NoCustomers("Gamma-Gamma needs customers with repeat purchases and positive spend")
    columns = _Columns.of(spend)
    total = float(spend.customers)

    def objective(log_params: FloatArray) -> tuple[float, FloatArray]:
        values = np.exp(log_params)
        ll, grad = _terms(tuple(values), columns, gradient=True)
        return -float(ll.sum()) / total, -grad * values / total

    optimum = maximise(
        Objective.with_gradient(objective),
        start.as_tuple(),
        model="Gamma-Gamma",
        names=("p", "q", "gamma"),
    )
    return GammaGammaFit(
        params=GammaGammaParams(*optimum.params),
        log_likelihood=optimum.mean_log_likelihood * total,
        customers=spend.customers,
        iterations=optimum.iterations,
    )


@dataclass(frozen=True)
class _Columns:
    """The spend with what does not depend on the parameters computed once: the distinct
    x (the gamma functions are evaluated per distinct x), log z̄ and x·z̄."""

    spend: Spend
    x: Distinct
    log_mean: FloatArray
    total: FloatArray

    @classmethod
    def of(cls, spend: Spend) -> _Columns:
        return cls(spend, Distinct.of(spend.x), np.log(spend.mean), spend.x * spend.mean)


def _terms(
    params: tuple[float, ...], columns: _Columns, *, gradient: bool = False
) -> tuple[FloatArray, FloatArray]:
    """Per customer log f, and with `gradient` the gradient of their sum."""
    p, q, gamma = params
    ux, at_x = columns.x.values, columns.x.at
    x = columns.spend.x
    pux = p * ux
    log_ux = np.log(ux)
    # log f = [per x] + (px - 1) log z̄ - (px + q) log(γ + x z̄)
    per_x = gammaln(pux + q) - gammaln(pux) - gammaln(q) + q * np.log(gamma) + pux * log_ux
    log_gamma_xz = np.log(gamma + columns.total)
    px = p * x
    ll = per_x[at_x] + (px - 1) * columns.log_mean - (px + q) * log_gamma_xz
    if not gradient:
        return ll, np.empty(0)
    count = np.bincount(at_x, minlength=ux.size).astype(np.float64)
    psi = digamma(pux + q)
    dp = (
        count @ (ux * (psi - digamma(pux) + log_ux)) + (x * (columns.log_mean - log_gamma_xz)).sum()
    )
    dq = count @ (psi - digamma(q) + np.log(gamma)) - log_gamma_xz.sum()
    dgamma = q / gamma * x.size - ((px + q) / (gamma + columns.total)).sum()
    return ll, np.array([dp, dq, dgamma])


def population_mean_spend(params: GammaGammaParams) -> float:
    """E[Z] = pγ / (q - 1); infinite when q <= 1."""
    p, q, gamma = params.as_tuple()
    return p * gamma / (q - 1) if q > 1 else float("inf")


def conditional_expected_spend(params: GammaGammaParams, spend: Spend) -> FloatArray:
    """E[Z | z̄, x]: a weighted mean of the population mean and the customer's own mean,
    the customer's weighing more the more purchases they made (FH 2013, equation 5)."""
    p, q, gamma = params.as_tuple()
    px = p * spend.x
    return np.asarray((p * (gamma + spend.x * spend.mean)) / (px + q - 1), dtype=np.float64)
