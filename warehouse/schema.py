"""The DuckDB star schema: dimension and fact tables, and the sync bookkeeping table.

Money is BIGINT fen and points BIGINT everywhere; timestamps are TIMESTAMPTZ in UTC;
`date_key` is the Asia/Shanghai business date as an integer yyyymmdd joining dim_date.
Every fact keeps the operational id as its primary key, so re-syncing a row replaces
it instead of adding it twice.
"""

from __future__ import annotations

SCHEMA_VERSION = 12

DDL: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS sync_state (
        source VARCHAR PRIMARY KEY,      -- operational table
        last_id BIGINT,                  -- append-only tables: highest id loaded
        last_updated_at TIMESTAMPTZ,     -- changing tables: highest updated_at loaded
        rows_loaded BIGINT NOT NULL,     -- rows written over all syncs
        synced_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS meta (
        key VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL
    )
    """,
    # -- dimensions -------------------------------------------------------------------
    """
    CREATE TABLE IF NOT EXISTS dim_date (
        date_key INTEGER PRIMARY KEY,    -- yyyymmdd
        day DATE NOT NULL,
        year SMALLINT NOT NULL,
        quarter TINYINT NOT NULL,
        month TINYINT NOT NULL,
        iso_week TINYINT NOT NULL,
        weekday TINYINT NOT NULL,        -- 1 = Monday .. 7 = Sunday
        is_weekend BOOLEAN NOT NULL,
        holiday_zh VARCHAR,              -- 春节, 清明节, 劳动节, 端午节, 中秋节, 国庆节, 元旦
        holiday_en VARCHAR,
        is_workday BOOLEAN NOT NULL,     -- official working day (adjusted weekends count)
        festival VARCHAR                 -- campaign season: spring, dragon_boat, summer,
                                         -- mid_autumn, hairy_crab
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dim_institution (
        code VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,           -- company, district, outlet, kiosk, store
        parent_code VARCHAR,
        level TINYINT NOT NULL,          -- 0 company, 1 district, 2 outlet/kiosk/store
        company_code VARCHAR NOT NULL,   -- roll-up columns: any level of the tree
        district_code VARCHAR,
        district_name VARCHAR,
        district_name_en VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dim_channel (
        code VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL,
        is_online BOOLEAN NOT NULL       -- web, app: online; the rest: offline
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dim_category (
        code VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dim_business_type (
        code VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dim_member (
        member_id BIGINT PRIMARY KEY,
        member_no VARCHAR NOT NULL,
        phone VARCHAR NOT NULL,          -- personal data: dashboards show phone_masked
        phone_masked VARCHAR NOT NULL,   -- 138****1234
        name VARCHAR NOT NULL,           -- unless the viewer's role allows it
        name_masked VARCHAR NOT NULL,    -- 张*
        tier VARCHAR NOT NULL,
        status VARCHAR NOT NULL,         -- active, merged
        merged_into_id BIGINT,           -- the member it was merged into directly
        survivor_id BIGINT NOT NULL,     -- itself, or the member it was merged into (end of chain)
        registered_at TIMESTAMPTZ NOT NULL,
        registered_date_key INTEGER NOT NULL,
        registered_channel VARCHAR,
        registered_institution VARCHAR,
        birth_year SMALLINT,
        marketing_consent BOOLEAN NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dim_product (
        sku VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        brand VARCHAR,
        business_type VARCHAR NOT NULL,
        festival VARCHAR,
        price_fen BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dim_campaign (
        code VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL,
        starts_on DATE NOT NULL,
        ends_on DATE NOT NULL,
        budget_points BIGINT NOT NULL,
        holdout_pct INTEGER NOT NULL,
        multiplier_bp INTEGER NOT NULL,
        bonus_points INTEGER NOT NULL,
        per_member_cap INTEGER,
        target_json VARCHAR NOT NULL,
        campaign_id BIGINT NOT NULL      -- the operational id, as in fact_accrual.campaign_ids
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dim_campaign_member (
        -- Every member registered before the campaign ended, in its treated or holdout
        -- group (points_engine.in_holdout): the base of the incremental-effect estimate.
        campaign_code VARCHAR NOT NULL,
        member_id BIGINT NOT NULL,
        in_holdout BOOLEAN NOT NULL,
        PRIMARY KEY (campaign_code, member_id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dim_reward (
        code VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,           -- goods, voucher, bill_credit, partner_miles
        points_cost BIGINT NOT NULL,
        cash_fen BIGINT NOT NULL
    )
    """,
    # -- facts ------------------------------------------------------------------------
    """
    CREATE TABLE IF NOT EXISTS fact_posting (
        posting_id BIGINT PRIMARY KEY,
        txn_id VARCHAR NOT NULL,
        type VARCHAR NOT NULL,           -- accrual, reversal, redemption, redemption_cancel,
                                         -- expiry, release, merge, adjustment, budget
        occurred_at TIMESTAMPTZ NOT NULL,
        date_key INTEGER NOT NULL,
        points BIGINT NOT NULL,          -- > 0, moved from_account -> to_account
        from_kind VARCHAR NOT NULL,      -- member_available, member_pending, issuance,
                                         -- campaign_budget, redemption, partner, expiry, adjustment
        to_kind VARCHAR NOT NULL,
        member_id BIGINT,                -- the member whose account is on either side (NULL:
                                         -- system to system; merge: the receiving member)
        member_delta BIGINT NOT NULL,    -- signed change of that member's points (available +
                                         -- pending); 0 if none or member to member (a merge:
                                         -- sum members by dim_member.survivor_id instead)
        institution_code VARCHAR,        -- institution of the system side (issuance)
        campaign_code VARCHAR,           -- when the system side is a campaign budget
        reward_code VARCHAR,             -- when the system side is a redemption or partner account
        reference VARCHAR NOT NULL,
        accrual_id BIGINT                -- type accrual: the purchase that earned the points
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_accrual (
        accrual_id BIGINT PRIMARY KEY,
        accrual_no VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        member_id BIGINT NOT NULL,
        institution_code VARCHAR NOT NULL,
        business_type VARCHAR NOT NULL,
        occurred_at TIMESTAMPTZ NOT NULL,
        date_key INTEGER NOT NULL,
        total_fen BIGINT NOT NULL,
        refunded_fen BIGINT NOT NULL,
        net_fen BIGINT NOT NULL,         -- total - refunded: GMV
        points BIGINT NOT NULL,
        points_reversed BIGINT NOT NULL,
        status VARCHAR NOT NULL,
        payment_method VARCHAR,
        is_order BOOLEAN NOT NULL,       -- earned by a storefront order (external_id 'order:...')
        updated_at TIMESTAMPTZ NOT NULL,
        campaign_ids BIGINT[] NOT NULL   -- campaigns whose budgets it earned points from
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_accrual_line (
        accrual_id BIGINT NOT NULL,
        line_no INTEGER NOT NULL,
        sku VARCHAR NOT NULL,
        category VARCHAR,
        quantity INTEGER NOT NULL,
        amount_fen BIGINT NOT NULL,
        date_key INTEGER NOT NULL,       -- the accrual's
        PRIMARY KEY (accrual_id, line_no)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_lot (
        lot_id BIGINT PRIMARY KEY,
        member_id BIGINT NOT NULL,
        accrual_id BIGINT,
        institution_code VARCHAR NOT NULL,
        initial BIGINT NOT NULL,
        remaining BIGINT NOT NULL,
        expired BIGINT NOT NULL,
        status VARCHAR NOT NULL,         -- pending, available, expired, ...
        earned_on DATE NOT NULL,
        date_key INTEGER NOT NULL,       -- earned_on
        available_on DATE NOT NULL,
        expires_on DATE NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL,
        channel VARCHAR                  -- of the purchase that earned it (NULL: none), kept
                                         -- here so a channel filter need not join millions
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_redemption (
        redemption_id BIGINT PRIMARY KEY,
        redemption_no VARCHAR NOT NULL,
        member_id BIGINT NOT NULL,
        reward_code VARCHAR NOT NULL,
        quantity INTEGER NOT NULL,
        points_spent BIGINT NOT NULL,
        cash_fen BIGINT NOT NULL,
        status VARCHAR NOT NULL,         -- completed, cancelled
        channel VARCHAR,
        created_at TIMESTAMPTZ NOT NULL,
        date_key INTEGER NOT NULL,
        cancelled_at TIMESTAMPTZ
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_order (
        order_id BIGINT PRIMARY KEY,
        order_no VARCHAR NOT NULL,
        member_id BIGINT NOT NULL,
        channel VARCHAR NOT NULL,
        institution_code VARCHAR NOT NULL,
        fulfilment VARCHAR NOT NULL,     -- pickup, delivery
        outlet_code VARCHAR,
        payment_method VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        total_fen BIGINT NOT NULL,
        points_used BIGINT NOT NULL,
        points_offset_fen BIGINT NOT NULL,
        payable_fen BIGINT NOT NULL,
        paid_fen BIGINT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        date_key INTEGER NOT NULL,
        paid_at TIMESTAMPTZ,
        fulfilled_at TIMESTAMPTZ,
        pickup_expires_on DATE,
        updated_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_order_line (
        line_id BIGINT PRIMARY KEY,
        order_id BIGINT NOT NULL,
        sku VARCHAR NOT NULL,
        category VARCHAR NOT NULL,
        business_type VARCHAR NOT NULL,
        quantity INTEGER NOT NULL,
        unit_price_fen BIGINT NOT NULL,
        amount_fen BIGINT NOT NULL,
        date_key INTEGER NOT NULL        -- the order's
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_bill_payment (
        payment_id BIGINT PRIMARY KEY,
        payment_no VARCHAR NOT NULL,
        member_id BIGINT,
        biller_code VARCHAR NOT NULL,
        biller_kind VARCHAR NOT NULL,    -- water, electricity, gas, broadband, landline
        channel VARCHAR NOT NULL,
        institution_code VARCHAR NOT NULL,
        amount_fen BIGINT NOT NULL,
        status VARCHAR NOT NULL,
        points BIGINT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        date_key INTEGER NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_mailing (
        mailing_id BIGINT PRIMARY KEY,
        tracking_no VARCHAR NOT NULL,
        member_id BIGINT,
        service VARCHAR NOT NULL,
        fee_fen BIGINT NOT NULL,
        channel VARCHAR NOT NULL,
        institution_code VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        points BIGINT NOT NULL,
        accepted_at TIMESTAMPTZ NOT NULL,
        date_key INTEGER NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_subscription (
        subscription_id BIGINT PRIMARY KEY,
        subscription_no VARCHAR NOT NULL,
        member_id BIGINT NOT NULL,
        title_code VARCHAR NOT NULL,
        term VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        institution_code VARCHAR NOT NULL,
        total_fen BIGINT NOT NULL,
        refund_fen BIGINT NOT NULL,
        points BIGINT NOT NULL,
        status VARCHAR NOT NULL,
        starts_on DATE NOT NULL,
        ends_on DATE NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        date_key INTEGER NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )
    """,
    # -- member insights: each `memberhub insights train` run and its scores -------------
    """
    CREATE TABLE IF NOT EXISTS dim_segment (
        code VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL,
        priority INTEGER NOT NULL        -- rule order: lowest is tried first
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dim_insight_run (
        run_id BIGINT PRIMARY KEY,
        as_of DATE NOT NULL,
        model_version VARCHAR NOT NULL,
        trained_at TIMESTAMPTZ NOT NULL, -- a re-train may reuse the id: this tells them apart
        members INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_member_score (
        run_id BIGINT NOT NULL,
        member_id BIGINT NOT NULL,
        as_of DATE NOT NULL,
        date_key INTEGER NOT NULL,       -- the as-of day: exports partition every fact by it
        r TINYINT NOT NULL,              -- RFM quintiles, 1..5
        f TINYINT NOT NULL,
        m TINYINT NOT NULL,
        segment_code VARCHAR NOT NULL,
        churn_risk DOUBLE NOT NULL,      -- 0..1, from basis points
        alive DOUBLE,                    -- 0..1; these three NULL for members who never bought
        expected_purchases DOUBLE,
        expected_value_fen BIGINT,
        PRIMARY KEY (run_id, member_id)
    )
    """,
    # -- daily clearing: each cleared day and its results, replaced whole per day -------
    """
    CREATE TABLE IF NOT EXISTS fact_clearing_day (
        business_date DATE PRIMARY KEY,
        date_key INTEGER NOT NULL,
        status VARCHAR NOT NULL,         -- open (may be run again) or closed (locked)
        runs INTEGER NOT NULL,
        run_at TIMESTAMPTZ NOT NULL,     -- the last run: a new one rebuilds the day's rows
        run_by VARCHAR NOT NULL,
        fen_per_point INTEGER NOT NULL,  -- what a point cost when the day was last run
        closed_at TIMESTAMPTZ,
        closed_by VARCHAR,
        close_reason VARCHAR             -- why finance closed it despite mismatches
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_clearing_line (
        line_id BIGINT NOT NULL,         -- the source id: a re-run gives new ones
        cleared_on DATE NOT NULL,
        date_key INTEGER NOT NULL,
        institution_code VARCHAR NOT NULL,   -- the outlet (or above) the movement belongs to
        channel VARCHAR NOT NULL,
        business_type VARCHAR NOT NULL,
        original_date DATE,              -- adjustment lines: the closed day the events are of
        sales INTEGER NOT NULL,
        gross_fen BIGINT NOT NULL,
        refunds INTEGER NOT NULL,
        refunds_fen BIGINT NOT NULL,
        net_fen BIGINT NOT NULL,
        points_issued BIGINT NOT NULL,
        points_reversed BIGINT NOT NULL,
        points_redeemed BIGINT NOT NULL,
        points_expired BIGINT NOT NULL,
        points_adjusted BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_clearing_position (
        position_id BIGINT NOT NULL,
        cleared_on DATE NOT NULL,
        date_key INTEGER NOT NULL,
        institution_code VARCHAR NOT NULL,
        money_fen BIGINT NOT NULL,
        points_cost_fen BIGINT NOT NULL,
        net_fen BIGINT NOT NULL          -- > 0: the institution is owed; < 0: it pays
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_clearing_transfer (
        transfer_id BIGINT NOT NULL,     -- the order the instructions were worked out in
        cleared_on DATE NOT NULL,
        date_key INTEGER NOT NULL,
        payer VARCHAR NOT NULL,
        payee VARCHAR NOT NULL,
        amount_fen BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_clearing_liability (
        liability_id BIGINT NOT NULL,
        cleared_on DATE NOT NULL,
        date_key INTEGER NOT NULL,
        institution_code VARCHAR NOT NULL,   -- the institution that issued the points
        points BIGINT NOT NULL
    )
    """,
    # The sales a day took as its own (not late events of earlier days): what the
    # channels' control totals are checked against.
    """
    CREATE TABLE IF NOT EXISTS fact_clearing_sale (
        sale_id BIGINT NOT NULL,         -- the accrual
        cleared_on DATE NOT NULL,
        date_key INTEGER NOT NULL,
        channel VARCHAR NOT NULL,
        institution_code VARCHAR NOT NULL,
        external_id VARCHAR,
        amount_fen BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS fact_clearing_control_total (
        control_id BIGINT PRIMARY KEY,
        business_date DATE NOT NULL,
        date_key INTEGER NOT NULL,
        channel VARCHAR NOT NULL,
        institution_code VARCHAR NOT NULL,
        sales INTEGER NOT NULL,          -- the channel's own count and amount
        amount_fen BIGINT NOT NULL,
        transaction_ids VARCHAR[],       -- its transaction ids, when it sent them
        submitted_at TIMESTAMPTZ NOT NULL
    )
    """,
)

FACT_TABLES = (
    "fact_posting",
    "fact_accrual",
    "fact_accrual_line",
    "fact_lot",
    "fact_redemption",
    "fact_order",
    "fact_order_line",
    "fact_bill_payment",
    "fact_mailing",
    "fact_subscription",
    "fact_member_score",
)
DIMENSION_TABLES = (
    "dim_date",
    "dim_institution",
    "dim_channel",
    "dim_category",
    "dim_business_type",
    "dim_member",
    "dim_product",
    "dim_campaign",
    "dim_campaign_member",
    "dim_reward",
    "dim_segment",
    "dim_insight_run",
)
# Daily clearing, loaded per cleared day (not exported: finance has its own CSV reports).
CLEARING_TABLES = (
    "fact_clearing_day",
    "fact_clearing_line",
    "fact_clearing_position",
    "fact_clearing_transfer",
    "fact_clearing_liability",
    "fact_clearing_sale",
    "fact_clearing_control_total",
)
