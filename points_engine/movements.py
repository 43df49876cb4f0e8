"""The ledger's money and points movements, as finance clears them day by day.

Three kinds, each with the id of its source row:
- `sale`: an accrual (a purchase a channel reported), money in at its institution;
- `refund`: money given back, on the purchase's institution, channel and business type;
- `posting`: a ledger posting that changes what members hold (points issued, reversed,
  redeemed or given back, expired, adjusted). Postings between a member's own accounts
  (pending points released, merges) and between system accounts (campaign budgets) move
  nothing between the members and the operator, so they are not cleared.

The selects are SQLAlchemy Core with plain labelled columns, so that the clearing can
filter them (by time, by what it already took) without knowing the ledger's tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, and_, case, or_, select
from sqlalchemy.orm import Session, aliased

from common.codes import COMPANY_CODE
from points_engine.adapters import orm
from points_engine.domain.accounts import AccountKind, PostingType

MEMBER_KINDS = (AccountKind.MEMBER.value, AccountKind.MEMBER_PENDING.value)
T = TypeVar("T")
CLEARED_POSTINGS = (
    PostingType.ACCRUAL.value,
    PostingType.REVERSAL.value,
    PostingType.REDEMPTION.value,
    PostingType.REDEMPTION_CANCEL.value,
    PostingType.EXPIRY.value,
    PostingType.ADJUSTMENT.value,
    PostingType.PARTNER_IN.value,
)
# Where the lines of movements without a purchase of their own are booked.
SYSTEM_CHANNEL = "system"
STAFF_CHANNEL = "staff"
MEMBER_CHANNEL = "member"  # a member redeeming in their own app, with no channel key


def sales() -> Select[*tuple[Any, ...]]:
    """Columns: source_id, occurred_at, institution_code, channel, business_type,
    amount_fen, external_id."""
    a = orm.Accrual
    return select(
        a.id.label("source_id"),
        a.occurred_at.label("occurred_at"),
        a.institution_code.label("institution_code"),
        a.channel.label("channel"),
        a.business_type.label("business_type"),
        a.total_fen.label("amount_fen"),
        a.external_id.label("external_id"),
    )


def refunds() -> Select[*tuple[Any, ...]]:
    """Columns as `sales()`, the refund's time and amount on the purchase's line."""
    r, a = orm.Refund, orm.Accrual
    return select(
        r.id.label("source_id"),
        r.created_at.label("occurred_at"),
        a.institution_code.label("institution_code"),
        a.channel.label("channel"),
        a.business_type.label("business_type"),
        r.amount_fen.label("amount_fen"),
        r.external_id.label("external_id"),
    ).join(a, a.id == r.accrual_id)


def member_postings() -> Select[*tuple[Any, ...]]:
    """Columns: source_id, occurred_at, type, reference, points (signed: + towards members)."""
    p = orm.Posting
    source, target = aliased(orm.Account), aliased(orm.Account)
    into_member = and_(target.kind.in_(MEMBER_KINDS), source.kind.not_in(MEMBER_KINDS))
    out_of_member = and_(source.kind.in_(MEMBER_KINDS), target.kind.not_in(MEMBER_KINDS))
    return (
        select(
            p.id.label("source_id"),
            p.occurred_at.label("occurred_at"),
            p.type.label("type"),
            p.reference.label("reference"),
            case((into_member, p.points), else_=-p.points).label("points"),
        )
        .join(source, source.id == p.from_account_id)
        .join(target, target.id == p.to_account_id)
        .where(p.type.in_(CLEARED_POSTINGS), or_(into_member, out_of_member))
    )


@dataclass(frozen=True)
class Attribution:
    """The line a posting belongs to; for redemptions also where their points were earned."""

    institution_code: str
    channel: str
    business_type: str
    earned_at: tuple[tuple[str, int], ...] = ()  # (earning institution, points)


def attribute(session: Session, postings: Iterable[tuple[int, str, str]]) -> dict[int, Attribution]:
    """Each posting's line, from `(posting id, type, reference)`: the purchase of an
    accrual or refund, the redemption (and the lots it spent), the expired lot."""
    by_prefix: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for posting_id, _type, reference in postings:
        prefix, _, key = reference.partition(":")
        by_prefix[prefix][key].append(posting_id)
    found: dict[int, Attribution] = {}

    def assign(keys: dict[str, list[int]], key: str, attribution: Attribution) -> None:
        for posting_id in keys.get(key, ()):
            found[posting_id] = attribution

    accruals = by_prefix.get("accrual", {})
    for chunk in _chunks(list(accruals)):
        for row in session.execute(
            select(
                orm.Accrual.accrual_no,
                orm.Accrual.institution_code,
                orm.Accrual.channel,
                orm.Accrual.business_type,
            ).where(orm.Accrual.accrual_no.in_(chunk))
        ):
            assign(accruals, row[0], Attribution(row[1], row[2], row[3]))
    refunded = by_prefix.get("refund", {})
    for chunk in _chunks(list(refunded)):
        for row in session.execute(
            select(
                orm.Refund.refund_no,
                orm.Accrual.institution_code,
                orm.Accrual.channel,
                orm.Accrual.business_type,
            )
            .join(orm.Accrual, orm.Accrual.id == orm.Refund.accrual_id)
            .where(orm.Refund.refund_no.in_(chunk))
        ):
            assign(refunded, row[0], Attribution(row[1], row[2], row[3]))
    redeemed: dict[str, list[int]] = defaultdict(list)
    for prefix in ("redemption", "redemption_cancel"):
        for key, ids in by_prefix.get(prefix, {}).items():
            redeemed[key].extend(ids)
    for chunk in _chunks(list(redeemed)):
        spent: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        rows = session.execute(
            select(
                orm.Redemption.id,
                orm.Redemption.redemption_no,
                orm.Redemption.institution_code,
                orm.Redemption.channel,
            ).where(orm.Redemption.redemption_no.in_(chunk))
        ).all()
        for redemption_id, lot_institution, points in session.execute(
            select(
                orm.LotConsumption.redemption_id,
                orm.Lot.institution_code,
                orm.LotConsumption.points,
            )
            .join(orm.Lot, orm.Lot.id == orm.LotConsumption.lot_id)
            .where(orm.LotConsumption.redemption_id.in_([r[0] for r in rows]))
        ):
            spent[redemption_id][lot_institution] += int(points)
        for redemption_id, redemption_no, institution, channel in rows:
            earned = tuple(sorted(spent[redemption_id].items()))
            attribution = Attribution(
                institution or COMPANY_CODE, channel or MEMBER_CHANNEL, "redemption", earned
            )
            assign(redeemed, redemption_no, attribution)
    expired = by_prefix.get("expiry", {})
    lot_ids = {key: int(key.removeprefix("lot:")) for key in expired if key.startswith("lot:")}
    for lot_chunk in _chunks(list(lot_ids.values())):
        institutions = dict(
            session.execute(
                select(orm.Lot.id, orm.Lot.institution_code).where(orm.Lot.id.in_(lot_chunk))
            ).all()
        )
        for key, lot_id in lot_ids.items():
            if lot_id in institutions:
                assign(expired, key, Attribution(institutions[lot_id], SYSTEM_CHANNEL, "expiry"))
    for prefix, keys in by_prefix.items():
        for ids in keys.values():
            for posting_id in ids:
                if posting_id not in found:
                    channel = STAFF_CHANNEL if prefix == "adjustment" else SYSTEM_CHANNEL
                    found[posting_id] = Attribution(COMPANY_CODE, channel, prefix)
    return found


def _chunks(values: list[T], size: int = 500) -> Iterable[list[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


__all__ = [
    "CLEARED_POSTINGS",
    "Attribution",
    "attribute",
    "member_postings",
    "refunds",
    "sales",
]
