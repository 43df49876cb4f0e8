"""Read side of the ledger: balances, expiring points, history, catalogue; plain dicts out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from common.clock import as_utc
from common.ownership import Owner
from points_engine.adapters import orm
from points_engine.domain.accounts import LotStatus, member_account_code, pending_account_code
from points_engine.domain.errors import UnknownCampaign


def member_account_ids(session: Session, member_id: int) -> tuple[list[int], list[int]]:
    """The member's available and pending account ids, including accounts merged into them."""
    available = [_account_id(session, member_account_code(member_id))]
    pending = [_account_id(session, pending_account_code(member_id))]
    for ids in (available, pending):
        frontier = list(ids)
        while frontier:
            merged = list(
                session.scalars(
                    select(orm.Account.id).where(orm.Account.merged_into_id.in_(frontier))
                )
            )
            ids.extend(merged)
            frontier = merged
    return available, pending


def _account_id(session: Session, code: str) -> int:
    account_id = session.scalar(select(orm.Account.id).where(orm.Account.code == code))
    if account_id is None:
        raise LookupError(code)
    return int(account_id)


def points_summary(session: Session, member_id: int, as_of: date) -> dict[str, Any]:
    """`{available, pending, negative_debt, expiring: [{points, expires_on}]}` for one member."""
    available = session.scalars(
        select(orm.Account).where(orm.Account.code == member_account_code(member_id))
    ).one()
    pending = session.scalars(
        select(orm.Account).where(orm.Account.code == pending_account_code(member_id))
    ).one()
    expiring = session.execute(
        select(orm.Lot.expires_on, func.sum(orm.Lot.remaining))
        .where(
            orm.Lot.account_id == available.id,
            orm.Lot.status == LotStatus.AVAILABLE.value,
            orm.Lot.remaining > 0,
        )
        .group_by(orm.Lot.expires_on)
        .order_by(orm.Lot.expires_on)
    ).all()
    return {
        "available": max(available.balance, 0),
        "pending": pending.balance,
        "negative_debt": max(-available.balance, 0),
        "expiring": [
            {
                "points": int(points),
                "expires_on": expires_on.isoformat(),
                "expired": expires_on < as_of,
            }
            for expires_on, points in expiring
        ],
    }


