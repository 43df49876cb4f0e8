"""What a campaign added: treated against holdout, per eligible member.

The estimate a finance director can sign is the difference in means between members
who were offered the campaign and the random holdout who were not (the holdout is drawn
by a hash of campaign and member, so it is independent of everything else). Its 95 %
interval is Welch's (unequal variances), cross-checked by a bootstrap; CUPED (Deng et
al. 2013) subtracts the part of each member's outcome that their pre-period outcome
predicts, which leaves the expected difference unchanged and narrows the interval.

`campaign_effect` turns one outcome per eligible member into the campaign's answer in
money: incremental GMV with its interval, points cost, ROI and a verdict. It is the one
arithmetic both the API (from the operational database, `crm.campaign_lift`) and the
campaign page (from the warehouse, `warehouse.campaign_headline`) run, so they agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from common.errors import Invalid

CONFIDENCE = 0.95
POWER = 0.80
BOOTSTRAP_RESAMPLES = 400


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def includes_zero(self) -> bool:
        return self.low <= 0 <= self.high


@dataclass(frozen=True)
class Difference:
    """treated mean − holdout mean of one outcome per member."""

    treated_mean: float
    holdout_mean: float
    difference: float
    standard_error: float
    welch: Interval
    bootstrap: Interval
    # The smallest true difference these group sizes detect with 80 % power at 5 %.
    minimum_detectable: float


@dataclass(frozen=True)
class Adjusted:
    """The CUPED estimate: the same difference with the pre-period as covariate."""

    theta: float
    difference: Difference
    variance_reduction: float  # 1 − var(adjusted) / var(raw), pooled over both groups


@dataclass(frozen=True)
class Outcome:
    """One outcome per eligible member: the plain difference and the CUPED one."""

    treated_mean: float
    holdout_mean: float
    difference: float
    interval: Interval  # Welch, CUPED-adjusted: the headline
    unadjusted_interval: Interval
    bootstrap_interval: Interval  # the cross-check of the adjusted one
    variance_reduction: float
    minimum_detectable: float

    @classmethod
    def of(cls, adjusted: Adjusted, raw: Difference) -> Outcome:
        d = adjusted.difference
        return cls(
            treated_mean=raw.treated_mean,
            holdout_mean=raw.holdout_mean,
            difference=d.difference,
            interval=d.welch,
            unadjusted_interval=raw.welch,
            bootstrap_interval=d.bootstrap,
            variance_reduction=adjusted.variance_reduction,
            minimum_detectable=d.minimum_detectable,
        )


@dataclass(frozen=True)
class Verdict:
    """What the interval of the incremental GMV says, for a sentence in any language."""

    includes_zero: bool  # no effect cannot be ruled out
    direction: Literal["added", "lost"]
    against_cost: Literal["more", "less", "about"]  # the interval against the points cost


@dataclass(frozen=True)
class CampaignEffect:
    """A campaign's incremental effect in money, from one outcome per eligible member."""

    treated_members: int
    holdout_members: int
    gmv_fen: Outcome  # net spend per eligible member in the measured days
    purchase_rate: Outcome  # share of eligible members who bought at all
    points_per_member: float  # what the campaign gave per treated member
    points_cost: int
    fen_per_point: int
    points_cost_yuan: float
    incremental_gmv_yuan: float
    incremental_gmv_yuan_interval: Interval
    roi: float | None  # (incremental GMV - points cost) / points cost
    roi_interval: Interval | None
    verdict: Verdict
    # Secondary and not causal: the treated members' own spend, measured days vs before.
    treated_gmv_change_vs_before: float | None


class TooFewMembers(Invalid):
    """A group has fewer than two members, or no day to measure: no interval."""

    code = "too-few-members"
    title = "Too few members to measure"


def difference(
    treated: ArrayLike, holdout: ArrayLike, *, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES
) -> Difference:
    t = np.asarray(treated, dtype=float)
    h = np.asarray(holdout, dtype=float)
    if t.size < 2 or h.size < 2:
        raise TooFewMembers("each group needs at least two members")
    t_var, h_var = t.var(ddof=1), h.var(ddof=1)
    se = math.sqrt(t_var / t.size + h_var / h.size)
    diff = float(t.mean() - h.mean())
    quantile = _t_quantile(t_var, t.size, h_var, h.size)
    z_alpha = NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2)
    z_power = NormalDist().inv_cdf(POWER)
    return Difference(
        treated_mean=float(t.mean()),
        holdout_mean=float(h.mean()),
        difference=diff,
        standard_error=se,
        welch=Interval(diff - quantile * se, diff + quantile * se),
        bootstrap=_bootstrap(t, h, seed, resamples),
        minimum_detectable=float((z_alpha + z_power) * se),
    )


