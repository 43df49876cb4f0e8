"""Campaign simulation: replay past accruals under a proposed campaign and report its cost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from common.clock import business_date, start_of_day
from common.db import READ_ONLY_OPTION
from common.errors import InconsistentFields
from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.commands import CampaignCommand, MemberDirectory
from points_engine.domain import earning
from points_engine.domain.errors import UnknownCampaign
from points_engine.services.accrual import rule_book, tier_multiplier
from points_engine.services.campaigns import (
    campaign_spec_target,
    score_bounds,
    target_of,
    validate_campaign,
)

MAX_HISTORY_DAYS = 366
# Far wider than any ledger's history, and narrow enough that every day in it has a
# Shanghai midnight that UTC and the database can hold.
EARLIEST = date(1970, 1, 1)
LATEST = date(9998, 12, 31)
# Rows fetched per round trip; also the size of one member-tier lookup (an IN list).
CHUNK_SIZE = 500


def year_before(day: date) -> date:
    """The same day one year earlier; 29 February becomes 28 February. Year 1: ValueError."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def history_window(
    command: CampaignCommand, history_from: date | None = None, history_to: date | None = None
) -> tuple[date, date]:
    """The period to replay: each end as given, else the campaign's own one a year earlier.

    Raises Invalid when the campaign's own date has no year before it.
    """
    return (
        _given_or_year_before(history_from, command.starts_on, "history_from"),
        _given_or_year_before(history_to, command.ends_on, "history_to"),
    )


def _given_or_year_before(given: date | None, own: date, field: str) -> date:
    if given is not None:
        return given
    if own.year == 1:
        raise InconsistentFields.field(
            field, "give it: the campaign's own date has no year before it"
        )
    return year_before(own)


def stored_campaign(uow: UnitOfWork, code: str) -> CampaignCommand:
    """An existing campaign as the command that would create it again. Raises UnknownCampaign.

    The funding institution is not kept on the campaign and plays no part in a
    simulation, so the command carries the default one.
    """
    _begin_reading(uow)
    row = uow.session.scalars(select(orm.Campaign).where(orm.Campaign.code == code)).one_or_none()
    if row is None:
        raise UnknownCampaign(f"unknown campaign {code!r}")
    target = row.target or {}
    return CampaignCommand(
        code=row.code,
        name=row.name,
        name_en=row.name_en,
        starts_on=row.starts_on,
        ends_on=row.ends_on,
        budget_points=row.budget_points,
        multiplier_bp=row.multiplier_bp,
        bonus_points=row.bonus_points,
        per_member_cap=row.per_member_cap,
        holdout_pct=row.holdout_pct,
        business_types=tuple(target.get("business_types", [])),
        channels=tuple(target.get("channels", [])),
        categories=tuple(target.get("categories", [])),
        skus=tuple(target.get("skus", [])),
        tiers=tuple(target.get("tiers", [])),
        segments=tuple(target.get("segments", [])),
        churn_risk=score_bounds(target, "churn_risk"),
        expected_value_fen=score_bounds(target, "expected_value_fen"),
    )


