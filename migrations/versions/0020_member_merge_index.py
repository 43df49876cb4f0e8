"""an index on crm_member.merged_into_id

Every accrual's tier check and every walk down a merge chain asks which members were
merged into some members; without the index each of those scans the member table.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_crm_member_merged_into_id", "crm_member", ["merged_into_id"])


def downgrade() -> None:
    op.drop_index("ix_crm_member_merged_into_id", table_name="crm_member")