def ledger_history(
    session: Session, member_id: int, before_id: int | None, limit: int
) -> list[dict[str, Any]]:
    """Postings touching the member's accounts, newest first, signed from the member's side."""
    available, pending = member_account_ids(session, member_id)
    own = set(available) | set(pending)
    query = (
        select(orm.Posting)
        .where(or_(orm.Posting.from_account_id.in_(own), orm.Posting.to_account_id.in_(own)))
        .order_by(orm.Posting.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(orm.Posting.id < before_id)
    entries = []
    for posting in session.scalars(query):
        entries.append(_entry(posting, set(available), set(pending)))
    return entries


def _entry(posting: orm.Posting, available: set[int], pending: set[int]) -> dict[str, Any]:
    if posting.to_account_id in available:
        account, points, after = "available", posting.points, posting.to_balance_after
    elif posting.from_account_id in available:
        account, points, after = "available", -posting.points, posting.from_balance_after
    elif posting.to_account_id in pending:
        account, points, after = "pending", posting.points, posting.to_balance_after
    else:
        account, points, after = "pending", -posting.points, posting.from_balance_after
    return {
        "id": posting.id,
        "type": posting.type,
        "account": account,
        "points": points,
        "balance_after": after,
        "reference": posting.reference,
        "occurred_at": _iso(posting.occurred_at),
        "recorded_at": _iso(posting.recorded_at),
        "breakdown": posting.breakdown,
    }


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat()


def list_rewards(session: Session) -> list[orm.Reward]:
    return list(
        session.scalars(
            select(orm.Reward).where(orm.Reward.active.is_(True)).order_by(orm.Reward.points_cost)
        )
    )


def find_reward(session: Session, code: str) -> orm.Reward | None:
    return session.get(orm.Reward, code)


def list_campaigns(session: Session) -> list[tuple[orm.Campaign, int]]:
    rows = session.execute(
        select(orm.Campaign, orm.Account.balance)
        .join(orm.Account, orm.Account.id == orm.Campaign.account_id)
        .order_by(orm.Campaign.starts_on, orm.Campaign.code)
    ).all()
    return [(campaign, int(balance)) for campaign, balance in rows]


def campaign(session: Session, code: str) -> tuple[orm.Campaign, int]:
    """A campaign and its remaining budget. Raises UnknownCampaign."""
    row = session.execute(
        select(orm.Campaign, orm.Account.balance)
        .join(orm.Account, orm.Account.id == orm.Campaign.account_id)
        .where(orm.Campaign.code == code)
    ).first()
    if row is None:
        raise UnknownCampaign(f"no campaign {code!r}")
    return row[0], int(row[1])


def earned_since(session: Session, since: datetime, until: datetime) -> dict[int, int]:
    """Net points earned per member id (accruals minus their reversals) in [since, until)."""
    rows = session.execute(
        select(orm.Accrual.member_id, func.sum(orm.Accrual.points - orm.Accrual.points_reversed))
        .where(orm.Accrual.occurred_at >= since, orm.Accrual.occurred_at < until)
        .group_by(orm.Accrual.member_id)
    ).all()
    return {int(member_id): int(points) for member_id, points in rows}


def _trailing_year_statement(campaign_bonus_qualifies: bool, *, every_member: bool) -> Any:
    counted: ColumnElement[int] = orm.Accrual.points.expression
    if not campaign_bonus_qualifies:
        counted = orm.Accrual.points - orm.Accrual.campaign_points
    # Reversals take back a share of every source alike.
    reversed_share = case(
        (orm.Accrual.points > 0, orm.Accrual.points_reversed * counted // orm.Accrual.points),
        else_=0,
    )
    statement = (
        select(
            orm.Accrual.member_id,
            func.sum(counted - reversed_share),
            func.sum(orm.Accrual.total_fen - orm.Accrual.refunded_fen),
        )
        .where(
            orm.Accrual.occurred_at >= bindparam("since"),
            orm.Accrual.occurred_at < bindparam("until"),
        )
        .group_by(orm.Accrual.member_id)
    )
    if every_member:
        return statement
    return statement.where(orm.Accrual.member_id.in_(bindparam("member_ids", expanding=True)))


# Built once: every accrual asks for its members' year (the club's upgrade check).
_TRAILING_YEAR = {
    (qualifies, every): _trailing_year_statement(qualifies, every_member=every)
    for qualifies in (False, True)
    for every in (False, True)
}


def trailing_year(
    session: Session,
    member_ids: Sequence[int] | None,
    since: datetime,
    until: datetime,
    *,
    campaign_bonus_qualifies: bool,
) -> dict[int, tuple[int, int]]:
    """(qualifying points, spend in fen) per member id over [since, until): points earned
    net of reversals, without a campaign's bonus unless it qualifies; money spent net of
    refunds. None: every member."""
    if member_ids is not None and not member_ids:
        return {}
    statement = _TRAILING_YEAR[(campaign_bonus_qualifies, member_ids is None)]
    parameters: dict[str, Any] = {"since": since, "until": until}
    if member_ids is not None:
        parameters["member_ids"] = list(member_ids)
    return {
        int(member_id): (int(points or 0), int(spend or 0))
        for member_id, points, spend in session.execute(statement, parameters)
    }


def tier_multipliers(session: Session) -> dict[str, int]:
    """Each tier's earning multiplier in basis points (10000 = 1.0x)."""
    return dict(
        session.execute(select(orm.TierMultiplier.tier, orm.TierMultiplier.multiplier_bp)).all()
    )


def redemption_member_id(session: Session, redemption_no: str) -> int | None:
    member_id = session.scalar(
        select(orm.Redemption.member_id).where(orm.Redemption.redemption_no == redemption_no)
    )
    return None if member_id is None else int(member_id)


def liability_by_institution(session: Session) -> Sequence[tuple[str, int]]:
    rows = session.execute(
        select(orm.Lot.institution_code, func.sum(orm.Lot.remaining))
        .where(orm.Lot.status.in_([LotStatus.AVAILABLE.value, LotStatus.PENDING.value]))
        .group_by(orm.Lot.institution_code)
        .order_by(orm.Lot.institution_code)
    ).all()
    return [(code, int(points)) for code, points in rows]


def posting_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(orm.Posting)) or 0)


def redemption_owner(session: Session, redemption_no: str) -> Owner | None:
    row = session.execute(
        select(
            orm.Redemption.member_id, orm.Redemption.channel, orm.Redemption.institution_code
        ).where(orm.Redemption.redemption_no == redemption_no)
    ).one_or_none()
    return None if row is None else Owner(int(row[0]), row[1], row[2])


def accrual_owner(session: Session, channel: str, external_id: str) -> Owner | None:
    """The purchase a channel recorded under its own id (a refund names it that way)."""
    row = session.execute(
        select(orm.Accrual.member_id, orm.Accrual.institution_code).where(
            orm.Accrual.channel == channel, orm.Accrual.external_id == external_id
        )
    ).one_or_none()
    return None if row is None else Owner(int(row[0]), channel, row[1])


def spend_by_member(
    session: Session, since: datetime, until: datetime
) -> dict[int, tuple[int, int]]:
    """(net spend in fen, purchases) per member id over accruals in [since, until):
    what each member bought, less what they returned."""
    rows = session.execute(
        select(
            orm.Accrual.member_id,
            func.sum(orm.Accrual.total_fen - orm.Accrual.refunded_fen),
            func.count(),
        )
        .where(orm.Accrual.occurred_at >= since, orm.Accrual.occurred_at < until)
        .group_by(orm.Accrual.member_id)
    ).all()
    return {int(member_id): (int(fen or 0), int(count)) for member_id, fen, count in rows}


def campaign_awards(session: Session, code: str) -> dict[int, int]:
    """Points each member got from the campaign (net of refunds), by member id."""
    rows = session.execute(
        select(orm.CampaignAward.member_id, orm.CampaignAward.points)
        .join(orm.Campaign, orm.Campaign.id == orm.CampaignAward.campaign_id)
        .where(orm.Campaign.code == code)
    ).all()
    return {int(member_id): int(points) for member_id, points in rows}


def richest_members(session: Session, limit: int) -> list[tuple[int, int]]:
    """(member id, available points) of the members holding the most points."""
    rows = session.execute(
        select(orm.Account.member_id, orm.Account.balance)
        .where(orm.Account.kind == "member", orm.Account.status == "open")
        .order_by(orm.Account.balance.desc(), orm.Account.member_id)
        .limit(limit)
    ).all()
    return [(int(member_id), int(balance)) for member_id, balance in rows if member_id]
