"""a birthday bonus per tier

`crm_tier.birthday_bonus_points`: points a member of the tier is credited once a year in
their birthday week (`jobs run-due`); the seeded tiers get the programme's amounts
(silver 200, gold 500, diamond 1,000), tiers an admin added get none.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

SEEDED = {"silver": 200, "gold": 500, "diamond": 1000}


def upgrade() -> None:
    with op.batch_alter_table("crm_tier") as batch:
        batch.add_column(
            sa.Column("birthday_bonus_points", sa.Integer(), server_default="0", nullable=False)
        )
    tier = sa.table("crm_tier", sa.column("code", sa.String), sa.column("birthday_bonus_points"))
    for code, points in SEEDED.items():
        op.execute(tier.update().where(tier.c.code == code).values(birthday_bonus_points=points))


def downgrade() -> None:
    with op.batch_alter_table("crm_tier") as batch:
        batch.drop_column("birthday_bonus_points")
