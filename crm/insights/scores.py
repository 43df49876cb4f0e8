"""One training of member scores from feature frames: RFM, segments and churn risk.

The frames come from the warehouse (warehouse.member_features) by way of the composition
root; nothing here reads a database. The churn model is judged on the time split
(crm.insights.churn), then fitted again on the latest complete period so the risk written
for each member comes from the freshest labels that exist as of the day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pandas as pd

from crm.insights.churn import (
    MODEL_VERSION,
    ChurnEvaluation,
    evaluate_churn,
    fit_churn_model,
    predict_churn,
)
from crm.insights.member_value import MemberValues
from crm.insights.rfm import rfm_scores
from crm.insights.segments import SegmentRule, assign_segments


@dataclass(frozen=True)
class Period:
    """Features of the members as of a day and what each bought in the horizon after it."""

    as_of: date
    features: pd.DataFrame  # warehouse.member_features columns
    purchases_after: pd.DataFrame  # member_id, purchases_after

    def labelled(self) -> tuple[pd.DataFrame, pd.Series]:
        frame = self.features.merge(self.purchases_after, on="member_id", how="left")
        churned = frame["purchases_after"].fillna(0).eq(0)
        return frame, churned


@dataclass(frozen=True)
class ScoreRun:
    as_of: date
    model_version: str
    evaluation: ChurnEvaluation
    scores: pd.DataFrame  # member_id, r, f, m, segment_code, churn_risk
    segment_counts: dict[str, int]

    value_metrics: dict[str, Any] | None = None

    def metrics(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "model_version": self.model_version,
            "members": len(self.scores),
            **self.evaluation.as_dict(),
            "segments": self.segment_counts,
            "lifetime_value": self.value_metrics,
        }

    def with_values(self, values: MemberValues) -> ScoreRun:
        """These scores with each member's probability alive, expected purchases and value
        (left empty, NaN, for members who have not bought)."""
        scores = self.scores.merge(values.values, on="member_id", how="left")
        return replace(self, scores=scores, value_metrics=values.metrics())

    def without_values(self, reason: str) -> ScoreRun:
        """These scores with no lifetime value, and the reason in the metrics: a history
        the purchase models cannot be fitted to must not cost the churn and RFM scores."""
        return replace(self, value_metrics={"not_fitted": reason})


def score_members(
    *,
    as_of: date,
    current: pd.DataFrame,
    train: Period,
    test: Period,
    horizon_days: int,
    rules: Sequence[SegmentRule],
) -> ScoreRun:
    """Scores for every member of `current` (features as of `as_of`).

    `train` and `test` are the time split (test.as_of + horizon <= as_of). Raises
    churn.NotEnoughData when a period has too few members or a single outcome.
    """
    train_frame, train_churned = train.labelled()
    test_frame, test_churned = test.labelled()
    evaluation = evaluate_churn(
        train_frame,
        train_churned,
        test_frame,
        test_churned,
        train_as_of=train.as_of,
        test_as_of=test.as_of,
        horizon_days=horizon_days,
    )
    model = fit_churn_model(test_frame, test_churned, f"latest period as of {test.as_of}")
    frame = current.reset_index(drop=True)
    rfm = rfm_scores(frame)
    segments = assign_segments(pd.concat([frame, rfm], axis=1), rules)
    scores = pd.DataFrame(
        {
            "member_id": frame["member_id"].astype("int64"),
            "r": rfm["r"],
            "f": rfm["f"],
            "m": rfm["m"],
            "segment_code": segments,
            "churn_risk": predict_churn(model, frame).round(6),
        }
    )
    counts = {code: int(n) for code, n in segments.value_counts().sort_index().items()}
    return ScoreRun(as_of, MODEL_VERSION, evaluation, scores, counts)
