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
