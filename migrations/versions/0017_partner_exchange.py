"""partner exchange: partners and their exchange lines

- `storefront_partner`: each partner (an airline, the postal savings bank), the hidden
  reward its exchanges out redeem, the rate, minimum and daily limit of points out, and
  the rate of its points in.
- `storefront_partner_exchange`: one line per exchange, out (pending, sent in a
  settlement file, settled or rejected by the partner) or in (completed), with the
  redemption whose lots a rejection gives back.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('storefront_partner',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reward_code', sa.String(length=64), nullable=False),
    sa.Column('unit_name', sa.String(length=32), nullable=False),
    sa.Column('out_points_per_unit', sa.Integer(), nullable=True),
    sa.Column('out_min_points', sa.Integer(), nullable=False),
    sa.Column('out_daily_limit_points', sa.Integer(), nullable=False),
    sa.Column('in_partner_units', sa.Integer(), nullable=True),
    sa.Column('in_points', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_storefront_partner'))
    )
    op.create_table('storefront_partner_exchange',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('exchange_no', sa.String(length=40), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('partner_code', sa.String(length=32), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('partner_member_no', sa.String(length=32), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('partner_units', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('redemption_no', sa.String(length=40), nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('reject_reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storefront_partner_exchange')),
    sa.UniqueConstraint('exchange_no', name=op.f('uq_storefront_partner_exchange_exchange_no'))
    )
    op.create_index('ix_storefront_partner_exchange_member_day', 'storefront_partner_exchange', ['member_id', 'business_date'], unique=False)
    op.create_index('ix_storefront_partner_exchange_partner_day', 'storefront_partner_exchange', ['partner_code', 'business_date', 'status'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_storefront_partner_exchange_partner_day', table_name='storefront_partner_exchange')
    op.drop_index('ix_storefront_partner_exchange_member_day', table_name='storefront_partner_exchange')
    op.drop_table('storefront_partner_exchange')
    op.drop_table('storefront_partner')
