"""The ledger's money and points movements, as finance clears them day by day.

Three kinds, each with the id of its source row:
- `sale`: an accrual (a purchase a channel reported), money in at its institution, and
  the points it issued: its accrual postings are written with it, at its time, and carry
  exactly its `points` (issuance and campaign awards), so they are cleared as part of it;
- `refund`: money given back, on the purchase's institution, channel and business type;
- `posting`: any other ledger posting that changes what members hold (points reversed,
  redeemed or given back, expired, adjusted, bought in from partners). Postings between a
  member's own accounts (pending points released, merges) and between system accounts
  (campaign budgets) move nothing between the members and the operator, so they are not
  cleared.

The selects are SQLAlchemy Core with plain labelled columns, so that the clearing can
filter them (by time, by what it already took) without knowing the ledger's tables.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Select, and_, case, cast, func, literal_column, or_, select
from sqlalchemy.orm import aliased

from common.codes import COMPANY_CODE
from points_engine.adapters import orm
from points_engine.domain.accounts import AccountKind, PostingType

MEMBER_KINDS = (AccountKind.MEMBER.value, AccountKind.MEMBER_PENDING.value)
# Accrual postings are cleared with their sale.
CLEARED_POSTINGS = (
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


def id_columns() -> dict[str, Any]:
    """The id column of each kind's source rows: sale, refund, posting."""
    return {"sale": orm.Accrual.id, "refund": orm.Refund.id, "posting": orm.Posting.id}


def sales() -> Select[*tuple[Any, ...]]:
    """Columns: source_id, occurred_at, institution_code, channel, business_type,
    amount_fen, external_id, points (issued to the member by its accrual postings)."""
    a = orm.Accrual
    return select(
        a.id.label("source_id"),
        a.occurred_at.label("occurred_at"),
        a.institution_code.label("institution_code"),
        a.channel.label("channel"),
        a.business_type.label("business_type"),
        a.total_fen.label("amount_fen"),
        a.external_id.label("external_id"),
        a.points.label("points"),
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


# The predicate of the partial index on the time of postings other than accruals
# (ix_points_engine_posting_cleared), said as the index says it, so that SQLite uses it.
_NOT_AN_ACCRUAL = orm.Posting.type != literal_column(f"'{PostingType.ACCRUAL.value}'")


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
        .where(
            _NOT_AN_ACCRUAL,
            p.type.in_(CLEARED_POSTINGS),
            or_(into_member, out_of_member),
        )
    )


# Where a posting's line comes from, by the prefix of its reference.
REFUND_PREFIX = "refund:"
REDEMPTION_PREFIX = "redemption:"
REDEMPTION_CANCEL_PREFIX = "redemption_cancel:"
EXPIRED_LOT_PREFIX = "expiry:lot:"


def _after(reference: Any, prefix: str) -> Any:
    """What follows `prefix` in `reference`, NULL when it does not start with it."""
    return case(
        (func.substr(reference, 1, len(prefix)) == prefix, func.substr(reference, len(prefix) + 1)),
        else_=None,
    )


def _redemption_no(reference: Any) -> Any:
    """The redemption a redemption's or its cancel's posting names, NULL for others."""
    return func.coalesce(
        _after(reference, REDEMPTION_PREFIX), _after(reference, REDEMPTION_CANCEL_PREFIX)
    )


def attributed_postings() -> Select[*tuple[Any, ...]]:
    """`member_postings()` with the line each belongs to, found set-based.

    Extra columns: institution_code, channel, business_type: the purchase's for a refund,
    the redemption's for a redemption or its cancel (the company and the
    member's own app when it had no outlet or channel), the expired lot's institution.
    All three are NULL for a posting with no purchase, redemption or lot of its own
    (adjustments, partner points bought in): `unattributed` books those.
    """
    p = orm.Posting
    refund, refunded = aliased(orm.Refund), aliased(orm.Accrual)
    redemption, lot = aliased(orm.Redemption), aliased(orm.Lot)
    redemption_no = _redemption_no(p.reference)
    lot_id = cast(_after(p.reference, EXPIRED_LOT_PREFIX), BigInteger)

    def first(*choices: tuple[Any, Any]) -> Any:
        return case(*choices, else_=None)

    return (
        member_postings()
        .add_columns(
            first(
                (refunded.id.is_not(None), refunded.institution_code),
                (
                    redemption.id.is_not(None),
                    func.coalesce(redemption.institution_code, COMPANY_CODE),
                ),
                (lot.id.is_not(None), lot.institution_code),
            ).label("institution_code"),
            first(
                (refunded.id.is_not(None), refunded.channel),
                (redemption.id.is_not(None), func.coalesce(redemption.channel, MEMBER_CHANNEL)),
                (lot.id.is_not(None), SYSTEM_CHANNEL),
            ).label("channel"),
            first(
                (refunded.id.is_not(None), refunded.business_type),
                (redemption.id.is_not(None), "redemption"),
                (lot.id.is_not(None), "expiry"),
            ).label("business_type"),
        )
        .outerjoin(refund, refund.refund_no == _after(p.reference, REFUND_PREFIX))
        .outerjoin(refunded, refunded.id == refund.accrual_id)
        .outerjoin(redemption, redemption.redemption_no == redemption_no)
        .outerjoin(lot, lot.id == lot_id)
    )


def unattributed(reference: str) -> tuple[str, str, str]:
    """(institution, channel, business type) of a posting `attributed_postings` left
    without a line: the company's, by the staff for an adjustment, by the system
    otherwise, under the reference's prefix."""
    prefix = reference.partition(":")[0]
    return COMPANY_CODE, STAFF_CHANNEL if prefix == "adjustment" else SYSTEM_CHANNEL, prefix


def redemption_flows() -> Select[*tuple[Any, ...]]:
    """Where the points of each redemption posting were earned and where they were spent.

    Columns: source_id (the posting), occurred_at, earned_at (the institution of a lot it drew on),
    spent_at (the redemption's institution, the company when it had none), points (what
    it drew on that lot: positive for a redemption, negative for its cancel).
    """
    p = orm.Posting
    redemption_no = _redemption_no(p.reference)
    sign = case((p.type == PostingType.REDEMPTION.value, 1), else_=-1)
    return (
        select(
            p.id.label("source_id"),
            p.occurred_at.label("occurred_at"),
            orm.Lot.institution_code.label("earned_at"),
            func.coalesce(orm.Redemption.institution_code, COMPANY_CODE).label("spent_at"),
            (sign * orm.LotConsumption.points).label("points"),
        )
        .join(orm.Redemption, orm.Redemption.redemption_no == redemption_no)
        .join(orm.LotConsumption, orm.LotConsumption.redemption_id == orm.Redemption.id)
        .join(orm.Lot, orm.Lot.id == orm.LotConsumption.lot_id)
        .where(
            _NOT_AN_ACCRUAL,
            p.type.in_((PostingType.REDEMPTION.value, PostingType.REDEMPTION_CANCEL.value)),
        )
    )


__all__ = [
    "CLEARED_POSTINGS",
    "attributed_postings",
    "id_columns",
    "member_postings",
    "redemption_flows",
    "refunds",
    "sales",
    "unattributed",
]
