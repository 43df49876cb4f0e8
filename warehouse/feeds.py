"""What the sync loads: for each warehouse table, the operational query and the DuckDB transform.

A feed's query is read in batches into a frame registered as `batch`; its transform is
a DuckDB SELECT over `batch` giving the warehouse table's columns by name. Feeds load
in one of three ways:
- `append`: rows never change after they are written; read by id above the last id
  loaded, less a look-back of ids that may have committed out of order;
- `changing`: rows change; read by `updated_at` from the last one loaded, less a
  look-back for transactions that committed after a later timestamp was seen;
- `reference`: small tables read whole every time and compared, so rows removed at
  the source are removed here too.
Children are tables derived from the same batch (an accrual's lines), replaced per parent.
The operational side deletes none of the rows read here; only reference tables are
compared whole, so a row deleted by hand elsewhere stays until `--rebuild`.

Timestamps are TIMESTAMPTZ in UTC; `date_key` is the Asia/Shanghai business date, a
fixed UTC+8 (Shanghai has kept no daylight saving time since 1991).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, Text, and_, bindparam, cast, func, select
from sqlalchemy.sql import ColumnElement

from warehouse import sources as s

Mode = Literal["append", "changing", "reference"]

MACROS: tuple[str, ...] = (
    # The Shanghai business date of an instant, as yyyymmdd.
    """
    CREATE OR REPLACE TEMP MACRO shanghai_key(ts) AS (
        strftime(CAST(CAST(ts AS TIMESTAMPTZ) AS TIMESTAMP) + INTERVAL 8 HOUR, '%Y%m%d')::INTEGER
    )
    """,
    "CREATE OR REPLACE TEMP MACRO day_key(d) AS (strftime(CAST(d AS DATE), '%Y%m%d')::INTEGER)",
    "CREATE OR REPLACE TEMP MACRO utc(ts) AS (CAST(ts AS TIMESTAMPTZ))",
    # What follows the first ':' of an account code (campaign:X, redemption:X, partner:X).
    "CREATE OR REPLACE TEMP MACRO code_tail(code) AS (substr(code, strpos(code, ':') + 1))",
)


@dataclass(frozen=True)
class Child:
    target: str
    key: tuple[str, ...]
    # The child column holding the parent's source id (`id` in the batch).
    parent_key: str
    transform: str


@dataclass(frozen=True)
class Feed:
    target: str
    source: str
    key: tuple[str, ...]
    mode: Mode
    query: Select[tuple[object, ...]]
    transform: str
    # append: the id column; changing: the updated_at column.
    watermark: ColumnElement[object] | None = None
    children: tuple[Child, ...] = ()


_member_kinds = "('member', 'member_pending')"

_from = s.account.alias("from_account")
_to = s.account.alias("to_account")

POSTINGS = Feed(
    target="fact_posting",
    source="points_engine_posting",
    key=("posting_id",),
    mode="append",
    watermark=s.posting.c.id,
    query=select(
        s.posting.c.id,
        s.posting.c.txn_id,
        s.posting.c.type,
        s.posting.c.occurred_at,
        s.posting.c.points,
        s.posting.c.reference,
        _from.c.kind.label("from_kind"),
        _from.c.member_id.label("from_member_id"),
        _from.c.institution_code.label("from_institution"),
        _from.c.code.label("from_code"),
        _to.c.kind.label("to_kind"),
        _to.c.member_id.label("to_member_id"),
        _to.c.institution_code.label("to_institution"),
        _to.c.code.label("to_code"),
        s.accrual.c.id.label("accrual_id"),
    )
    .join(_from, _from.c.id == s.posting.c.from_account_id)
    .join(_to, _to.c.id == s.posting.c.to_account_id)
    # An accrual posting's reference is 'accrual:' || accrual_no (unique, so indexed); it
    # commits with its accrual, so the purchase is always there to find.
    .outerjoin(
        s.accrual,
        and_(
            s.posting.c.type == "accrual",
            s.accrual.c.accrual_no == func.substr(s.posting.c.reference, len("accrual:") + 1),
        ),
    ),
    transform=f"""
        SELECT
            id AS posting_id,
            txn_id,
            type,
            utc(occurred_at) AS occurred_at,
            shanghai_key(occurred_at) AS date_key,
            points,
            CASE from_kind WHEN 'member' THEN 'member_available' ELSE from_kind END AS from_kind,
            CASE to_kind WHEN 'member' THEN 'member_available' ELSE to_kind END AS to_kind,
            CASE WHEN to_kind IN {_member_kinds} THEN to_member_id
                 WHEN from_kind IN {_member_kinds} THEN from_member_id END AS member_id,
            CASE WHEN to_kind IN {_member_kinds} AND from_kind IN {_member_kinds} THEN 0
                 WHEN to_kind IN {_member_kinds} THEN points
                 WHEN from_kind IN {_member_kinds} THEN -points
                 ELSE 0 END AS member_delta,
            COALESCE(
                CASE WHEN from_kind NOT IN {_member_kinds} THEN from_institution END,
                CASE WHEN to_kind NOT IN {_member_kinds} THEN to_institution END
            ) AS institution_code,
            CASE WHEN from_kind = 'campaign_budget' THEN code_tail(from_code)
                 WHEN to_kind = 'campaign_budget' THEN code_tail(to_code) END AS campaign_code,
            CASE WHEN from_kind IN ('redemption', 'partner') THEN code_tail(from_code)
                 WHEN to_kind IN ('redemption', 'partner') THEN code_tail(to_code) END
                AS reward_code,
            reference,
            accrual_id
        FROM batch
    """,
)

ACCRUALS = Feed(
    target="fact_accrual",
    source="points_engine_accrual",
    key=("accrual_id",),
    mode="changing",
    watermark=s.accrual.c.updated_at,
    query=select(
        *(c for c in s.accrual.c if c.name not in ("lines", "sources")),
        cast(s.accrual.c.lines, Text).label("lines"),
        cast(s.accrual.c.sources, Text).label("sources"),
    ),
    transform="""
        SELECT
            id AS accrual_id,
            accrual_no,
            channel,
            member_id,
            institution_code,
            business_type,
            utc(occurred_at) AS occurred_at,
            shanghai_key(occurred_at) AS date_key,
            total_fen,
            refunded_fen,
            total_fen - refunded_fen AS net_fen,
            points,
            points_reversed,
            status,
            payment_method,
            starts_with(external_id, 'order:') AS is_order,
            utc(updated_at) AS updated_at,
            -- The budgets it earned from: fixed when it is written (refunds return
            -- points to the same sources but do not change the list).
            COALESCE(list_distinct(list_transform(
                list_filter(
                    from_json(sources, '[{"points": "BIGINT", "campaign_id": "BIGINT"}]'),
                    lambda s: s.campaign_id IS NOT NULL AND s.points > 0
                ),
                lambda s: s.campaign_id
            )), []) AS campaign_ids
        FROM batch
    """,
    children=(
        Child(
            target="fact_accrual_line",
            key=("accrual_id", "line_no"),
            parent_key="accrual_id",
            transform="""
                SELECT
                    b.id AS accrual_id,
                    l.line_no,
                    l.item.sku AS sku,
                    l.item.category AS category,
                    l.item.quantity AS quantity,
                    l.item.amount_fen AS amount_fen,
                    shanghai_key(b.occurred_at) AS date_key
                FROM batch b, (
                    SELECT unnest(items) AS item, generate_subscripts(items, 1) AS line_no
                    FROM (SELECT from_json(
                        b.lines,
                        '[{"sku": "VARCHAR", "category": "VARCHAR",
                           "quantity": "INTEGER", "amount_fen": "BIGINT"}]'
                    ) AS items)
                ) l
            """,
        ),
    ),
)

LOTS = Feed(
    target="fact_lot",
    source="points_engine_lot",
    key=("lot_id",),
    mode="changing",
    watermark=s.lot.c.updated_at,
    # The purchase's channel never changes, so a lot carries it from its first sync.
    query=select(s.lot, s.account.c.member_id, s.accrual.c.channel)
    .join(s.account, s.account.c.id == s.lot.c.account_id)
    .outerjoin(s.accrual, s.accrual.c.id == s.lot.c.accrual_id),
    transform="""
        SELECT
            id AS lot_id,
            member_id,
            accrual_id,
            institution_code,
            initial,
            remaining,
            expired,
            status,
            CAST(earned_on AS DATE) AS earned_on,
            day_key(earned_on) AS date_key,
            CAST(available_on AS DATE) AS available_on,
            CAST(expires_on AS DATE) AS expires_on,
            utc(updated_at) AS updated_at,
            channel
        FROM batch
    """,
)

REDEMPTIONS = Feed(
    target="fact_redemption",
    source="points_engine_redemption",
    key=("redemption_id",),
    mode="changing",
    watermark=s.redemption.c.updated_at,
    query=select(s.redemption),
    transform="""
        SELECT
            id AS redemption_id,
            redemption_no,
            member_id,
            reward_code,
            quantity,
            points_spent,
            cash_fen,
            status,
            channel,
            utc(created_at) AS created_at,
            shanghai_key(created_at) AS date_key,
            utc(cancelled_at) AS cancelled_at
        FROM batch
    """,
)

MEMBERS = Feed(
    target="dim_member",
    source="crm_member",
    key=("member_id",),
    mode="changing",
    watermark=s.member.c.updated_at,
    query=select(s.member),
    # A merged member's survivor is looked up here and chains are finished after the
    # load, so a member read again unchanged compares equal to what is stored.
    transform="""
        SELECT
            b.id AS member_id,
            b.member_no,
            b.phone,
            mask_phone(b.phone) AS phone_masked,
            b.name,
            mask_name(b.name) AS name_masked,
            b.tier,
            b.status,
            b.merged_into_id,
            COALESCE(d.survivor_id, b.merged_into_id, b.id) AS survivor_id,
            utc(b.created_at) AS registered_at,
            shanghai_key(b.created_at) AS registered_date_key,
            b.registered_channel,
            b.registered_institution,
            year(CAST(b.birthday AS DATE)) AS birth_year,
            COALESCE(CAST(b.marketing_consent AS BOOLEAN), false) AS marketing_consent,
            utc(b.updated_at) AS updated_at
        FROM batch b LEFT JOIN dim_member d ON d.member_id = b.merged_into_id
    """,
)

ORDERS = Feed(
    target="fact_order",
    source="storefront_order",
    key=("order_id",),
    mode="changing",
    watermark=s.order.c.updated_at,
    query=select(s.order),
    transform="""
        SELECT
            id AS order_id,
            order_no,
            member_id,
            channel,
            institution_code,
            fulfilment,
            outlet_code,
            payment_method,
            status,
            total_fen,
            points_used,
            points_offset_fen,
            payable_fen,
            paid_fen,
            utc(created_at) AS created_at,
            shanghai_key(created_at) AS date_key,
            utc(paid_at) AS paid_at,
            utc(fulfilled_at) AS fulfilled_at,
            CAST(pickup_expires_on AS DATE) AS pickup_expires_on,
            utc(updated_at) AS updated_at
        FROM batch
    """,
)

ORDER_LINES = Feed(
    target="fact_order_line",
    source="storefront_order_line",
    key=("line_id",),
    mode="append",
    watermark=s.order_line.c.id,
    query=select(s.order_line, s.order.c.created_at.label("ordered_at")).join(
        s.order, s.order.c.id == s.order_line.c.order_id
    ),
    transform="""
        SELECT
            id AS line_id,
            order_id,
            sku,
            category,
            business_type,
            quantity,
            unit_price_fen,
            amount_fen,
            shanghai_key(ordered_at) AS date_key
        FROM batch
    """,
)

BILL_PAYMENTS = Feed(
    target="fact_bill_payment",
    source="storefront_bill_payment",
    key=("payment_id",),
    mode="changing",
    watermark=s.bill_payment.c.updated_at,
    query=select(s.bill_payment, s.biller.c.kind.label("biller_kind")).outerjoin(
        s.biller, s.biller.c.code == s.bill_payment.c.biller_code
    ),
    transform="""
        SELECT
            id AS payment_id,
            payment_no,
            member_id,
            biller_code,
            COALESCE(biller_kind, 'unknown') AS biller_kind,
            channel,
            institution_code,
            amount_fen,
            status,
            points,
            utc(created_at) AS created_at,
            shanghai_key(created_at) AS date_key,
            utc(updated_at) AS updated_at
        FROM batch
    """,
)

MAILINGS = Feed(
    target="fact_mailing",
    source="storefront_mailing",
    key=("mailing_id",),
    mode="changing",
    watermark=s.mailing.c.updated_at,
    query=select(s.mailing),
    transform="""
        SELECT
            id AS mailing_id,
            tracking_no,
            member_id,
            service,
            fee_fen,
            channel,
            institution_code,
            status,
            points,
            utc(accepted_at) AS accepted_at,
            shanghai_key(accepted_at) AS date_key,
            utc(updated_at) AS updated_at
        FROM batch
    """,
)

SUBSCRIPTIONS = Feed(
    target="fact_subscription",
    source="storefront_subscription",
    key=("subscription_id",),
    mode="changing",
    watermark=s.subscription.c.updated_at,
    query=select(s.subscription),
    transform="""
        SELECT
            id AS subscription_id,
            subscription_no,
            member_id,
            title_code,
            term,
            channel,
            institution_code,
            total_fen,
            refund_fen,
            points,
            status,
            CAST(starts_on AS DATE) AS starts_on,
            CAST(ends_on AS DATE) AS ends_on,
            utc(created_at) AS created_at,
            shanghai_key(created_at) AS date_key,
            utc(updated_at) AS updated_at
        FROM batch
    """,
)

# -- reference tables: read whole and compared --------------------------------------

_parent = s.institution.alias("parent")
_grandparent = s.institution.alias("grandparent")

INSTITUTIONS = Feed(
    target="dim_institution",
    source="common_institution",
    key=("code",),
    mode="reference",
    # The tree is company > district > outlet (kiosk, store): three levels at most.
    query=select(
        s.institution,
        _parent.c.kind.label("parent_kind"),
        _parent.c.name.label("parent_name"),
        _parent.c.name_en.label("parent_name_en"),
        _parent.c.parent_code.label("grandparent_code"),
        _grandparent.c.parent_code.label("great_grandparent_code"),
    )
    .outerjoin(_parent, _parent.c.code == s.institution.c.parent_code)
    .outerjoin(_grandparent, _grandparent.c.code == _parent.c.parent_code),
    transform="""
        SELECT
            code,
            name,
            name_en,
            kind,
            parent_code,
            CASE WHEN parent_code IS NULL THEN 0
                 WHEN grandparent_code IS NULL THEN 1
                 WHEN great_grandparent_code IS NULL THEN 2
                 ELSE 3 END AS level,
            COALESCE(great_grandparent_code, grandparent_code, parent_code, code)
                AS company_code,
            CASE WHEN kind = 'district' THEN code
                 WHEN parent_kind = 'district' THEN parent_code END AS district_code,
            CASE WHEN kind = 'district' THEN name
                 WHEN parent_kind = 'district' THEN parent_name END AS district_name,
            CASE WHEN kind = 'district' THEN name_en
                 WHEN parent_kind = 'district' THEN parent_name_en END AS district_name_en
        FROM batch
    """,
)

CHANNELS = Feed(
    target="dim_channel",
    source="common_channel",
    key=("code",),
    mode="reference",
    query=select(s.channel),
    transform="""
        SELECT code, name, name_en, COALESCE(CAST(online AS BOOLEAN), false) AS is_online
        FROM batch
    """,
)

CATEGORIES = Feed(
    target="dim_category",
    source="common_category",
    key=("code",),
    mode="reference",
    query=select(s.category),
    transform="SELECT code, name, name_en FROM batch",
)

BUSINESS_TYPES = Feed(
    target="dim_business_type",
    source="common_business_type",
    key=("code",),
    mode="reference",
    query=select(s.business_type),
    transform="SELECT code, name, name_en FROM batch",
)

PRODUCTS = Feed(
    target="dim_product",
    source="storefront_product",
    key=("sku",),
    mode="reference",
    query=select(s.product),
    transform="""
        SELECT sku, name, name_en, category, brand, business_type, festival, price_fen
        FROM batch
    """,
)

CAMPAIGNS = Feed(
    target="dim_campaign",
    source="points_engine_campaign",
    key=("code",),
    mode="reference",
    query=select(
        *(c for c in s.campaign.c if c.name != "target"),
        cast(s.campaign.c.target, Text).label("target"),
    ),
    transform="""
        SELECT
            code,
            name,
            name_en,
            CAST(starts_on AS DATE) AS starts_on,
            CAST(ends_on AS DATE) AS ends_on,
            budget_points,
            holdout_pct,
            multiplier_bp,
            bonus_points,
            per_member_cap,
            COALESCE(target, '{}') AS target_json,
            id AS campaign_id
        FROM batch
    """,
)

REWARDS = Feed(
    target="dim_reward",
    source="points_engine_reward",
    key=("code",),
    mode="reference",
    query=select(s.reward),
    transform="SELECT code, name, name_en, kind, points_cost, cash_fen FROM batch",
)

SEGMENTS = Feed(
    target="dim_segment",
    source="crm_segment",
    key=("code",),
    mode="reference",
    query=select(s.segment),
    transform="SELECT code, name, name_en, priority FROM batch",
)

# Runs are few and immutable: read whole, so a run deleted (a re-train of its day) is
# seen. Their scores are loaded per run by the sync (`_Loader.member_scores`).
INSIGHT_RUNS = Feed(
    target="dim_insight_run",
    source="crm_insight_run",
    key=("run_id",),
    mode="reference",
    query=select(s.insight_run),
    transform="""
        SELECT id AS run_id, CAST(as_of AS DATE) AS as_of, model_version,
               utc(trained_at) AS trained_at, members
        FROM batch
    """,
)

# One run's scores; `run_id` is bound per run. Basis points and hundredths become
# fractions and counts in the transform.
MEMBER_SCORES = select(s.member_score).where(s.member_score.c.run_id == bindparam("run_id"))
MEMBER_SCORES_TRANSFORM = """
    SELECT run_id, member_id, CAST(as_of AS DATE) AS as_of,
           day_key(CAST(as_of AS DATE)) AS date_key, r, f, m, segment_code,
           CAST(churn_risk_bp AS DOUBLE) / 10000 AS churn_risk,
           -- Cast first: a batch whose values are all NULL has no type of its own.
           CAST(alive_bp AS DOUBLE) / 10000 AS alive,
           CAST(expected_purchases_x100 AS DOUBLE) / 100 AS expected_purchases,
           CAST(expected_value_fen AS BIGINT) AS expected_value_fen
    FROM batch
