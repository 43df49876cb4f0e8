"""A campaign's incremental effect, from the operational database: who was eligible,
who was held out, what each bought in the campaign's days and in as many days before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

import points_engine
from common.clock import start_of_day
from crm import queries
from crm.insights import lift
from crm.insights import queries as insight_queries


@dataclass(frozen=True)
class Outcome:
    """One outcome per eligible member: the plain difference and the CUPED one."""

    treated_mean: float
    holdout_mean: float
    difference: float
    interval: lift.Interval  # Welch, CUPED-adjusted: the headline
    unadjusted_interval: lift.Interval
    bootstrap_interval: lift.Interval  # the cross-check of the adjusted one
    variance_reduction: float
    minimum_detectable: float

    @classmethod
    def of(cls, adjusted: lift.Adjusted, raw: lift.Difference) -> Outcome:
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
class CampaignLift:
    code: str
    measured_from: date
    measured_to: date
    baseline_from: date
    treated_members: int
    holdout_members: int
    holdout_pct: int
    gmv_fen: Outcome  # net spend per eligible member in the campaign's days
    purchase_rate: Outcome  # share of eligible members who bought at all
    points_per_member: float  # what the campaign gave per treated member
    points_cost: int
    fen_per_point: int
    points_cost_yuan: float
    incremental_gmv_yuan: float
    incremental_gmv_yuan_interval: lift.Interval
    roi: float | None  # (incremental GMV - points cost) / points cost
    roi_interval: lift.Interval | None
    conclusion: str
    # Secondary and not causal: the treated members' own spend, campaign days vs before.
    treated_gmv_change_vs_before: float | None


def campaign_lift(session: Session, code: str, today: date, fen_per_point: int) -> CampaignLift:
    """Treated against holdout for the campaign's days up to yesterday. Raises
    UnknownCampaign, lift.TooFewMembers."""
    campaign = next(
        (row for row, _ in points_engine.queries.list_campaigns(session) if row.code == code),
        None,
    )
    if campaign is None:
        raise points_engine.UnknownCampaign(f"no campaign {code!r}")
    start = campaign.starts_on
    end = min(campaign.ends_on, today - timedelta(days=1))
    if end < start:
        raise lift.TooFewMembers(f"campaign {code!r} has no complete day yet")
    days = (end - start).days + 1
    before = start - timedelta(days=days)
    # Members registered before the campaign ended (today, while it runs): as the
    # warehouse defines the groups. Assignment is random, so late joiners dilute both alike.
    # A score target narrows them to the members it reached (see _matching_target).
    registered_by = start_of_day(min(campaign.ends_on, today) + timedelta(days=1))
    eligible = queries.members_registered_before(session, registered_by)
    eligible = _matching_target(session, campaign.target or {}, eligible, start)
    during = points_engine.queries.spend_by_member(
        session, start_of_day(start), start_of_day(end + timedelta(days=1))
    )
    earlier = points_engine.queries.spend_by_member(
        session, start_of_day(before), start_of_day(start)
    )
    awards = points_engine.queries.campaign_awards(session, code)
    held = np.array(
        [points_engine.in_holdout(code, m, campaign.holdout_pct) for m in eligible], dtype=bool
    )
    gmv = np.array([during.get(m, (0, 0))[0] for m in eligible], dtype=float)
    bought = np.array([1.0 if during.get(m, (0, 0))[1] else 0.0 for m in eligible])
    gmv_before = np.array([earlier.get(m, (0, 0))[0] for m in eligible], dtype=float)
    bought_before = np.array([1.0 if earlier.get(m, (0, 0))[1] else 0.0 for m in eligible])
    treated, holdout = ~held, held

    def outcome(values: np.ndarray, covariate: np.ndarray) -> Outcome:
        raw = lift.difference(values[treated], values[holdout])
        adjusted = lift.cuped(
            values[treated], values[holdout], covariate[treated], covariate[holdout]
        )
        return Outcome.of(adjusted, raw)

    gmv_outcome = outcome(gmv, gmv_before)
    rate_outcome = outcome(bought, bought_before)
    points_cost = sum(awards.values())
    cost_yuan = points_cost * fen_per_point / 100
    n_treated = int(treated.sum())
    incremental = gmv_outcome.difference * n_treated / 100
    interval = lift.Interval(
        gmv_outcome.interval.low * n_treated / 100, gmv_outcome.interval.high * n_treated / 100
    )
    roi = (incremental - cost_yuan) / cost_yuan if cost_yuan > 0 else None
    roi_interval = (
        lift.Interval(
            (interval.low - cost_yuan) / cost_yuan, (interval.high - cost_yuan) / cost_yuan
        )
        if cost_yuan > 0
        else None
    )
    spent_before = float(gmv_before[treated].sum())
    return CampaignLift(
        code=code,
        measured_from=start,
        measured_to=end,
        baseline_from=before,
        treated_members=n_treated,
        holdout_members=int(holdout.sum()),
        holdout_pct=campaign.holdout_pct,
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
        conclusion=_conclusion(incremental, interval, cost_yuan),
        treated_gmv_change_vs_before=(
            float(gmv[treated].sum()) / spent_before - 1 if spent_before else None
        ),
    )


def _matching_target(
    session: Session, target: dict[str, Any], members: list[int], start: date
) -> list[int]:
    """With a score target, only the members it reached as the campaign began: their
    scores in the latest run as of its first day (else the latest run), treated and
    holdout alike, so the two groups are drawn from the same population."""
    matches = points_engine.score_target_of(target)
    if matches is None:
        return members
    scores = insight_queries.scores_of(session, members, as_of=start)
    return [
        member_id
        for member_id in members
        if matches(points_engine.MemberScore(*scores[member_id]) if member_id in scores else None)
    ]


def _conclusion(incremental: float, interval: lift.Interval, cost_yuan: float) -> str:
    if interval.includes_zero():
        return (
            f"The 95% interval of the incremental GMV (¥{interval.low:,.0f} to "
            f"¥{interval.high:,.0f}) includes zero: this campaign's effect cannot be told "
            "apart from no effect."
        )
    direction = "added" if incremental > 0 else "lost"
    verdict = (
        "more than"
        if interval.low > cost_yuan
        else "less than"
        if interval.high < cost_yuan
        else "about"
    )
    return (
        f"The campaign {direction} ¥{abs(incremental):,.0f} of GMV against its holdout "
        f"(95% interval ¥{interval.low:,.0f} to ¥{interval.high:,.0f}), {verdict} the "
        f"¥{cost_yuan:,.0f} its points cost."
    )
