"""how far each closed clearing day is known to be taken

`storefront_clearing_day.sale_id_through`, `refund_id_through`, `posting_id_through`:
every movement of the day with an id up to these has been taken by some run. A run
looks for late events of closed days only above them, instead of in every movement
since the first closed day. NULL (days closed before this revision): every movement
of the day is looked at, once; the next run sets them.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 21:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

COLUMNS = ("sale_id_through", "refund_id_through", "posting_id_through")


def upgrade() -> None:
    with op.batch_alter_table("storefront_clearing_day") as batch:
        for column in COLUMNS:
            batch.add_column(sa.Column(column, sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("storefront_clearing_day") as batch:
        for column in reversed(COLUMNS):
            batch.drop_column(column)
