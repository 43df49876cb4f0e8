"""Per-member features and purchase labels as of a business date, for crm/insights' models.

Everything is computed from facts dated on or before the as-of day (`date_key <= as_of`,
timestamps before the next Shanghai midnight): a frame as of T never sees an event after
T, so a model trained on features as of T1 and labels from (T1, T1 + N] can be evaluated
on a later T2 without leaking the future. Columns that hold the *current* state of a row
(a lot's remaining points, an order's status, a refund booked later) are not used.

Members are the surviving records (merged ones fold into the member they were merged
into, through `dim_member.survivor_id`) registered on or before the as-of day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Protocol

import pandas as pd

from common.clock import SHANGHAI

YEAR_DAYS = 365
RECENT_DAYS = 90
EXPIRY_DAYS = 90
ONLINE_CHANNELS = ("web", "app")

FEATURE_COLUMNS: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "frequency_90d",
    "monetary_fen",
    "tenure_days",
    "purchases_ever",
    "online_share",
    "counter_share",
    "channels_used",
    "points_balance",
    "points_expiring",
    "campaign_purchases",
    "campaigns_offered",
    "orders",
    "pickups",
    "bill_payments",
    "mailings",
    "redemptions",
)


class Reader(Protocol):
    def query(self, sql: str, params: Mapping[str, object]) -> pd.DataFrame: ...


def day_key(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def _end_of_day_utc(day: date) -> str:
    """The instant the as-of business day ends (next midnight in Shanghai), as ISO text."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI).isoformat()


