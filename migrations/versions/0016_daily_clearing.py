"""daily clearing: cleared days, the movement each took, lines, positions, transfers

- `storefront_clearing_day`: one row per cleared business day, open or closed (locked),
  with the fen per point its positions were valued at and who closed it and why.
- `storefront_clearing_entry`: which day took each money or points movement (a sale, a
  refund or a ledger posting), unique per movement, so none is cleared twice.
- `storefront_clearing_line` (institution x channel x business type, and the original
  day for late events of closed days), `storefront_clearing_position` and
  `storefront_clearing_transfer`: the day's results.
- `storefront_clearing_liability`: points members held at the day's (last) run, by the
  issuing institution, so a closed day keeps the figures it was closed with.
- `storefront_clearing_control_total`: each channel's own count and amount per
  institution and day, with its transaction ids when it sends them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "storefront_clearing_control_total",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("transaction_ids", sa.JSON(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_clearing_control_total")),
        sa.UniqueConstraint(
            "business_date",
            "channel",
            "institution_code",
            name=op.f(
                "uq_storefront_clearing_control_total_business_date_channel_institution_code"
            ),
        ),
    )
    op.create_table(
        "storefront_clearing_day",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_by", sa.String(length=120), nullable=False),
        sa.Column("fen_per_point", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=120), nullable=True),
        sa.Column("close_reason", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("business_date", name=op.f("pk_storefront_clearing_day")),
    )
    op.create_table(
        "storefront_clearing_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("source_kind", sa.String(length=16), nullable=False),
        sa.Column(
            "source_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("cleared_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cleared_on"],
            ["storefront_clearing_day.business_date"],
            name=op.f("fk_storefront_clearing_entry_cleared_on_storefront_clearing_day"),
        ),
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
    op.create_table(
        "storefront_clearing_liability",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("cleared_on", sa.Date(), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cleared_on"],
            ["storefront_clearing_day.business_date"],
            name=op.f("fk_storefront_clearing_liability_cleared_on_storefront_clearing_day"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_clearing_liability")),
    )
    op.create_index(
        op.f("ix_storefront_clearing_liability_cleared_on"),
        "storefront_clearing_liability",
        ["cleared_on"],
        unique=False,
    )
    op.create_table(
        "storefront_clearing_line",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("cleared_on", sa.Date(), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("original_date", sa.Date(), nullable=True),
        sa.Column("sales", sa.Integer(), nullable=False),
        sa.Column("gross_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunds", sa.Integer(), nullable=False),
        sa.Column("refunds_fen", sa.BigInteger(), nullable=False),
        sa.Column("net_fen", sa.BigInteger(), nullable=False),
        sa.Column("points_issued", sa.BigInteger(), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("points_redeemed", sa.BigInteger(), nullable=False),
        sa.Column("points_expired", sa.BigInteger(), nullable=False),
        sa.Column("points_adjusted", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cleared_on"],
            ["storefront_clearing_day.business_date"],
            name=op.f("fk_storefront_clearing_line_cleared_on_storefront_clearing_day"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_clearing_line")),
    )
    op.create_index(
        op.f("ix_storefront_clearing_line_cleared_on"),
        "storefront_clearing_line",
        ["cleared_on"],
        unique=False,
    )
    op.create_table(
        "storefront_clearing_position",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("cleared_on", sa.Date(), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("money_fen", sa.BigInteger(), nullable=False),
        sa.Column("points_cost_fen", sa.BigInteger(), nullable=False),
        sa.Column("net_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cleared_on"],
            ["storefront_clearing_day.business_date"],
            name=op.f("fk_storefront_clearing_position_cleared_on_storefront_clearing_day"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_clearing_position")),
    )
    op.create_index(
        op.f("ix_storefront_clearing_position_cleared_on"),
        "storefront_clearing_position",
        ["cleared_on"],
        unique=False,
    )
    op.create_table(
        "storefront_clearing_transfer",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("cleared_on", sa.Date(), nullable=False),
        sa.Column("payer", sa.String(length=32), nullable=False),
        sa.Column("payee", sa.String(length=32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cleared_on"],
            ["storefront_clearing_day.business_date"],
            name=op.f("fk_storefront_clearing_transfer_cleared_on_storefront_clearing_day"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_clearing_transfer")),
    )
    op.create_index(
        op.f("ix_storefront_clearing_transfer_cleared_on"),
        "storefront_clearing_transfer",
        ["cleared_on"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_storefront_clearing_transfer_cleared_on"),
        table_name="storefront_clearing_transfer",
    )
    op.drop_table("storefront_clearing_transfer")
    op.drop_index(
        op.f("ix_storefront_clearing_position_cleared_on"),
        table_name="storefront_clearing_position",
    )
    op.drop_table("storefront_clearing_position")
    op.drop_index(
        op.f("ix_storefront_clearing_line_cleared_on"), table_name="storefront_clearing_line"
    )
    op.drop_table("storefront_clearing_line")
    op.drop_index(
        op.f("ix_storefront_clearing_liability_cleared_on"),
        table_name="storefront_clearing_liability",
    )
    op.drop_table("storefront_clearing_liability")
    op.drop_index(
        op.f("ix_storefront_clearing_entry_cleared_on"), table_name="storefront_clearing_entry"
    )
    op.drop_table("storefront_clearing_entry")
    op.drop_table("storefront_clearing_day")
    op.drop_table("storefront_clearing_control_total")
