"""saved dashboard views and their scheduled reports

`storefront_saved_view`: a staff user's named filters for one dashboard page, private or
shared with colleagues; with a cadence (daily, or weekly on a weekday) `jobs run-due`
writes the page's tables and charts from it to the outbox, once per day
(`report_last_sent_on`).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 11:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "storefront_saved_view",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("view_no", sa.String(length=24), nullable=False),
        sa.Column("owner_id", BigId, nullable=False),
        sa.Column("page", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("query", sa.String(length=1000), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("report_cadence", sa.String(length=8), nullable=True),
        sa.Column("report_weekday", sa.SmallInteger(), nullable=True),
        sa.Column("report_format", sa.String(length=4), nullable=False),
        sa.Column("report_recipients", sa.String(length=1000), nullable=False),
        sa.Column("report_last_sent_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["storefront_api_staff_user.id"],
            name=op.f("fk_storefront_saved_view_owner_id_storefront_api_staff_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_saved_view")),
        sa.UniqueConstraint(
            "owner_id", "page", "name", name=op.f("uq_storefront_saved_view_owner_id_page_name")
        ),
        sa.UniqueConstraint("view_no", name=op.f("uq_storefront_saved_view_view_no")),
    )
    op.create_index(
        op.f("ix_storefront_saved_view_owner_id"),
        "storefront_saved_view",
        ["owner_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_storefront_saved_view_owner_id"), table_name="storefront_saved_view")
    op.drop_table("storefront_saved_view")
