"""Treated against holdout: the interval covers a known effect and CUPED narrows it."""

from __future__ import annotations

import numpy as np
import pytest

from crm.insights import lift

TRUE_EFFECT = 800.0  # fen of GMV per member


def synthetic(seed: int, treated: int = 900, holdout: int = 300) -> tuple[np.ndarray, ...]:
    """Skewed spend (most members buy little, a few a lot) that persists from the
    pre-period, plus a known effect on the treated."""
    rng = np.random.default_rng(seed)
    habit = rng.lognormal(mean=8.0, sigma=1.0, size=treated + holdout)
    before = habit * rng.lognormal(0, 0.3, size=habit.size)
    after = habit * rng.lognormal(0, 0.3, size=habit.size)
    after[:treated] += TRUE_EFFECT
    return after[:treated], after[treated:], before[:treated], before[treated:]


def test_the_95_percent_interval_covers_the_true_effect_in_at_least_93_of_100_runs() -> None:
    covered = {"welch": 0, "cuped": 0, "bootstrap": 0}
    for seed in range(100):
        treated, holdout, treated_before, holdout_before = synthetic(seed)
        raw = lift.difference(treated, holdout, seed=seed, resamples=200)
        adjusted = lift.cuped(
            treated, holdout, treated_before, holdout_before, seed=seed, resamples=200
        )
        covered["welch"] += raw.welch.low <= TRUE_EFFECT <= raw.welch.high
        covered["cuped"] += (
            adjusted.difference.welch.low <= TRUE_EFFECT <= adjusted.difference.welch.high
        )
        covered["bootstrap"] += raw.bootstrap.low <= TRUE_EFFECT <= raw.bootstrap.high
    assert covered["welch"] >= 93, covered
    assert covered["cuped"] >= 93, covered
    assert covered["bootstrap"] >= 90, covered


def test_cuped_narrows_the_interval_by_the_variance_it_explains() -> None:
    treated, holdout, treated_before, holdout_before = synthetic(7)
    raw = lift.difference(treated, holdout)
    adjusted = lift.cuped(treated, holdout, treated_before, holdout_before)
    raw_width = raw.welch.high - raw.welch.low
    adjusted_width = adjusted.difference.welch.high - adjusted.difference.welch.low
    assert adjusted.variance_reduction > 0.5
    assert adjusted_width < raw_width * 0.75
    assert adjusted.difference.minimum_detectable < raw.minimum_detectable
    # Without a covariate that explains anything, CUPED changes nothing.
    noise = np.random.default_rng(1).normal(size=treated.size + holdout.size)
    blind = lift.cuped(treated, holdout, noise[: treated.size], noise[treated.size :])
    assert blind.variance_reduction < 0.05


def test_the_bootstrap_agrees_with_welch_on_large_groups() -> None:
    treated, holdout, _, _ = synthetic(3, 4000, 1500)
    raw = lift.difference(treated, holdout, seed=3)
    assert raw.bootstrap.low == pytest.approx(raw.welch.low, rel=0.15, abs=40)
    assert raw.bootstrap.high == pytest.approx(raw.welch.high, rel=0.15, abs=40)


def test_a_group_of_one_has_no_interval() -> None:
    with pytest.raises(lift.TooFewMembers):
        lift.difference([1.0, 2.0], [3.0])


def test_campaign_effect_prices_the_cuped_difference_for_every_treated_member() -> None:
    treated, holdout, treated_before, holdout_before = synthetic(11, treated=600, holdout=200)
    held = np.r_[np.zeros(treated.size, dtype=bool), np.ones(holdout.size, dtype=bool)]
    gmv, before = np.r_[treated, holdout], np.r_[treated_before, holdout_before]
    effect = lift.campaign_effect(
        held, gmv, before, gmv > 0, before > 0, points_cost=90_000, fen_per_point=2
    )
    adjusted = lift.cuped(treated, holdout, treated_before, holdout_before)
    assert (effect.treated_members, effect.holdout_members) == (600, 200)
    assert effect.gmv_fen.difference == pytest.approx(adjusted.difference.difference)
    assert effect.gmv_fen.interval == adjusted.difference.welch
    assert effect.incremental_gmv_yuan == pytest.approx(adjusted.difference.difference * 6)
    assert effect.incremental_gmv_yuan_interval.low == pytest.approx(
        adjusted.difference.welch.low * 6
    )
    # The interval covers the known effect on every treated member, in yuan.
    interval = effect.incremental_gmv_yuan_interval
    assert interval.low <= TRUE_EFFECT * 600 / 100 <= interval.high
    assert effect.points_cost_yuan == 1_800.0  # 90,000 points at 2 fen
    assert effect.roi == pytest.approx((effect.incremental_gmv_yuan - 1_800) / 1_800)
    assert effect.roi_interval is not None
    assert effect.roi_interval.low == pytest.approx((interval.low - 1_800) / 1_800)
    assert effect.points_per_member == 150.0
    assert effect.treated_gmv_change_vs_before == pytest.approx(
        treated.sum() / treated_before.sum() - 1
    )


def test_campaign_effect_needs_two_members_held_out_and_a_cost_for_a_roi() -> None:
    gmv = np.arange(10, dtype=float)
    with pytest.raises(lift.TooFewMembers):
        lift.campaign_effect(
            np.zeros(10, dtype=bool), gmv, gmv, gmv > 0, gmv > 0, points_cost=5, fen_per_point=1
        )
    free = lift.campaign_effect(
        np.arange(10) % 3 == 0, gmv, gmv, gmv > 0, gmv > 0, points_cost=0, fen_per_point=1
    )
    assert free.roi is None and free.roi_interval is None and free.points_per_member == 0


@pytest.mark.parametrize(
    ("incremental", "low", "high", "cost", "expected"),
    [
        (50.0, -10.0, 110.0, 20.0, (True, "added", "about")),
        (500.0, 300.0, 700.0, 200.0, (False, "added", "more")),
        (150.0, 100.0, 200.0, 400.0, (False, "added", "less")),
        (150.0, 100.0, 200.0, 150.0, (False, "added", "about")),
        (-300.0, -500.0, -100.0, 50.0, (False, "lost", "less")),
    ],
)
def test_the_verdict_says_whether_zero_and_the_cost_are_inside_the_interval(
    incremental: float, low: float, high: float, cost: float, expected: tuple[bool, str, str]
) -> None:
    verdict = lift.verdict(incremental, lift.Interval(low, high), cost)
    assert (verdict.includes_zero, verdict.direction, verdict.against_cost) == expected
