"""The 自邮一族 club: tiers earned by a trailing year of qualifying points or spend.

A member moves up at once, in the transaction of the points that earned it
(`upgrade_members`, called by the ledger through `CrmMemberDirectory.note_earned`); a
periodic review (`review_tiers`) moves members down, but only once a grace period from
the first review that found them short has passed. Every change is a row of the
member's tier history. Points of members merged into a member count for them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

import points_engine
from common.clock import business_date, start_of_day, utcnow
from common.errors import Invalid
from common.reference_cache import reference_cache
from common.unit_of_work import UnitOfWork
from crm import queries
from crm.adapters.orm import ClubPolicy, Member, Tier, TierChange
from crm.domain import tiers as rules
from crm.domain.tiers import Standing, TierRule

WINDOW_DAYS = 365
_BULK_ROWS = 500
CLUB_RULES = "club_rules"


@dataclass(frozen=True)
class TierData:
    code: str
    name: str
    name_en: str
    rank: int
    min_points_12m: int
    min_spend_fen_12m: int | None = None
    birthday_bonus_points: int = 0
    free_delivery: bool = False


@dataclass(frozen=True)
class Club:
    """The tier rules and the club policy, read once per session."""

    tiers: tuple[TierRule, ...]
    campaign_bonus_qualifies: bool
    grace_days: int

    @property
    def ranks(self) -> dict[str, int]:
        return {t.code: t.rank for t in self.tiers}


def club(session: Session) -> Club:
    """The rules, from the per-process reference cache: every accrual reads them, and
    they change rarely (through `load_club` or `set_policy`, which drop the entry)."""
    return reference_cache.get(session, CLUB_RULES, lambda: _read_club(session))


def _read_club(session: Session) -> Club:
    policy = session.get(ClubPolicy, 1)
    return Club(
        tuple(
            TierRule(t.code, t.rank, t.min_points_12m, t.min_spend_fen_12m)
            for t in session.scalars(select(Tier).order_by(Tier.rank))
        ),
        policy.campaign_bonus_qualifies if policy is not None else False,
        policy.grace_days if policy is not None else 90,
    )


def set_policy(
    uow: UnitOfWork, *, campaign_bonus_qualifies: bool | None = None, grace_days: int | None = None
) -> None:
    """Change what qualifies or the grace; the next review applies it to everyone."""
    session = uow.session
    policy = session.get(ClubPolicy, 1)
    if policy is None:
        policy = ClubPolicy(id=1, campaign_bonus_qualifies=False, grace_days=90)
        session.add(policy)
    if campaign_bonus_qualifies is not None:
        policy.campaign_bonus_qualifies = campaign_bonus_qualifies
    if grace_days is not None:
        if grace_days < 0:
            raise Invalid.field("grace_days", "must not be negative")
        policy.grace_days = grace_days
    session.flush()
    reference_cache.forget(session, CLUB_RULES)


def load_club(
    uow: UnitOfWork,
    tiers: Iterable[TierData],
    *,
    campaign_bonus_qualifies: bool = False,
    grace_days: int = 90,
) -> None:
    """Insert the missing tiers and the policy; rows an admin has since changed are kept."""
    session = uow.session
    for tier in tiers:
        if session.get(Tier, tier.code) is None:
            session.add(Tier(**tier.__dict__))
    if session.get(ClubPolicy, 1) is None:
        session.add(
            ClubPolicy(
                id=1, campaign_bonus_qualifies=campaign_bonus_qualifies, grace_days=grace_days
            )
        )
    session.flush()
    reference_cache.forget(session, CLUB_RULES)


def standings(
    session: Session,
    member_ids: Sequence[int] | None,
    as_of: date,
    settings: Club,
    *,
    absorbed: dict[int, int] | None = None,
) -> dict[int, Standing]:
    """Each active member's trailing year up to the start of `as_of + 1` (today counts),
    with the years of members merged into them (`absorbed`, when the caller has them
    already: {absorbed id: the member it was merged into}). None: every member."""
    until = start_of_day(as_of + timedelta(days=1))
    since = start_of_day(as_of + timedelta(days=1 - WINDOW_DAYS))
    wanted: list[int] | None = None
    if member_ids is None:
        survivor_of = _survivors(session)
    else:
        survivor_of = (
            absorbed if absorbed is not None else queries.absorbed_into(session, member_ids)
        )
        wanted = sorted(set(member_ids) | set(survivor_of))
    years = points_engine.queries.trailing_year(
        session,
        wanted,
        since,
        until,
        campaign_bonus_qualifies=settings.campaign_bonus_qualifies,
    )
    totals: dict[int, Standing] = {}
    for member_id, (points, spend) in years.items():
        target = _final(member_id, survivor_of)
        held = totals.get(target, Standing())
        totals[target] = Standing(held.qualifying_points + points, held.spend_fen + spend)
    return totals


# Built once: every accrual asks for its members (and those merged into them).
_UPGRADE_CANDIDATES = select(Member.id, Member.tier, Member.status, Member.merged_into_id).where(
    Member.id.in_(bindparam("member_ids", expanding=True))
    | Member.merged_into_id.in_(bindparam("into_ids", expanding=True))
)


def upgrade_members(uow: UnitOfWork, member_ids: Sequence[int]) -> int:
    """Move these members up at once if their trailing year now earns a higher tier.

    For the ledger, right after it wrote their points; returns how many moved."""
    session = uow.session
    settings = club(session)
    if not settings.tiers or not member_ids:
        return 0
    top = max(settings.ranks.values())
    below_top = {code for code, rank in settings.ranks.items() if rank < top}
    wanted = set(member_ids)
    ids = sorted(wanted)
    rows = session.execute(_UPGRADE_CANDIDATES, {"member_ids": ids, "into_ids": ids}).all()
    tier_of = {
        int(member_id): tier
        for member_id, tier, status, _ in rows
        if member_id in wanted and status == "active" and tier in below_top
    }
    if not tier_of:
        return 0
    absorbed: dict[int, int] = {
        int(member_id): int(into)
        for member_id, _, _, into in rows
        if into is not None and into in tier_of
    }
    if absorbed:
        absorbed.update(queries.absorbed_into(session, list(absorbed)))
    today = business_date(utcnow())
    years = standings(session, list(tier_of), today, settings, absorbed=absorbed)
    moved = 0
    for member_id, current in tier_of.items():
        standing = years.get(member_id, Standing())
        earned = rules.tier_for(standing.qualifying_points, settings.tiers, standing.spend_fen)
        decision = rules.upgrade(current, earned, settings.ranks)
        if decision is None:
            continue
        _record(session, member_id, current, decision, standing, today)
        session.execute(
            update(Member)
            .where(Member.id == member_id)
            .values(tier=decision.tier, tier_since=today, tier_grace_until=None)
        )
        moved += 1
    return moved


def review_tiers(uow: UnitOfWork, as_of: date) -> dict[str, int]:
    """Review every active member's tier as of `as_of` (for `jobs run-due`).

    Up at once if earned; down only after the grace period from the first review that
    found the member short. Idempotent for a given date.
    """
    session = uow.session
    settings = club(session)
    if not settings.tiers:
        return {"reviewed": 0, "changed": 0, "upgraded": 0, "downgraded": 0, "in_grace": 0}
    years = standings(session, None, as_of, settings)
    reviewed = upgraded = downgraded = in_grace = 0
    moving: dict[tuple[str, date | None, bool], list[int]] = {}
    history: list[dict[str, Any]] = []
    now = utcnow()
    # Rows are read and written in bulk: a review touches every member.
    for member_id, current, grace_until in session.execute(
        select(Member.id, Member.tier, Member.tier_grace_until).where(Member.status == "active")
    ):
        reviewed += 1
        standing = years.get(member_id, Standing())
        earned = rules.tier_for(standing.qualifying_points, settings.tiers, standing.spend_fen)
        decision = rules.review(
            current, earned, grace_until, as_of, settings.grace_days, settings.ranks
        )
        if decision.tier == current and decision.grace_until == grace_until:
            continue
        moving.setdefault(
            (decision.tier, decision.grace_until, decision.reason is not None), []
        ).append(member_id)
        if decision.reason is not None:
            history.append(_change(member_id, current, decision, standing, as_of, now))
            upgraded += decision.reason == "upgrade"
            downgraded += decision.reason == "downgrade"
        elif decision.grace_until is not None:
            in_grace += 1
    for (tier, grace_until, changed), member_ids in moving.items():
        values: dict[str, Any] = {"tier": tier, "tier_grace_until": grace_until}
        if changed:
            values["tier_since"] = as_of
        for start in range(0, len(member_ids), _BULK_ROWS):
            session.execute(
                update(Member)
                .where(Member.id.in_(member_ids[start : start + _BULK_ROWS]))
                .values(**values)
            )
    for start in range(0, len(history), _BULK_ROWS):
        session.execute(insert(TierChange), history[start : start + _BULK_ROWS])
    session.execute(update(Member).where(Member.status == "active").values(tier_reviewed_on=as_of))
    return {
        "reviewed": reviewed,
        "changed": upgraded + downgraded,
        "upgraded": upgraded,
        "downgraded": downgraded,
        "in_grace": in_grace,
    }


def tier_list(session: Session) -> list[dict[str, Any]]:
    """The tiers, lowest first, with what earns them and the club's policy."""
    settings = club(session)
    rows = {tier.code: tier for tier in session.scalars(select(Tier))}
    return [
        {
            "code": rule.code,
            "name": rows[rule.code].name,
            "name_en": rows[rule.code].name_en,
            "rank": rule.rank,
            "min_points_12m": rule.min_points_12m,
            "min_spend_fen_12m": rule.min_spend_fen_12m,
            "birthday_bonus_points": rows[rule.code].birthday_bonus_points,
            "free_delivery": rows[rule.code].free_delivery,
            "grace_days": settings.grace_days,
            "campaign_bonus_qualifies": settings.campaign_bonus_qualifies,
        }
        for rule in settings.tiers
    ]


