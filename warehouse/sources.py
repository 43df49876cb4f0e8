"""The operational tables the warehouse reads, declared by name (no ORM models of other packages).

Only the columns the sync selects are declared. Types are given where SQLAlchemy must
bind or convert a value the same way on SQLite and PostgreSQL (timestamps compared
with high-water marks, booleans); everything else is passed through as the driver
returns it and typed by the warehouse's own DDL.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Integer
from sqlalchemy.sql import column, table

Timestamp = DateTime(timezone=True)

institution = table(
    "common_institution",
    column("code"),
    column("name"),
    column("name_en"),
    column("kind"),
    column("parent_code"),
)

channel = table(
    "common_channel",
    column("code"),
    column("name"),
    column("name_en"),
    column("online", Boolean),
)

category = table("common_category", column("code"), column("name"), column("name_en"))

business_type = table("common_business_type", column("code"), column("name"), column("name_en"))

member = table(
    "crm_member",
    column("id", BigInteger),
    column("member_no"),
    column("phone"),
    column("name"),
    column("birthday", Date),
    column("tier"),
    column("status"),
    column("merged_into_id", BigInteger),
    column("marketing_consent", Boolean),
    column("registered_channel"),
    column("registered_institution"),
    column("created_at", Timestamp),
    column("updated_at", Timestamp),
)

account = table(
    "points_engine_account",
    column("id", BigInteger),
    column("code"),
    column("kind"),
    column("member_id", BigInteger),
    column("institution_code"),
)

posting = table(
    "points_engine_posting",
    column("id", BigInteger),
    column("txn_id"),
    column("type"),
    column("from_account_id", BigInteger),
    column("to_account_id", BigInteger),
    column("points", BigInteger),
    column("reference"),
    column("occurred_at", Timestamp),
)

accrual = table(
    "points_engine_accrual",
    column("id", BigInteger),
    column("accrual_no"),
    column("channel"),
    column("external_id"),
    column("member_id", BigInteger),
    column("institution_code"),
    column("business_type"),
    column("occurred_at", Timestamp),
    column("total_fen", BigInteger),
    column("refunded_fen", BigInteger),
    column("points", BigInteger),
    column("points_reversed", BigInteger),
    column("status"),
    column("payment_method"),
    column("lines"),
    column("sources"),
    column("updated_at", Timestamp),
)

lot = table(
    "points_engine_lot",
    column("id", BigInteger),
    column("account_id", BigInteger),
    column("accrual_id", BigInteger),
    column("institution_code"),
    column("initial", BigInteger),
    column("remaining", BigInteger),
    column("expired", BigInteger),
    column("status"),
    column("earned_on", Date),
    column("available_on", Date),
    column("expires_on", Date),
    column("updated_at", Timestamp),
)

redemption = table(
    "points_engine_redemption",
    column("id", BigInteger),
    column("redemption_no"),
    column("member_id", BigInteger),
    column("reward_code"),
    column("quantity", Integer),
    column("points_spent", BigInteger),
    column("cash_fen", BigInteger),
    column("status"),
    column("channel"),
    column("created_at", Timestamp),
    column("cancelled_at", Timestamp),
    column("updated_at", Timestamp),
)

campaign = table(
    "points_engine_campaign",
    column("id", BigInteger),
    column("code"),
    column("name"),
    column("name_en"),
    column("starts_on", Date),
    column("ends_on", Date),
    column("budget_points", BigInteger),
    column("holdout_pct", Integer),
    column("multiplier_bp", Integer),
    column("bonus_points", Integer),
    column("per_member_cap", Integer),
    column("target"),
)

reward = table(
    "points_engine_reward",
    column("code"),
    column("name"),
    column("name_en"),
    column("kind"),
    column("points_cost", BigInteger),
    column("cash_fen", BigInteger),
)

product = table(
    "storefront_product",
    column("sku"),
    column("name"),
    column("name_en"),
    column("category"),
    column("brand"),
    column("business_type"),
    column("festival"),
    column("price_fen", BigInteger),
)

order = table(
    "storefront_order",
    column("id", BigInteger),
    column("order_no"),
    column("member_id", BigInteger),
    column("channel"),
    column("institution_code"),
    column("fulfilment"),
    column("outlet_code"),
    column("payment_method"),
    column("status"),
    column("total_fen", BigInteger),
    column("points_used", BigInteger),
    column("points_offset_fen", BigInteger),
    column("payable_fen", BigInteger),
    column("paid_fen", BigInteger),
    column("created_at", Timestamp),
    column("paid_at", Timestamp),
    column("fulfilled_at", Timestamp),
    column("pickup_expires_on", Date),
    column("updated_at", Timestamp),
)

order_line = table(
    "storefront_order_line",
    column("id", BigInteger),
    column("order_id", BigInteger),
    column("sku"),
    column("category"),
    column("business_type"),
    column("quantity", Integer),
    column("unit_price_fen", BigInteger),
    column("amount_fen", BigInteger),
)

biller = table("storefront_biller", column("code"), column("kind"))

bill_payment = table(
    "storefront_bill_payment",
    column("id", BigInteger),
    column("payment_no"),
    column("member_id", BigInteger),
    column("biller_code"),
    column("channel"),
    column("institution_code"),
    column("amount_fen", BigInteger),
    column("status"),
    column("points", BigInteger),
    column("created_at", Timestamp),
    column("updated_at", Timestamp),
)

mailing = table(
    "storefront_mailing",
    column("id", BigInteger),
    column("tracking_no"),
    column("member_id", BigInteger),
    column("service"),
    column("fee_fen", BigInteger),
    column("channel"),
    column("institution_code"),
    column("status"),
    column("points", BigInteger),
    column("accepted_at", Timestamp),
    column("updated_at", Timestamp),
)

subscription = table(
    "storefront_subscription",
    column("id", BigInteger),
    column("subscription_no"),
    column("member_id", BigInteger),
    column("title_code"),
    column("term"),
    column("channel"),
    column("institution_code"),
    column("total_fen", BigInteger),
    column("refund_fen", BigInteger),
    column("points", BigInteger),
    column("status"),
    column("starts_on", Date),
    column("ends_on", Date),
    column("created_at", Timestamp),
    column("updated_at", Timestamp),
)

segment = table(
    "crm_segment", column("code"), column("name"), column("name_en"), column("priority")
)

insight_run = table(
    "crm_insight_run",
    column("id", BigInteger),
    column("as_of", Date),
    column("model_version"),
    column("trained_at", Timestamp),
    column("members", Integer),
)

member_score = table(
    "crm_member_score",
    column("run_id", BigInteger),
    column("member_id", BigInteger),
    column("as_of", Date),
    column("r", Integer),
    column("f", Integer),
    column("m", Integer),
    column("segment_code"),
    column("churn_risk_bp", Integer),
    column("alive_bp", Integer),
    column("expected_purchases_x100", Integer),
    column("expected_value_fen", BigInteger),
)

# -- daily clearing (storefront_api.clearing): read per cleared day --------------------

clearing_day = table(
    "storefront_clearing_day",
    column("business_date", Date),
    column("status"),
    column("runs", Integer),
    column("run_at", Timestamp),
    column("run_by"),
    column("fen_per_point", Integer),
    column("closed_at", Timestamp),
    column("closed_by"),
    column("close_reason"),
)

clearing_take = table(
    "storefront_clearing_take",
    column("id", BigInteger),
    column("source_kind"),
    column("business_date", Date),
    column("cleared_on", Date),
    column("id_above", BigInteger),
    column("id_through", BigInteger),
    column("happened_from", DateTime(timezone=True)),
    column("happened_until", DateTime(timezone=True)),
)

clearing_line = table(
    "storefront_clearing_line",
    column("id", BigInteger),
    column("cleared_on", Date),
    column("institution_code"),
    column("channel"),
    column("business_type"),
    column("original_date", Date),
    column("sales", Integer),
    column("gross_fen", BigInteger),
    column("refunds", Integer),
    column("refunds_fen", BigInteger),
    column("net_fen", BigInteger),
    column("points_issued", BigInteger),
    column("points_reversed", BigInteger),
    column("points_redeemed", BigInteger),
    column("points_expired", BigInteger),
    column("points_adjusted", BigInteger),
)

clearing_position = table(
    "storefront_clearing_position",
    column("id", BigInteger),
    column("cleared_on", Date),
    column("institution_code"),
    column("money_fen", BigInteger),
    column("points_cost_fen", BigInteger),
    column("net_fen", BigInteger),
)

clearing_transfer = table(
    "storefront_clearing_transfer",
    column("id", BigInteger),
    column("cleared_on", Date),
    column("payer"),
    column("payee"),
    column("amount_fen", BigInteger),
)

clearing_liability = table(
    "storefront_clearing_liability",
    column("id", BigInteger),
    column("cleared_on", Date),
    column("institution_code"),
    column("points", BigInteger),
)

control_total = table(
    "storefront_clearing_control_total",
    column("id", BigInteger),
    column("business_date", Date),
    column("channel"),
    column("institution_code"),
    column("sales", Integer),
    column("amount_fen", BigInteger),
    column("transaction_ids"),
    column("submitted_at", Timestamp),
)
