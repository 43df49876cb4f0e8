"""indexes on the time of the movements the clearing takes

`ix_points_engine_posting_cleared`: postings other than accruals, by `occurred_at`.
Accrual postings are now cleared with their sale (they carry exactly the accrual's
points, at its time), so a run reads a day's other postings: reversals, redemptions,
expiries, adjustments, partner points. A partial index leaves the accrual postings, the
hot write path's, out.

`ix_points_engine_refund_created_at`: a day's refunds, found without reading them all.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-08 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

NOT_ACCRUAL = sa.text("type <> 'accrual'")


def upgrade() -> None:
    op.create_index(
        "ix_points_engine_posting_cleared",
        "points_engine_posting",
        ["occurred_at"],
        unique=False,
        postgresql_where=NOT_ACCRUAL,
        sqlite_where=NOT_ACCRUAL,
    )
    op.create_index(
        op.f("ix_points_engine_refund_created_at"),
        "points_engine_refund",
        ["created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_points_engine_refund_created_at"), table_name="points_engine_refund")
    op.drop_index("ix_points_engine_posting_cleared", table_name="points_engine_posting")