def simulate_campaign(
    uow: UnitOfWork,
    directory: MemberDirectory,
    command: CampaignCommand,
    since: date,
    until: date,
) -> dict[str, Any]:
    """What the campaign would have cost had it run over the business days [since, until].

    Every accrual whose Asia/Shanghai business date falls in the period is replayed in
    the order it happened (occurred_at, then id) against today's earning rules and the
    member's current tier (and latest insight scores, for score targets), with the
    campaign's window moved onto the period. Per-member
    awards (for the cap) and the remaining budget carry from one accrual to the next,
    exactly as live accruals draw on them; holdout members earn nothing and are counted.
    Each accrual is replayed as it was posted: later refunds are not netted out, and
    other campaigns that ran then play no part. Accruals no active earning rule covers
    any more are examined but cannot be eligible. Accruals are streamed in chunks;
    nothing is written. On SQLite the read takes no write lock when this (or
    stored_campaign) is the first use of the unit of work.

    Raises Invalid: the campaign's own fields (as create_campaign checks them);
    InconsistentFields: a period end outside 1970-01-01..9998-12-31 (given, or taken from
    the campaign's dates), or a period that ends before it starts or spans more than 366
    days (both `history_to`).
    """
    _begin_reading(uow)
    session = uow.session
    validate_campaign(session, command, directory, uow)
    for name, day in (("history_from", since), ("history_to", until)):
        if not EARLIEST <= day <= LATEST:
            raise InconsistentFields.field(name, f"must be between {EARLIEST} and {LATEST}")
    if until < since:
        raise InconsistentFields.field("history_to", "must not be before history_from")
    if (until - since).days + 1 > MAX_HISTORY_DAYS:
        raise InconsistentFields.field(
            "history_to", f"the history window may span at most {MAX_HISTORY_DAYS} days"
        )
    replay = _Replay(
        campaign=earning.Campaign(
            code=command.code,
            starts_on=since,
            ends_on=until,
            multiplier_bp=command.multiplier_bp,
            bonus_points=command.bonus_points,
            per_member_cap=command.per_member_cap,
            budget_remaining=command.budget_points,
            holdout_pct=command.holdout_pct,
            business_types=frozenset(command.business_types),
            channels=frozenset(command.channels),
            categories=frozenset(command.categories),
            skus=frozenset(command.skus),
            tiers=frozenset(command.tiers),
            **campaign_spec_target(target_of(command)),
        ),
        rules=rule_book(session),
    )
    query = (
        select(
            orm.Accrual.member_id,
            orm.Accrual.channel,
            orm.Accrual.business_type,
            orm.Accrual.occurred_at,
            orm.Accrual.lines,
        )
        .where(
            orm.Accrual.occurred_at >= start_of_day(since),
            orm.Accrual.occurred_at < start_of_day(until + timedelta(days=1)),
        )
        .order_by(orm.Accrual.occurred_at, orm.Accrual.id)
        .execution_options(yield_per=CHUNK_SIZE)
    )
    for chunk in session.execute(query).partitions():
        member_ids = sorted({row.member_id for row in chunk})
        tiers = directory.tiers_of(uow, member_ids)
        # Score targets are read against the latest insight run, as tiers are today's.
        scores = directory.latest_scores(uow, member_ids) if replay.campaign.needs_scores else {}
        for member_id, channel, business_type, occurred_at, lines in chunk:
            # A member id the directory does not know has no tier: no tier bonus or target.
            tier = tiers.get(member_id, "")
            replay.accrual(
                earning.AccrualContext(
                    member_id=member_id,
                    tier=tier,
                    tier_multiplier_bp=tier_multiplier(session, tier),
                    business_type=business_type,
                    channel=channel,
                    occurred_on=business_date(occurred_at),
                    lines=_lines(lines),
                    score=scores.get(member_id),
                )
            )
    return {
        "campaign": command.code,
        "period": {"from": since.isoformat(), "to": until.isoformat()},
        **replay.answer(command.budget_points),
    }


def _begin_reading(uow: UnitOfWork) -> None:
    # A unit of work begins IMMEDIATE on SQLite (the single write lock); these reads
    # begin a plain transaction instead, so live accruals never queue behind a replay.
    if not uow.session.in_transaction():
        uow.session.connection(execution_options={READ_ONLY_OPTION: True})


def _lines(stored: Sequence[dict[str, Any]]) -> list[earning.Line]:
    return [
        earning.Line(
            sku=str(line["sku"]),
            category=line.get("category"),
            quantity=int(line["quantity"]),
            amount_fen=int(line["amount_fen"]),
        )
        for line in stored
    ]


@dataclass
class _Replay:
    """The running totals of one simulation, fed one accrual at a time in order."""

    campaign: earning.Campaign
    rules: earning.RuleBook
    examined: int = 0
    eligible: int = 0
    eligible_gmv_fen: int = 0
    points_cost: int = 0
    exhausted_on: date | None = None
    awarded: dict[int, int] = field(default_factory=dict)
    holdout: set[int] = field(default_factory=set)
    capped: set[int] = field(default_factory=set)

    def accrual(self, context: earning.AccrualContext) -> None:
        self.examined += 1
        campaign = self.campaign
        member_id = context.member_id
        try:
            evaluation = earning.evaluate(
                context,
                self.rules.in_force(context.occurred_on),
                [campaign],
                {campaign.code: self.awarded.get(member_id, 0)},
            )
        except earning.NoEarningRule:
            return
        rule = f"campaign:{campaign.code}"
        item = next((i for i in evaluation.breakdown if i.rule == rule), None)
        if item is None:
            return
        self.eligible += 1
        if earning.in_holdout(campaign.code, member_id, campaign.holdout_pct):
            self.holdout.add(member_id)
            return
        self.eligible_gmv_fen += sum(
            line.amount_fen for line in context.lines if campaign.line_eligible(line)
        )
        if item.limited_by == "member_cap":
            self.capped.add(member_id)
        if item.points > 0:
            self.awarded[member_id] = self.awarded.get(member_id, 0) + item.points
            self.points_cost += item.points
            self.campaign = replace(
                campaign, budget_remaining=campaign.budget_remaining - item.points
            )
            if self.campaign.budget_remaining == 0:
                self.exhausted_on = context.occurred_on

    def answer(self, budget_points: int) -> dict[str, Any]:
        return {
            "accruals_examined": self.examined,
            "eligible_accruals": self.eligible,
            "participants": sum(1 for points in self.awarded.values() if points > 0),
            "holdout_members": len(self.holdout),
            "eligible_gmv_fen": self.eligible_gmv_fen,
            "points_cost": self.points_cost,
            "budget_points": budget_points,
            "budget_left": budget_points - self.points_cost,
            "budget_exhausted_on": (
                self.exhausted_on.isoformat() if self.exhausted_on is not None else None
            ),
            "members_capped": len(self.capped),
        }
