"""merge records, so that an admin can undo a wrong merge

`crm_merge` keeps what a merge changed on the member records (the identifiers moved,
the survivor's consent before). `points_engine_account_merge` and
`points_engine_merged_lot` keep what it moved in the ledger: the lots as they stood, the
absorbed member's debt the survivor paid and the campaign awards. Merges done before
this revision have no record and cannot be undone.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "crm_merge",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("merge_no", sa.String(24), nullable=False, unique=True),
        sa.Column("survivor_id", BIG_ID, sa.ForeignKey("crm_member.id"), nullable=False),
        sa.Column("absorbed_id", BIG_ID, sa.ForeignKey("crm_member.id"), nullable=False),
        sa.Column("identifier_ids", sa.JSON(), nullable=False),
        sa.Column("survivor_marketing_consent", sa.Boolean(), nullable=False),
        sa.Column("points_txn_id", sa.String(40), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(120), nullable=True),
    )
    op.create_index("ix_crm_merge_survivor_id", "crm_merge", ["survivor_id"])
    op.create_index("ix_crm_merge_absorbed_id", "crm_merge", ["absorbed_id"])
    op.create_table(
        "points_engine_account_merge",
        sa.Column("txn_id", sa.String(40), primary_key=True),
        sa.Column("absorbed_member_id", BIG_ID, nullable=False),
        sa.Column("survivor_member_id", BIG_ID, nullable=False),
        sa.Column("debt_covered", sa.BigInteger(), nullable=False),
        sa.Column("awards", sa.JSON(), nullable=False),
        sa.Column("undone_txn_id", sa.String(40), nullable=True),
    )
    op.create_table(
        "points_engine_merged_lot",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column(
            "merge_txn_id",
            sa.String(40),
            sa.ForeignKey("points_engine_account_merge.txn_id"),
            nullable=False,
        ),
        sa.Column("lot_id", BIG_ID, sa.ForeignKey("points_engine_lot.id"), nullable=False),
        sa.Column("remaining_at_merge", sa.BigInteger(), nullable=False),
        sa.Column("expired_at_merge", sa.BigInteger(), nullable=False),
        sa.Column("reversed_at_merge", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_points_engine_merged_lot_merge_txn_id", "points_engine_merged_lot", ["merge_txn_id"]
    )


def downgrade() -> None:
    op.drop_table("points_engine_merged_lot")
    op.drop_table("points_engine_account_merge")
    op.drop_table("crm_merge")
