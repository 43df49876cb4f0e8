"""campaigns can be paused and stopped, and remember who funds them

A campaign is active, paused (it awards nothing until resumed; its budget stays) or
stopped (for good; its unspent budget went back to the funder's issuance account, which
is why the funder is kept).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("points_engine_campaign") as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="active")
        )
        batch_op.add_column(
            sa.Column("funded_by", sa.String(32), nullable=False, server_default="SH")
        )
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("points_engine_campaign") as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("funded_by")
        batch_op.drop_column("status")
