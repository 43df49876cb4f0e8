"""clearing keeps what it took as id ranges, not a row per movement

`storefront_clearing_take` replaces `storefront_clearing_entry`. A take is the movements
of one kind that happened on one business day with an id in (`id_above`, `id_through`];
the takes of a kind and day hold disjoint ranges, each starting at the day's mark, so a
movement is still taken once. A busy day's run wrote a million and more entry rows with a
unique index; it now writes three takes, and one more per closed day with late events.

Upgrade: the entries of each (kind, day, cleared on) become one range, from the end of
the range before it (by id) to their largest id; a closed day's marks rise to its last
range. Downgrade: each range becomes its movements' entries again.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-08 04:00:00
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = ("sale", "refund", "posting")
# Typed, so that dates and times are stored as the models store them (text on SQLite).
TAKE = sa.table(
    "storefront_clearing_take",
    sa.column("source_kind", sa.String()),
    sa.column("business_date", sa.Date()),
    sa.column("cleared_on", sa.Date()),
    sa.column("id_above", sa.BigInteger()),
    sa.column("id_through", sa.BigInteger()),
    sa.column("happened_from", sa.DateTime(timezone=True)),
    sa.column("happened_until", sa.DateTime(timezone=True)),
)


def _opens(day: date) -> datetime:
    return datetime.combine(day, time.min, SHANGHAI).astimezone(UTC)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def upgrade() -> None:
    op.create_table(
        "storefront_clearing_take",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("cleared_on", sa.Date(), nullable=False),
        sa.Column("id_above", sa.BigInteger(), nullable=False),
        sa.Column("id_through", sa.BigInteger(), nullable=False),
        sa.Column("happened_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("happened_until", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "id_through > id_above", name=op.f("ck_storefront_clearing_take_ids_ascending")
        ),
        sa.ForeignKeyConstraint(
            ["cleared_on"],
            ["storefront_clearing_day.business_date"],
            name=op.f("fk_storefront_clearing_take_cleared_on_storefront_clearing_day"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_clearing_take")),
        sa.UniqueConstraint(
            "source_kind",
            "business_date",
            "id_above",
            name=op.f("uq_storefront_clearing_take_source_kind_business_date_id_above"),
        ),
        sa.UniqueConstraint(
            "source_kind",
            "business_date",
            "id_through",
            name=op.f("uq_storefront_clearing_take_source_kind_business_date_id_through"),
        ),
    )
    op.create_index(
        op.f("ix_storefront_clearing_take_cleared_on"),
        "storefront_clearing_take",
        ["cleared_on"],
        unique=False,
    )
    connection = op.get_bind()
    groups = connection.execute(
        sa.text(
            "SELECT source_kind, business_date, cleared_on, MAX(source_id) "
            "FROM storefront_clearing_entry GROUP BY source_kind, business_date, cleared_on "
            "ORDER BY source_kind, business_date, MAX(source_id)"
        )
    ).all()
    takes: list[dict[str, object]] = []
    last: dict[tuple[str, date], int] = {}
    for kind, happened, cleared_on, through in groups:
        happened, cleared_on = _as_date(happened), _as_date(cleared_on)
        takes.append(
            {
                "source_kind": kind,
                "business_date": happened,
                "cleared_on": cleared_on,
                "id_above": last.get((kind, happened), 0),
                "id_through": int(through),
                "happened_from": _opens(happened),
                "happened_until": _opens(happened + timedelta(days=1)),
            }
        )
        last[(kind, happened)] = int(through)
    if takes:
        connection.execute(sa.insert(TAKE), takes)
    closed = connection.execute(
        sa.text(
            "SELECT business_date, sale_id_through, refund_id_through, posting_id_through "
            "FROM storefront_clearing_day WHERE status = 'closed'"
        )
    ).all()
    for row in closed:
        day = _as_date(row[0])
        marks = {
            f"{kind}_id_through": max(int(mark or 0), last.get((kind, day), 0))
            for kind, mark in zip(KINDS, row[1:], strict=True)
        }
        connection.execute(
            sa.text(
                "UPDATE storefront_clearing_day SET sale_id_through = :sale_id_through, "
                "refund_id_through = :refund_id_through, posting_id_through = :posting_id_through "
                "WHERE business_date = :day"
            ).bindparams(sa.bindparam("day", type_=sa.Date())),
            {**marks, "day": day},
        )
    op.drop_index(
        op.f("ix_storefront_clearing_entry_cleared_on"), table_name="storefront_clearing_entry"
    )
    op.drop_table("storefront_clearing_entry")


# The movements of each kind, as points_engine.movements selects them (postings with a
# member account on exactly one side).
_MOVEMENTS = {
    "sale": "SELECT id, occurred_at FROM points_engine_accrual",
    "refund": "SELECT id, created_at AS occurred_at FROM points_engine_refund",
    "posting": (
        "SELECT p.id, p.occurred_at FROM points_engine_posting p "
        "JOIN points_engine_account f ON f.id = p.from_account_id "
        "JOIN points_engine_account t ON t.id = p.to_account_id "
        "WHERE (f.kind IN ('member', 'member_pending')) "
        "<> (t.kind IN ('member', 'member_pending')) "
        "AND p.type IN ('accrual', 'reversal', 'redemption', 'redemption_cancel', 'expiry', "
        "'adjustment', 'partner_in')"
    ),
}


def downgrade() -> None:
    op.create_table(
        "storefront_clearing_entry",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("cleared_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_clearing_entry")),
        sa.UniqueConstraint(
            "source_kind",
            "source_id",
            name=op.f("uq_storefront_clearing_entry_source_kind_source_id"),
        ),
    )
    op.create_index(
        op.f("ix_storefront_clearing_entry_cleared_on"),
        "storefront_clearing_entry",
        ["cleared_on"],
        unique=False,
    )
    for kind, movements in _MOVEMENTS.items():
        op.execute(
            "INSERT INTO storefront_clearing_entry "
            "(source_kind, source_id, business_date, cleared_on) "
            f"SELECT '{kind}', m.id, t.business_date, t.cleared_on FROM ({movements}) m "
            "JOIN storefront_clearing_take t ON t.source_kind = "
            f"'{kind}' AND m.id > t.id_above AND m.id <= t.id_through "
            "AND m.occurred_at >= t.happened_from AND m.occurred_at < t.happened_until"
        )
    op.drop_index(
        op.f("ix_storefront_clearing_take_cleared_on"), table_name="storefront_clearing_take"
    )
    op.drop_table("storefront_clearing_take")
