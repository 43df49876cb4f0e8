"""base earning rules change through dated versions

A marketer schedules a new version of a base rule from a future date; an accrual is
earned under the rules in force on its business day.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "points_engine_earning_rule_version",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("business_type", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("per_fen", sa.Integer(), nullable=False),
        sa.Column("fixed_points", sa.Integer(), nullable=False),
        sa.Column("pending_days", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("description_en", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_engine_earning_rule_version")),
        sa.UniqueConstraint(
            "code",
            "effective_from",
            name=op.f("uq_points_engine_earning_rule_version_code_effective_from"),
        ),
    )


def downgrade() -> None:
    op.drop_table("points_engine_earning_rule_version")
