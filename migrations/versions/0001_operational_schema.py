"""operational schema: members, ledger, channel keys

The first schema: reference data (institution tree, channels, business types,
categories), the member hub, the double-entry points ledger with its lots,
idempotency records, channel API keys and staff users. Ids are BIGINT on
PostgreSQL and INTEGER on SQLite, where only INTEGER PRIMARY KEY auto-increments.

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 12:17:51.342637
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('common_business_type',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_common_business_type'))
    )
    op.create_table('common_category',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_common_category'))
    )
    op.create_table('common_channel',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('online', sa.Boolean(), nullable=False),
    sa.Column('needs_institution', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_common_channel'))
    )
    op.create_table('common_idempotency',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=80), nullable=False),
    sa.Column('operation', sa.String(length=40), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('body', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_common_idempotency')),
    sa.UniqueConstraint('scope', 'operation', 'external_id', name=op.f('uq_common_idempotency_scope_operation_external_id'))
    )
    op.create_table('common_institution',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['parent_code'], ['common_institution.code'], name=op.f('fk_common_institution_parent_code_common_institution')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_common_institution'))
    )
    with op.batch_alter_table('common_institution', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_common_institution_parent_code'), ['parent_code'], unique=False)

    op.create_table('crm_member',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_no', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=True),
    sa.Column('birthday', sa.Date(), nullable=True),
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('tier_reviewed_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('marketing_consent', sa.Boolean(), nullable=False),
    sa.Column('sms_consent', sa.Boolean(), nullable=False),
    sa.Column('data_sharing_consent', sa.Boolean(), nullable=False),
    sa.Column('registered_channel', sa.String(length=32), nullable=True),
    sa.Column('registered_institution', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('merged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['merged_into_id'], ['crm_member.id'], name=op.f('fk_crm_member_merged_into_id_crm_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_member')),
    sa.UniqueConstraint('member_no', name=op.f('uq_crm_member_member_no'))
    )
    with op.batch_alter_table('crm_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_member_phone'), ['phone'], unique=False)

    op.create_table('crm_tier',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('min_points_12m', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_crm_tier')),
    sa.UniqueConstraint('rank', name=op.f('uq_crm_tier_rank'))
    )
    op.create_table('points_engine_account',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('institution_code', sa.String(length=32), nullable=True),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merged_into_id'], ['points_engine_account.id'], name=op.f('fk_points_engine_account_merged_into_id_points_engine_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_engine_account')),
    sa.UniqueConstraint('code', name=op.f('uq_points_engine_account_code'))
    )
    with op.batch_alter_table('points_engine_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_engine_account_member_id'), ['member_id'], unique=False)

    op.create_table('points_engine_accrual',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('accrual_no', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_code', sa.String(length=32), nullable=False),
    sa.Column('business_type', sa.String(length=32), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('refunded_fen', sa.BigInteger(), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('points_reversed', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('available_on', sa.Date(), nullable=False),
    sa.Column('sources', sa.JSON(), nullable=False),
    sa.Column('breakdown', sa.JSON(), nullable=False),
    sa.Column('lines', sa.JSON(), nullable=False),
    sa.Column('payment_method', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_engine_accrual')),
    sa.UniqueConstraint('accrual_no', name=op.f('uq_points_engine_accrual_accrual_no')),
    sa.UniqueConstraint('channel', 'external_id', name=op.f('uq_points_engine_accrual_channel_external_id'))
    )
    with op.batch_alter_table('points_engine_accrual', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_engine_accrual_member_id'), ['member_id'], unique=False)

    op.create_table('points_engine_earning_rule',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('business_type', sa.String(length=32), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('per_fen', sa.Integer(), nullable=False),
    sa.Column('fixed_points', sa.Integer(), nullable=False),
    sa.Column('pending_days', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('description_en', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_points_engine_earning_rule'))
    )
    op.create_table('points_engine_reward',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('points_cost', sa.BigInteger(), nullable=False),
    sa.Column('cash_fen', sa.BigInteger(), nullable=False),
    sa.Column('stock', sa.BigInteger(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('stock IS NULL OR stock >= 0', name=op.f('ck_points_engine_reward_stock_not_negative')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_points_engine_reward'))
    )
    op.create_table('points_engine_tier_multiplier',
    sa.Column('tier', sa.String(length=32), nullable=False),
    sa.Column('multiplier_bp', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tier', name=op.f('pk_points_engine_tier_multiplier'))
    )
    op.create_table('storefront_api_staff_user',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storefront_api_staff_user')),
    sa.UniqueConstraint('username', name=op.f('uq_storefront_api_staff_user_username'))
    )
    op.create_table('crm_identifier',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=80), nullable=False),
    sa.Column('linked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['crm_member.id'], name=op.f('fk_crm_identifier_member_id_crm_member')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crm_identifier')),
    sa.UniqueConstraint('type', 'value', name=op.f('uq_crm_identifier_type_value'))
    )
    with op.batch_alter_table('crm_identifier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crm_identifier_member_id'), ['member_id'], unique=False)

    op.create_table('points_engine_campaign',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('target', sa.JSON(), nullable=False),
    sa.Column('multiplier_bp', sa.Integer(), nullable=False),
    sa.Column('bonus_points', sa.Integer(), nullable=False),
    sa.Column('per_member_cap', sa.Integer(), nullable=True),
    sa.Column('budget_points', sa.BigInteger(), nullable=False),
    sa.Column('holdout_pct', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['points_engine_account.id'], name=op.f('fk_points_engine_campaign_account_id_points_engine_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_engine_campaign')),
    sa.UniqueConstraint('code', name=op.f('uq_points_engine_campaign_code'))
    )
    op.create_table('points_engine_lot',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('accrual_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('initial', sa.BigInteger(), nullable=False),
    sa.Column('remaining', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('earned_on', sa.Date(), nullable=False),
    sa.Column('available_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('institution_code', sa.String(length=32), nullable=False),
    sa.CheckConstraint('remaining >= 0 AND remaining <= initial', name=op.f('ck_points_engine_lot_remaining_in_range')),
    sa.ForeignKeyConstraint(['account_id'], ['points_engine_account.id'], name=op.f('fk_points_engine_lot_account_id_points_engine_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_engine_lot'))
    )
    with op.batch_alter_table('points_engine_lot', schema=None) as batch_op:
        batch_op.create_index('ix_points_engine_lot_account_status', ['account_id', 'status', 'expires_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_points_engine_lot_accrual_id'), ['accrual_id'], unique=False)
        batch_op.create_index('ix_points_engine_lot_due', ['status', 'available_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_points_engine_lot_expires_on'), ['expires_on'], unique=False)

    op.create_table('points_engine_posting',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('txn_id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=24), nullable=False),
    sa.Column('from_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('to_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.Column('from_balance_after', sa.BigInteger(), nullable=True),
    sa.Column('to_balance_after', sa.BigInteger(), nullable=True),
    sa.Column('reference', sa.String(length=160), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('breakdown', sa.JSON(), nullable=True),
    sa.CheckConstraint('from_account_id <> to_account_id', name=op.f('ck_points_engine_posting_distinct_accounts')),
    sa.CheckConstraint('points > 0', name=op.f('ck_points_engine_posting_points_positive')),
    sa.ForeignKeyConstraint(['from_account_id'], ['points_engine_account.id'], name=op.f('fk_points_engine_posting_from_account_id_points_engine_account')),
    sa.ForeignKeyConstraint(['to_account_id'], ['points_engine_account.id'], name=op.f('fk_points_engine_posting_to_account_id_points_engine_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_engine_posting'))
    )
    with op.batch_alter_table('points_engine_posting', schema=None) as batch_op:
        batch_op.create_index('ix_points_engine_posting_from', ['from_account_id', 'id'], unique=False)
        batch_op.create_index('ix_points_engine_posting_to', ['to_account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_points_engine_posting_txn_id'), ['txn_id'], unique=False)

    op.create_table('points_engine_redemption',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('redemption_no', sa.String(length=40), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('reward_code', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('points_spent', sa.BigInteger(), nullable=False),
    sa.Column('cash_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['reward_code'], ['points_engine_reward.code'], name=op.f('fk_points_engine_redemption_reward_code_points_engine_reward')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_engine_redemption')),
    sa.UniqueConstraint('redemption_no', name=op.f('uq_points_engine_redemption_redemption_no'))
    )
    with op.batch_alter_table('points_engine_redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_engine_redemption_member_id'), ['member_id'], unique=False)

    op.create_table('points_engine_refund',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('refund_no', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=120), nullable=False),
    sa.Column('accrual_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('points_reversed', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['accrual_id'], ['points_engine_accrual.id'], name=op.f('fk_points_engine_refund_accrual_id_points_engine_accrual')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_engine_refund')),
    sa.UniqueConstraint('channel', 'external_id', name=op.f('uq_points_engine_refund_channel_external_id')),
    sa.UniqueConstraint('refund_no', name=op.f('uq_points_engine_refund_refund_no'))
    )
    op.create_table('storefront_api_key',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key_id', sa.String(length=24), nullable=False),
    sa.Column('secret_sha256', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('institution_code', sa.String(length=32), nullable=True),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['channel'], ['common_channel.code'], name=op.f('fk_storefront_api_key_channel_common_channel')),
    sa.ForeignKeyConstraint(['institution_code'], ['common_institution.code'], name=op.f('fk_storefront_api_key_institution_code_common_institution')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_storefront_api_key')),
    sa.UniqueConstraint('key_id', name=op.f('uq_storefront_api_key_key_id'))
    )
    op.create_table('points_engine_campaign_award',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('campaign_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['points_engine_campaign.id'], name=op.f('fk_points_engine_campaign_award_campaign_id_points_engine_campaign')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_engine_campaign_award')),
    sa.UniqueConstraint('campaign_id', 'member_id', name=op.f('uq_points_engine_campaign_award_campaign_id_member_id'))
    )
    op.create_table('points_engine_lot_consumption',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('redemption_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('points', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['lot_id'], ['points_engine_lot.id'], name=op.f('fk_points_engine_lot_consumption_lot_id_points_engine_lot')),
    sa.ForeignKeyConstraint(['redemption_id'], ['points_engine_redemption.id'], name=op.f('fk_points_engine_lot_consumption_redemption_id_points_engine_redemption')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_engine_lot_consumption'))
    )
    with op.batch_alter_table('points_engine_lot_consumption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_engine_lot_consumption_redemption_id'), ['redemption_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('points_engine_lot_consumption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_engine_lot_consumption_redemption_id'))

    op.drop_table('points_engine_lot_consumption')
    op.drop_table('points_engine_campaign_award')
    op.drop_table('storefront_api_key')
    op.drop_table('points_engine_refund')
    with op.batch_alter_table('points_engine_redemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_engine_redemption_member_id'))

    op.drop_table('points_engine_redemption')
    with op.batch_alter_table('points_engine_posting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_engine_posting_txn_id'))
        batch_op.drop_index('ix_points_engine_posting_to')
        batch_op.drop_index('ix_points_engine_posting_from')

    op.drop_table('points_engine_posting')
    with op.batch_alter_table('points_engine_lot', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_engine_lot_expires_on'))
        batch_op.drop_index('ix_points_engine_lot_due')
        batch_op.drop_index(batch_op.f('ix_points_engine_lot_accrual_id'))
        batch_op.drop_index('ix_points_engine_lot_account_status')

    op.drop_table('points_engine_lot')
    op.drop_table('points_engine_campaign')
    with op.batch_alter_table('crm_identifier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_identifier_member_id'))

    op.drop_table('crm_identifier')
    op.drop_table('storefront_api_staff_user')
    op.drop_table('points_engine_tier_multiplier')
    op.drop_table('points_engine_reward')
    op.drop_table('points_engine_earning_rule')
    with op.batch_alter_table('points_engine_accrual', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_engine_accrual_member_id'))

    op.drop_table('points_engine_accrual')
    with op.batch_alter_table('points_engine_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_engine_account_member_id'))

    op.drop_table('points_engine_account')
    op.drop_table('crm_tier')
    with op.batch_alter_table('crm_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crm_member_phone'))

    op.drop_table('crm_member')
    with op.batch_alter_table('common_institution', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_common_institution_parent_code'))

    op.drop_table('common_institution')
    op.drop_table('common_idempotency')
    op.drop_table('common_channel')
    op.drop_table('common_category')
    op.drop_table('common_business_type')
