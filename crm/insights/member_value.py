"""Each member's probability of being alive, expected purchases and expected value.

A purchase model and Gamma-Gamma are fitted to every member's daily purchases up to the
as-of day (the same conventions as `memberhub insights fit-clv`: a purchase is a day
with spend, repeat purchases are the days after the first, weeks as the unit) and then
applied to each member's own history.

The purchase model is BG/NBD or Pareto/NBD, whichever fits better. Both have four
parameters, so the likelihood alone compares them fairly. A model whose maximum lies on
the edge of its parameter space is no candidate: on the demo's history BG/NBD's drop-out
mixture runs to a = 0 (some members buy once and never again, the rest never leave),
which Pareto/NBD, dropping out in continuous time, describes without an edge.

The value is what the expected purchases of the next `horizon_weeks` are worth at the
member's expected spend per purchase, undiscounted: a year ahead, discounting would move
it by a few per cent and hide the arithmetic.

When members do not differ in what they spend per purchase beyond chance (a shop where
every basket is drawn from one distribution), Gamma-Gamma has no maximum: its
heterogeneity runs to infinity. That limit is a single mean for everybody, so the spend
falls back to the pooled mean of the repeat purchases, and the metrics say so.

Before the figures are trusted they are checked on the time split the churn model uses:
fitted up to an earlier day, the predicted total of repeat purchases in the days after
it is set beside the counted total (`ValueCheck`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from crm.insights import bgnbd, gamma_gamma, pareto_nbd
from crm.insights.errors import FitFailed
from crm.insights.summary import FloatArray, Histories
from crm.insights.transactions import (
    DAYS_PER_WEEK,
    Transactions,
    summarise,
)

HORIZON_WEEKS = 52.0
PURCHASE_COLUMNS = ("member_id", "day", "amount_fen")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class ValueCheck:
    """Repeat purchases counted in (calibration end, holdout end] beside the prediction
    of models fitted on the purchases up to the calibration end."""

    calibration_end: date
    holdout_end: date
    actual: int
    predicted: float
    model: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "actual": self.actual,
            "predicted": round(self.predicted, 1),
            "error": round(self.predicted / self.actual - 1, 4) if self.actual else None,
        }


@dataclass(frozen=True)
class PurchaseModel:
    """The purchase model a run uses, with the reason any other was passed over."""

    name: str  # "bgnbd" or "pareto_nbd"
    params: bgnbd.BgNbdParams | pareto_nbd.ParetoNbdParams
    log_likelihood: float
    passed_over: dict[str, str]

    @classmethod
    def best(cls, histories: Histories) -> PurchaseModel:
        """BG/NBD, or Pareto/NBD where BG/NBD has no maximum inside its parameter space
        (a history where nobody seems to drop out sends its `a` to the edge); raises
        `FitFailed` when neither fits. Pareto/NBD is the fallback, not a rival fitted every
        time: its likelihood costs a hypergeometric function per history, and on small
        populations its optimiser can wander for minutes where BG/NBD answers at once."""
        failures: dict[str, str] = {}
        fitters: tuple[tuple[str, Callable[[Histories], Any]], ...] = (
            ("bgnbd", bgnbd.fit),
            ("pareto_nbd", pareto_nbd.fit),
        )
        for name, fit in fitters:
            try:
                result = fit(histories)
            except FitFailed as error:
                failures[name] = error.detail
                continue
            return cls(name, result.params, result.log_likelihood, failures)
        raise FitFailed("; ".join(failures.values()))

    def alive(self, histories: Histories) -> FloatArray:
        if isinstance(self.params, bgnbd.BgNbdParams):
            return bgnbd.probability_alive(self.params, histories)
        return pareto_nbd.probability_alive(self.params, histories)

    def expected(self, weeks: float, histories: Histories) -> FloatArray:
        if isinstance(self.params, bgnbd.BgNbdParams):
            return bgnbd.conditional_expected_purchases(self.params, weeks, histories)
        return pareto_nbd.conditional_expected_purchases(self.params, weeks, histories)

    def metrics(self) -> dict[str, Any]:
        return {
            "model": self.name,
            **{name: round(value, 6) for name, value in asdict(self.params).items()},
            "log_likelihood": round(self.log_likelihood, 3),
            "passed_over": self.passed_over,
        }


@dataclass(frozen=True)
class SpendEstimate:
    """Expected spend per purchase: Gamma-Gamma, or the pooled mean where it has no fit."""

    fit: gamma_gamma.GammaGammaFit | None
    pooled_mean: float
    fallback_reason: str | None

    @classmethod
    def of(cls, x: FloatArray, mean: FloatArray) -> SpendEstimate:
        spend = gamma_gamma.Spend.of(x, mean)
        pooled = float((spend.x * spend.mean).sum() / spend.x.sum()) if spend.customers else 0.0
        try:
            return cls(gamma_gamma.fit(spend), pooled, None)
        except FitFailed as error:
            return cls(None, pooled, error.detail)

    def per_member(self, x: FloatArray, mean: FloatArray) -> FloatArray:
        if self.fit is None:
            return np.full(x.shape, self.pooled_mean, dtype=np.float64)
        return expected_spend(self.fit.params, x, mean)

    def metrics(self) -> dict[str, Any]:
        if self.fit is None:
            return {"pooled_mean_fen": round(self.pooled_mean, 2), "fallback": self.fallback_reason}
        p, q, gamma = self.fit.params.as_tuple()
        return {
            "p": round(p, 6),
            "q": round(q, 6),
            "gamma": round(gamma, 6),
            "customers": self.fit.customers,
        }


@dataclass(frozen=True)
class MemberValues:
    """The fitted models and, per member who bought by the as-of day, `values`: member_id,
    alive, expected_purchases, expected_value_fen."""

    purchases: PurchaseModel
    spend: SpendEstimate
    horizon_weeks: float
    values: pd.DataFrame
    check: ValueCheck | None

    def metrics(self) -> dict[str, Any]:
        return {
            "horizon_weeks": self.horizon_weeks,
            "customers": len(self.values),
            "purchases": self.purchases.metrics(),
            "gamma_gamma": self.spend.metrics(),
            "expected_value_fen_total": int(self.values["expected_value_fen"].sum()),
            "check": self.check.as_dict() if self.check else None,
        }


def member_values(
    purchases: pd.DataFrame,
    as_of: date,
    *,
    horizon_weeks: float = HORIZON_WEEKS,
    check_from: date | None = None,
) -> MemberValues:
    """Values for every member with a purchase on or before `as_of`.

    `purchases` has PURCHASE_COLUMNS (a member's spend per day, in fen; days after `as_of`
    are ignored). With `check_from`, the models are also fitted on the purchases up to that
    day and judged on the repeat purchases between it and `as_of`. Raises `NoCustomers`
    when nobody bought and `FitFailed` when neither purchase model finds a maximum.
    """
    transactions = _transactions(purchases)
    summary = summarise(transactions, as_of)
    histories = summary.histories
    purchases_fit = PurchaseModel.best(histories)
    spend_fit = SpendEstimate.of(histories.x, summary.mean_spend)
    expected = purchases_fit.expected(horizon_weeks, histories)
    spend = spend_fit.per_member(histories.x, summary.mean_spend)
    values = pd.DataFrame(
        {
            "member_id": np.asarray(summary.customer_ids, dtype=np.int64),
            "alive": purchases_fit.alive(histories),
            "expected_purchases": expected,
            "expected_value_fen": np.rint(expected * spend).astype(np.int64),
        }
    )
    check = None
    if check_from is not None and check_from < as_of:
        check = _check(transactions, check_from, as_of)
    return MemberValues(purchases_fit, spend_fit, horizon_weeks, values, check)


def expected_spend(
    params: gamma_gamma.GammaGammaParams, x: FloatArray, mean: FloatArray
) -> FloatArray:
    """E[Z | z̄, x] for repeat buyers with a positive mean; the population mean E[Z] for
    the rest (a first purchase says nothing about the spend of later ones in this model)."""
    population = gamma_gamma.population_mean_spend(params)
    own = (x >= 1) & np.isfinite(mean) & (mean > 0)
    result = np.full(x.shape, population, dtype=np.float64)
    if own.any():
        result[own] = gamma_gamma.conditional_expected_spend(
            params, gamma_gamma.Spend(x[own], mean[own])
        )
    return result


def _check(transactions: Transactions, calibration_end: date, holdout_end: date) -> ValueCheck:
    summary = summarise(transactions, calibration_end, holdout_end)
    purchases = PurchaseModel.best(summary.histories)
    weeks = (holdout_end - calibration_end).days / DAYS_PER_WEEK
    predicted = purchases.expected(weeks, summary.histories)
    counted = summary.holdout_purchases
    return ValueCheck(
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        actual=0 if counted is None else int(counted.sum()),
        predicted=float(predicted.sum()),
        model=purchases.name,
    )


def _transactions(purchases: pd.DataFrame) -> Transactions:
    members, customer = np.unique(
        purchases["member_id"].to_numpy(dtype=np.int64), return_inverse=True
    )
    since_epoch = pd.to_datetime(purchases["day"]).to_numpy().astype("datetime64[D]")
    days = since_epoch.astype(np.int64) + _EPOCH_ORDINAL
    return Transactions(
        customer_ids=tuple(str(int(member)) for member in members),
        customer=customer.astype(np.int64).ravel(),
        day=days,
        amount=purchases["amount_fen"].to_numpy(dtype=np.float64),
    )


__all__ = [
    "HORIZON_WEEKS",
    "MemberValues",
    "PurchaseModel",
    "SpendEstimate",
    "ValueCheck",
    "expected_spend",
    "member_values",
]
