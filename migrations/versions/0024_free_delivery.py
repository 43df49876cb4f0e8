"""free delivery as a tier benefit

`crm_tier.free_delivery`: members of the tier pay no delivery fee on delivered orders.
The seeded gold and diamond tiers get it; tiers an admin added do not.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 14:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

SEEDED = ("gold", "diamond")


def upgrade() -> None:
    with op.batch_alter_table("crm_tier") as batch:
        batch.add_column(
            sa.Column("free_delivery", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    tier = sa.table("crm_tier", sa.column("code", sa.String), sa.column("free_delivery"))
    op.execute(tier.update().where(tier.c.code.in_(SEEDED)).values(free_delivery=True))


def downgrade() -> None:
    with op.batch_alter_table("crm_tier") as batch:
        batch.drop_column("free_delivery")
