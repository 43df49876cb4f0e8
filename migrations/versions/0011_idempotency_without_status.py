"""idempotency records keep the result, not an HTTP status

Use cases no longer know HTTP: the guard stores the result of the first write and a
replay rebuilds it from there; whether it answers 200 or 201 is the HTTP layer's to
say. The status column was written but never read, so it goes.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("common_idempotency") as batch_op:
        batch_op.drop_column("status")


def downgrade() -> None:
    with op.batch_alter_table("common_idempotency") as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
