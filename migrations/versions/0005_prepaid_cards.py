"""prepaid (stored-value) cards and their fen ledger

Three tables: accounts (one per card, plus `cash:<institution>` and `sales:<channel>`
system accounts, which keep no balance column: theirs is the sum of their entries),
cards (number, holder, status, running balance in fen, never negative) and the
double-entry entries between them, each with the card's balance after it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# BIGINT ids on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "storefront_prepaid_account",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_prepaid_account")),
        sa.UniqueConstraint("code", name=op.f("uq_storefront_prepaid_account_code")),
    )
    op.create_table(
        "storefront_prepaid_card",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("card_no", sa.String(length=19), nullable=False),
        sa.Column("account_id", BigId, nullable=False),
        sa.Column("member_id", BigId, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("balance_fen", sa.BigInteger(), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("issued_channel", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        # The database itself refuses a negative balance, whatever the code does.
        sa.CheckConstraint(
            "balance_fen >= 0", name=op.f("ck_storefront_prepaid_card_balance_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["storefront_prepaid_account.id"],
            name=op.f("fk_storefront_prepaid_card_account_id_storefront_prepaid_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_prepaid_card")),
        sa.UniqueConstraint("account_id", name=op.f("uq_storefront_prepaid_card_account_id")),
        sa.UniqueConstraint("card_no", name=op.f("uq_storefront_prepaid_card_card_no")),
    )
    with op.batch_alter_table("storefront_prepaid_card", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_storefront_prepaid_card_member_id"), ["member_id"], unique=False
        )

    op.create_table(
        "storefront_prepaid_entry",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("entry_no", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("card_id", BigId, nullable=False),
        sa.Column("from_account_id", BigId, nullable=False),
        sa.Column("to_account_id", BigId, nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("balance_after", sa.BigInteger(), nullable=False),
        sa.Column("refund_of_id", BigId, nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_fen > 0", name=op.f("ck_storefront_prepaid_entry_amount_positive")
        ),
        sa.CheckConstraint(
            "balance_after >= 0",
            name=op.f("ck_storefront_prepaid_entry_balance_after_not_negative"),
        ),
        sa.CheckConstraint(
            "from_account_id <> to_account_id",
            name=op.f("ck_storefront_prepaid_entry_distinct_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["storefront_prepaid_card.id"],
            name=op.f("fk_storefront_prepaid_entry_card_id_storefront_prepaid_card"),
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["storefront_prepaid_account.id"],
            name=op.f("fk_storefront_prepaid_entry_from_account_id_storefront_prepaid_account"),
        ),
        sa.ForeignKeyConstraint(
            ["refund_of_id"],
            ["storefront_prepaid_entry.id"],
            name=op.f("fk_storefront_prepaid_entry_refund_of_id_storefront_prepaid_entry"),
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"],
            ["storefront_prepaid_account.id"],
            name=op.f("fk_storefront_prepaid_entry_to_account_id_storefront_prepaid_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_prepaid_entry")),
        sa.UniqueConstraint("entry_no", name=op.f("uq_storefront_prepaid_entry_entry_no")),
    )
    with op.batch_alter_table("storefront_prepaid_entry", schema=None) as batch_op:
        # A card's transactions, newest first, page by entry id.
        batch_op.create_index("ix_storefront_prepaid_entry_card", ["card_id", "id"], unique=False)
        # Other flows find their charge again by its reference (e.g. an order's number).
        batch_op.create_index(
            batch_op.f("ix_storefront_prepaid_entry_reference"), ["reference"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_storefront_prepaid_entry_refund_of_id"), ["refund_of_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("storefront_prepaid_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storefront_prepaid_entry_refund_of_id"))
        batch_op.drop_index(batch_op.f("ix_storefront_prepaid_entry_reference"))
        batch_op.drop_index("ix_storefront_prepaid_entry_card")
    op.drop_table("storefront_prepaid_entry")
    with op.batch_alter_table("storefront_prepaid_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storefront_prepaid_card_member_id"))
    op.drop_table("storefront_prepaid_card")
    op.drop_table("storefront_prepaid_account")
