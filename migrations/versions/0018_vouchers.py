"""vouchers: voucher terms on rewards, the vouchers redemptions issue, and their uses

- `points_engine_reward`: what a voucher or bill credit is worth (`value_fen`), the least
  spend it needs, for how many days it is valid and on which business type. The seeded
  voucher and bill-credit rewards get the terms their names promise.
- `storefront_voucher`: one row per voucher (or bill credit) issued, with its unguessable
  code.
- `storefront_voucher_use`: each use on an order or a counter sale, and its return.
- `storefront_partner_reward`: catalogue rewards that arrive as a partner's currency
  (MILES-MU-500: 500 东方航空 miles), loaded with the partners.
- `storefront_order.voucher_fen`: what a voucher took off the order; `reward_code`: the
  goods reward an order delivers (its points paid by `points_redemption_no`, indexed);
  `storefront_bill_payment.credit_fen`: what a bill credit paid of a bill.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# code: (value_fen, min_spend_fen, valid_days, applies_to, biller_kind)
SEEDED_TERMS = {
    "VOUCHER-MALL-10": (1000, 5000, 90, None, None),
    "VOUCHER-MALL-20": (2000, 10000, 90, None, None),
    "VOUCHER-MALL-50": (5000, 20000, 90, None, None),
    "VOUCHER-MAILING-5": (500, 0, 180, "mailing", None),
    "BILL-MOBILE-10": (1000, 0, 90, "bill_payment", "landline"),
    "BILL-WATER-10": (1000, 0, 90, "bill_payment", "water"),
    "BILL-GAS-20": (2000, 0, 90, "bill_payment", "gas"),
}


def upgrade() -> None:
    with op.batch_alter_table("points_engine_reward") as batch:
        batch.add_column(sa.Column("value_fen", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("min_spend_fen", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("valid_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("applies_to", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("biller_kind", sa.String(length=16), nullable=True))
    reward = sa.table(
        "points_engine_reward",
        sa.column("code", sa.String),
        sa.column("value_fen", sa.BigInteger),
        sa.column("min_spend_fen", sa.BigInteger),
        sa.column("valid_days", sa.Integer),
        sa.column("applies_to", sa.String),
        sa.column("biller_kind", sa.String),
    )
    for code, (value, min_spend, days, applies_to, biller_kind) in SEEDED_TERMS.items():
        op.execute(
            reward.update()
            .where(reward.c.code == code, reward.c.value_fen.is_(None))
            .values(
                value_fen=value,
                min_spend_fen=min_spend,
                valid_days=days,
                applies_to=applies_to,
                biller_kind=biller_kind,
            )
        )
    with op.batch_alter_table("storefront_order") as batch:
        batch.add_column(
            sa.Column("voucher_fen", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("reward_code", sa.String(length=64), nullable=True))
        batch.create_index(
            op.f("ix_storefront_order_points_redemption_no"), ["points_redemption_no"]
        )
    with op.batch_alter_table("storefront_bill_payment") as batch:
        batch.add_column(
            sa.Column("credit_fen", sa.BigInteger(), server_default="0", nullable=False)
        )
    op.create_table(
        "storefront_partner_reward",
        sa.Column("reward_code", sa.String(length=64), nullable=False),
        sa.Column("partner_code", sa.String(length=32), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_code"],
            ["storefront_partner.code"],
            name=op.f("fk_storefront_partner_reward_partner_code_storefront_partner"),
        ),
        sa.PrimaryKeyConstraint("reward_code", name=op.f("pk_storefront_partner_reward")),
    )
    op.create_table(
        "storefront_voucher",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("member_id", BigId, nullable=False),
        sa.Column("redemption_no", sa.String(length=40), nullable=False),
        sa.Column("reward_code", sa.String(length=64), nullable=False),
        sa.Column("value_fen", sa.BigInteger(), nullable=False),
        sa.Column("min_spend_fen", sa.BigInteger(), nullable=False),
        sa.Column("applies_to", sa.String(length=32), nullable=True),
        sa.Column("biller_kind", sa.String(length=16), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("value_fen > 0", name=op.f("ck_storefront_voucher_value_positive")),
        sa.CheckConstraint(
            "valid_until >= valid_from", name=op.f("ck_storefront_voucher_dates_in_order")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_voucher")),
        sa.UniqueConstraint("code", name=op.f("uq_storefront_voucher_code")),
    )
    op.create_index(
        op.f("ix_storefront_voucher_member_id"), "storefront_voucher", ["member_id"], unique=False
    )
    op.create_index(
        op.f("ix_storefront_voucher_redemption_no"),
        "storefront_voucher",
        ["redemption_no"],
        unique=False,
    )
    op.create_table(
        "storefront_voucher_use",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("use_no", sa.String(length=40), nullable=False),
        sa.Column("voucher_id", BigId, nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("institution_code", sa.String(length=64), nullable=True),
        sa.Column("order_no", sa.String(length=32), nullable=True),
        sa.Column("bill_payment_no", sa.String(length=40), nullable=True),
        sa.Column("business_type", sa.String(length=32), nullable=True),
        sa.Column("spend_fen", sa.BigInteger(), nullable=False),
        sa.Column("applied_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["voucher_id"],
            ["storefront_voucher.id"],
            name=op.f("fk_storefront_voucher_use_voucher_id_storefront_voucher"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_storefront_voucher_use")),
        sa.UniqueConstraint("use_no", name=op.f("uq_storefront_voucher_use_use_no")),
    )
    op.create_index(
        op.f("ix_storefront_voucher_use_voucher_id"),
        "storefront_voucher_use",
        ["voucher_id"],
        unique=False,
    )
    op.create_index(
        "ix_storefront_voucher_use_order", "storefront_voucher_use", ["order_no"], unique=False
    )
    op.create_index(
        op.f("ix_storefront_voucher_use_bill_payment_no"),
        "storefront_voucher_use",
        ["bill_payment_no"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_storefront_voucher_use_bill_payment_no"), table_name="storefront_voucher_use"
    )
    op.drop_index("ix_storefront_voucher_use_order", table_name="storefront_voucher_use")
    op.drop_index(op.f("ix_storefront_voucher_use_voucher_id"), table_name="storefront_voucher_use")
    op.drop_table("storefront_voucher_use")
    op.drop_index(op.f("ix_storefront_voucher_redemption_no"), table_name="storefront_voucher")
    op.drop_index(op.f("ix_storefront_voucher_member_id"), table_name="storefront_voucher")
    op.drop_table("storefront_voucher")
    op.drop_table("storefront_partner_reward")
    with op.batch_alter_table("storefront_bill_payment") as batch:
        batch.drop_column("credit_fen")
    with op.batch_alter_table("storefront_order") as batch:
        batch.drop_index(op.f("ix_storefront_order_points_redemption_no"))
        batch.drop_column("reward_code")
        batch.drop_column("voucher_fen")
    with op.batch_alter_table("points_engine_reward") as batch:
        batch.drop_column("biller_kind")
        batch.drop_column("applies_to")
        batch.drop_column("valid_days")
        batch.drop_column("min_spend_fen")
        batch.drop_column("value_fen")
