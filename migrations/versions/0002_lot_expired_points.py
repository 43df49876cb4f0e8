"""lots remember how many of their points expired

A refund of a purchase whose points already expired used to take those points
from the member's other lots a second time. Lots now keep the expired amount so a
reversal can take it back out of breakage instead. Existing expired lots get 0:
their expiry postings predate the rule, and reclaiming them retroactively would
move points that finance has already reported as breakage.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 13:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("points_engine_lot", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expired", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_check_constraint(
            "expired_in_range", "expired >= 0 AND expired <= initial"
        )


def downgrade() -> None:
    with op.batch_alter_table("points_engine_lot", schema=None) as batch_op:
        batch_op.drop_constraint("ck_points_engine_lot_expired_in_range", type_="check")
        batch_op.drop_column("expired")
