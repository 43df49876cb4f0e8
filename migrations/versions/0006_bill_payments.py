"""billers, bill payments and the sandbox biller's books

Billers are reference data (one sandbox biller per kind is loaded by init-db). A bill
is what a biller said was due on an account for a period, one row per biller,
account and period. A bill payment is recorded as `processing` before the biller is
asked, so that a biller that takes the money and never answers leaves a payment to
resolve rather than nothing. The sandbox biller keeps what it received in a table of
its own, which stands for the biller's system and is shared by every server process.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# BIGINT ids on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "storefront_biller",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("adapter", sa.String(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('water', 'electricity', 'gas', 'broadband', 'landline')",
            name=op.f("ck_storefront_biller_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_biller")),
        sa.UniqueConstraint("code", name=op.f("uq_storefront_biller_code")),
    )
    op.create_table(
        "storefront_bill",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("bill_no", sa.String(length=32), nullable=False),
        sa.Column("biller_code", sa.String(length=32), nullable=False),
        sa.Column("account_no", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("amount_due_fen", sa.BigInteger(), nullable=False),
        sa.Column("customer_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_due_fen > 0", name=op.f("ck_storefront_bill_amount_due_positive")
        ),
        sa.ForeignKeyConstraint(
            ["biller_code"],
            ["storefront_biller.code"],
            name=op.f("fk_storefront_bill_biller_code_storefront_biller"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_bill")),
        sa.UniqueConstraint("bill_no", name=op.f("uq_storefront_bill_bill_no")),
        # Bills are upserted on this key: two callers looking up one new bill share a row.
        sa.UniqueConstraint(
            "biller_code",
            "account_no",
            "period",
            name=op.f("uq_storefront_bill_biller_code_account_no_period"),
        ),
    )
    op.create_table(
        "storefront_bill_payment",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("payment_no", sa.String(length=32), nullable=False),
        sa.Column("bill_id", BigId, nullable=False),
        sa.Column("biller_code", sa.String(length=32), nullable=False),
        sa.Column("account_no", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=80), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("paid_by_member", sa.Boolean(), nullable=False),
        sa.Column("member_id", BigId, nullable=True),
        sa.Column("member_no", sa.String(length=16), nullable=True),
        sa.Column("accrual_no", sa.String(length=40), nullable=True),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("biller_ref", sa.String(length=64), nullable=True),
        sa.Column("decline_reason", sa.String(length=200), nullable=True),
        sa.Column("reversal_external_id", sa.String(length=120), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_fen > 0", name=op.f("ck_storefront_bill_payment_amount_positive")
        ),
        sa.CheckConstraint(
            "status IN ('processing', 'paid', 'declined', 'unknown', 'failed', 'reversed')",
            name=op.f("ck_storefront_bill_payment_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["bill_id"],
            ["storefront_bill.id"],
            name=op.f("fk_storefront_bill_payment_bill_id_storefront_bill"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_bill_payment")),
        sa.UniqueConstraint("payment_no", name=op.f("uq_storefront_bill_payment_payment_no")),
        sa.UniqueConstraint(
            "scope", "external_id", name=op.f("uq_storefront_bill_payment_scope_external_id")
        ),
    )
    with op.batch_alter_table("storefront_bill_payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_storefront_bill_payment_bill_id"), ["bill_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_storefront_bill_payment_member_id"), ["member_id"], unique=False
        )
        # The status-check job looks for unresolved payments, oldest first.
        batch_op.create_index(
            "ix_storefront_bill_payment_status_created", ["status", "created_at"], unique=False
        )

    op.create_table(
        "storefront_sandbox_biller_payment",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("biller_ref", sa.String(length=32), nullable=False),
        sa.Column("payment_ref", sa.String(length=64), nullable=False),
        sa.Column("biller_code", sa.String(length=32), nullable=False),
        sa.Column("account_no", sa.String(length=16), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_sandbox_biller_payment")),
        sa.UniqueConstraint(
            "biller_ref", name=op.f("uq_storefront_sandbox_biller_payment_biller_ref")
        ),
    )
    with op.batch_alter_table("storefront_sandbox_biller_payment", schema=None) as batch_op:
        # Not unique on purpose: the sandbox books every pay call, so a double charge shows.
        batch_op.create_index(
            batch_op.f("ix_storefront_sandbox_biller_payment_payment_ref"),
            ["payment_ref"],
            unique=False,
        )
        batch_op.create_index(
            "ix_storefront_sandbox_biller_payment_bill",
            ["biller_code", "account_no", "period"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("storefront_sandbox_biller_payment")
    op.drop_table("storefront_bill_payment")
    op.drop_table("storefront_bill")
    op.drop_table("storefront_biller")
