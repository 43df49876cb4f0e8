"""member insights: segment rules, model runs and per-member scores

- `crm_segment`: named segments and their rules as data (JSON ranges on RFM scores,
  tenure and recency), loaded by init-db and applied by `memberhub insights train`.
- `crm_insight_run`: one row per training, unique per (as_of, model_version): training
  again for the same day and version replaces the run and, by ON DELETE CASCADE, its
  scores, in one transaction.
- `crm_member_score`: a member's RFM quintiles, segment and churn risk of one run, the
  risk in basis points (an integer: backups carry no floats); `expected_value_fen`
  stays empty until the lifetime-value models write it.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "crm_segment",
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=1000), nullable=False),
        sa.Column("description", sa.String(length=400), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_crm_segment")),
    )
    op.create_table(
        "crm_insight_run",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_insight_run")),
    )
    op.create_index(
        "uq_crm_insight_run_as_of_model_version",
        "crm_insight_run",
        ["as_of", "model_version"],
        unique=True,
    )
    op.create_table(
        "crm_member_score",
        sa.Column("run_id", BIG_ID, nullable=False),
        sa.Column("member_id", BIG_ID, nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("model_version", sa.String(length=40), nullable=False),
        sa.Column("r", sa.SmallInteger(), nullable=False),
        sa.Column("f", sa.SmallInteger(), nullable=False),
        sa.Column("m", sa.SmallInteger(), nullable=False),
        sa.Column("segment_code", sa.String(length=32), nullable=False),
        sa.Column("churn_risk_bp", sa.Integer(), nullable=False),
        sa.Column("expected_value_fen", BIG_ID, nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["crm_insight_run.id"],
            name=op.f("fk_crm_member_score_run_id_crm_insight_run"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["crm_member.id"],
            name=op.f("fk_crm_member_score_member_id_crm_member"),
        ),
        sa.ForeignKeyConstraint(
            ["segment_code"],
            ["crm_segment.code"],
            name=op.f("fk_crm_member_score_segment_code_crm_segment"),
        ),
        sa.PrimaryKeyConstraint("run_id", "member_id", name=op.f("pk_crm_member_score")),
    )
    op.create_index(op.f("ix_crm_member_score_member_id"), "crm_member_score", ["member_id"])
    op.create_index(
        "ix_crm_member_score_run_segment",
        "crm_member_score",
        ["run_id", "segment_code", "member_id"],
    )


def downgrade() -> None:
    op.drop_table("crm_member_score")
    op.drop_index("uq_crm_insight_run_as_of_model_version", table_name="crm_insight_run")
    op.drop_table("crm_insight_run")
    op.drop_table("crm_segment")