_FEATURES_SQL = """
WITH owner AS (SELECT member_id, survivor_id FROM dim_member),
members AS (
    SELECT member_id, registered_date_key
    FROM dim_member
    WHERE member_id = survivor_id AND registered_date_key <= $as_of_key
),
purchases AS (
    SELECT o.survivor_id AS member_id, a.date_key, a.total_fen, a.channel,
           len(a.campaign_ids) > 0 AS in_campaign
    FROM fact_accrual a JOIN owner o ON o.member_id = a.member_id
    WHERE a.date_key <= $as_of_key
),
p AS (
    SELECT member_id,
           max(date_key) AS last_key,
           count(*) AS purchases_ever,
           count(*) FILTER (WHERE date_key >= $year_key) AS frequency,
           count(*) FILTER (WHERE date_key >= $recent_key) AS frequency_90d,
           coalesce(sum(total_fen) FILTER (WHERE date_key >= $year_key), 0) AS monetary_fen,
           count(*) FILTER (WHERE date_key >= $year_key AND channel IN ('web', 'app'))
               AS online,
           count(*) FILTER (WHERE date_key >= $year_key AND channel = 'counter') AS counter,
           count(DISTINCT channel) FILTER (WHERE date_key >= $year_key) AS channels_used,
           count(*) FILTER (WHERE date_key >= $year_key AND in_campaign) AS campaign_purchases
    FROM purchases GROUP BY member_id
),
balance AS (
    SELECT o.survivor_id AS member_id, sum(f.member_delta) AS points_balance
    FROM fact_posting f JOIN owner o ON o.member_id = f.member_id
    WHERE f.date_key <= $as_of_key
    GROUP BY 1
),
expiring AS (
    -- Points of lots earned by then that expire in the next EXPIRY_DAYS: an upper bound
    -- (what was spent from them by then is not kept per day), capped by the balance below.
    SELECT o.survivor_id AS member_id, sum(l.initial) AS points
    FROM fact_lot l JOIN owner o ON o.member_id = l.member_id
    WHERE l.date_key <= $as_of_key
      AND l.expires_on > CAST($as_of AS DATE)
      AND l.expires_on <= CAST($as_of AS DATE) + $expiry_days
    GROUP BY 1
),
offers AS (
    SELECT cm.member_id, count(*) AS campaigns_offered
    FROM dim_campaign_member cm JOIN dim_campaign c ON c.code = cm.campaign_code
    WHERE NOT cm.in_holdout
      AND c.starts_on <= CAST($as_of AS DATE)
      AND c.ends_on >= CAST($as_of AS DATE) - $year_days
    GROUP BY 1
),
orders AS (
    SELECT o.survivor_id AS member_id,
           count(*) AS orders,
           count(*) FILTER (
               WHERE r.fulfilment = 'pickup' AND r.fulfilled_at < CAST($cutoff AS TIMESTAMPTZ)
           ) AS pickups
    FROM fact_order r JOIN owner o ON o.member_id = r.member_id
    WHERE r.date_key BETWEEN $year_key AND $as_of_key
    GROUP BY 1
),
bills AS (
    SELECT o.survivor_id AS member_id, count(*) AS bill_payments
    FROM fact_bill_payment b JOIN owner o ON o.member_id = b.member_id
    WHERE b.date_key BETWEEN $year_key AND $as_of_key
    GROUP BY 1
),
mail AS (
    SELECT o.survivor_id AS member_id, count(*) AS mailings
    FROM fact_mailing g JOIN owner o ON o.member_id = g.member_id
    WHERE g.date_key BETWEEN $year_key AND $as_of_key
    GROUP BY 1
),
spent AS (
    SELECT o.survivor_id AS member_id, count(*) AS redemptions
    FROM fact_redemption d JOIN owner o ON o.member_id = d.member_id
    WHERE d.date_key BETWEEN $year_key AND $as_of_key
    GROUP BY 1
)
SELECT m.member_id,
       CASE WHEN p.last_key IS NULL THEN NULL ELSE date_diff(
           'day', strptime(CAST(p.last_key AS VARCHAR), '%Y%m%d')::DATE, CAST($as_of AS DATE)
       ) END AS recency_days,
       coalesce(p.frequency, 0) AS frequency,
       coalesce(p.frequency_90d, 0) AS frequency_90d,
       coalesce(p.monetary_fen, 0)::BIGINT AS monetary_fen,
       date_diff(
           'day',
           strptime(CAST(m.registered_date_key AS VARCHAR), '%Y%m%d')::DATE,
           CAST($as_of AS DATE)
       ) AS tenure_days,
       coalesce(p.purchases_ever, 0) AS purchases_ever,
       CASE WHEN coalesce(p.frequency, 0) = 0 THEN 0.0
            ELSE p.online / p.frequency END AS online_share,
       CASE WHEN coalesce(p.frequency, 0) = 0 THEN 0.0
            ELSE p.counter / p.frequency END AS counter_share,
       coalesce(p.channels_used, 0) AS channels_used,
       coalesce(b.points_balance, 0)::BIGINT AS points_balance,
       greatest(least(coalesce(e.points, 0), coalesce(b.points_balance, 0)), 0)::BIGINT
           AS points_expiring,
       coalesce(p.campaign_purchases, 0) AS campaign_purchases,
       coalesce(f.campaigns_offered, 0) AS campaigns_offered,
       coalesce(r.orders, 0) AS orders,
       coalesce(r.pickups, 0) AS pickups,
       coalesce(bl.bill_payments, 0) AS bill_payments,
       coalesce(ml.mailings, 0) AS mailings,
       coalesce(s.redemptions, 0) AS redemptions
FROM members m
LEFT JOIN p ON p.member_id = m.member_id
LEFT JOIN balance b ON b.member_id = m.member_id
LEFT JOIN expiring e ON e.member_id = m.member_id
LEFT JOIN offers f ON f.member_id = m.member_id
LEFT JOIN orders r ON r.member_id = m.member_id
LEFT JOIN bills bl ON bl.member_id = m.member_id
LEFT JOIN mail ml ON ml.member_id = m.member_id
LEFT JOIN spent s ON s.member_id = m.member_id
ORDER BY m.member_id
"""


