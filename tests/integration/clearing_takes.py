"""Plain SQL over the ledger's tables and `storefront_clearing_take`: which takes hold each
money or points movement. Written apart from the clearing's own queries, so that tests
check what a run took against the movements themselves."""

from __future__ import annotations

from sqlalchemy import Date, DateTime, TextClause, bindparam, text

# Each kind's movements: (id, occurred_at). Postings count when exactly one side is a
# member account and their type moves points between members and the operator; accrual
# postings are part of their sale.
MOVEMENTS = {
    "sale": "SELECT id, occurred_at FROM points_engine_accrual",
    "refund": "SELECT id, created_at AS occurred_at FROM points_engine_refund",
    "posting": (
        "SELECT p.id, p.occurred_at FROM points_engine_posting p "
        "JOIN points_engine_account f ON f.id = p.from_account_id "
        "JOIN points_engine_account t ON t.id = p.to_account_id "
        "WHERE (f.kind IN ('member', 'member_pending')) "
        "<> (t.kind IN ('member', 'member_pending')) "
        "AND p.type IN ('reversal', 'redemption', 'redemption_cancel', 'expiry', "
        "'adjustment', 'partner_in')"
    ),
}

_HOLDS = (
    "t.source_kind = '{kind}' AND m.id > t.id_above AND m.id <= t.id_through "
    "AND m.occurred_at >= t.happened_from AND m.occurred_at < t.happened_until"
)


def takings(kind: str) -> TextClause:
    """Per movement of `kind` that happened in [:start, :end): its id and how many takes
    hold it."""
    return text(
        f"SELECT m.id, COUNT(t.id) FROM ({MOVEMENTS[kind]}) m "
        f"LEFT JOIN storefront_clearing_take t ON {_HOLDS.format(kind=kind)} "
        "WHERE m.occurred_at >= :start AND m.occurred_at < :end GROUP BY m.id"
    ).bindparams(
        bindparam("start", type_=DateTime(timezone=True)),
        bindparam("end", type_=DateTime(timezone=True)),
    )


def takes_of(kind: str) -> TextClause:
    """(business_date, cleared_on) of each take holding the movement of `kind` with id :id."""
    return text(
        f"SELECT t.business_date, t.cleared_on FROM ({MOVEMENTS[kind]}) m "
        f"JOIN storefront_clearing_take t ON {_HOLDS.format(kind=kind)} WHERE m.id = :id"
    )


def held_by_day(kind: str) -> TextClause:
    """How many movements of `kind` the takes of day :day hold."""
    return text(
        f"SELECT COUNT(*) FROM ({MOVEMENTS[kind]}) m "
        f"JOIN storefront_clearing_take t ON {_HOLDS.format(kind=kind)} WHERE t.cleared_on = :day"
    ).bindparams(bindparam("day", type_=Date))
