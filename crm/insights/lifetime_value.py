"""Fit every lifetime-value model to one calibration summary and check it on the holdout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from crm.insights import bgnbd, gamma_gamma, pareto_nbd
from crm.insights.transactions import CalibrationSummary


@dataclass(frozen=True)
class Holdout:
    """Repeat purchases in the holdout: counted, and expected by the BG/NBD model."""

    weeks: float
    actual: int
    predicted: float


@dataclass(frozen=True)
class ClvReport:
    customers: int
    bgnbd: bgnbd.BgNbdFit
    gamma_gamma: gamma_gamma.GammaGammaFit
    pareto_nbd: pareto_nbd.ParetoNbdFit
    holdout: Holdout | None

    def as_json(self) -> dict[str, Any]:
        """The figures `memberhub insights fit-clv` prints, to six significant digits."""
        bg, gg, pn = self.bgnbd.params, self.gamma_gamma.params, self.pareto_nbd.params
        report: dict[str, Any] = {
            "customers": self.customers,
            "bgnbd": _rounded(
                r=bg.r, alpha=bg.alpha, a=bg.a, b=bg.b, log_likelihood=self.bgnbd.log_likelihood
            ),
            "gamma_gamma": _rounded(p=gg.p, q=gg.q, gamma=gg.gamma),
            "pareto_nbd": _rounded(
                r=pn.r,
                alpha=pn.alpha,
                s=pn.s,
                beta=pn.beta,
                log_likelihood=self.pareto_nbd.log_likelihood,
            ),
        }
        if self.holdout is not None:
            report["holdout"] = {
                "actual": self.holdout.actual,
                "predicted": _significant(self.holdout.predicted),
            }
        return report


def fit_clv(summary: CalibrationSummary) -> ClvReport:
    """BG/NBD and Pareto/NBD on every customer's (x, t_x, T); Gamma-Gamma on the customers
    with repeat purchases and a positive mean spend.

    The holdout prediction is the sum over customers of the BG/NBD conditional expectation
    E[Y(t) | x, t_x, T] for t the holdout's length: on CDNOW that is the 1,653 that Fader,
    Hardie & Lee (2005) compare with 1,882 actual. Raises `NoCustomers` when Gamma-Gamma
    has nobody to fit and `FitFailed` when a model finds no maximum.
    """
    histories = summary.histories
    purchases = bgnbd.fit(histories)
    spend = gamma_gamma.fit(gamma_gamma.Spend.of(histories.x, summary.mean_spend))
    lifetimes = pareto_nbd.fit(histories)
    holdout = None
    if summary.holdout_purchases is not None and summary.holdout_weeks is not None:
        expected = bgnbd.conditional_expected_purchases(
            purchases.params, summary.holdout_weeks, histories
        )
        holdout = Holdout(
            weeks=summary.holdout_weeks,
            actual=int(summary.holdout_purchases.sum()),
            predicted=float(np.sum(expected)),
        )
    return ClvReport(summary.customers, purchases, spend, lifetimes, holdout)


def _significant(value: float) -> float:
    return float(f"{value:.6g}")


def _rounded(**values: float) -> dict[str, float]:
    return {name: _significant(value) for name, value in values.items()}