def member_features(reader: Reader, as_of: date) -> pd.DataFrame:
    """One row per member registered by `as_of`, ordered by member_id.

    Columns: member_id; recency_days (days since the last purchase, NULL if none yet);
    frequency and frequency_90d (purchases in the last 365 and 90 days); monetary_fen
    (what they cost in those 365 days, before later refunds); tenure_days (since
    registration); purchases_ever; online_share and counter_share (of the year's
    purchases, web/app and counter); channels_used; points_balance; points_expiring
    (in the next 90 days, at most the balance); campaign_purchases (earning from a
    campaign budget) and campaigns_offered (campaigns of the year whose treated group
    they are in); orders, pickups (orders collected by then), bill_payments, mailings
    and redemptions, all over the last 365 days. Counts and points are integers.
    """
    return reader.query(
        _FEATURES_SQL,
        {
            "as_of": as_of.isoformat(),
            "as_of_key": day_key(as_of),
            "year_key": day_key(as_of - timedelta(days=YEAR_DAYS - 1)),
            "recent_key": day_key(as_of - timedelta(days=RECENT_DAYS - 1)),
            "year_days": YEAR_DAYS,
            "expiry_days": EXPIRY_DAYS,
            "cutoff": _end_of_day_utc(as_of),
        },
    )


_LABELS_SQL = """
WITH owner AS (SELECT member_id, survivor_id FROM dim_member)
SELECT m.member_id, coalesce(p.purchases, 0) AS purchases_after
FROM dim_member m
LEFT JOIN (
    SELECT o.survivor_id AS member_id, count(*) AS purchases
    FROM fact_accrual a JOIN owner o ON o.member_id = a.member_id
    WHERE a.date_key > $start_key AND a.date_key <= $end_key
    GROUP BY 1
) p ON p.member_id = m.member_id
WHERE m.member_id = m.survivor_id AND m.registered_date_key <= $start_key
ORDER BY m.member_id
"""


def purchases_after(reader: Reader, as_of: date, horizon_days: int) -> pd.DataFrame:
    """Purchases of each member of `member_features(as_of)` in (as_of, as_of + horizon].

    Columns: member_id, purchases_after (0: the member bought nothing in the horizon,
    which is what the churn model predicts).
    """
    return reader.query(
        _LABELS_SQL,
        {
            "start_key": day_key(as_of),
            "end_key": day_key(as_of + timedelta(days=horizon_days)),
        },
    )


_RANGE_SQL = "SELECT min(date_key) AS first_key, max(date_key) AS last_key FROM fact_accrual"


def purchase_range(reader: Reader) -> tuple[date, date] | None:
    """The first and last business day with a purchase, or None for an empty warehouse."""
    row = reader.query(_RANGE_SQL, {}).iloc[0]
    if pd.isna(row["first_key"]):
        return None

    def as_day(key: object) -> date:
        text = str(int(str(key)))
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))

    return as_day(row["first_key"]), as_day(row["last_key"])


_DAILY_PURCHASES_SQL = """
WITH owner AS (SELECT member_id, survivor_id FROM dim_member)
SELECT o.survivor_id AS member_id,
       strptime(CAST(a.date_key AS VARCHAR), '%Y%m%d')::DATE AS day,
       sum(a.total_fen)::BIGINT AS amount_fen
FROM fact_accrual a JOIN owner o ON o.member_id = a.member_id
WHERE a.date_key <= $as_of_key
GROUP BY 1, 2
ORDER BY 1, 2
"""


def daily_purchases(reader: Reader, as_of: date) -> pd.DataFrame:
    """What each member (merged records folded into the survivor) spent per business day
    with a purchase, up to `as_of`: member_id, day, amount_fen (before later refunds, as
    in `member_features`). The lifetime-value models' input."""
    return reader.query(_DAILY_PURCHASES_SQL, {"as_of_key": day_key(as_of)})