"""

# -- daily clearing ------------------------------------------------------------------

# Cleared days are few (one a day) and a re-run of an open day rebuilds its rows with new
# ids, so days are read whole and compared: a day whose row changed (run again, closed)
# or vanished has its rows reloaded by the sync (`_Loader.clearing`); a closed day never
# changes, so it is read once.
CLEARING_DAYS = Feed(
    target="fact_clearing_day",
    source="storefront_clearing_day",
    key=("business_date",),
    mode="reference",
    query=select(s.clearing_day),
    transform="""
        SELECT
            CAST(business_date AS DATE) AS business_date,
            day_key(business_date) AS date_key,
            status,
            runs,
            utc(run_at) AS run_at,
            run_by,
            fen_per_point,
            utc(closed_at) AS closed_at,
            closed_by,
            close_reason
        FROM batch
    """,
)

# A channel corrects its control total in place until the day is closed.
CONTROL_TOTALS = Feed(
    target="fact_clearing_control_total",
    source="storefront_clearing_control_total",
    key=("control_id",),
    mode="changing",
    watermark=s.control_total.c.submitted_at,
    query=select(
        *(c for c in s.control_total.c if c.name != "transaction_ids"),
        cast(s.control_total.c.transaction_ids, Text).label("transaction_ids"),
    ),
    transform="""
        SELECT
            id AS control_id,
            CAST(business_date AS DATE) AS business_date,
            day_key(business_date) AS date_key,
            channel,
            institution_code,
            sales,
            amount_fen,
            CASE WHEN transaction_ids IS NULL OR transaction_ids = 'null' THEN NULL
                 ELSE from_json(transaction_ids, '["VARCHAR"]') END AS transaction_ids,
            utc(submitted_at) AS submitted_at
        FROM batch
    """,
)


@dataclass(frozen=True)
class DayPart:
    """Rows of the cleared days bound as `days` (an expanding list of dates)."""

    target: str
    source: str
    query: Select[tuple[object, ...]]
    transform: str


def _of_days(query: Select[tuple[object, ...]], cleared_on: ColumnElement[object]) -> Select[Any]:
    return query.where(cleared_on.in_(bindparam("days", expanding=True)))


CLEARING_PARTS: tuple[DayPart, ...] = (
    DayPart(
        "fact_clearing_line",
        "storefront_clearing_line",
        _of_days(select(s.clearing_line), s.clearing_line.c.cleared_on),
        """
        SELECT id AS line_id, CAST(cleared_on AS DATE) AS cleared_on,
               day_key(cleared_on) AS date_key, institution_code, channel, business_type,
               CAST(original_date AS DATE) AS original_date, sales, gross_fen, refunds,
               refunds_fen, net_fen, points_issued, points_reversed, points_redeemed,
               points_expired, points_adjusted
        FROM batch
        """,
    ),
    DayPart(
        "fact_clearing_position",
        "storefront_clearing_position",
        _of_days(select(s.clearing_position), s.clearing_position.c.cleared_on),
        """
        SELECT id AS position_id, CAST(cleared_on AS DATE) AS cleared_on,
               day_key(cleared_on) AS date_key, institution_code, money_fen,
               points_cost_fen, net_fen
        FROM batch
        """,
    ),
    DayPart(
        "fact_clearing_transfer",
        "storefront_clearing_transfer",
        _of_days(select(s.clearing_transfer), s.clearing_transfer.c.cleared_on),
        """
        SELECT id AS transfer_id, CAST(cleared_on AS DATE) AS cleared_on,
               day_key(cleared_on) AS date_key, payer, payee, amount_fen
        FROM batch
        """,
    ),
    DayPart(
        "fact_clearing_liability",
        "storefront_clearing_liability",
        _of_days(select(s.clearing_liability), s.clearing_liability.c.cleared_on),
        """
        SELECT id AS liability_id, CAST(cleared_on AS DATE) AS cleared_on,
               day_key(cleared_on) AS date_key, institution_code, points
        FROM batch
        """,
    ),
    # The day's own sales, as clearing's control-total check reads them
    # (storefront_api.clearing.mismatches): those of the day's own take of sales.
    DayPart(
        "fact_clearing_sale",
        "storefront_clearing_take",
        _of_days(
            select(
                s.accrual.c.id,
                s.clearing_take.c.cleared_on,
                s.accrual.c.channel,
                s.accrual.c.institution_code,
                s.accrual.c.external_id,
                s.accrual.c.total_fen,
            )
            .join(
                s.clearing_take,
                (s.accrual.c.occurred_at >= s.clearing_take.c.happened_from)
                & (s.accrual.c.occurred_at < s.clearing_take.c.happened_until)
                & (s.accrual.c.id > s.clearing_take.c.id_above)
                & (s.accrual.c.id <= s.clearing_take.c.id_through),
            )
            .where(
                s.clearing_take.c.source_kind == "sale",
                s.clearing_take.c.business_date == s.clearing_take.c.cleared_on,
            ),
            s.clearing_take.c.cleared_on,
        ),
        """
        SELECT id AS sale_id, CAST(cleared_on AS DATE) AS cleared_on,
               day_key(cleared_on) AS date_key, channel, institution_code,
               external_id, total_fen AS amount_fen
        FROM batch
        """,
    ),
)

# Load order: dimensions the derived tables need first (members, campaigns).
FEEDS: tuple[Feed, ...] = (
    INSTITUTIONS,
    CHANNELS,
    CATEGORIES,
    BUSINESS_TYPES,
    PRODUCTS,
    CAMPAIGNS,
    REWARDS,
    SEGMENTS,
    INSIGHT_RUNS,
    MEMBERS,
    POSTINGS,
    ACCRUALS,
    LOTS,
    REDEMPTIONS,
    ORDERS,
    ORDER_LINES,
    BILL_PAYMENTS,
    MAILINGS,
    SUBSCRIPTIONS,
    CLEARING_DAYS,
    CONTROL_TOTALS,
)


# The newest posting and member the warehouse holds must still exist at the source with
# the same transaction id and member number; otherwise the operational database was
# recreated (a new demo) and the high-water marks mean nothing.
IDENTITY_CHECKS: tuple[tuple[str, str, str, Select[tuple[object]]], ...] = (
    (
        "fact_posting",
        "posting_id",
        "txn_id",
        select(s.posting.c.txn_id).where(s.posting.c.id == bindparam("id")),
    ),
    (
        "dim_member",
        "member_id",
        "member_no",
        select(s.member.c.member_no).where(s.member.c.id == bindparam("id")),
    ),
)
