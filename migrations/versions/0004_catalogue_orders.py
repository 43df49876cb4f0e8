"""catalogue, orders, payments and pickup codes

Products carry what can still be ordered (stock) and per-member limits; orders keep
their lines, status history and payments; pickup codes are stored as keyed hashes
only. Generated from the models with Alembic's autogenerate, then reviewed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "storefront_member_purchase",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "quantity >= 0", name=op.f("ck_storefront_member_purchase_quantity_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_member_purchase")),
        sa.UniqueConstraint(
            "member_id", "sku", name=op.f("uq_storefront_member_purchase_member_id_sku")
        ),
    )
    op.create_table(
        "storefront_order",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_no", sa.String(length=32), nullable=False),
        sa.Column(
            "member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=False),
        sa.Column("institution_code", sa.String(length=64), nullable=False),
        sa.Column("fulfilment", sa.String(length=16), nullable=False),
        sa.Column("outlet_code", sa.String(length=64), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("payment_method", sa.String(length=16), nullable=False),
        sa.Column("card_no", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("points_used", sa.BigInteger(), nullable=False),
        sa.Column("points_offset_fen", sa.BigInteger(), nullable=False),
        sa.Column("payable_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("points_redemption_no", sa.String(length=40), nullable=True),
        sa.Column("accruals", sa.JSON(), nullable=False),
        sa.Column("pickup_expires_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "payable_fen >= 0", name=op.f("ck_storefront_order_payable_not_negative")
        ),
        sa.CheckConstraint(
            "points_used >= 0", name=op.f("ck_storefront_order_points_not_negative")
        ),
        sa.CheckConstraint("total_fen > 0", name=op.f("ck_storefront_order_total_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_order")),
        sa.UniqueConstraint("order_no", name=op.f("uq_storefront_order_order_no")),
    )
    op.create_index(
        op.f("ix_storefront_order_member_id"), "storefront_order", ["member_id"], unique=False
    )
    op.create_index(
        op.f("ix_storefront_order_pickup_expires_on"),
        "storefront_order",
        ["pickup_expires_on"],
        unique=False,
    )
    op.create_index(
        op.f("ix_storefront_order_status"), "storefront_order", ["status"], unique=False
    )
    op.create_index(
        op.f("ix_storefront_order_updated_at"), "storefront_order", ["updated_at"], unique=False
    )
    op.create_table(
        "storefront_pickup_code",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("outlet_code", sa.String(length=64), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_pickup_code")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_storefront_pickup_code_code_hash")),
        sa.UniqueConstraint("order_id", name=op.f("uq_storefront_pickup_code_order_id")),
    )
    op.create_table(
        "storefront_pickup_failure",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("caller", sa.String(length=80), nullable=False),
        sa.Column("outlet_code", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_pickup_failure")),
    )
    op.create_index(
        op.f("ix_storefront_pickup_failure_caller"),
        "storefront_pickup_failure",
        ["caller"],
        unique=False,
    )
    op.create_table(
        "storefront_product",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("brand", sa.String(length=64), nullable=True),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("stock", sa.BigInteger(), nullable=True),
        sa.Column("per_member_limit", sa.Integer(), nullable=True),
        sa.Column("festival", sa.String(length=32), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price_fen > 0", name=op.f("ck_storefront_product_price_positive")),
        sa.CheckConstraint(
            "stock IS NULL OR stock >= 0", name=op.f("ck_storefront_product_stock_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_product")),
        sa.UniqueConstraint("sku", name=op.f("uq_storefront_product_sku")),
    )
    op.create_table(
        "storefront_order_line",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["storefront_order.id"],
            name=op.f("fk_storefront_order_line_order_id_storefront_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_order_line")),
    )
    op.create_index(
        op.f("ix_storefront_order_line_order_id"),
        "storefront_order_line",
        ["order_id"],
        unique=False,
    )
    op.create_table(
        "storefront_order_payment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=True),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_fen", sa.BigInteger(), nullable=False),
        sa.Column("transaction_ref", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "refunded_fen <= amount_fen",
            name=op.f("ck_storefront_order_payment_refund_within_amount"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["storefront_order.id"],
            name=op.f("fk_storefront_order_payment_order_id_storefront_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_order_payment")),
    )
    op.create_index(
        op.f("ix_storefront_order_payment_order_id"),
        "storefront_order_payment",
        ["order_id"],
        unique=False,
    )
    op.create_table(
        "storefront_order_status_change",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["storefront_order.id"],
            name=op.f("fk_storefront_order_status_change_order_id_storefront_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_order_status_change")),
    )
    op.create_index(
        op.f("ix_storefront_order_status_change_order_id"),
        "storefront_order_status_change",
        ["order_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_storefront_order_status_change_order_id"),
        table_name="storefront_order_status_change",
    )
    op.drop_table("storefront_order_status_change")
    op.drop_index(
        op.f("ix_storefront_order_payment_order_id"), table_name="storefront_order_payment"
    )
    op.drop_table("storefront_order_payment")
    op.drop_index(op.f("ix_storefront_order_line_order_id"), table_name="storefront_order_line")
    op.drop_table("storefront_order_line")
    op.drop_table("storefront_product")
    op.drop_index(
        op.f("ix_storefront_pickup_failure_caller"), table_name="storefront_pickup_failure"
    )
    op.drop_table("storefront_pickup_failure")
    op.drop_table("storefront_pickup_code")
    op.drop_index(op.f("ix_storefront_order_updated_at"), table_name="storefront_order")
    op.drop_index(op.f("ix_storefront_order_status"), table_name="storefront_order")
    op.drop_index(op.f("ix_storefront_order_pickup_expires_on"), table_name="storefront_order")
    op.drop_index(op.f("ix_storefront_order_member_id"), table_name="storefront_order")
    op.drop_table("storefront_order")
    op.drop_table("storefront_member_purchase")
