"""A campaign's incremental effect, from the operational database: who was eligible,
who was held out, what each bought in the campaign's days and in as many days before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

import points_engine
from common.clock import start_of_day
from crm import queries
from crm.insights import lift
from crm.insights import queries as insight_queries


@dataclass(frozen=True)
class CampaignLift:
    code: str
    measured_from: date
    measured_to: date
    baseline_from: date
    treated_members: int
    holdout_members: int
    holdout_pct: int
    gmv_fen: lift.Outcome  # net spend per eligible member in the campaign's days
    purchase_rate: lift.Outcome  # share of eligible members who bought at all
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
    held = [points_engine.in_holdout(code, m, campaign.holdout_pct) for m in eligible]
    effect = lift.campaign_effect(
        held,
        [during.get(m, (0, 0))[0] for m in eligible],
        [earlier.get(m, (0, 0))[0] for m in eligible],
        [1.0 if during.get(m, (0, 0))[1] else 0.0 for m in eligible],
        [1.0 if earlier.get(m, (0, 0))[1] else 0.0 for m in eligible],
        points_cost=sum(awards.values()),
        fen_per_point=fen_per_point,
    )
    return CampaignLift(
        code=code,
        measured_from=start,
        measured_to=end,
        baseline_from=before,
        treated_members=effect.treated_members,
        holdout_members=effect.holdout_members,
        holdout_pct=campaign.holdout_pct,
        gmv_fen=effect.gmv_fen,
        purchase_rate=effect.purchase_rate,
        points_per_member=effect.points_per_member,
        points_cost=effect.points_cost,
        fen_per_point=fen_per_point,
        points_cost_yuan=effect.points_cost_yuan,
        incremental_gmv_yuan=effect.incremental_gmv_yuan,
        incremental_gmv_yuan_interval=effect.incremental_gmv_yuan_interval,
        roi=effect.roi,
        roi_interval=effect.roi_interval,
        conclusion=conclusion(effect),
        treated_gmv_change_vs_before=effect.treated_gmv_change_vs_before,
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


def conclusion(effect: lift.CampaignEffect) -> str:
    """The verdict in an English sentence, amounts in whole yuan."""
    interval = effect.incremental_gmv_yuan_interval
    verdict = effect.verdict
    if verdict.includes_zero:
        return (
            f"The 95% interval of the incremental GMV (¥{interval.low:,.0f} to "
            f"¥{interval.high:,.0f}) includes zero: this campaign's effect cannot be told "
            "apart from no effect."
        )
    against = {"more": "more than", "less": "less than", "about": "about"}[verdict.against_cost]
    return (
        f"The campaign {verdict.direction} ¥{abs(effect.incremental_gmv_yuan):,.0f} of GMV "
        f"against its holdout (95% interval ¥{interval.low:,.0f} to ¥{interval.high:,.0f}), "
        f"{against} the ¥{effect.points_cost_yuan:,.0f} its points cost."
    )
