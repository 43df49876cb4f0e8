"""Each member's probability of being alive, expected purchases and expected value.

BG/NBD and Gamma-Gamma are fitted to every member's daily purchases up to the as-of day
(the same conventions as `memberhub insights fit-clv`: a purchase is a day with spend,
repeat purchases are the days after the first, weeks as the unit) and then applied to
each member's own history. The value is what the expected purchases of the next
`horizon_weeks` are worth at the member's expected spend per purchase, undiscounted:
a year ahead, discounting would move it by a few per cent and hide the arithmetic.

When members do not differ in what they spend per purchase beyond chance (a shop where
every basket is drawn from one distribution), Gamma-Gamma has no maximum: its
heterogeneity runs to infinity. That limit is a single mean for everybody, so the spend
falls back to the pooled mean of the repeat purchases, and the metrics say so.

Before the figures are trusted they are checked on the time split the churn model uses:
fitted up to an earlier day, the predicted total of repeat purchases in the days after
it is set beside the counted total (`ValueCheck`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from crm.insights import bgnbd, gamma_gamma
from crm.insights.errors import FitFailed
from crm.insights.summary import FloatArray
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "actual": self.actual,
            "predicted": round(self.predicted, 1),
            "error": round(self.predicted / self.actual - 1, 4) if self.actual else None,
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

    purchases: bgnbd.BgNbdFit
    spend: SpendEstimate
    horizon_weeks: float
    values: pd.DataFrame
    check: ValueCheck | None

    def metrics(self) -> dict[str, Any]:
        bg = self.purchases.params
        return {
            "horizon_weeks": self.horizon_weeks,
            "customers": len(self.values),
            "bgnbd": {
                "r": round(bg.r, 6),
                "alpha": round(bg.alpha, 6),
                "a": round(bg.a, 6),
                "b": round(bg.b, 6),
                "log_likelihood": round(self.purchases.log_likelihood, 3),
            },
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
    when nobody bought and `FitFailed` when BG/NBD finds no maximum.
    """
    transactions = _transactions(purchases)
    summary = summarise(transactions, as_of)
    histories = summary.histories
    purchases_fit = bgnbd.fit(histories)
    spend_fit = SpendEstimate.of(histories.x, summary.mean_spend)
    expected = bgnbd.conditional_expected_purchases(purchases_fit.params, horizon_weeks, histories)
    spend = spend_fit.per_member(histories.x, summary.mean_spend)
    values = pd.DataFrame(
        {
            "member_id": np.asarray(summary.customer_ids, dtype=np.int64),
            "alive": bgnbd.probability_alive(purchases_fit.params, histories),
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
    purchases = bgnbd.fit(summary.histories)
    weeks = (holdout_end - calibration_end).days / DAYS_PER_WEEK
    predicted = bgnbd.conditional_expected_purchases(purchases.params, weeks, summary.histories)
    counted = summary.holdout_purchases
    return ValueCheck(
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        actual=0 if counted is None else int(counted.sum()),
        predicted=float(predicted.sum()),
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
    "SpendEstimate",
    "ValueCheck",
    "expected_spend",
    "member_values",
]
