"""The dashboards' metrics asked of the fact tables: their definitions.

`warehouse.queries` is what the dashboards call: it answers each block from the rollups
(`warehouse.rollups`) where the answer is the same, and from here where it is not (a
filter combination a rollup cannot answer exactly, or a block no rollup serves). Each of
its blocks must equal the function of the same name here, which `from_facts=True` there
asks for; the filters, scopes and SQL helpers both build on live here.

Every function takes a reader (anything with `query(sql, params) -> DataFrame`, such as
the warehouse's read-only reader) and a `Filters`, and returns a DataFrame whose columns
its docstring lists. Money is BIGINT fen and points BIGINT; only statistics (rates,
medians, means, variances) are DOUBLE. SQL text is assembled from constant fragments
only; every value a user chose travels as a named `$parameter`.

How the filters apply
---------------------
- `start`..`end` (inclusive Asia/Shanghai business days) select facts by their
  `date_key`: purchases (accruals) by when they happened, orders, bill payments,
  mailings and subscriptions by when they were made, redemptions by when they were
  made, breakage by the lot's expiry date, members by their registration date.
- `inst` is a code at any level of the tree (company, district, outlet/kiosk/store) and
  keeps everything in that subtree of `dim_institution`. Purchases, bill payments,
  mailings and subscriptions count at the institution where they happened, pickups at
  the collecting outlet, lots (liability, breakage) at the institution that issued the
  points. Member stock (members, new members, tiers, cohorts) and redemptions count at
  the member's home (registration) institution.
- `channel` keeps transactions made in that channel; member stock uses the registration
  channel; lots follow the channel of the purchase that earned them.
- `campaign` keeps purchases that earned points from that campaign, and what follows
  from them (their postings and lots). Member stock, redemptions and the commerce flows
  (pickups, bills, mailings) are not campaign-specific and ignore it. On the campaign
  blocks it picks the campaign instead.

Merged members keep their own history: a purchase counts for the member id it was made
under, and merged members are left out of member stock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import pandas as pd

from warehouse.calendar import date_key
from warehouse.rollups import CAMPAIGN_WINDOWS, targeted

# Two-sided 95% quantile of the standard normal distribution.
Z_95 = 1.959963984540054


class Reader(Protocol):
    """What the queries need: `warehouse.WarehouseReader`, or any DuckDB connection
    wrapped to answer `$name` parameters from a dict."""

    def query(self, sql: str, params: Mapping[str, object]) -> pd.DataFrame: ...


@dataclass(frozen=True)
class Filters:
    """The dashboard filters; `start` and `end` are inclusive business days."""

    start: date
    end: date
    inst: str | None = None
    channel: str | None = None
    campaign: str | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Filters:
        """The period of the same length that ends the day before this one starts."""
        return replace(
            self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1)
        )


@dataclass
class Where:
    """Conditions joined with AND, the joins they need, and the values of their parameters."""

    conditions: list[str] = field(default_factory=list)
    params: dict[str, object] = field(default_factory=dict)
    joins: list[str] = field(default_factory=list)

    def require(self, condition: str, **params: object) -> None:
        self.conditions.append(condition)
        self.params.update(params)

    def join(self, clause: str) -> None:
        if clause not in self.joins:
            self.joins.append(clause)

    @property
    def sql(self) -> str:
        return " AND ".join(self.conditions) if self.conditions else "TRUE"

    @property
    def join_sql(self) -> str:
        return " ".join(self.joins)


# -- constant fragments -----------------------------------------------------------------

SUBTREE = "(SELECT code FROM dim_institution WHERE $inst IN (code, district_code, company_code))"
# A purchase that earned the campaign's points (the sync lists the budgets it earned from).
ACCRUAL_IN_CAMPAIGN = (
    "list_contains(a.campaign_ids, (SELECT campaign_id FROM dim_campaign WHERE code = $campaign))"
)
NOT_MERGED = "m.status <> 'merged'"


def sum_of(expression: str, where: str | None = None) -> str:
    """SUM (of the rows matching `where`) that is 0 over no rows and stays BIGINT:
    DuckDB widens sums to HUGEINT, which pandas would turn into floats."""
    only = f" FILTER (WHERE {where})" if where else ""
    return f"CAST(COALESCE(SUM({expression}){only}, 0) AS BIGINT)"


def day_of(key: str) -> str:
    """The DATE of an integer yyyymmdd key column."""
    return f"CAST(strptime(CAST({key} AS VARCHAR), '%Y%m%d') AS DATE)"


def accrual_scope(
    f: Filters,
    *,
    first_day: date | None = None,
    channel: bool = True,
    campaign: bool = True,
    prefix: str = "",
) -> Where:
    """Purchases (`fact_accrual a`) from `first_day` (default: `f.start`) to `f.end`; the
    date parameters are named `$<prefix>from_key` and `$<prefix>to_key`."""
    where = Where()
    where.require(
        f"a.date_key BETWEEN ${prefix}from_key AND ${prefix}to_key",
        **{
            f"{prefix}from_key": date_key(first_day or f.start),
            f"{prefix}to_key": date_key(f.end),
        },
    )
    if f.inst:
        where.require("a.institution_code IN " + SUBTREE, inst=f.inst)
    if channel and f.channel:
        where.require("a.channel = $channel", channel=f.channel)
    if campaign and f.campaign:
        where.require(ACCRUAL_IN_CAMPAIGN, campaign=f.campaign)
    return where


def member_scope(f: Filters) -> Where:
    """Member stock (`dim_member m`) by home institution and registration channel."""
    where = Where()
    where.require(NOT_MERGED)
    if f.inst:
        where.require("m.registered_institution IN " + SUBTREE, inst=f.inst)
    if f.channel:
        where.require("m.registered_channel = $channel", channel=f.channel)
    return where


def lot_scope(f: Filters) -> Where:
    """Lots (`fact_lot l`) by issuing institution, by the channel of the purchase that
    earned them (stored on the lot), and by its campaign (looked up only then)."""
    where = Where()
    if f.inst:
        where.require("l.institution_code IN " + SUBTREE, inst=f.inst)
    if f.channel:
        where.require("l.channel = $channel", channel=f.channel)
    if f.campaign:
        # A semi-join on the purchases chosen first: joining every lot to its purchase
        # and filtering after costs seconds at millions of lots.
        where.require(
            f"l.accrual_id IN (SELECT a.accrual_id FROM fact_accrual a "
            f"WHERE {ACCRUAL_IN_CAMPAIGN})",
            campaign=f.campaign,
        )
    return where


def redemption_scope(f: Filters, first_day: date) -> Where:
    """Completed redemptions (`fact_redemption r`); the member's home institution counts
    (`dim_member m`, joined only then)."""
    where = Where()
    where.require(
        "r.status = 'completed' AND r.date_key BETWEEN $from_key AND $to_key",
        from_key=date_key(first_day),
        to_key=date_key(f.end),
    )
    if f.inst:
        where.join("JOIN dim_member m ON m.member_id = r.member_id")
        where.require("m.registered_institution IN " + SUBTREE, inst=f.inst)
    if f.channel:
        where.require("r.channel = $channel", channel=f.channel)
    return where


def children_of(f: Filters) -> tuple[str, dict[str, object]]:
    """A `children(code, child)` CTE body mapping every institution of the selected
    subtree to the child of the selected node it rolls up to: districts under the company
    (or with no node selected), outlets under a district, the outlet itself."""
    if not f.inst:
        return (
            "SELECT i.code, COALESCE(i.district_code, i.code) AS child FROM dim_institution i",
            {},
        )
    return (
        "SELECT i.code, CASE WHEN (SELECT level FROM dim_institution WHERE code = $inst) = 0 "
        "THEN COALESCE(i.district_code, i.code) ELSE i.code END AS child "
        "FROM dim_institution i WHERE $inst IN (i.code, i.district_code, i.company_code)",
        {"inst": f.inst},
    )


def merge(*wheres: Where, **extra: object) -> dict[str, object]:
    params: dict[str, object] = {}
    for where in wheres:
        params.update(where.params)
    params.update(extra)
    return params


# -- reference lists ----------------------------------------------------------------------


def activity_range(reader: Reader) -> pd.DataFrame:
    """First and last business day with a purchase (NULL in an empty warehouse).

    Columns: first_day, last_day (DATE).
    """
    return reader.query(
        f"SELECT {day_of('min(date_key)')} AS first_day, {day_of('max(date_key)')} AS last_day "
        "FROM fact_accrual",
        {},
    )


def data_as_of(reader: Reader) -> datetime | None:
    """When the last sync published what the warehouse holds (None before any sync)."""
    frame = reader.query("SELECT max(synced_at) AS synced_at FROM sync_state", {})
    value = frame["synced_at"].iloc[0] if not frame.empty else None
    if value is None or pd.isna(value):
        return None
    moment: datetime = pd.Timestamp(value).to_pydatetime()
    return moment


def institutions(reader: Reader) -> pd.DataFrame:
    """Columns: code, name, name_en, kind, level, parent_code; tree order."""
    return reader.query(
        "SELECT code, name, name_en, kind, level, parent_code FROM dim_institution "
        "ORDER BY company_code, COALESCE(district_code, ''), level, code",
        {},
    )


def channels(reader: Reader) -> pd.DataFrame:
    """Columns: code, name, name_en, is_online."""
    return reader.query("SELECT code, name, name_en, is_online FROM dim_channel ORDER BY code", {})


def campaigns(reader: Reader) -> pd.DataFrame:
    """Columns: code, name, name_en, starts_on, ends_on, budget_points; newest first."""
    return reader.query(
        "SELECT code, name, name_en, starts_on, ends_on, budget_points FROM dim_campaign "
        "ORDER BY starts_on DESC, code",
        {},
    )


# -- overview ---------------------------------------------------------------------------

HEADLINE_COLUMNS = (
    "members",
    "new_members",
    "active_members",
    "repeat_buyers",
    "purchases",
    "gmv_fen",
    "points_issued",
    "points_redeemed",
    "points_expired",
)


def headline_totals(reader: Reader, f: Filters) -> pd.DataFrame:
    """The headline numbers of the period and of the previous period of the same length.

    One row per `period` ('current', 'previous'), columns: period, members (not merged,
    registered by the period's end), new_members (registered in it), active_members
    (made a purchase), repeat_buyers (made two or more), purchases, gmv_fen (purchase
    amounts net of refunds), points_issued (earned by those purchases, base and
    campaign), points_redeemed (completed redemptions), points_expired (breakage: what
    expired of lots whose expiry date falls in the period).
    """
    previous = f.previous()
    accruals = accrual_scope(f, first_day=previous.start)
    members = member_scope(f)
    redemptions = redemption_scope(f, previous.start)
    lots = lot_scope(f)
    lots.require(
        "l.expired > 0 AND l.expires_on BETWEEN $from_day AND $to_day",
        from_day=previous.start,
        to_day=f.end,
    )
    sql = f"""
        WITH buyers AS (
            SELECT a.date_key >= $split_key AS now, a.member_id, count(*) AS n,
                   {sum_of("a.net_fen")} AS gmv, {sum_of("a.points")} AS points
            FROM fact_accrual a WHERE {accruals.sql}
            GROUP BY ALL
        ),
        sales AS (
            SELECT count(*) FILTER (WHERE now) AS now_active,
                   count(*) FILTER (WHERE now AND n >= 2) AS now_repeat,
                   {sum_of("n", "now")} AS now_purchases, {sum_of("gmv", "now")} AS now_gmv,
                   {sum_of("points", "now")} AS now_points,
                   count(*) FILTER (WHERE NOT now) AS before_active,
                   count(*) FILTER (WHERE NOT now AND n >= 2) AS before_repeat,
                   {sum_of("n", "NOT now")} AS before_purchases,
                   {sum_of("gmv", "NOT now")} AS before_gmv,
                   {sum_of("points", "NOT now")} AS before_points
            FROM buyers
        ),
        stock AS (
            SELECT count(*) FILTER (WHERE m.registered_date_key <= $cur_to_key) AS now_members,
                   count(*) FILTER (
                       WHERE m.registered_date_key BETWEEN $cur_from_key AND $cur_to_key
                   ) AS now_new,
                   count(*) FILTER (WHERE m.registered_date_key <= $prev_to_key) AS before_members,
                   count(*) FILTER (
                       WHERE m.registered_date_key BETWEEN $prev_from_key AND $prev_to_key
                   ) AS before_new
            FROM dim_member m WHERE {members.sql}
        ),
        redeemed AS (
            SELECT {sum_of("r.points_spent", "r.date_key >= $split_key")} AS now_redeemed,
                   {sum_of("r.points_spent", "r.date_key < $split_key")} AS before_redeemed
            FROM fact_redemption r {redemptions.join_sql}
            WHERE {redemptions.sql}
        ),
        expired AS (
            SELECT {sum_of("l.expired", "l.expires_on >= $split_day")} AS now_expired,
                   {sum_of("l.expired", "l.expires_on < $split_day")} AS before_expired
            FROM fact_lot l {lots.join_sql}
            WHERE {lots.sql}
        )
        SELECT 'current' AS period, now_members AS members, now_new AS new_members,
               now_active AS active_members, now_repeat AS repeat_buyers,
               now_purchases AS purchases, now_gmv AS gmv_fen, now_points AS points_issued,
               now_redeemed AS points_redeemed, now_expired AS points_expired
        FROM sales, stock, redeemed, expired
        UNION ALL
        SELECT 'previous', before_members, before_new, before_active, before_repeat,
               before_purchases, before_gmv, before_points, before_redeemed, before_expired
        FROM sales, stock, redeemed, expired
        ORDER BY period
    """
    # Redemptions reuse the accrual scope's $from_key/$to_key with the same values.
    params = merge(
        accruals,
        members,
        redemptions,
        lots,
        split_key=date_key(f.start),
        split_day=f.start,
        cur_from_key=date_key(f.start),
        cur_to_key=date_key(f.end),
        prev_from_key=date_key(previous.start),
        prev_to_key=date_key(previous.end),
    )
    return ints(reader.query(sql, params), HEADLINE_COLUMNS)


def daily_sales(reader: Reader, f: Filters) -> pd.DataFrame:
    """Purchases per day of the period and of the previous one, every day present.

    Columns: period ('current', 'previous'), day_index (0 = first day of that period),
    day (DATE), purchases, active_members, gmv_fen, points_issued.
    """
    previous = f.previous()
    accruals = accrual_scope(f, first_day=previous.start)
    sql = f"""
        WITH days AS (
            SELECT CAST(d AS DATE) AS day
            FROM generate_series(CAST($first_day AS DATE), CAST($last_day AS DATE),
                                 INTERVAL 1 DAY) t(d)
        ),
        sales AS (
            SELECT a.date_key, count(*) AS purchases,
                   count(DISTINCT a.member_id) AS active_members,
                   {sum_of("a.net_fen")} AS gmv_fen, {sum_of("a.points")} AS points_issued
            FROM fact_accrual a WHERE {accruals.sql}
            GROUP BY a.date_key
        )
        SELECT CASE WHEN days.day >= $split_day THEN 'current' ELSE 'previous' END AS period,
               CASE WHEN days.day >= $split_day THEN days.day - $split_day
                    ELSE days.day - $first_day END AS day_index,
               days.day,
               COALESCE(s.purchases, 0) AS purchases,
               COALESCE(s.active_members, 0) AS active_members,
               COALESCE(s.gmv_fen, 0) AS gmv_fen,
               COALESCE(s.points_issued, 0) AS points_issued
        FROM days LEFT JOIN sales s
          ON s.date_key = CAST(strftime(days.day, '%Y%m%d') AS INTEGER)
        ORDER BY days.day
    """
    params = merge(accruals, first_day=previous.start, last_day=f.end, split_day=f.start)
    return ints(
        reader.query(sql, params),
        ("day_index", "purchases", "active_members", "gmv_fen", "points_issued"),
    )


def sales_by_channel(reader: Reader, f: Filters) -> pd.DataFrame:
    """Purchases per channel; channels without any in either period are left out.

    Columns: channel, name, name_en, is_online, purchases, members, gmv_fen,
    points_issued, previous_gmv_fen; largest GMV first.
    """
    sql, params = sales_by(f, "a.channel", "")
    sql = f"""
        WITH sales AS ({sql})
        SELECT s.key AS channel, c.name, c.name_en, c.is_online, s.purchases, s.members,
               s.gmv_fen, s.points_issued, s.previous_gmv_fen
        FROM sales s LEFT JOIN dim_channel c ON c.code = s.key
        ORDER BY s.gmv_fen DESC, s.key
    """
    return ints(
        reader.query(sql, params),
        ("purchases", "members", "gmv_fen", "points_issued", "previous_gmv_fen"),
    )


def sales_by(f: Filters, key: str, joins: str) -> tuple[str, dict[str, object]]:
    """Purchases of the period and GMV of the previous one per `key`, as one query body
    with columns key, purchases, members, gmv_fen, points_issued, previous_gmv_fen.

    The two periods are aggregated apart: distinct members are counted for the current
    one only, which keeps the distinct count to half the rows.
    """
    current = accrual_scope(f)
    before = accrual_scope(f.previous(), prefix="prev_")
    sql = f"""
        WITH cur AS (
            SELECT {key} AS key, count(*) AS purchases, count(DISTINCT a.member_id) AS members,
                   {sum_of("a.net_fen")} AS gmv_fen, {sum_of("a.points")} AS points_issued
            FROM fact_accrual a {joins} WHERE {current.sql}
            GROUP BY 1
        ),
        prev AS (
            SELECT {key} AS key, {sum_of("a.net_fen")} AS previous_gmv_fen
            FROM fact_accrual a {joins} WHERE {before.sql}
            GROUP BY 1
        )
        SELECT key, COALESCE(cur.purchases, 0) AS purchases,
               COALESCE(cur.members, 0) AS members, COALESCE(cur.gmv_fen, 0) AS gmv_fen,
               COALESCE(cur.points_issued, 0) AS points_issued,
               COALESCE(prev.previous_gmv_fen, 0) AS previous_gmv_fen
        FROM cur FULL OUTER JOIN prev USING (key)
    """
    return sql, merge(current, before)


def sales_by_business_type(reader: Reader, f: Filters) -> pd.DataFrame:
    """Purchases per business type (goods, bill payment, mailing, ...).

    Columns: business_type, name, name_en, purchases, gmv_fen, previous_gmv_fen;
    largest GMV first.
    """
    sql, params = sales_by(f, "a.business_type", "")
    sql = f"""
        WITH sales AS ({sql})
        SELECT s.key AS business_type, b.name, b.name_en, s.purchases, s.gmv_fen,
               s.previous_gmv_fen
        FROM sales s LEFT JOIN dim_business_type b ON b.code = s.key
        ORDER BY s.gmv_fen DESC, s.key
    """
    return ints(reader.query(sql, params), ("purchases", "gmv_fen", "previous_gmv_fen"))


# -- channels and institutions ------------------------------------------------------------


def sales_by_institution(reader: Reader, f: Filters) -> pd.DataFrame:
    """Purchases rolled up to the children of the selected institution (districts when
    none is selected, outlets of a district, the outlet itself).

    Columns: code, name, name_en, kind, purchases, members, gmv_fen, points_issued,
    previous_gmv_fen; largest GMV first.
    """
    children, child_params = children_of(f)
    sql, params = sales_by(f, "ch.child", "JOIN children ch ON ch.code = a.institution_code")
    sql = f"""
        WITH children AS ({children}),
        sales AS ({sql})
        SELECT s.key AS code, n.name, n.name_en, n.kind, s.purchases, s.members, s.gmv_fen,
               s.points_issued, s.previous_gmv_fen
        FROM sales s JOIN dim_institution n ON n.code = s.key
        ORDER BY s.gmv_fen DESC, s.key
    """
    return ints(
        reader.query(sql, {**params, **child_params}),
        ("purchases", "members", "gmv_fen", "points_issued", "previous_gmv_fen"),
    )


def institution_tree(reader: Reader, f: Filters) -> pd.DataFrame:
    """GMV booked directly at each institution of the selected subtree, for a tree view.

    Every company and district of the subtree is present (0 when nothing was booked on
    it directly); outlets, kiosks and stores only when they have purchases.
    Columns: code, parent_code, name, name_en, kind, level, gmv_fen.
    """
    accruals = accrual_scope(f)
    subtree = Where()
    if f.inst:
        subtree.require("i.code IN " + SUBTREE, inst=f.inst)
    sql = f"""
        WITH own AS (
            SELECT a.institution_code AS code, {sum_of("a.net_fen")} AS gmv_fen
            FROM fact_accrual a WHERE {accruals.sql}
            GROUP BY a.institution_code
        )
        SELECT i.code, i.parent_code, i.name, i.name_en, i.kind, i.level,
               COALESCE(own.gmv_fen, 0) AS gmv_fen
        FROM dim_institution i LEFT JOIN own ON own.code = i.code
        WHERE {subtree.sql} AND (i.level < 2 OR own.gmv_fen IS NOT NULL)
        ORDER BY i.level, i.code
    """
    return ints(reader.query(sql, merge(accruals, subtree)), ("level", "gmv_fen"))


def pickup_scope(f: Filters) -> Where:
    where = Where()
    where.require(
        "o.fulfilment = 'pickup' AND o.date_key BETWEEN $from_key AND $to_key",
        from_key=date_key(f.start),
        to_key=date_key(f.end),
    )
    if f.inst:
        where.require("o.outlet_code IN " + SUBTREE, inst=f.inst)
    if f.channel:
        where.require("o.channel = $channel", channel=f.channel)
    return where


_PICKUP_MEASURES = """
    count(*) AS pickup_orders,
    count(*) FILTER (WHERE c.is_online) AS online_pickup_orders,
    count(*) FILTER (WHERE o.fulfilled_at IS NOT NULL) AS picked_up,
    count(*) FILTER (WHERE o.fulfilled_at IS NOT NULL AND c.is_online) AS online_picked_up,
    count(*) FILTER (WHERE o.status = 'expired') AS expired,
    count(*) FILTER (WHERE o.status = 'ready_for_pickup') AS awaiting,
    median(epoch(o.fulfilled_at) - epoch(o.created_at)) / 3600.0 AS median_hours
"""
_PICKUP_COUNTS = (
    "pickup_orders",
    "online_pickup_orders",
    "picked_up",
    "online_picked_up",
    "expired",
    "awaiting",
)


def pickup_summary(reader: Reader, f: Filters) -> pd.DataFrame:
    """Buy online, collect at a post office: pickup orders placed in the period.

    One row, columns: pickup_orders, online_pickup_orders (placed on an online channel),
    picked_up, online_picked_up (ordered online and collected offline), expired
    (uncollected in time), awaiting (still at the counter), pickup_rate (picked up ÷
    picked up or expired; NULL when neither), median_hours (order placed to collected).
    """
    where = pickup_scope(f)
    sql = f"""
        SELECT {_PICKUP_MEASURES}
        FROM fact_order o LEFT JOIN dim_channel c ON c.code = o.channel
        WHERE {where.sql}
    """
    return with_pickup_rate(ints(reader.query(sql, where.params), _PICKUP_COUNTS))


def pickup_by_outlet(reader: Reader, f: Filters) -> pd.DataFrame:
    """The pickup measures of `pickup_summary` per collecting outlet.

    Columns: outlet_code, name, name_en, district_name, district_name_en, and the
    columns of `pickup_summary`; most pickup orders first.
    """
    where = pickup_scope(f)
    sql = f"""
        SELECT o.outlet_code, i.name, i.name_en, i.district_name, i.district_name_en,
               {_PICKUP_MEASURES}
        FROM fact_order o LEFT JOIN dim_channel c ON c.code = o.channel
        LEFT JOIN dim_institution i ON i.code = o.outlet_code
        WHERE {where.sql}
        GROUP BY ALL
        ORDER BY pickup_orders DESC, o.outlet_code
    """
    return with_pickup_rate(ints(reader.query(sql, where.params), _PICKUP_COUNTS))


def with_pickup_rate(frame: pd.DataFrame) -> pd.DataFrame:
    settled = frame["picked_up"] + frame["expired"]
    frame["pickup_rate"] = (frame["picked_up"] / settled.where(settled > 0)).astype("float64")
    return frame


def service_activity(reader: Reader, f: Filters) -> pd.DataFrame:
    """Counter and life services in the period: mailings by service, paid bill payments
    by biller kind, press subscriptions by term.

    Columns: service ('mailing', 'bill_payment', 'subscription'), kind, count,
    amount_fen (postage; bill amount; subscription price net of refunds).
    """
    keys = {"from_key": date_key(f.start), "to_key": date_key(f.end)}
    mailings, bills, subscriptions = Where(), Where(), Where()
    mailings.require("x.date_key BETWEEN $from_key AND $to_key", **keys)
    bills.require("x.status = 'paid' AND x.date_key BETWEEN $from_key AND $to_key", **keys)
    subscriptions.require("x.date_key BETWEEN $from_key AND $to_key", **keys)
    if f.inst:
        for where in (mailings, bills, subscriptions):
            where.require("x.institution_code IN " + SUBTREE, inst=f.inst)
    if f.channel:
        for where in (mailings, bills, subscriptions):
            where.require("x.channel = $channel", channel=f.channel)
    sql = f"""
        SELECT 'mailing' AS service, x.service AS kind, count(*) AS count,
               {sum_of("x.fee_fen")} AS amount_fen
        FROM fact_mailing x WHERE {mailings.sql} GROUP BY ALL
        UNION ALL
        SELECT 'bill_payment', x.biller_kind, count(*), {sum_of("x.amount_fen")}
        FROM fact_bill_payment x WHERE {bills.sql} GROUP BY ALL
        UNION ALL
        SELECT 'subscription', x.term, count(*), {sum_of("x.total_fen - x.refund_fen")}
        FROM fact_subscription x WHERE {subscriptions.sql} GROUP BY ALL
        ORDER BY service, kind
    """
    return ints(reader.query(sql, merge(mailings, bills, subscriptions)), ("count", "amount_fen"))


# -- campaigns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Effect:
    """Difference in mean GMV per member (treated − holdout) with its 95% interval, fen."""

    lift: float
    low: float
    high: float


def incremental_effect(
    treated_n: int,
    treated_sum: int,
    treated_var: float,
    holdout_n: int,
    holdout_sum: int,
    holdout_var: float,
) -> Effect | None:
    """Welch's difference in means with a normal-approximation 95% confidence interval.

    lift = mean(treated) − mean(holdout); its standard error is
    sqrt(var_t / n_t + var_h / n_h) with sample variances (n − 1 denominators), and
    the interval is lift ± 1.96 · SE. None when a group has fewer than two members (no
    variance to estimate) or a variance is missing.
    """
    if treated_n < 2 or holdout_n < 2:
        return None
    if not (math.isfinite(treated_var) and math.isfinite(holdout_var)):
        return None
    lift = treated_sum / treated_n - holdout_sum / holdout_n
    error = math.sqrt(treated_var / treated_n + holdout_var / holdout_n)
    return Effect(lift, lift - Z_95 * error, lift + Z_95 * error)


def campaign_choice(f: Filters) -> Where:
    where = Where()
    if f.campaign:
        where.require("code = $campaign", campaign=f.campaign)
    else:
        where.require(
            "starts_on <= $to_day AND ends_on >= $from_day", from_day=f.start, to_day=f.end
        )
    return where


def campaign_purchases(f: Filters) -> Where:
    """Purchases (`fact_accrual a`) at the filtered institution and channel, any date."""
    where = Where()
    if f.inst:
        where.require("a.institution_code IN " + SUBTREE, inst=f.inst)
    if f.channel:
        where.require("a.channel = $channel", channel=f.channel)
    return where


CAMPAIGN_COUNTS = (
    "budget_points",
    "points_awarded",
    "points_returned",
    "points_cost",
    "participants",
    "gmv_window_fen",
    "gmv_baseline_fen",
    "treated_members",
    "treated_gmv_fen",
    "holdout_members",
    "holdout_gmv_fen",
)


def campaign_results(reader: Reader, f: Filters) -> pd.DataFrame:
    """Per campaign running in the period (or the one `f.campaign` names): its cost, its
    GMV against a baseline, and its incremental effect against its holdout group.

    GMV counted for a campaign: purchases in its target business types (all when it
    targets none) at the filtered institution and channel. The window is the campaign's
    own (whatever the period filter); the baseline is the same number of days just
    before it starts. The effect compares mean GMV per member in the window between the
    members who got the offer and the random holdout (`dim_campaign_member`, members
    who did not buy count as 0) — see `incremental_effect`. Cost and participants are
    campaign-wide: the budget is.

    Columns: code, name, name_en, starts_on, ends_on, budget_points, points_awarded
    (campaign points earned), points_returned (given back to the budget by refunds),
    points_cost (awarded − returned), budget_used (cost ÷ budget), participants (members
    who earned campaign points), gmv_window_fen, gmv_baseline_fen, treated_members,
    treated_gmv_fen, treated_var, holdout_members, holdout_gmv_fen, holdout_var (sample
    variances of GMV per member, fen²), lift_fen, lift_low_fen, lift_high_fen (mean GMV
    per member treated − holdout and its 95% interval; NULL without enough members).
    """
    choice = campaign_choice(f)
    purchases = campaign_purchases(f)
    # Members who bought nothing add 0 to a group's sum and sum of squares, so only
    # buyers are joined; the variance comes from exact integer sums,
    # (n·Σx² − (Σx)²) / (n·(n − 1)), turned into a double only at the end.
    sql = f"""
        WITH c AS ({CAMPAIGN_WINDOWS} WHERE {choice.sql}),
        s AS (
            SELECT a.member_id, a.date_key, a.business_type, a.net_fen
            FROM fact_accrual a
            WHERE {purchases.sql}
              AND a.date_key BETWEEN (SELECT min(baseline_start_key) FROM c)
                                 AND (SELECT max(end_key) FROM c)
        ),
        targets AS (
            -- Every day of each campaign's baseline and window, with every business type
            -- it counts: purchases meet their campaigns by an equi-join, not a range join.
            SELECT c.code, c.start_key, CAST(strftime(d, '%Y%m%d') AS INTEGER) AS date_key,
                   t.business_type
            FROM c, generate_series(
                     CAST(strptime(CAST(c.baseline_start_key AS VARCHAR), '%Y%m%d')
                          AS TIMESTAMP),
                     CAST(c.ends_on AS TIMESTAMP), INTERVAL 1 DAY) days(d),
                 (SELECT DISTINCT business_type FROM s) t
            WHERE {targeted("t.business_type")}
        ),
        hits AS (
            SELECT t.code, s.member_id, s.net_fen, s.date_key >= t.start_key AS in_window
            FROM s JOIN targets t USING (date_key, business_type)
        ),
        gmv AS (
            SELECT code, {sum_of("net_fen", "in_window")} AS gmv_window_fen,
                   {sum_of("net_fen", "NOT in_window")} AS gmv_baseline_fen
            FROM hits GROUP BY code
        ),
        buyers AS (
            SELECT code, member_id, sum(net_fen) AS gmv
            FROM hits WHERE in_window GROUP BY code, member_id
        ),
        sums AS (
            SELECT b.code, cm.in_holdout, sum(b.gmv) AS total,
                   sum(CAST(b.gmv AS HUGEINT) * b.gmv) AS squares
            FROM buyers b JOIN dim_campaign_member cm
              ON cm.campaign_code = b.code AND cm.member_id = b.member_id
            GROUP BY 1, 2
        ),
        sizes AS (
            SELECT campaign_code AS code, in_holdout, count(*) AS n
            FROM dim_campaign_member WHERE campaign_code IN (SELECT code FROM c)
            GROUP BY 1, 2
        ),
        groups AS (
            SELECT z.code, z.in_holdout, z.n, COALESCE(x.total, 0) AS total,
                   CASE WHEN z.n > 1 THEN CAST(
                       z.n * COALESCE(x.squares, 0) - CAST(COALESCE(x.total, 0) AS HUGEINT)
                           * COALESCE(x.total, 0) AS DOUBLE
                   ) / (z.n * (z.n - 1.0)) END AS variance
            FROM sizes z LEFT JOIN sums x ON x.code = z.code AND x.in_holdout = z.in_holdout
        ),
        points AS (
            SELECT p.campaign_code AS code,
                   {sum_of("p.points", "p.type = 'accrual'")} AS points_awarded,
                   {sum_of("p.points", "p.type = 'reversal'")} AS points_returned,
                   count(DISTINCT p.member_id) FILTER (WHERE p.type = 'accrual')
                       AS participants
            FROM fact_posting p
            WHERE p.campaign_code IN (SELECT code FROM c)
            GROUP BY p.campaign_code
        )
        SELECT c.code, c.name, c.name_en, c.starts_on, c.ends_on, c.budget_points,
               COALESCE(points.points_awarded, 0) AS points_awarded,
               COALESCE(points.points_returned, 0) AS points_returned,
               COALESCE(points.points_awarded, 0) - COALESCE(points.points_returned, 0)
                   AS points_cost,
               COALESCE(points.participants, 0) AS participants,
               COALESCE(gmv.gmv_window_fen, 0) AS gmv_window_fen,
               COALESCE(gmv.gmv_baseline_fen, 0) AS gmv_baseline_fen,
               COALESCE(t.n, 0) AS treated_members,
               CAST(COALESCE(t.total, 0) AS BIGINT) AS treated_gmv_fen,
               t.variance AS treated_var,
               COALESCE(h.n, 0) AS holdout_members,
               CAST(COALESCE(h.total, 0) AS BIGINT) AS holdout_gmv_fen,
               h.variance AS holdout_var
        FROM c
        LEFT JOIN gmv USING (code)
        LEFT JOIN points USING (code)
        LEFT JOIN groups t ON t.code = c.code AND NOT t.in_holdout
        LEFT JOIN groups h ON h.code = c.code AND h.in_holdout
        ORDER BY c.starts_on, c.code
    """
    return with_effects(ints(reader.query(sql, merge(choice, purchases)), CAMPAIGN_COUNTS))


def with_effects(frame: pd.DataFrame) -> pd.DataFrame:
    """A campaign_results frame from SQL with its budget used and incremental effects."""
    budget = frame["budget_points"]
    frame["budget_used"] = (frame["points_cost"] / budget.where(budget > 0)).astype("float64")
    effects = [
        incremental_effect(
            int(row.treated_members),
            int(row.treated_gmv_fen),
            as_float(row.treated_var),
            int(row.holdout_members),
            int(row.holdout_gmv_fen),
            as_float(row.holdout_var),
        )
        for row in frame.itertuples()
    ]
    frame["lift_fen"] = [e.lift if e else math.nan for e in effects]
    frame["lift_low_fen"] = [e.low if e else math.nan for e in effects]
    frame["lift_high_fen"] = [e.high if e else math.nan for e in effects]
    for column in ("lift_fen", "lift_low_fen", "lift_high_fen", "treated_var", "holdout_var"):
        frame[column] = frame[column].astype("float64")
    return frame


def campaign_daily(reader: Reader, f: Filters, code: str) -> pd.DataFrame:
    """One campaign day by day over its window: targeted GMV of the treated and holdout
    groups (at the filtered institution and channel) and the campaign points awarded.

    Columns: day (DATE), treated_gmv_fen, holdout_gmv_fen, points_awarded,
    treated_members, holdout_members (group sizes, the same on every row).
    """
    purchases = campaign_purchases(f)
    sql = f"""
        WITH c AS ({CAMPAIGN_WINDOWS} WHERE code = $code),
        days AS (
            SELECT CAST(d AS DATE) AS day,
                   CAST(strftime(CAST(d AS DATE), '%Y%m%d') AS INTEGER) AS day_key
            FROM c, generate_series(CAST(c.starts_on AS TIMESTAMP),
                                    CAST(c.ends_on AS TIMESTAMP), INTERVAL 1 DAY) t(d)
        ),
        groups AS (
            SELECT count(*) FILTER (WHERE NOT in_holdout) AS treated_members,
                   count(*) FILTER (WHERE in_holdout) AS holdout_members
            FROM dim_campaign_member WHERE campaign_code = $code
        ),
        sales AS (
            SELECT s.date_key,
                   {sum_of("s.net_fen", "NOT cm.in_holdout")} AS treated_gmv_fen,
                   {sum_of("s.net_fen", "cm.in_holdout")} AS holdout_gmv_fen
            FROM c
            JOIN dim_campaign_member cm ON cm.campaign_code = c.code
            JOIN (SELECT a.member_id, a.date_key, a.business_type, a.net_fen
                  FROM fact_accrual a WHERE {purchases.sql}) s
              ON s.member_id = cm.member_id
             AND s.date_key BETWEEN c.start_key AND c.end_key AND {targeted("s.business_type")}
            GROUP BY s.date_key
        ),
        awarded AS (
            SELECT p.date_key, {sum_of("p.points")} AS points_awarded
            FROM fact_posting p WHERE p.campaign_code = $code AND p.type = 'accrual'
            GROUP BY p.date_key
        )
        SELECT days.day,
               COALESCE(sales.treated_gmv_fen, 0) AS treated_gmv_fen,
               COALESCE(sales.holdout_gmv_fen, 0) AS holdout_gmv_fen,
               COALESCE(awarded.points_awarded, 0) AS points_awarded,
               groups.treated_members, groups.holdout_members
        FROM days CROSS JOIN groups
        LEFT JOIN sales ON sales.date_key = days.day_key
        LEFT JOIN awarded ON awarded.date_key = days.day_key
        ORDER BY days.day
    """
    return ints(
        reader.query(sql, merge(purchases, code=code)),
        (
            "treated_gmv_fen",
            "holdout_gmv_fen",
            "points_awarded",
            "treated_members",
            "holdout_members",
        ),
    )


# -- members ------------------------------------------------------------------------------


def new_members_daily(reader: Reader, f: Filters) -> pd.DataFrame:
    """Registrations per day and registration channel (days without any left out).

    Columns: day (DATE), channel (NULL when unknown), new_members.
    """
    members = member_scope(f)
    members.require(
        "m.registered_date_key BETWEEN $from_key AND $to_key",
        from_key=date_key(f.start),
        to_key=date_key(f.end),
    )
    sql = f"""
        SELECT {day_of("m.registered_date_key")} AS day, m.registered_channel AS channel,
               count(*) AS new_members
        FROM dim_member m
        WHERE {members.sql}
        GROUP BY ALL
        ORDER BY day, channel
    """
    return ints(reader.query(sql, members.params), ("new_members",))


def tier_distribution(reader: Reader, f: Filters) -> pd.DataFrame:
    """Members (not merged, registered by the end of the period) per current tier.

    Columns: tier, members; most members first.
    """
    members = member_scope(f)
    members.require("m.registered_date_key <= $to_key", to_key=date_key(f.end))
    sql = f"""
        SELECT m.tier, count(*) AS members FROM dim_member m
        WHERE {members.sql}
        GROUP BY m.tier ORDER BY members DESC, m.tier
    """
    return ints(reader.query(sql, members.params), ("members",))


def cohort_retention(reader: Reader, f: Filters) -> pd.DataFrame:
    """Monthly registration cohorts of the twelve months ending with the period's last
    month, and how many of each bought anything (anywhere) in each later month up to it.

    Cohorts follow the member filters (home institution, registration channel); months
    are calendar months of business days. Columns: cohort (DATE, first of the month),
    months_since (0 = the registration month), cohort_size, active_members, retention
    (active ÷ size).
    """
    members = member_scope(f)
    last_month = f.end.year * 12 + f.end.month - 1
    members.require(
        "(m.registered_date_key // 10000) * 12 + (m.registered_date_key // 100 % 100) - 1 "
        "BETWEEN $last_month - 11 AND $last_month",
        last_month=last_month,
    )
    sql = f"""
        WITH cohort AS (
            SELECT m.member_id,
                   (m.registered_date_key // 10000) * 12
                       + (m.registered_date_key // 100 % 100) - 1 AS month
            FROM dim_member m WHERE {members.sql}
        ),
        sizes AS (SELECT month, count(*) AS cohort_size FROM cohort GROUP BY month),
        active AS (
            SELECT DISTINCT c.member_id, c.month AS cohort_month,
                   (a.date_key // 10000) * 12 + (a.date_key // 100 % 100) - 1 AS month
            FROM cohort c JOIN fact_accrual a ON a.member_id = c.member_id
            WHERE a.date_key BETWEEN $first_key AND $to_key
        ),
        cells AS (
            SELECT cohort_month, month - cohort_month AS months_since,
                   count(*) AS active_members
            FROM active WHERE month >= cohort_month
            GROUP BY ALL
        ),
        grid AS (
            SELECT s.month, s.cohort_size, k.months_since
            FROM sizes s,
                 range(0, 12) k(months_since)
            WHERE s.month + k.months_since <= $last_month
        )
        SELECT make_date(CAST(g.month // 12 AS INTEGER), CAST(g.month % 12 + 1 AS INTEGER), 1)
                   AS cohort,
               CAST(g.months_since AS INTEGER) AS months_since, g.cohort_size,
               COALESCE(cells.active_members, 0) AS active_members,
               COALESCE(cells.active_members, 0) / g.cohort_size AS retention
        FROM grid g LEFT JOIN cells
          ON cells.cohort_month = g.month AND cells.months_since = g.months_since
        ORDER BY cohort, months_since
    """
    first = last_month - 11
    params = merge(
        members,
        to_key=date_key(f.end),
        # Nothing a cohort member bought before the first cohort month can count.
        first_key=date_key(date(first // 12, first % 12 + 1, 1)),
    )
    return ints(reader.query(sql, params), ("months_since", "cohort_size", "active_members"))


def purchase_frequency(reader: Reader, f: Filters) -> pd.DataFrame:
    """How many members made exactly n purchases in the period (n ≥ 1).

    Columns: purchases, members; by purchases.
    """
    accruals = accrual_scope(f)
    sql = f"""
        SELECT purchases, count(*) AS members FROM (
            SELECT a.member_id, count(*) AS purchases
            FROM fact_accrual a WHERE {accruals.sql} GROUP BY a.member_id
        ) GROUP BY purchases ORDER BY purchases
    """
    return ints(reader.query(sql, accruals.params), ("purchases", "members"))


def channel_mix(reader: Reader, f: Filters) -> pd.DataFrame:
    """Members who bought in the period by where: online only, offline only, both.

    The channel filter does not apply (it would make everyone single-channel).
    Columns: mix ('online_only', 'offline_only', 'both'), members; all three present.
    """
    accruals = accrual_scope(f, channel=False)
    sql = f"""
        WITH per_member AS (
            SELECT a.member_id, bool_or(c.is_online) AS online, bool_or(NOT c.is_online)
                   AS offline
            FROM fact_accrual a JOIN dim_channel c ON c.code = a.channel
            WHERE {accruals.sql}
            GROUP BY a.member_id
        ),
        mixes(mix, position) AS (
            VALUES ('online_only', 1), ('offline_only', 2), ('both', 3)
        )
        SELECT mixes.mix, count(p.member_id) AS members
        FROM mixes LEFT JOIN per_member p ON mixes.mix = CASE
            WHEN p.online AND p.offline THEN 'both'
            WHEN p.online THEN 'online_only' ELSE 'offline_only' END
        GROUP BY mixes.mix, mixes.position ORDER BY mixes.position
    """
    return ints(reader.query(sql, accruals.params), ("members",))


def top_members(
    reader: Reader, f: Filters, *, reveal_personal_data: bool, limit: int = 100
) -> pd.DataFrame:
    """The members with the largest GMV in the period.

    Phone and name come masked (138****1234, 张*) unless `reveal_personal_data`, so a
    viewer without the right never receives them. Columns: member_no, name, phone, tier,
    purchases, gmv_fen, points_issued, last_day (DATE of the last purchase).
    """
    accruals = accrual_scope(f)
    personal = (
        "m.name AS name, m.phone AS phone"
        if reveal_personal_data
        else "m.name_masked AS name, m.phone_masked AS phone"
    )
    sql = f"""
        WITH best AS (
            SELECT a.member_id, count(*) AS purchases, {sum_of("a.net_fen")} AS gmv_fen,
                   {sum_of("a.points")} AS points_issued, max(a.date_key) AS last_key
            FROM fact_accrual a WHERE {accruals.sql}
            GROUP BY a.member_id
            ORDER BY gmv_fen DESC, a.member_id
            LIMIT $limit
        )
        SELECT m.member_no, {personal}, m.tier, b.purchases, b.gmv_fen, b.points_issued,
               {day_of("b.last_key")} AS last_day
        FROM best b JOIN dim_member m ON m.member_id = b.member_id
        ORDER BY b.gmv_fen DESC, b.member_id
    """
    frame = reader.query(sql, merge(accruals, limit=limit))
    return ints(frame, ("purchases", "gmv_fen", "points_issued"))


# -- points economy -----------------------------------------------------------------------


def points_liability(reader: Reader, f: Filters, as_of: date) -> pd.DataFrame:
    """What members hold today (the lots' state at the last sync), by lot filters.

    One row, columns: outstanding (available + pending), available, pending,
    expiring_30, expiring_90 (held in lots whose expiry date falls in
    [as_of, as_of + 30 or 90 days)).
    """
    lots = lot_scope(f)
    sql = f"""
        SELECT {sum_of("l.remaining")} AS outstanding,
               {sum_of("l.remaining", "l.status = 'available'")} AS available,
               {sum_of("l.remaining", "l.status = 'pending'")} AS pending,
               {sum_of("l.remaining", "l.expires_on < $as_of + 30")} AS expiring_30,
               {sum_of("l.remaining", "l.expires_on < $as_of + 90")} AS expiring_90
        FROM fact_lot l {lots.join_sql}
        WHERE l.status IN ('available', 'pending') AND l.expires_on >= $as_of AND {lots.sql}
    """
    return ints(
        reader.query(sql, merge(lots, as_of=as_of)),
        ("outstanding", "available", "pending", "expiring_30", "expiring_90"),
    )


def liability_by_institution(reader: Reader, f: Filters, as_of: date) -> pd.DataFrame:
    """`points_liability` rolled up to the children of the selected institution.

    Columns: code, name, name_en, outstanding, expiring_30, expiring_90; largest first.
    """
    lots = lot_scope(f)
    children, child_params = children_of(f)
    sql = f"""
        WITH children AS ({children}),
        held AS (
            SELECT l.institution_code, {sum_of("l.remaining")} AS outstanding,
                   {sum_of("l.remaining", "l.expires_on < $as_of + 30")} AS expiring_30,
                   {sum_of("l.remaining", "l.expires_on < $as_of + 90")} AS expiring_90
            FROM fact_lot l {lots.join_sql}
            WHERE l.status IN ('available', 'pending') AND l.expires_on >= $as_of
              AND {lots.sql}
            GROUP BY l.institution_code
        )
        SELECT ch.child AS code, n.name, n.name_en, {sum_of("h.outstanding")} AS outstanding,
               {sum_of("h.expiring_30")} AS expiring_30, {sum_of("h.expiring_90")} AS expiring_90
        FROM held h JOIN children ch ON ch.code = h.institution_code
        JOIN dim_institution n ON n.code = ch.child
        GROUP BY ALL
        ORDER BY outstanding DESC, code
    """
    return ints(
        reader.query(sql, {**merge(lots, as_of=as_of), **child_params}),
        ("outstanding", "expiring_30", "expiring_90"),
    )


def points_flow_daily(reader: Reader, f: Filters) -> pd.DataFrame:
    """Points issued, redeemed and expired per day of the period, every day present.

    Columns: day (DATE), issued, redeemed, expired (as in `headline_totals`).
    """
    accruals = accrual_scope(f)
    redemptions = redemption_scope(f, f.start)
    lots = lot_scope(f)
    lots.require(
        "l.expired > 0 AND l.expires_on BETWEEN $from_day AND $to_day",
        from_day=f.start,
        to_day=f.end,
    )
    sql = f"""
        WITH days AS (
            SELECT CAST(d AS DATE) AS day,
                   CAST(strftime(CAST(d AS DATE), '%Y%m%d') AS INTEGER) AS day_key
            FROM generate_series(CAST($from_day AS DATE), CAST($to_day AS DATE),
                                 INTERVAL 1 DAY) t(d)
        ),
        issued AS (
            SELECT a.date_key, {sum_of("a.points")} AS issued
            FROM fact_accrual a WHERE {accruals.sql} GROUP BY a.date_key
        ),
        redeemed AS (
            SELECT r.date_key, {sum_of("r.points_spent")} AS redeemed
            FROM fact_redemption r {redemptions.join_sql}
            WHERE {redemptions.sql} GROUP BY r.date_key
        ),
        expired AS (
            SELECT l.expires_on AS day, {sum_of("l.expired")} AS expired
            FROM fact_lot l {lots.join_sql}
            WHERE {lots.sql} GROUP BY l.expires_on
        )
        SELECT days.day, COALESCE(issued.issued, 0) AS issued,
               COALESCE(redeemed.redeemed, 0) AS redeemed,
               COALESCE(expired.expired, 0) AS expired
        FROM days
        LEFT JOIN issued ON issued.date_key = days.day_key
        LEFT JOIN redeemed ON redeemed.date_key = days.day_key
        LEFT JOIN expired ON expired.day = days.day
        ORDER BY days.day
    """
    return ints(
        reader.query(sql, merge(accruals, redemptions, lots)), ("issued", "redeemed", "expired")
    )


def issuance_by_source(reader: Reader, f: Filters) -> pd.DataFrame:
    """Points earned in the period by where they came from: the institution's issuance
    account (base points) or a campaign budget (bonus points), per day.

    Columns: day (DATE), source ('issuance', 'campaign'), points; days without any
    left out.
    """
    postings = earning_postings(f)
    sql = f"""
        SELECT {day_of("p.date_key")} AS day,
               CASE WHEN p.from_kind = 'campaign_budget' THEN 'campaign' ELSE 'issuance' END
                   AS source,
               {sum_of("p.points")} AS points
        FROM fact_posting p {postings.join_sql}
        WHERE {postings.sql}
        GROUP BY ALL
        ORDER BY day, source
    """
    return ints(reader.query(sql, postings.params), ("points",))


def earning_postings(f: Filters) -> Where:
    """The accrual postings (`fact_posting p`) of the period's purchases. A posting is
    dated like its purchase; the purchase (`a`, the posting's `accrual_id`) is
    joined only when an institution, channel or campaign narrows the purchases."""
    where = Where()
    where.require(
        "p.type = 'accrual' AND p.date_key BETWEEN $from_key AND $to_key",
        from_key=date_key(f.start),
        to_key=date_key(f.end),
    )
    if f.inst or f.channel or f.campaign:
        accruals = accrual_scope(f)
        where.join("JOIN fact_accrual a ON a.accrual_id = p.accrual_id AND " + accruals.sql)
        where.params.update(accruals.params)
    return where


def issuance_by_campaign(reader: Reader, f: Filters) -> pd.DataFrame:
    """Campaign points earned by purchases in the period, per campaign.

    Columns: campaign_code, name, name_en, points, members; most points first.
    """
    postings = earning_postings(f)
    sql = f"""
        SELECT p.campaign_code, c.name, c.name_en, {sum_of("p.points")} AS points,
               count(DISTINCT p.member_id) AS members
        FROM fact_posting p {postings.join_sql}
        LEFT JOIN dim_campaign c ON c.code = p.campaign_code
        WHERE {postings.sql} AND p.from_kind = 'campaign_budget'
        GROUP BY ALL
        ORDER BY points DESC, p.campaign_code
    """
    return ints(reader.query(sql, postings.params), ("points", "members"))


def redemptions_by_reward(reader: Reader, f: Filters) -> pd.DataFrame:
    """Completed redemptions in the period per reward.

    Columns: kind (goods, voucher, bill_credit, partner_miles), reward_code, name,
    name_en, redemptions, quantity, points_spent, cash_fen; most points first.
    """
    redemptions = redemption_scope(f, f.start)
    sql = f"""
        SELECT w.kind, r.reward_code, w.name, w.name_en, count(*) AS redemptions,
               {sum_of("r.quantity")} AS quantity, {sum_of("r.points_spent")} AS points_spent,
               {sum_of("r.cash_fen")} AS cash_fen
        FROM fact_redemption r {redemptions.join_sql}
        LEFT JOIN dim_reward w ON w.code = r.reward_code
        WHERE {redemptions.sql}
        GROUP BY ALL
        ORDER BY points_spent DESC, r.reward_code
    """
    return ints(
        reader.query(sql, redemptions.params),
        ("redemptions", "quantity", "points_spent", "cash_fen"),
    )


# -- helpers --------------------------------------------------------------------------------


def ints(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Counts, fen and points as int64 even when DuckDB hands back an empty frame."""
    for column in columns:
        if column in frame.columns:
            frame[column] = frame[column].fillna(0).astype("int64")
    return frame


def as_float(value: Any) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)
