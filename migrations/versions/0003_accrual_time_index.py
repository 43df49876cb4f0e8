"""index accruals by when they happened

Tier review (points earned in the trailing year) and campaign simulation (last
year's purchases in a window) both select accruals by occurred_at; without an
index each of them scans the whole table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 13:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_points_engine_accrual_occurred_at", "points_engine_accrual", ["occurred_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_points_engine_accrual_occurred_at", table_name="points_engine_accrual")
