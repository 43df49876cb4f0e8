"""member lifetime value: probability alive and expected purchases beside the value

`crm_member_score` gains, from the BG/NBD and Gamma-Gamma fits of each training:
- `alive_bp`: the probability that the member is still a customer, in basis points;
- `expected_purchases_x100`: repeat purchases expected in the value horizon, in
  hundredths;
and `expected_value_fen` (already there, empty until now) is filled with what those
purchases are expected to be worth. All three are empty for a member without a purchase
(the models begin at the first one). Integers, because backups carry no floats.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("crm_member_score") as batch:
        batch.add_column(sa.Column("alive_bp", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("expected_purchases_x100", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("crm_member_score") as batch:
        batch.drop_column("expected_purchases_x100")
        batch.drop_column("alive_bp")
