"""the 自邮一族 club: qualifying points, tier spend thresholds, grace and tier history

- `points_engine_accrual.campaign_points`: of an accrual's points, those a campaign's
  budget paid (filled in from each accrual's sources), so that a tier can leave them out.
- `crm_tier.min_spend_fen_12m`: the trailing year's spend that earns a tier on its own.
- `crm_member.tier_since`, `tier_grace_until`: since when the member holds the tier, and
  the last day a member whose year fell short keeps it.
- `crm_club_policy`: whether campaign bonuses qualify, and the grace in days.
- `crm_tier_change`: each member's tier history.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SPEND_THRESHOLDS = {"silver": 300_000, "gold": 1_200_000, "diamond": 4_500_000}


def upgrade() -> None:
    with op.batch_alter_table("points_engine_accrual") as batch:
        batch.add_column(
            sa.Column("campaign_points", sa.BigInteger(), server_default="0", nullable=False)
        )
    _fill_campaign_points()
    with op.batch_alter_table("crm_tier") as batch:
        batch.add_column(sa.Column("min_spend_fen_12m", sa.BigInteger(), nullable=True))
    tier = sa.table("crm_tier", sa.column("code", sa.String), sa.column("min_spend_fen_12m"))
    for code, spend in SPEND_THRESHOLDS.items():
        op.execute(
            tier.update()
            .where(tier.c.code == code, tier.c.min_spend_fen_12m.is_(None))
            .values(min_spend_fen_12m=spend)
        )
    with op.batch_alter_table("crm_member") as batch:
        batch.add_column(sa.Column("tier_since", sa.Date(), nullable=True))
        batch.add_column(sa.Column("tier_grace_until", sa.Date(), nullable=True))
    # Its one row comes with the reference data (crm.load_club); until then the defaults
    # apply (no campaign bonus qualifies, 90 days of grace).
    op.create_table(
        "crm_club_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_bonus_qualifies", sa.Boolean(), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_club_policy")),
    )
    op.create_table(
        "crm_tier_change",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("from_tier", sa.String(length=32), nullable=True),
        sa.Column("to_tier", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("qualifying_points", sa.BigInteger(), nullable=False),
        sa.Column("spend_fen", sa.BigInteger(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["crm_member.id"], name=op.f("fk_crm_tier_change_member_id_crm_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crm_tier_change")),
    )
    op.create_index(
        op.f("ix_crm_tier_change_member_id"), "crm_tier_change", ["member_id"], unique=False
    )


def _fill_campaign_points() -> None:
    """Campaign-funded points of the accruals written before the column existed."""
    connection = op.get_bind()
    accrual = sa.table(
        "points_engine_accrual",
        sa.column("id", sa.Integer),
        sa.column("sources", sa.Text),
        sa.column("campaign_points", sa.BigInteger),
    )
    rows = connection.execute(
        sa.select(accrual.c.id, accrual.c.sources).where(
            sa.cast(accrual.c.sources, sa.Text).like("%campaign_id%")
        )
    ).all()
    updates = []
    for accrual_id, sources in rows:
        parsed = json.loads(sources) if isinstance(sources, str) else sources
        points = sum(int(s["points"]) for s in parsed or [] if s.get("campaign_id") is not None)
        if points:
            updates.append({"accrual_id": accrual_id, "points": points})
    if updates:
        connection.execute(
            accrual.update()
            .where(accrual.c.id == sa.bindparam("accrual_id"))
            .values(campaign_points=sa.bindparam("points")),
            updates,
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_crm_tier_change_member_id"), table_name="crm_tier_change")
    op.drop_table("crm_tier_change")
    op.drop_table("crm_club_policy")
    with op.batch_alter_table("crm_member") as batch:
        batch.drop_column("tier_grace_until")
        batch.drop_column("tier_since")
    with op.batch_alter_table("crm_tier") as batch:
        batch.drop_column("min_spend_fen_12m")
    with op.batch_alter_table("points_engine_accrual") as batch:
        batch.drop_column("campaign_points")
