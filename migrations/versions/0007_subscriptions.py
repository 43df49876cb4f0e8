"""newspaper titles and subscriptions

Press titles are reference data (loaded by init-db) with a monthly price in fen.
A subscription keeps what was sold as it was sold (monthly price, total, period,
delivery) so that a later price change never alters a refund; its member is kept
as id and number without a foreign key into the member hub (packages reference
each other by id). The delivery check makes an address subscription carry an
address and an outlet subscription an outlet, never both.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "storefront_press_title",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("publisher", sa.String(length=200), nullable=False),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("monthly_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "monthly_price_fen > 0", name=op.f("ck_storefront_press_title_price_positive")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_press_title")),
        sa.UniqueConstraint("code", name=op.f("uq_storefront_press_title_code")),
    )
    op.create_table(
        "storefront_subscription",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("subscription_no", sa.String(length=24), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("institution_code", sa.String(length=32), nullable=False),
        sa.Column("member_id", BIG_ID, nullable=False),
        sa.Column("member_no", sa.String(length=16), nullable=False),
        sa.Column("title_code", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=16), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("monthly_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("delivery_type", sa.String(length=16), nullable=False),
        sa.Column("delivery_address", sa.String(length=300), nullable=True),
        sa.Column("outlet_code", sa.String(length=32), nullable=True),
        sa.Column("payment_method", sa.String(length=32), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancelled_on", sa.Date(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refund_fen", sa.BigInteger(), nullable=False),
        sa.Column("points_reversed", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("total_fen > 0", name=op.f("ck_storefront_subscription_total_positive")),
        sa.CheckConstraint(
            "refund_fen >= 0 AND refund_fen <= total_fen",
            name=op.f("ck_storefront_subscription_refund_in_range"),
        ),
        sa.CheckConstraint(
            "points_reversed >= 0 AND points_reversed <= points",
            name=op.f("ck_storefront_subscription_reversed_in_range"),
        ),
        sa.CheckConstraint(
            "ends_on >= starts_on", name=op.f("ck_storefront_subscription_period_ordered")
        ),
        sa.CheckConstraint(
            "(delivery_type = 'address' AND delivery_address IS NOT NULL"
            " AND outlet_code IS NULL) OR "
            "(delivery_type = 'outlet' AND outlet_code IS NOT NULL"
            " AND delivery_address IS NULL)",
            name=op.f("ck_storefront_subscription_delivery_complete"),
        ),
        sa.ForeignKeyConstraint(
            ["channel"],
            ["common_channel.code"],
            name=op.f("fk_storefront_subscription_channel_common_channel"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_code"],
            ["common_institution.code"],
            name=op.f("fk_storefront_subscription_institution_code_common_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["outlet_code"],
            ["common_institution.code"],
            name=op.f("fk_storefront_subscription_outlet_code_common_institution"),
        ),
        sa.ForeignKeyConstraint(
            ["title_code"],
            ["storefront_press_title.code"],
            name=op.f("fk_storefront_subscription_title_code_storefront_press_title"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_subscription")),
        sa.UniqueConstraint(
            "subscription_no", name=op.f("uq_storefront_subscription_subscription_no")
        ),
    )
    op.create_index(
        op.f("ix_storefront_subscription_member_id"),
        "storefront_subscription",
        ["member_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_storefront_subscription_member_id"), table_name="storefront_subscription"
    )
    op.drop_table("storefront_subscription")
    op.drop_table("storefront_press_title")