def cuped(
    treated: ArrayLike,
    holdout: ArrayLike,
    treated_before: ArrayLike,
    holdout_before: ArrayLike,
    *,
    seed: int = 0,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> Adjusted:
    """`difference` on outcomes adjusted by their pre-period covariate."""
    y_t, y_h = np.asarray(treated, dtype=float), np.asarray(holdout, dtype=float)
    x_t, x_h = np.asarray(treated_before, dtype=float), np.asarray(holdout_before, dtype=float)
    y = np.concatenate([y_t, y_h])
    x = np.concatenate([x_t, x_h])
    x_var = x.var(ddof=1) if x.size > 1 else 0.0
    theta = float(np.cov(x, y, ddof=1)[0, 1] / x_var) if x_var > 0 else 0.0
    mean_x = x.mean()
    adjusted_t = y_t - theta * (x_t - mean_x)
    adjusted_h = y_h - theta * (x_h - mean_x)
    raw_var = y.var(ddof=1) if y.size > 1 else 0.0
    adjusted_var = np.concatenate([adjusted_t, adjusted_h]).var(ddof=1) if y.size > 1 else 0.0
    reduction = float(1 - adjusted_var / raw_var) if raw_var > 0 else 0.0
    return Adjusted(
        theta=theta,
        difference=difference(adjusted_t, adjusted_h, seed=seed, resamples=resamples),
        variance_reduction=reduction,
    )


def campaign_effect(
    in_holdout: ArrayLike,
    gmv_fen: ArrayLike,
    gmv_before_fen: ArrayLike,
    bought: ArrayLike,
    bought_before: ArrayLike,
    *,
    points_cost: int,
    fen_per_point: int,
) -> CampaignEffect:
    """Treated against holdout, one entry per eligible member in each array (in the same
    order, by member id for a reproducible bootstrap): whether held out, net spend in
    fen in the measured days and in as many days before, whether they bought at all.

    Incremental GMV = CUPED difference per member x treated members; its interval is
    the Welch interval scaled alike. Money turns into yuan (fen / 100) only here and is
    not rounded. ROI is (incremental GMV - points cost) / points cost, None when the
    points cost nothing. Raises TooFewMembers when a group has fewer than two members.
    """
    held = np.asarray(in_holdout, dtype=bool)
    gmv = np.asarray(gmv_fen, dtype=float)
    gmv_before = np.asarray(gmv_before_fen, dtype=float)
    treated = ~held

    def outcome(values: np.ndarray, covariate: np.ndarray) -> Outcome:
        raw = difference(values[treated], values[held])
        adjusted = cuped(values[treated], values[held], covariate[treated], covariate[held])
        return Outcome.of(adjusted, raw)

    gmv_outcome = outcome(gmv, gmv_before)
    rate_outcome = outcome(np.asarray(bought, dtype=float), np.asarray(bought_before, dtype=float))
    cost_yuan = points_cost * fen_per_point / 100
    n_treated = int(treated.sum())
    incremental = gmv_outcome.difference * n_treated / 100
    interval = Interval(
        gmv_outcome.interval.low * n_treated / 100, gmv_outcome.interval.high * n_treated / 100
    )
    roi = (incremental - cost_yuan) / cost_yuan if cost_yuan > 0 else None
    roi_interval = (
        Interval((interval.low - cost_yuan) / cost_yuan, (interval.high - cost_yuan) / cost_yuan)
        if cost_yuan > 0
        else None
    )
    spent_before = float(gmv_before[treated].sum())
    return CampaignEffect(
        treated_members=n_treated,
        holdout_members=int(held.sum()),
        gmv_fen=gmv_outcome,
        purchase_rate=rate_outcome,
        points_per_member=points_cost / n_treated if n_treated else 0.0,
        points_cost=points_cost,
        fen_per_point=fen_per_point,
        points_cost_yuan=cost_yuan,
        incremental_gmv_yuan=incremental,
        incremental_gmv_yuan_interval=interval,
        roi=roi,
        roi_interval=roi_interval,
        verdict=verdict(incremental, interval, cost_yuan),
        treated_gmv_change_vs_before=(
            float(gmv[treated].sum()) / spent_before - 1 if spent_before else None
        ),
    )


def verdict(incremental: float, interval: Interval, cost_yuan: float) -> Verdict:
    """Whether the interval includes zero, which way the effect goes, and whether the
    whole interval lies above ("more") or below ("less") the points cost."""
    return Verdict(
        includes_zero=interval.includes_zero(),
        direction="added" if incremental > 0 else "lost",
        against_cost=(
            "more" if interval.low > cost_yuan else "less" if interval.high < cost_yuan else "about"
        ),
    )


def _t_quantile(t_var: float, t_n: int, h_var: float, h_n: int) -> float:
    """The two-sided t quantile at Welch-Satterthwaite degrees of freedom."""
    a, b = t_var / t_n, h_var / h_n
    if a + b == 0:
        return float(NormalDist().inv_cdf(1 - (1 - CONFIDENCE) / 2))
    from scipy import stats  # a second of start-up; only a measured effect needs it

    df = (a + b) ** 2 / (a**2 / (t_n - 1) + b**2 / (h_n - 1))
    return float(stats.t.ppf(1 - (1 - CONFIDENCE) / 2, df))


def _bootstrap(t: np.ndarray, h: np.ndarray, seed: int, resamples: int) -> Interval:
    """Percentile interval of the difference in means over resampled groups."""
    rng = np.random.default_rng(seed)
    # In chunks, so a million members never hold resamples x members draws at once.
    chunk = max(1, 2_000_000 // max(t.size, h.size))
    differences = []
    for first in range(0, resamples, chunk):
        size = min(chunk, resamples - first)
        t_means = rng.choice(t, size=(size, t.size), replace=True).mean(axis=1)
        h_means = rng.choice(h, size=(size, h.size), replace=True).mean(axis=1)
        differences.append(t_means - h_means)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(np.concatenate(differences), [tail, 100 - tail])
    return Interval(float(low), float(high))
