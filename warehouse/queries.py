"""Metric queries behind the dashboards: one function per block, answered from the rollups.

Every block returns what the function of the same name in `warehouse.fact_queries` returns
(that module defines each metric on the fact tables, and how the filters apply), with the
same numbers and columns, but reads `warehouse.rollups` wherever they give the same
answer:

- sums (purchases, GMV, points, liability, breakage, issuance, campaign cost and GMV)
  come from rollups by day, channel and business type (per institution when one is
  chosen), or by campaign;
- members who bought in a period [s, e] are counted, not hashed: `rollup_buyer` holds each
  purchase with the day of the member's previous (and next) purchase in the same scope,
  and a member bought in [s, e] once for each row in [s, e] whose previous purchase was
  before s (bought twice or more: that row's next purchase is by e too). Rows keep the
  previous purchase in the same channel, the same district and the same online/offline
  kind too, so members per channel, per district and the channel mix are counts as well;
- a member's purchases and GMV over [s, e] are the suffix sums of that first row less
  those of the member's first row after e;
- cohorts count each member's first purchase of a month (a row whose previous purchase
  is from an earlier month) by the registration the row carries.

Rows order each member's purchases in every channel together and within each channel,
not within an institution subtree: members there come from the facts, as do blocks no
rollup serves (redemptions, pickups, services, member stock; all small tables).
`from_facts=True` asks the fact tables for the whole block.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from warehouse import fact_queries as facts
from warehouse.calendar import date_key
from warehouse.fact_queries import (
    CAMPAIGN_COUNTS,
    HEADLINE_COLUMNS,
    SUBTREE,
    Z_95,
    Effect,
    Filters,
    Reader,
    Where,
    accrual_scope,
    campaign_choice,
    children_of,
    day_of,
    incremental_effect,
    ints,
    member_scope,
    merge,
    redemption_scope,
    sum_of,
    with_effects,
)
from warehouse.rollups import CAMPAIGN_WINDOWS, targeted

__all__ = [
    "CAMPAIGN_COUNTS",
    "HEADLINE_COLUMNS",
    "Z_95",
    "Effect",
    "Filters",
    "Reader",
    "activity_range",
    "campaign_daily",
    "campaign_results",
    "campaigns",
    "channel_mix",
    "channels",
    "cohort_retention",
    "daily_sales",
    "data_as_of",
    "date_key",
    "headline_totals",
    "incremental_effect",
    "institution_tree",
    "institutions",
    "issuance_by_campaign",
    "issuance_by_source",
    "liability_by_institution",
    "new_members_daily",
    "pickup_by_outlet",
    "pickup_summary",
    "points_flow_daily",
    "points_liability",
    "purchase_frequency",
    "redemptions_by_reward",
    "sales_by_business_type",
    "sales_by_channel",
    "sales_by_institution",
    "service_activity",
    "tier_distribution",
    "top_members",
]

# Blocks on small tables, answered from the facts as they are.
activity_range = facts.activity_range
data_as_of = facts.data_as_of
institutions = facts.institutions
channels = facts.channels
campaigns = facts.campaigns
pickup_summary = facts.pickup_summary
pickup_by_outlet = facts.pickup_by_outlet
service_activity = facts.service_activity
new_members_daily = facts.new_members_daily
tier_distribution = facts.tier_distribution
redemptions_by_reward = facts.redemptions_by_reward


# -- scopes on the rollups ------------------------------------------------------------------


def _campaign(f: Filters, alias: str, where: Where) -> None:
    """Rows of every purchase (campaign_id 0), or of the chosen campaign's purchases."""
    if f.campaign:
        where.require(
            f"{alias}.campaign_id = (SELECT campaign_id FROM dim_campaign WHERE code = $campaign)",
            campaign=f.campaign,
        )
    else:
        where.require(f"{alias}.campaign_id = 0")


def _purchases(
    f: Filters,
    alias: str,
    *,
    first_day: date | None = None,
    channel: bool = True,
    prefix: str = "",
) -> Where:
    """Rows of a rollup of purchases (`rollup_sales_day`, `rollup_buyer`) that
    `fact_queries.accrual_scope` would choose purchases for, with the same parameters."""
    where = Where()
    where.require(
        f"{alias}.date_key BETWEEN ${prefix}from_key AND ${prefix}to_key",
        **{
            f"{prefix}from_key": date_key(first_day or f.start),
            f"{prefix}to_key": date_key(f.end),
        },
    )
    if f.inst:
        where.require(f"{alias}.institution_code IN " + SUBTREE, inst=f.inst)
    if channel and f.channel:
        where.require(f"{alias}.channel = $channel", channel=f.channel)
    _campaign(f, alias, where)
    return where


def _lots(f: Filters) -> Where:
    """Rows of `rollup_lot_day l` for the lots `fact_queries.lot_scope` chooses."""
    where = Where()
    if f.inst:
        where.require("l.institution_code IN " + SUBTREE, inst=f.inst)
    if f.channel:
        where.require("l.channel = $channel", channel=f.channel)
    _campaign(f, "l", where)
    return where


def _by_institution(f: Filters, rollup: str) -> str:
    """`rollup_<rollup>_day` (every institution together), or its per-institution table
    when an institution is chosen."""
    return f"rollup_{rollup}_institution_day" if f.inst else f"rollup_{rollup}_day"


