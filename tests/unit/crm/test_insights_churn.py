"""The churn model on frames with a planted signal: better than recency alone, calibrated
enough to report, and a clear refusal when the data cannot support it."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from crm.insights import NotEnoughData
from crm.insights.churn import MODEL_FEATURES, calibration_table, evaluate_churn
from crm.insights.scores import Period, score_members
from crm.insights.segments import DEFAULT_SEGMENTS


def population(seed: int, members: int = 2000) -> tuple[pd.DataFrame, pd.Series]:
    """Members whose churn depends on recency *relative to their own rhythm*: a silence
    of 60 days is alarming for a weekly buyer and normal for a twice-a-year one."""
    rng = np.random.default_rng(seed)
    frequency = rng.gamma(1.2, 6.0, members).round().astype(int) + 1
    gap = 365 / frequency
    recency = rng.exponential(gap * rng.uniform(0.3, 2.0, members)).clip(0, 365).round()
    overdue = recency / gap
    churned = rng.random(members) < 1 / (1 + np.exp(-(2.5 * overdue - 2.5)))
    frame = pd.DataFrame({name: 0 for name in MODEL_FEATURES}, index=range(members))
    frame["member_id"] = np.arange(1, members + 1)
    frame["recency_days"] = recency
    frame["frequency"] = frequency
    frame["frequency_90d"] = (frequency * rng.uniform(0.1, 0.4, members)).round()
    frame["monetary_fen"] = frequency * rng.integers(2_000, 30_000, members)
    frame["tenure_days"] = rng.integers(100, 1500, members)
    frame["purchases_ever"] = frequency
    return frame, pd.Series(churned)


def test_the_model_beats_recency_alone_on_a_later_period():
    train, train_y = population(1)
    test, test_y = population(2)
    result = evaluate_churn(
        train,
        train_y,
        test,
        test_y,
        train_as_of=date(2026, 1, 1),
        test_as_of=date(2026, 4, 1),
        horizon_days=90,
    )
    assert result.roc_auc > result.baseline_roc_auc + 0.05
    assert result.pr_auc > result.baseline_pr_auc
    assert len(result.calibration) == 10
    assert sum(row.members for row in result.calibration) == len(test)
    means = [row.predicted_mean for row in result.calibration]
    assert means == sorted(means)
    # Calibrated enough that the riskiest tenth churns far more than the safest.
    assert result.calibration[-1].observed_rate > result.calibration[0].observed_rate + 0.4
    body = result.as_dict()
    assert body["train_as_of"] == "2026-01-01" and body["calibration"][0]["bin"] == 1


def test_one_outcome_only_is_a_clear_refusal():
    train, _ = population(3, 100)
    everyone = pd.Series([True] * len(train))
    with pytest.raises(NotEnoughData, match="100 of 100 members churned"):
        evaluate_churn(
            train,
            everyone,
            train,
            everyone,
            train_as_of=date(2026, 1, 1),
            test_as_of=date(2026, 4, 1),
            horizon_days=90,
        )
    with pytest.raises(NotEnoughData, match="at least 20"):
        evaluate_churn(
            train.head(5),
            pd.Series([True, False, True, False, True]),
            train,
            everyone,
            train_as_of=date(2026, 1, 1),
            test_as_of=date(2026, 4, 1),
            horizon_days=90,
        )


def test_score_members_scores_everyone_with_a_segment_and_a_risk():
    train, train_y = population(4, 400)
    test, test_y = population(5, 400)

    def period(frame, churned, day):
        bought = pd.DataFrame(
            {"member_id": frame["member_id"], "purchases_after": (~churned).astype(int)}
        )
        return Period(day, frame, bought)

    run = score_members(
        as_of=date(2026, 7, 1),
        current=test,
        train=period(train, train_y, date(2026, 1, 1)),
        test=period(test, test_y, date(2026, 4, 1)),
        horizon_days=90,
        rules=DEFAULT_SEGMENTS,
    )
    assert len(run.scores) == 400
    assert run.scores["churn_risk"].between(0, 1).all()
    assert set(run.scores["segment_code"]) <= {rule.code for rule in DEFAULT_SEGMENTS}
    assert sum(run.segment_counts.values()) == 400
    metrics = run.metrics()
    assert metrics["members"] == 400 and metrics["as_of"] == "2026-07-01"


def test_calibration_table_of_few_members_has_fewer_bins():
    table = calibration_table([0.1, 0.9, 0.5], [False, True, True])
    assert [row.members for row in table] == [1, 1, 1]
    assert [row.observed_rate for row in table] == [0.0, 1.0, 1.0]