def club_summary(session: Session) -> dict[str, Any]:
    """Active members per tier (lowest first), upgrades and downgrades so far, and how many
    members keep a tier in grace."""
    settings = club(session)
    counts = dict(
        session.execute(
            select(Member.tier, func.count()).where(Member.status == "active").group_by(Member.tier)
        ).all()
    )
    changes = dict(
        session.execute(select(TierChange.reason, func.count()).group_by(TierChange.reason)).all()
    )
    in_grace = session.scalar(
        select(func.count()).where(Member.status == "active", Member.tier_grace_until.is_not(None))
    )
    return {
        "members": {rule.code: int(counts.get(rule.code, 0)) for rule in settings.tiers},
        "upgrades": int(changes.get("upgrade", 0)),
        "downgrades": int(changes.get("downgrade", 0)),
        "in_grace": int(in_grace or 0),
    }


def tier_status(session: Session, member: Member, as_of: date) -> dict[str, Any]:
    """The member's tier, since when, its grace, their trailing year, what the next tier
    needs, and their tier history (newest first)."""
    settings = club(session)
    standing = standings(session, [member.id], as_of, settings).get(member.id, Standing())
    following = rules.next_tier(member.tier, standing, settings.tiers) if settings.tiers else None
    changes = session.scalars(
        select(TierChange)
        .where(TierChange.member_id == member.id)
        .order_by(TierChange.id.desc())
        .limit(50)
    )
    return {
        "member_no": member.member_no,
        "tier": member.tier,
        "tier_since": member.tier_since.isoformat() if member.tier_since else None,
        "grace_until": member.tier_grace_until.isoformat() if member.tier_grace_until else None,
        "qualifying_points_12m": standing.qualifying_points,
        "spend_fen_12m": standing.spend_fen,
        "next_tier": None
        if following is None
        else {
            "tier": following[0].code,
            "points_needed": following[1],
            "spend_fen_needed": following[2],
        },
        "history": [
            {
                "from_tier": change.from_tier,
                "to_tier": change.to_tier,
                "reason": change.reason,
                "effective_on": change.effective_on.isoformat(),
                "qualifying_points_12m": change.qualifying_points,
                "spend_fen_12m": change.spend_fen,
            }
            for change in changes
        ],
    }


def _record(
    session: Session,
    member_id: int,
    current: str,
    decision: rules.Decision,
    standing: Standing,
    on: date,
) -> None:
    session.execute(
        insert(TierChange), [_change(member_id, current, decision, standing, on, utcnow())]
    )


def _change(
    member_id: int,
    current: str,
    decision: rules.Decision,
    standing: Standing,
    on: date,
    now: Any,
) -> dict[str, Any]:
    assert decision.reason is not None
    return {
        "member_id": member_id,
        "from_tier": current,
        "to_tier": decision.tier,
        "reason": decision.reason,
        "qualifying_points": standing.qualifying_points,
        "spend_fen": standing.spend_fen,
        "effective_on": on,
        "occurred_at": now,
    }


def _survivors(session: Session) -> dict[int, int]:
    return {
        int(member_id): int(survivor_id)
        for member_id, survivor_id in session.execute(
            select(Member.id, Member.merged_into_id).where(Member.status == "merged")
        )
        if survivor_id is not None
    }


def _final(member_id: int, survivor_of: dict[int, int]) -> int:
    for _hop in range(64):
        if member_id not in survivor_of:
            return member_id
        member_id = survivor_of[member_id]
    return member_id
