"""member prices in the catalogue

`storefront_product.member_prices`: the club's lower prices by tier code ({"gold": 35900});
a member pays the lowest of the list price and the prices of their tier and the tiers
below it. The seeded fan and cold-brew tea get the prices the default catalogue gives
them.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 12:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

SEEDED = {
    "SU-FAN-01": {"gold": 35900, "diamond": 33900},
    "SU-TEA-GIFT": {"silver": 8900},
}


def upgrade() -> None:
    with op.batch_alter_table("storefront_product") as batch:
        batch.add_column(sa.Column("member_prices", sa.JSON(), nullable=True))
    product = sa.table(
        "storefront_product", sa.column("sku", sa.String), sa.column("member_prices", sa.JSON)
    )
    for sku, prices in SEEDED.items():
        op.execute(
            product.update()
            .where(product.c.sku == sku, product.c.member_prices.is_(None))
            .values(member_prices=prices)
        )


def downgrade() -> None:
    with op.batch_alter_table("storefront_product") as batch:
        batch.drop_column("member_prices")