@dataclass(frozen=True)
class _Sequence:
    """The `rollup_buyer` columns that order each member's purchases in a scope."""

    prev: str
    next: str
    remaining: str
    net_after: str
    points_after: str
    last: str


_EVERY_CHANNEL = _Sequence(
    "prev_key", "next_key", "remaining", "net_after", "points_after", "last_key"
)
_IN_CHANNEL = _Sequence(
    "prev_channel_key",
    "next_channel_key",
    "remaining_channel",
    "net_after_channel",
    "points_after_channel",
    "last_channel_key",
)


def _sequence(f: Filters) -> _Sequence | None:
    """How `rollup_buyer` orders the purchases the filters choose, member by member: in
    every purchase's scope or a campaign's, in a channel too; not within a subtree."""
    if f.inst:
        return None
    return _IN_CHANNEL if f.channel else _EVERY_CHANNEL


def _counted(f: Filters) -> bool:
    """Whether `rollup_buyer`'s previous purchase days alone count the members of the
    filtered purchases, in every channel together (rows keep no district sequence)."""
    return not f.inst and not f.channel


# -- overview -------------------------------------------------------------------------------


def headline_totals(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.headline_totals`: the headline numbers of the period and the one
    before it. Columns: period, and HEADLINE_COLUMNS."""
    if from_facts:
        return facts.headline_totals(reader, f)
    previous = f.previous()
    sales = _purchases(f, "s", first_day=previous.start)
    members = member_scope(f)
    redemptions = redemption_scope(f, previous.start)
    lots = _lots(f)
    lots.require(
        "l.expires_on BETWEEN $from_day AND $to_day", from_day=previous.start, to_day=f.end
    )
    sequence = _sequence(f)
    if sequence:
        # A member bought in a period once: the row whose previous purchase came before
        # it; twice or more when that row's next purchase is in the period too.
        prev, next_ = sequence.prev, sequence.next
        now = _purchases(f, "b", prefix="cur_")
        before = _purchases(previous, "b", prefix="prev_")
        scope = Where(params={**now.params, **before.params})
        buyers = f"""
            SELECT count(*) FILTER (WHERE now) AS now_active,
                   count(*) FILTER (WHERE now AND next_key <= $cur_to_key) AS now_repeat,
                   count(*) FILTER (WHERE NOT now) AS before_active,
                   count(*) FILTER (WHERE NOT now AND next_key <= $prev_to_key)
                       AS before_repeat
            FROM (
                SELECT TRUE AS now, b.{next_} AS next_key FROM rollup_buyer b
                WHERE {now.sql} AND b.{prev} < $cur_from_key
                UNION ALL
                SELECT FALSE, b.{next_} FROM rollup_buyer b
                WHERE {before.sql} AND b.{prev} < $prev_from_key
            )
        """
    else:
        scope = accrual_scope(f, first_day=previous.start)
        buyers = f"""
            SELECT count(*) FILTER (WHERE now) AS now_active,
                   count(*) FILTER (WHERE now AND n >= 2) AS now_repeat,
                   count(*) FILTER (WHERE NOT now) AS before_active,
                   count(*) FILTER (WHERE NOT now AND n >= 2) AS before_repeat
            FROM (
                SELECT a.date_key >= $split_key AS now, a.member_id, count(*) AS n
                FROM fact_accrual a WHERE {scope.sql}
                GROUP BY ALL
            )
        """
    sql = f"""
        WITH buyers AS ({buyers}),
        sales AS (
            SELECT {sum_of("s.purchases", "s.date_key >= $split_key")} AS now_purchases,
                   {sum_of("s.net_fen", "s.date_key >= $split_key")} AS now_gmv,
                   {sum_of("s.points", "s.date_key >= $split_key")} AS now_points,
                   {sum_of("s.purchases", "s.date_key < $split_key")} AS before_purchases,
                   {sum_of("s.net_fen", "s.date_key < $split_key")} AS before_gmv,
                   {sum_of("s.points", "s.date_key < $split_key")} AS before_points
            FROM {_by_institution(f, "sales")} s WHERE {sales.sql}
        ),
        registered AS (
            SELECT m.registered_date_key AS day, count(*) AS n
            FROM dim_member m WHERE {members.sql} AND m.registered_date_key <= $cur_to_key
            GROUP BY 1
        ),
        stock AS (
            SELECT {sum_of("n")} AS now_members,
                   {sum_of("n", "day BETWEEN $cur_from_key AND $cur_to_key")} AS now_new,
                   {sum_of("n", "day <= $prev_to_key")} AS before_members,
                   {sum_of("n", "day BETWEEN $prev_from_key AND $prev_to_key")} AS before_new
            FROM registered
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
            FROM {_by_institution(f, "lot")} l WHERE {lots.sql}
        )
        SELECT 'current' AS period, now_members AS members, now_new AS new_members,
               now_active AS active_members, now_repeat AS repeat_buyers,
               now_purchases AS purchases, now_gmv AS gmv_fen, now_points AS points_issued,
               now_redeemed AS points_redeemed, now_expired AS points_expired
        FROM buyers, sales, stock, redeemed, expired
        UNION ALL
        SELECT 'previous', before_members, before_new, before_active, before_repeat,
               before_purchases, before_gmv, before_points, before_redeemed, before_expired
        FROM buyers, sales, stock, redeemed, expired
        ORDER BY period
    """
    # Every scope of the period and its predecessor names its days $from_key..$to_key.
    params = merge(
        sales,
        scope,
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


def daily_sales(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.daily_sales`: purchases per day of the period and the previous one.

    Columns: period, day_index, day, purchases, active_members, gmv_fen, points_issued.
    """
    if from_facts:
        return facts.daily_sales(reader, f)
    previous = f.previous()
    sales = _purchases(f, "s", first_day=previous.start)
    if not f.inst:
        # Without a subtree, a member's first purchase of the day in the scope (or in
        # the channel) is a row whose previous one was on an earlier day.
        scope = _purchases(f, "b", first_day=previous.start)
        before = "b.prev_channel_key" if f.channel else "b.prev_key"
        active = f"""
            SELECT b.date_key, count(*) AS active_members
            FROM rollup_buyer b WHERE {scope.sql} AND {before} < b.date_key
            GROUP BY b.date_key
        """
    else:
        scope = accrual_scope(f, first_day=previous.start)
        active = f"""
            SELECT a.date_key, count(DISTINCT a.member_id) AS active_members
            FROM fact_accrual a WHERE {scope.sql} GROUP BY a.date_key
        """
    sql = f"""
        WITH days AS (
            SELECT CAST(d AS DATE) AS day
            FROM generate_series(CAST($first_day AS DATE), CAST($last_day AS DATE),
                                 INTERVAL 1 DAY) t(d)
        ),
        sales AS (
            SELECT s.date_key, {sum_of("s.purchases")} AS purchases,
                   {sum_of("s.net_fen")} AS gmv_fen, {sum_of("s.points")} AS points_issued
            FROM {_by_institution(f, "sales")} s WHERE {sales.sql}
            GROUP BY s.date_key
        ),
        active AS ({active})
        SELECT CASE WHEN days.day >= $split_day THEN 'current' ELSE 'previous' END AS period,
               CASE WHEN days.day >= $split_day THEN days.day - $split_day
                    ELSE days.day - $first_day END AS day_index,
               days.day,
               COALESCE(s.purchases, 0) AS purchases,
               COALESCE(a.active_members, 0) AS active_members,
               COALESCE(s.gmv_fen, 0) AS gmv_fen,
               COALESCE(s.points_issued, 0) AS points_issued
        FROM days
        LEFT JOIN sales s ON s.date_key = CAST(strftime(days.day, '%Y%m%d') AS INTEGER)
        LEFT JOIN active a ON a.date_key = CAST(strftime(days.day, '%Y%m%d') AS INTEGER)
        ORDER BY days.day
    """
    params = merge(sales, scope, first_day=previous.start, last_day=f.end, split_day=f.start)
    return ints(
        reader.query(sql, params),
        ("day_index", "purchases", "active_members", "gmv_fen", "points_issued"),
    )


def _sales_by(
    f: Filters,
    key: str,
    joins: str = "",
    members: tuple[str, Where] | None = None,
    table: str | None = None,
) -> tuple[str, dict[str, object]]:
    """As `fact_queries.sales_by`: per `key` (over sales rollup `s`, by default the one
    `_by_institution` picks, and `joins`) the period's purchases, GMV and points, the
    previous period's GMV, and `members` (a query of columns key, members; none: 0) as
    one query body."""
    table = table or _by_institution(f, "sales")
    current = _purchases(f, "s")
    before = _purchases(f.previous(), "s", prefix="prev_")
    buyers, scope = members or (
        "SELECT CAST(NULL AS VARCHAR) AS key, 0 AS members WHERE FALSE",
        Where(),
    )
    sql = f"""
        WITH cur AS (
            SELECT {key} AS key, {sum_of("s.purchases")} AS purchases,
                   {sum_of("s.net_fen")} AS gmv_fen, {sum_of("s.points")} AS points_issued
            FROM {table} s {joins} WHERE {current.sql}
            GROUP BY 1
        ),
        prev AS (
            SELECT {key} AS key, {sum_of("s.net_fen")} AS previous_gmv_fen
            FROM {table} s {joins} WHERE {before.sql}
            GROUP BY 1
        ),
        buyers AS ({buyers})
        SELECT key, COALESCE(cur.purchases, 0) AS purchases,
               COALESCE(buyers.members, 0) AS members, COALESCE(cur.gmv_fen, 0) AS gmv_fen,
               COALESCE(cur.points_issued, 0) AS points_issued,
               COALESCE(prev.previous_gmv_fen, 0) AS previous_gmv_fen
        FROM cur FULL OUTER JOIN prev USING (key) LEFT JOIN buyers USING (key)
    """
    return sql, merge(current, before, scope)


def sales_by_channel(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.sales_by_channel`. Columns: channel, name, name_en, is_online,
    purchases, members, gmv_fen, points_issued, previous_gmv_fen; largest GMV first."""
    if from_facts:
        return facts.sales_by_channel(reader, f)
    if f.inst:
        scope = accrual_scope(f)
        members = (
            f"SELECT a.channel AS key, count(DISTINCT a.member_id) AS members "
            f"FROM fact_accrual a WHERE {scope.sql} GROUP BY 1",
            scope,
        )
    else:
        scope = _purchases(f, "b")
        members = (
            "SELECT b.channel AS key, count(*) AS members FROM rollup_buyer b "
            f"WHERE {scope.sql} AND b.prev_channel_key < $from_key GROUP BY 1",
            scope,
        )
    sql, params = _sales_by(f, "s.channel", members=members)
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


def sales_by_business_type(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.sales_by_business_type`. Columns: business_type, name, name_en,
    purchases, gmv_fen, previous_gmv_fen; largest GMV first."""
    if from_facts:
        return facts.sales_by_business_type(reader, f)
    sql, params = _sales_by(f, "s.business_type")
    sql = f"""
        WITH sales AS ({sql})
        SELECT s.key AS business_type, b.name, b.name_en, s.purchases, s.gmv_fen,
               s.previous_gmv_fen
        FROM sales s LEFT JOIN dim_business_type b ON b.code = s.key
        ORDER BY s.gmv_fen DESC, s.key
    """
    return ints(reader.query(sql, params), ("purchases", "gmv_fen", "previous_gmv_fen"))


# -- channels and institutions ------------------------------------------------------------


def sales_by_institution(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.sales_by_institution`: purchases rolled up to the children of the
    selected institution. Columns: code, name, name_en, kind, purchases, members, gmv_fen,
    points_issued, previous_gmv_fen; largest GMV first."""
    if from_facts:
        return facts.sales_by_institution(reader, f)
    children, child_params = children_of(f)
    if _counted(f):
        # With no institution chosen the children are the districts (or the institution
        # itself outside any): rollup_buyer's district_key.
        scope = _purchases(f, "b")
        members = (
            "SELECT b.district_key AS key, count(*) AS members FROM rollup_buyer b "
            f"WHERE {scope.sql} AND b.prev_district_key < $from_key GROUP BY 1",
            scope,
        )
    else:
        scope = accrual_scope(f)
        members = (
            "SELECT ch.child AS key, count(DISTINCT a.member_id) AS members "
            "FROM fact_accrual a JOIN children ch ON ch.code = a.institution_code "
            f"WHERE {scope.sql} GROUP BY 1",
            scope,
        )
    sql, params = _sales_by(
        f,
        "ch.child",
        "JOIN children ch ON ch.code = s.institution_code",
        members,
        "rollup_sales_institution_day",
    )
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


def institution_tree(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.institution_tree`: GMV booked directly at each institution of the
    selected subtree. Columns: code, parent_code, name, name_en, kind, level, gmv_fen."""
    if from_facts:
        return facts.institution_tree(reader, f)
    sales = _purchases(f, "s")
    subtree = Where()
    if f.inst:
        subtree.require("i.code IN " + SUBTREE, inst=f.inst)
    sql = f"""
        WITH own AS (
            SELECT s.institution_code AS code, {sum_of("s.net_fen")} AS gmv_fen
            FROM rollup_sales_institution_day s WHERE {sales.sql}
            GROUP BY s.institution_code
        )
        SELECT i.code, i.parent_code, i.name, i.name_en, i.kind, i.level,
               COALESCE(own.gmv_fen, 0) AS gmv_fen
        FROM dim_institution i LEFT JOIN own ON own.code = i.code
        WHERE {subtree.sql} AND (i.level < 2 OR own.gmv_fen IS NOT NULL)
        ORDER BY i.level, i.code
    """
    return ints(reader.query(sql, merge(sales, subtree)), ("level", "gmv_fen"))


# -- campaigns ----------------------------------------------------------------------------


def campaign_results(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.campaign_results`: per campaign running in the period (or the one
    `f.campaign` names) its cost, GMV against a baseline and incremental effect.

    Cost, participants and group sizes are campaign-wide: `rollup_campaign`. So are the
    GMV and the groups' sums without an institution or channel chosen; with one, the GMV
    comes from the sales rollup and each member's window GMV from the purchases.
    """
    if from_facts:
        return facts.campaign_results(reader, f)
    choice = campaign_choice(f)
    if not (f.inst or f.channel):
        sql = f"""
            WITH c AS ({CAMPAIGN_WINDOWS} WHERE {choice.sql}),
            r AS (SELECT * FROM rollup_campaign WHERE code IN (SELECT code FROM c))
            {_CAMPAIGN_ROWS}
        """
        return with_effects(ints(reader.query(sql, choice.params), CAMPAIGN_COUNTS))
    sales = _campaign_scope(f, "s")
    purchases = _campaign_scope(f, "b")
    sql = f"""
        WITH c AS ({CAMPAIGN_WINDOWS} WHERE {choice.sql}),
        gmv AS (
            SELECT c.code, {sum_of("s.net_fen", "s.date_key >= c.start_key")} AS gmv_window_fen,
                   {sum_of("s.net_fen", "s.date_key < c.start_key")} AS gmv_baseline_fen
            FROM c JOIN rollup_sales_institution_day s
              ON s.date_key BETWEEN c.baseline_start_key AND c.end_key
             AND {targeted("s.business_type")}
            WHERE {sales.sql}
            GROUP BY c.code
        ),
        s AS (
            SELECT b.member_id, b.date_key, b.business_type, b.net_fen
            FROM rollup_buyer b
            WHERE {purchases.sql}
              AND b.date_key BETWEEN (SELECT min(start_key) FROM c) AND (SELECT max(end_key) FROM c)
        ),
        targets AS (
            -- Every day of each campaign's window with every business type it counts.
            SELECT c.code, CAST(strftime(d, '%Y%m%d') AS INTEGER) AS date_key, t.business_type
            FROM c, generate_series(CAST(c.starts_on AS TIMESTAMP), CAST(c.ends_on AS TIMESTAMP),
                                    INTERVAL 1 DAY) days(d),
                 (SELECT DISTINCT business_type FROM s) t
            WHERE {targeted("t.business_type")}
        ),
        buyers AS (
            SELECT t.code, s.member_id, sum(s.net_fen) AS gmv
            FROM s JOIN targets t USING (date_key, business_type)
            GROUP BY t.code, s.member_id
        ),
        sums AS (
            SELECT b.code, cm.in_holdout, sum(b.gmv) AS total,
                   sum(CAST(b.gmv AS HUGEINT) * b.gmv) AS squares
            FROM buyers b JOIN dim_campaign_member cm
              ON cm.campaign_code = b.code AND cm.member_id = b.member_id
            WHERE cm.campaign_code IN (SELECT code FROM c)
            GROUP BY 1, 2
        ),
        r AS (
            SELECT k.code, k.points_awarded, k.points_returned, k.participants,
                   gmv.gmv_window_fen, gmv.gmv_baseline_fen,
                   k.treated_members, COALESCE(t.total, 0) AS treated_total,
                   COALESCE(t.squares, 0) AS treated_squares,
                   k.holdout_members, COALESCE(h.total, 0) AS holdout_total,
                   COALESCE(h.squares, 0) AS holdout_squares
            FROM rollup_campaign k
            LEFT JOIN gmv USING (code)
            LEFT JOIN sums t ON t.code = k.code AND NOT t.in_holdout
            LEFT JOIN sums h ON h.code = k.code AND h.in_holdout
            WHERE k.code IN (SELECT code FROM c)
        )
        {_CAMPAIGN_ROWS}
    """
    params = merge(choice, purchases, sales)
    return with_effects(ints(reader.query(sql, params), CAMPAIGN_COUNTS))


def _campaign_scope(f: Filters, alias: str) -> Where:
    """Every purchase (`campaign_id` 0) of the chosen institution and channel, in a
    rollup keyed like purchases: what `fact_queries.campaign_purchases` chooses."""
    where = Where()
    where.require(f"{alias}.campaign_id = 0")
    if f.inst:
        where.require(f"{alias}.institution_code IN " + SUBTREE, inst=f.inst)
    if f.channel:
        where.require(f"{alias}.channel = $channel", channel=f.channel)
    return where


def _variance(group: str) -> str:
    """A group's sample variance as fact_queries has it: exact integer sums, a double only
    at the end."""
    n, total, squares = f"r.{group}_members", f"r.{group}_total", f"r.{group}_squares"
    return (
        f"CASE WHEN {n} > 1 THEN CAST({n} * {squares} - CAST({total} AS HUGEINT) * {total} "
        f"AS DOUBLE) / ({n} * ({n} - 1.0)) END"
    )


# The columns of campaign_results from windows `c` and per-campaign figures `r`.
_CAMPAIGN_ROWS = f"""
    SELECT c.code, c.name, c.name_en, c.starts_on, c.ends_on, c.budget_points,
           COALESCE(r.points_awarded, 0) AS points_awarded,
           COALESCE(r.points_returned, 0) AS points_returned,
           COALESCE(r.points_awarded, 0) - COALESCE(r.points_returned, 0) AS points_cost,
           COALESCE(r.participants, 0) AS participants,
           COALESCE(r.gmv_window_fen, 0) AS gmv_window_fen,
           COALESCE(r.gmv_baseline_fen, 0) AS gmv_baseline_fen,
           COALESCE(r.treated_members, 0) AS treated_members,
           CAST(COALESCE(r.treated_total, 0) AS BIGINT) AS treated_gmv_fen,
           {_variance("treated")} AS treated_var,
           COALESCE(r.holdout_members, 0) AS holdout_members,
           CAST(COALESCE(r.holdout_total, 0) AS BIGINT) AS holdout_gmv_fen,
           {_variance("holdout")} AS holdout_var
    FROM c LEFT JOIN r USING (code)
    ORDER BY c.starts_on, c.code
"""


def campaign_daily(
    reader: Reader, f: Filters, code: str, *, from_facts: bool = False
) -> pd.DataFrame:
    """As `fact_queries.campaign_daily`: one campaign day by day over its window.

    Columns: day, treated_gmv_fen, holdout_gmv_fen, points_awarded, treated_members,
    holdout_members. Every institution and channel: from `rollup_campaign_day`; with one
    chosen, each group's targeted GMV from `rollup_buyer`.
    """
    if from_facts:
        return facts.campaign_daily(reader, f, code)
    purchases = _campaign_scope(f, "b")
    if f.inst or f.channel:
        sales = f"""
            SELECT b.date_key,
                   {sum_of("b.net_fen", "NOT cm.in_holdout")} AS treated_gmv_fen,
                   {sum_of("b.net_fen", "cm.in_holdout")} AS holdout_gmv_fen
            FROM c
            JOIN rollup_buyer b
              ON b.date_key BETWEEN c.start_key AND c.end_key AND {targeted("b.business_type")}
            JOIN dim_campaign_member cm
              ON cm.campaign_code = c.code AND cm.member_id = b.member_id
            WHERE {purchases.sql}
            GROUP BY b.date_key
        """
    else:
        sales = """
            SELECT date_key, treated_gmv_fen, holdout_gmv_fen FROM rollup_campaign_day
            WHERE code = $code
        """
    sql = f"""
        WITH c AS ({CAMPAIGN_WINDOWS} WHERE code = $code),
        days AS (
            SELECT CAST(d AS DATE) AS day,
                   CAST(strftime(CAST(d AS DATE), '%Y%m%d') AS INTEGER) AS day_key
            FROM c, generate_series(CAST(c.starts_on AS TIMESTAMP),
                                    CAST(c.ends_on AS TIMESTAMP), INTERVAL 1 DAY) t(d)
        ),
        groups AS (
            SELECT COALESCE(max(treated_members), 0) AS treated_members,
                   COALESCE(max(holdout_members), 0) AS holdout_members
            FROM rollup_campaign WHERE code = $code
        ),
        sales AS ({sales}),
        awarded AS (
            SELECT date_key, points_awarded FROM rollup_campaign_day WHERE code = $code
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


def cohort_retention(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.cohort_retention`: monthly registration cohorts and how many of
    each bought anything in each later month. A member bought in a month once: the row of
    the first purchase that month, whose previous one is from an earlier month; the rows
    carry the member's registration, so no member is looked up.

    Columns: cohort, months_since, cohort_size, active_members, retention.
    """
    if from_facts:
        return facts.cohort_retention(reader, f)
    members = member_scope(f)
    last_month = f.end.year * 12 + f.end.month - 1
    members.require(
        "(m.registered_date_key // 10000) * 12 + (m.registered_date_key // 100 % 100) - 1 "
        "BETWEEN $last_month - 11 AND $last_month",
        last_month=last_month,
    )
    # member_scope's conditions on the member's own columns, as rollup_buyer holds them.
    buyers = Where()
    buyers.require(
        "b.campaign_id = 0 AND NOT b.merged "
        "AND b.registered_month BETWEEN $last_month - 11 AND $last_month "
        "AND b.date_key BETWEEN $first_key AND $to_key "
        "AND b.prev_key < b.date_key // 100 * 100"
    )
    if f.inst:
        buyers.require("b.registered_institution IN " + SUBTREE, inst=f.inst)
    if f.channel:
        buyers.require("b.registered_channel = $channel", channel=f.channel)
    sql = f"""
        WITH sizes AS (
            SELECT (m.registered_date_key // 10000) * 12
                       + (m.registered_date_key // 100 % 100) - 1 AS month,
                   count(*) AS cohort_size
            FROM dim_member m WHERE {members.sql}
            GROUP BY month
        ),
        active AS (
            SELECT b.registered_month AS cohort_month,
                   (b.date_key // 10000) * 12 + (b.date_key // 100 % 100) - 1 AS month
            FROM rollup_buyer b WHERE {buyers.sql}
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
        buyers,
        to_key=date_key(f.end),
        first_key=date_key(date(first // 12, first % 12 + 1, 1)),
    )
    return ints(reader.query(sql, params), ("months_since", "cohort_size", "active_members"))


def _per_member(f: Filters, sequence: _Sequence) -> tuple[str, dict[str, object]]:
    """Each member who bought in the period, from `rollup_buyer`, as a query of columns
    member_id, purchases, gmv_fen, points_issued, last_key: the suffix sums of the
    member's first row in the period less those of its first row after the period."""
    scope = _purchases(f, "b")
    after = Where()
    _campaign(f, "b", after)
    if f.channel:
        after.require("b.channel = $channel", channel=f.channel)
    q = sequence
    sql = f"""
        WITH first_in AS (
            SELECT b.member_id, b.{q.remaining} AS remaining, b.{q.net_after} AS net_after,
                   b.{q.points_after} AS points_after, b.{q.last} AS last_key
            FROM rollup_buyer b WHERE {scope.sql} AND b.{q.prev} < $from_key
        ),
        first_after AS (
            SELECT b.member_id, b.{q.remaining} AS remaining, b.{q.net_after} AS net_after,
                   b.{q.points_after} AS points_after, b.{q.prev} AS prev_key
            FROM rollup_buyer b
            WHERE {after.sql} AND b.date_key > $to_key AND b.{q.prev} <= $to_key
        )
        SELECT i.member_id, i.remaining - COALESCE(n.remaining, 0) AS purchases,
               i.net_after - COALESCE(n.net_after, 0) AS gmv_fen,
               i.points_after - COALESCE(n.points_after, 0) AS points_issued,
               COALESCE(n.prev_key, i.last_key) AS last_key
        FROM first_in i LEFT JOIN first_after n USING (member_id)
    """
    return sql, merge(scope, after)


def purchase_frequency(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.purchase_frequency`: how many members made exactly n purchases in
    the period. Columns: purchases, members; by purchases."""
    sequence = _sequence(f)
    if from_facts or not sequence:
        return facts.purchase_frequency(reader, f)
    buyers, params = _per_member(f, sequence)
    sql = f"""
        WITH buyers AS ({buyers})
        SELECT purchases, count(*) AS members FROM buyers GROUP BY purchases ORDER BY purchases
    """
    return ints(reader.query(sql, params), ("purchases", "members"))


MIXES = ("online_only", "offline_only", "both")


def channel_mix(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.channel_mix`: members who bought in the period online only,
    offline only, or both. Those who bought online and offline are the online buyers plus
    the offline buyers less all buyers. Columns: mix, members; all three present."""
    if from_facts or f.inst:
        return facts.channel_mix(reader, f)
    scope = _purchases(f, "b", channel=False)
    sql = f"""
        SELECT count(*) FILTER (WHERE b.prev_key < $from_key) AS buyers,
               count(*) FILTER (WHERE b.online AND b.prev_online_key < $from_key) AS online,
               count(*) FILTER (WHERE NOT b.online AND b.prev_online_key < $from_key)
                   AS offline,
               count(*) FILTER (WHERE b.online IS NULL) AS unknown
        FROM rollup_buyer b
        WHERE {scope.sql} AND (b.prev_key < $from_key OR b.prev_online_key < $from_key
                               OR b.online IS NULL)
    """
    row = reader.query(sql, scope.params).iloc[0]
    if int(row["unknown"]):
        # Purchases in a channel dim_channel lacks count for neither kind.
        return facts.channel_mix(reader, f)
    buyers, online, offline = int(row["buyers"]), int(row["online"]), int(row["offline"])
    counts = (buyers - offline, buyers - online, online + offline - buyers)
    return pd.DataFrame({"mix": list(MIXES), "members": pd.Series(counts, dtype="int64")})


def top_members(
    reader: Reader,
    f: Filters,
    *,
    reveal_personal_data: bool,
    limit: int = 100,
    from_facts: bool = False,
) -> pd.DataFrame:
    """As `fact_queries.top_members`: the members with the largest GMV in the period,
    phone and name masked unless `reveal_personal_data`. Columns: member_no, name, phone,
    tier, purchases, gmv_fen, points_issued, last_day."""
    sequence = _sequence(f)
    if from_facts or not sequence:
        return facts.top_members(reader, f, reveal_personal_data=reveal_personal_data, limit=limit)
    buyers, params = _per_member(f, sequence)
    personal = (
        "m.name AS name, m.phone AS phone"
        if reveal_personal_data
        else "m.name_masked AS name, m.phone_masked AS phone"
    )
    sql = f"""
        WITH buyers AS ({buyers}),
        best AS (
            SELECT * FROM buyers ORDER BY gmv_fen DESC, member_id LIMIT $limit
        )
        SELECT m.member_no, {personal}, m.tier, b.purchases, b.gmv_fen, b.points_issued,
               {day_of("b.last_key")} AS last_day
        FROM best b JOIN dim_member m ON m.member_id = b.member_id
        ORDER BY b.gmv_fen DESC, b.member_id
    """
    frame = reader.query(sql, {**params, "limit": limit})
    return ints(frame, ("purchases", "gmv_fen", "points_issued"))


# -- points economy -----------------------------------------------------------------------


def points_liability(
    reader: Reader, f: Filters, as_of: date, *, from_facts: bool = False
) -> pd.DataFrame:
    """As `fact_queries.points_liability`: what members hold (the lots at the last sync).

    One row, columns: outstanding, available, pending, expiring_30, expiring_90.
    """
    if from_facts:
        return facts.points_liability(reader, f, as_of)
    lots = _lots(f)
    sql = f"""
        SELECT {sum_of("l.remaining")} AS outstanding,
               {sum_of("l.remaining", "l.status = 'available'")} AS available,
               {sum_of("l.remaining", "l.status = 'pending'")} AS pending,
               {sum_of("l.remaining", "l.expires_on < $as_of + 30")} AS expiring_30,
               {sum_of("l.remaining", "l.expires_on < $as_of + 90")} AS expiring_90
        FROM {_by_institution(f, "lot")} l
        WHERE l.status IN ('available', 'pending') AND l.expires_on >= $as_of AND {lots.sql}
    """
    return ints(
        reader.query(sql, merge(lots, as_of=as_of)),
        ("outstanding", "available", "pending", "expiring_30", "expiring_90"),
    )


def liability_by_institution(
    reader: Reader, f: Filters, as_of: date, *, from_facts: bool = False
) -> pd.DataFrame:
    """As `fact_queries.liability_by_institution`. Columns: code, name, name_en,
    outstanding, expiring_30, expiring_90; largest first."""
    if from_facts:
        return facts.liability_by_institution(reader, f, as_of)
    lots = _lots(f)
    children, child_params = children_of(f)
    sql = f"""
        WITH children AS ({children}),
        held AS (
            SELECT l.institution_code, {sum_of("l.remaining")} AS outstanding,
                   {sum_of("l.remaining", "l.expires_on < $as_of + 30")} AS expiring_30,
                   {sum_of("l.remaining", "l.expires_on < $as_of + 90")} AS expiring_90
            FROM rollup_lot_institution_day l
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


def points_flow_daily(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.points_flow_daily`: points issued, redeemed and expired per day.

    Columns: day, issued, redeemed, expired.
    """
    if from_facts:
        return facts.points_flow_daily(reader, f)
    sales = _purchases(f, "s")
    redemptions = redemption_scope(f, f.start)
    lots = _lots(f)
    lots.require("l.expires_on BETWEEN $from_day AND $to_day", from_day=f.start, to_day=f.end)
    sql = f"""
        WITH days AS (
            SELECT CAST(d AS DATE) AS day,
                   CAST(strftime(CAST(d AS DATE), '%Y%m%d') AS INTEGER) AS day_key
            FROM generate_series(CAST($from_day AS DATE), CAST($to_day AS DATE),
                                 INTERVAL 1 DAY) t(d)
        ),
        issued AS (
            SELECT s.date_key, {sum_of("s.points")} AS issued
            FROM {_by_institution(f, "sales")} s WHERE {sales.sql} GROUP BY s.date_key
        ),
        redeemed AS (
            SELECT r.date_key, {sum_of("r.points_spent")} AS redeemed
            FROM fact_redemption r {redemptions.join_sql}
            WHERE {redemptions.sql} GROUP BY r.date_key
        ),
        expired AS (
            SELECT l.expires_on AS day, {sum_of("l.expired")} AS expired
            FROM {_by_institution(f, "lot")} l WHERE {lots.sql} GROUP BY l.expires_on
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
        reader.query(sql, merge(sales, redemptions, lots)), ("issued", "redeemed", "expired")
    )


def _earnings(f: Filters) -> Where:
    """Rows of `rollup_issuance_day p` for the postings `fact_queries.earning_postings`
    chooses: by posting day, and when a filter narrows the purchases, by theirs too."""
    where = Where()
    where.require(
        "p.date_key BETWEEN $from_key AND $to_key",
        from_key=date_key(f.start),
        to_key=date_key(f.end),
    )
    if f.inst or f.channel or f.campaign:
        where.require("p.accrual_date_key BETWEEN $from_key AND $to_key")
    if f.inst:
        where.require("p.institution_code IN " + SUBTREE, inst=f.inst)
    if f.channel:
        where.require("p.channel = $channel", channel=f.channel)
    _campaign(f, "p", where)
    return where


def issuance_by_source(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.issuance_by_source`: points earned per day from the institution's
    issuance account or a campaign budget. Columns: day, source, points."""
    if from_facts:
        return facts.issuance_by_source(reader, f)
    earnings = _earnings(f)
    sql = f"""
        SELECT {day_of("p.date_key")} AS day,
               CASE WHEN p.from_campaign THEN 'campaign' ELSE 'issuance' END AS source,
               {sum_of("p.points")} AS points
        FROM {_by_institution(f, "issuance")} p
        WHERE {earnings.sql}
        GROUP BY ALL
        ORDER BY day, source
    """
    return ints(reader.query(sql, earnings.params), ("points",))


def issuance_by_campaign(reader: Reader, f: Filters, *, from_facts: bool = False) -> pd.DataFrame:
    """As `fact_queries.issuance_by_campaign`: campaign points earned by purchases in the
    period, and by how many members, per campaign.

    A purchase earns from a campaign's budget exactly when the campaign is among its
    `campaign_ids`, so a campaign's members are those of its rows in `rollup_buyer`:
    counted by their previous purchase when the filters are a campaign's scope (every
    purchase's, or the campaign's own), otherwise told apart one by one.
    Columns: campaign_code, name, name_en, points, members; most points first.
    """
    if from_facts:
        return facts.issuance_by_campaign(reader, f)
    earnings = _earnings(f)
    sql = f"""
        SELECT p.campaign_code, c.name, c.name_en, {sum_of("p.points")} AS points,
               any_value(c.campaign_id) AS campaign_id
        FROM {_by_institution(f, "issuance")} p
        LEFT JOIN dim_campaign c ON c.code = p.campaign_code
        WHERE {earnings.sql} AND p.from_campaign
        GROUP BY p.campaign_code, c.name, c.name_en
        ORDER BY points DESC, p.campaign_code
    """
    frame = ints(reader.query(sql, earnings.params), ("points",))
    if frame["name"].isna().any():
        # A budget of a campaign dim_campaign lacks: its purchases cannot be told apart.
        return facts.issuance_by_campaign(reader, f)
    buyers = Where()
    buyers.require(
        "b.campaign_id IN (SELECT unnest($ids::BIGINT[])) "
        "AND b.date_key BETWEEN $from_key AND $to_key",
        ids=[int(i) for i in frame["campaign_id"]],
        from_key=date_key(f.start),
        to_key=date_key(f.end),
    )
    if _counted(f) and (not f.campaign or set(frame["campaign_code"]) <= {f.campaign}):
        members = "count(*)"
        buyers.require("b.prev_key < $from_key")
    else:
        members = "count(DISTINCT b.member_id)"
        if f.inst:
            buyers.require("b.institution_code IN " + SUBTREE, inst=f.inst)
        if f.channel:
            buyers.require("b.channel = $channel", channel=f.channel)
        if f.campaign:
            # Purchases of another campaign that earned from the chosen one as well.
            buyers.require(
                "b.accrual_id IN (SELECT x.accrual_id FROM rollup_buyer x "
                "WHERE x.campaign_id = (SELECT campaign_id FROM dim_campaign "
                "WHERE code = $campaign) AND x.date_key BETWEEN $from_key AND $to_key)",
                campaign=f.campaign,
            )
    counted = reader.query(
        f"SELECT b.campaign_id, {members} AS members FROM rollup_buyer b "
        f"WHERE {buyers.sql} GROUP BY b.campaign_id",
        buyers.params,
    )
    found = dict(zip(counted["campaign_id"], counted["members"], strict=True))
    frame["members"] = pd.Series(
        [int(found.get(i, 0)) for i in frame["campaign_id"]], index=frame.index, dtype="int64"
    )
    return frame.drop(columns="campaign_id")
