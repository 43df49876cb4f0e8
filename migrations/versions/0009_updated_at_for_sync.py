"""updated_at on members, lots, accruals and redemptions for the warehouse sync

The warehouse loads changing rows incrementally by `updated_at`. These four tables
change after they are written (tiers and merges; lots consumed, released, expired;
refunds; cancellations) but had no such column. The column is added with a constant
default so SQLite can add it without rebuilding tables that others reference, then
backfilled from when each row last changed as far as the row itself tells:
- members: merged_at, else created_at;
- lots: the occurred_at of their accrual, else the migration time (lots made by
  merges or adjustments have no timestamp of their own);
- accruals: occurred_at;
- redemptions: cancelled_at, else created_at.
PostgreSQL then drops the placeholder default (the ORM always sets the value);
SQLite keeps it, as it cannot drop a default without rebuilding the table.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

PLACEHOLDER = sa.text("'1970-01-01 00:00:00'")

BACKFILL = (
    ("crm_member", "COALESCE(merged_at, created_at)"),
    (
        "points_engine_lot",
        "COALESCE((SELECT a.occurred_at FROM points_engine_accrual a"
        " WHERE a.id = points_engine_lot.accrual_id), CURRENT_TIMESTAMP)",
    ),
    ("points_engine_accrual", "occurred_at"),
    ("points_engine_redemption", "COALESCE(cancelled_at, created_at)"),
)


def upgrade() -> None:
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    for table, source in BACKFILL:
        op.add_column(
            table,
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=PLACEHOLDER,
            ),
        )
        op.execute(f"UPDATE {table} SET updated_at = {source}")
        if not is_sqlite:
            op.alter_column(table, "updated_at", server_default=None)
        op.create_index(op.f(f"ix_{table}_updated_at"), table, ["updated_at"], unique=False)


def downgrade() -> None:
    for table, _source in reversed(BACKFILL):
        op.drop_index(op.f(f"ix_{table}_updated_at"), table_name=table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("updated_at")
