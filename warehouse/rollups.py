"""Rollups: tables derived from the facts that the dashboards read instead of the facts.

Each rollup is one INSERT ... SELECT over fact (and a few dimension) tables, restricted to
the keys to recompute. The sync tracks what it changed (`Tracker`) and then `refresh`
deletes and inserts the rollup rows of those keys only; `rebuild` recomputes everything
with the same statements, so an incremental refresh and a rebuild agree row for row.

The tables, and what their rows are keyed by (what a change recomputes):

- `rollup_sales_institution_day`: purchases (count, net GMV, points) per business day,
  institution, channel and business type; `rollup_sales_day` the same over every
  institution, for the many views that choose none. By purchase day.
- `rollup_buyer`: one row per purchase, carrying the member's previous and next purchase
  days, and the member's registration (for cohorts). Distinct members over a period
  cannot be added up from daily counts, but they can be counted exactly as rows: a member
  bought in [s, e] once for each row in [s, e] whose previous purchase (in the same scope)
  came before s. By member: a new purchase changes its neighbours' rows, a new
  registration or merge the member's.
- `rollup_lot_institution_day`, `rollup_lot_day`: lots (held, expired) per day earned,
  (institution,) channel, status and expiry date: the liability as the last sync saw it,
  and breakage. By day earned.
- `rollup_issuance_institution_day`, `rollup_issuance_day`: accrual postings per posting
  day, source (institution or campaign budget) and the (institution,) channel and day of
  the purchase. By posting day.
- `rollup_campaign`, `rollup_campaign_day`: per campaign (and per day of it) its cost,
  participants, targeted GMV of its window and baseline, and its treated and holdout
  groups' sizes, GMV and sums of squares. By campaign: a campaign is recomputed when its
  definition, its groups or its postings change, or a purchase in its baseline or window
  does.

Every purchase row exists once with `campaign_id` 0 (every purchase) and once more for each
campaign whose budget it earned points from (its `fact_accrual.campaign_ids`), so a
campaign filter is one equality; lots and postings follow their purchase.

Campaign ids come from `dim_campaign.campaign_id`, the operational id the facts carry.
Rollups keep institution and channel codes, not their names, so renaming one changes
nothing here; `rollup_buyer` also keeps each institution's district and each channel's
online flag, so a change in either dimension rebuilds it. The tables over every
institution are summed from the per-institution ones, after them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

# -- tables -------------------------------------------------------------------------------

DDL: tuple[str, ...] = (
    """
    CREATE TABLE IF NOT EXISTS rollup_sales_institution_day (
        date_key INTEGER NOT NULL,
        campaign_id BIGINT NOT NULL,     -- 0: every purchase; otherwise the purchases that
                                         -- earned points from that campaign
        institution_code VARCHAR NOT NULL,
        channel VARCHAR NOT NULL,
        business_type VARCHAR NOT NULL,
        purchases BIGINT NOT NULL,
        net_fen BIGINT NOT NULL,
        points BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rollup_sales_day (
        -- rollup_sales_institution_day over every institution
        date_key INTEGER NOT NULL,
        campaign_id BIGINT NOT NULL,
        channel VARCHAR NOT NULL,
        business_type VARCHAR NOT NULL,
        purchases BIGINT NOT NULL,
        net_fen BIGINT NOT NULL,
        points BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rollup_buyer (
        campaign_id BIGINT NOT NULL,     -- as in rollup_sales_day: the scope of the columns
                                         -- below (previous, next, remaining)
        date_key INTEGER NOT NULL,
        member_id BIGINT NOT NULL,
        accrual_id BIGINT NOT NULL,
        institution_code VARCHAR NOT NULL,
        district_key VARCHAR,            -- the institution's district, or itself outside one
                                         -- (NULL: not in dim_institution)
        channel VARCHAR NOT NULL,
        online BOOLEAN,                  -- dim_channel.is_online (NULL: not in dim_channel)
        business_type VARCHAR NOT NULL,
        net_fen BIGINT NOT NULL,
        points BIGINT NOT NULL,
        -- The member's standing (dim_member; NULL: not there): for cohorts.
        registered_month INTEGER,        -- year * 12 + month - 1 of registration
        registered_institution VARCHAR,
        registered_channel VARCHAR,
        merged BOOLEAN,
        -- Purchases of one member in a scope are ordered by (date_key, accrual_id).
        prev_key INTEGER NOT NULL,       -- day of the member's previous purchase; 0: none
        next_key INTEGER NOT NULL,       -- day of the next one; 99999999: none
        prev_channel_key INTEGER NOT NULL,   -- the previous one in the same channel
        prev_district_key INTEGER NOT NULL,  -- ... at the same district_key
        prev_online_key INTEGER NOT NULL,    -- ... online (or offline) alike
        remaining BIGINT NOT NULL,       -- purchases from this one to the member's last
        net_after BIGINT NOT NULL,       -- their net_fen
        points_after BIGINT NOT NULL,    -- their points
        last_key INTEGER NOT NULL,       -- day of the member's last purchase
        -- The same within the purchase's channel: a channel filter's members and theirs.
        next_channel_key INTEGER NOT NULL,
        remaining_channel BIGINT NOT NULL,
        net_after_channel BIGINT NOT NULL,
        points_after_channel BIGINT NOT NULL,
        last_channel_key INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rollup_lot_institution_day (
        date_key INTEGER NOT NULL,       -- the day the lot was earned
        campaign_id BIGINT NOT NULL,     -- of the purchase that earned it (0: every lot)
        institution_code VARCHAR NOT NULL,
        channel VARCHAR,                 -- of that purchase (NULL: none)
        status VARCHAR NOT NULL,
        expires_on DATE NOT NULL,
        lots BIGINT NOT NULL,
        remaining BIGINT NOT NULL,
        expired BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rollup_lot_day (
        -- rollup_lot_institution_day over every institution
        date_key INTEGER NOT NULL,
        campaign_id BIGINT NOT NULL,
        channel VARCHAR,
        status VARCHAR NOT NULL,
        expires_on DATE NOT NULL,
        lots BIGINT NOT NULL,
        remaining BIGINT NOT NULL,
        expired BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rollup_issuance_institution_day (
        date_key INTEGER NOT NULL,       -- the posting's
        campaign_id BIGINT NOT NULL,     -- of its purchase (0: every posting)
        accrual_date_key INTEGER,        -- its purchase's day, institution and channel
        institution_code VARCHAR,        -- (NULL: no purchase found)
        channel VARCHAR,
        from_campaign BOOLEAN NOT NULL,  -- paid from a campaign budget (else: issuance)
        campaign_code VARCHAR,           -- that budget's campaign
        points BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rollup_issuance_day (
        -- rollup_issuance_institution_day over every institution
        date_key INTEGER NOT NULL,
        campaign_id BIGINT NOT NULL,
        accrual_date_key INTEGER,
        channel VARCHAR,
        from_campaign BOOLEAN NOT NULL,
        campaign_code VARCHAR,
        points BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rollup_campaign (
        code VARCHAR PRIMARY KEY,
        points_awarded BIGINT NOT NULL,  -- campaign-wide, from its postings
        points_returned BIGINT NOT NULL,
        participants BIGINT NOT NULL,
        -- Every institution and channel: targeted GMV of the window and the baseline, and
        -- per group the members, their window GMV and its sum of squares (members who did
        -- not buy add 0 to both).
        gmv_window_fen BIGINT NOT NULL,
        gmv_baseline_fen BIGINT NOT NULL,
        treated_members BIGINT NOT NULL,
        treated_total HUGEINT NOT NULL,
        treated_squares HUGEINT NOT NULL,
        holdout_members BIGINT NOT NULL,
        holdout_total HUGEINT NOT NULL,
        holdout_squares HUGEINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rollup_campaign_day (
        code VARCHAR NOT NULL,
        date_key INTEGER NOT NULL,
        treated_gmv_fen BIGINT NOT NULL, -- targeted purchases of each group, window days only
        holdout_gmv_fen BIGINT NOT NULL,
        points_awarded BIGINT NOT NULL,  -- campaign points earned that day
        PRIMARY KEY (code, date_key)
    )
    """,
)

ROLLUP_TABLES = (
    "rollup_sales_institution_day",
    "rollup_sales_day",
    "rollup_buyer",
    "rollup_lot_institution_day",
    "rollup_lot_day",
    "rollup_issuance_institution_day",
    "rollup_issuance_day",
    "rollup_campaign",
    "rollup_campaign_day",
)

NO_PREVIOUS = 0
NO_NEXT = 99_999_999

# A campaign's window and baseline (the same number of days just before it) as day keys,
# and the business types it targets (none: every type).
CAMPAIGN_WINDOWS = """
    SELECT code, name, name_en, starts_on, ends_on, budget_points,
           CAST(strftime(starts_on, '%Y%m%d') AS INTEGER) AS start_key,
           CAST(strftime(ends_on, '%Y%m%d') AS INTEGER) AS end_key,
           CAST(strftime(starts_on - CAST(ends_on - starts_on + 1 AS INTEGER), '%Y%m%d') AS INTEGER)
               AS baseline_start_key,
           CAST(strftime(starts_on - 1, '%Y%m%d') AS INTEGER) AS baseline_end_key,
           COALESCE(CAST(json_extract(target_json, '$.business_types') AS VARCHAR[]), [])
               AS business_types
    FROM dim_campaign
"""


def targeted(business_type: str) -> str:
    """Whether campaign `c` counts a purchase of `business_type` (no targets: all)."""
    return f"(len(c.business_types) = 0 OR list_contains(c.business_types, {business_type}))"


# The campaign scopes of a purchase `a`: 0, then each campaign it earned from.
_SCOPES = "unnest(list_prepend(CAST(0 AS BIGINT), list_distinct(a.campaign_ids))) AS campaign_id"


@dataclass(frozen=True)
class _Rollup:
    table: str
    # What `refresh` recomputes it by: "dates", "members" or "campaigns".
    key: str
    # The expression of the key in `insert` (the rollup's own column is named as in _KEYS).
    source_key: str
    # INSERT's SELECT with `{keys}` where the key selection goes (TRUE: everything).
    insert: str
    # Columns a rebuild sorts by, so scans of a period or a scope read little.
    order: str


# key -> (the temporary table of keys noted, its column, the rollups' column)
_KEYS = {
    "dates": ("rollup_dates", "date_key INTEGER", "date_key"),
    "members": ("rollup_members", "member_id BIGINT", "member_id"),
    "campaigns": ("rollup_campaigns", "code VARCHAR", "code"),
}


_ROLLUPS: tuple[_Rollup, ...] = (
    _Rollup(
        "rollup_sales_institution_day",
        "dates",
        "a.date_key",
        f"""
        SELECT date_key, campaign_id, institution_code, channel, business_type,
               count(*) AS purchases, CAST(sum(net_fen) AS BIGINT) AS net_fen,
               CAST(sum(points) AS BIGINT) AS points
        FROM (
            SELECT a.date_key, a.institution_code, a.channel, a.business_type, a.net_fen,
                   a.points, {_SCOPES}
            FROM fact_accrual a WHERE {{keys}}
        )
        GROUP BY ALL
        """,
        "campaign_id, date_key",
    ),
    _Rollup(
        "rollup_sales_day",
        "dates",
        "s.date_key",
        """
        SELECT date_key, campaign_id, channel, business_type,
               CAST(sum(purchases) AS BIGINT) AS purchases,
               CAST(sum(net_fen) AS BIGINT) AS net_fen, CAST(sum(points) AS BIGINT) AS points
        FROM rollup_sales_institution_day s WHERE {keys}
        GROUP BY ALL
        """,
        "campaign_id, date_key",
    ),
    _Rollup(
        "rollup_buyer",
        "members",
        "a.member_id",
        f"""
        WITH scoped AS (
            SELECT a.accrual_id, a.member_id, a.date_key, a.institution_code,
                   COALESCE(i.district_code, i.code) AS district_key, a.channel,
                   ch.is_online AS online, a.business_type, a.net_fen, a.points,
                   (m.registered_date_key // 10000) * 12
                       + (m.registered_date_key // 100 % 100) - 1 AS registered_month,
                   m.registered_institution, m.registered_channel,
                   m.status = 'merged' AS merged, {_SCOPES}
            FROM fact_accrual a
            LEFT JOIN dim_institution i ON i.code = a.institution_code
            LEFT JOIN dim_channel ch ON ch.code = a.channel
            LEFT JOIN dim_member m ON m.member_id = a.member_id
            WHERE {{keys}}
        )
        SELECT campaign_id, date_key, member_id, accrual_id, institution_code, district_key,
               channel, online, business_type, net_fen, points, registered_month,
               registered_institution, registered_channel, merged,
               COALESCE(lag(date_key) OVER member, {NO_PREVIOUS}) AS prev_key,
               COALESCE(lead(date_key) OVER member, {NO_NEXT}) AS next_key,
               COALESCE(lag(date_key) OVER in_channel, {NO_PREVIOUS}) AS prev_channel_key,
               COALESCE(lag(date_key) OVER (
                   PARTITION BY campaign_id, member_id, district_key
                   ORDER BY date_key, accrual_id
               ), {NO_PREVIOUS}) AS prev_district_key,
               COALESCE(lag(date_key) OVER (
                   PARTITION BY campaign_id, member_id, online ORDER BY date_key, accrual_id
               ), {NO_PREVIOUS}) AS prev_online_key,
               count(*) OVER after AS remaining,
               CAST(sum(net_fen) OVER after AS BIGINT) AS net_after,
               CAST(sum(points) OVER after AS BIGINT) AS points_after,
               max(date_key) OVER (PARTITION BY campaign_id, member_id) AS last_key,
               COALESCE(lead(date_key) OVER in_channel, {NO_NEXT}) AS next_channel_key,
               count(*) OVER after_in_channel AS remaining_channel,
               CAST(sum(net_fen) OVER after_in_channel AS BIGINT) AS net_after_channel,
               CAST(sum(points) OVER after_in_channel AS BIGINT) AS points_after_channel,
               max(date_key) OVER (PARTITION BY campaign_id, member_id, channel)
                   AS last_channel_key
        FROM scoped
        WINDOW member AS (PARTITION BY campaign_id, member_id ORDER BY date_key, accrual_id),
               after AS (
                   PARTITION BY campaign_id, member_id ORDER BY date_key, accrual_id
                   ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
               ),
               in_channel AS (
                   PARTITION BY campaign_id, member_id, channel ORDER BY date_key, accrual_id
               ),
               after_in_channel AS (
                   PARTITION BY campaign_id, member_id, channel ORDER BY date_key, accrual_id
                   ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING
               )
        """,
        "campaign_id, date_key",
    ),
    _Rollup(
        "rollup_lot_institution_day",
        "dates",
        "l.date_key",
        """
        SELECT date_key, campaign_id, institution_code, channel, status, expires_on,
               count(*) AS lots, CAST(sum(remaining) AS BIGINT) AS remaining,
               CAST(sum(expired) AS BIGINT) AS expired
        FROM (
            SELECT l.date_key, l.institution_code, l.channel, l.status, l.expires_on,
                   l.remaining, l.expired,
                   unnest(list_prepend(CAST(0 AS BIGINT),
                                       list_distinct(COALESCE(a.campaign_ids, []))))
                       AS campaign_id
            FROM fact_lot l LEFT JOIN fact_accrual a ON a.accrual_id = l.accrual_id
            WHERE {keys}
        )
        GROUP BY ALL
        """,
        "campaign_id, date_key",
    ),
    _Rollup(
        "rollup_lot_day",
        "dates",
        "l.date_key",
        """
        SELECT date_key, campaign_id, channel, status, expires_on,
               CAST(sum(lots) AS BIGINT) AS lots, CAST(sum(remaining) AS BIGINT) AS remaining,
               CAST(sum(expired) AS BIGINT) AS expired
        FROM rollup_lot_institution_day l WHERE {keys}
        GROUP BY ALL
        """,
        "campaign_id, date_key",
    ),
    _Rollup(
        "rollup_issuance_institution_day",
        "dates",
        "p.date_key",
        """
        SELECT date_key, campaign_id, accrual_date_key, institution_code, channel,
               from_campaign, campaign_code, CAST(sum(points) AS BIGINT) AS points
        FROM (
            SELECT p.date_key, a.date_key AS accrual_date_key, a.institution_code, a.channel,
                   p.from_kind = 'campaign_budget' AS from_campaign, p.campaign_code, p.points,
                   unnest(list_prepend(CAST(0 AS BIGINT),
                                       list_distinct(COALESCE(a.campaign_ids, []))))
                       AS campaign_id
            FROM fact_posting p LEFT JOIN fact_accrual a ON a.accrual_id = p.accrual_id
            WHERE p.type = 'accrual' AND {keys}
        )
        GROUP BY ALL
        """,
        "campaign_id, date_key",
    ),
    _Rollup(
        "rollup_issuance_day",
        "dates",
        "p.date_key",
        """
        SELECT date_key, campaign_id, accrual_date_key, channel, from_campaign, campaign_code,
               CAST(sum(points) AS BIGINT) AS points
        FROM rollup_issuance_institution_day p WHERE {keys}
        GROUP BY ALL
        """,
        "campaign_id, date_key",
    ),
    _Rollup(
        "rollup_campaign",
        "campaigns",
        "code",
        f"""
        WITH c AS ({CAMPAIGN_WINDOWS} WHERE {{keys}}),
        s AS (
            SELECT a.member_id, a.date_key, a.business_type, a.net_fen
            FROM fact_accrual a
            WHERE a.date_key BETWEEN (SELECT min(baseline_start_key) FROM c)
                                 AND (SELECT max(end_key) FROM c)
        ),
        targets AS (
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
            SELECT code,
                   CAST(COALESCE(SUM(net_fen) FILTER (WHERE in_window), 0) AS BIGINT)
                       AS gmv_window_fen,
                   CAST(COALESCE(SUM(net_fen) FILTER (WHERE NOT in_window), 0) AS BIGINT)
                       AS gmv_baseline_fen
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
                   COALESCE(x.squares, 0) AS squares
            FROM sizes z LEFT JOIN sums x ON x.code = z.code AND x.in_holdout = z.in_holdout
        ),
        points AS (
            SELECT p.campaign_code AS code,
                   CAST(COALESCE(SUM(p.points) FILTER (WHERE p.type = 'accrual'), 0)
                        AS BIGINT) AS points_awarded,
                   CAST(COALESCE(SUM(p.points) FILTER (WHERE p.type = 'reversal'), 0)
                        AS BIGINT) AS points_returned,
                   count(DISTINCT p.member_id) FILTER (WHERE p.type = 'accrual')
                       AS participants
            FROM fact_posting p
            WHERE p.campaign_code IN (SELECT code FROM c)
            GROUP BY p.campaign_code
        )
        SELECT c.code,
               COALESCE(points.points_awarded, 0), COALESCE(points.points_returned, 0),
               COALESCE(points.participants, 0),
               COALESCE(gmv.gmv_window_fen, 0), COALESCE(gmv.gmv_baseline_fen, 0),
               COALESCE(t.n, 0), COALESCE(t.total, 0), COALESCE(t.squares, 0),
               COALESCE(h.n, 0), COALESCE(h.total, 0), COALESCE(h.squares, 0)
        FROM c
        LEFT JOIN gmv USING (code)
        LEFT JOIN points USING (code)
        LEFT JOIN groups t ON t.code = c.code AND NOT t.in_holdout
        LEFT JOIN groups h ON h.code = c.code AND h.in_holdout
        """,
        "code",
    ),
    _Rollup(
        "rollup_campaign_day",
        "campaigns",
        "code",
        f"""
        WITH c AS ({CAMPAIGN_WINDOWS} WHERE {{keys}}),
        sales AS (
            SELECT c.code, s.date_key,
                   CAST(COALESCE(SUM(s.net_fen) FILTER (WHERE NOT cm.in_holdout), 0)
                        AS BIGINT) AS treated_gmv_fen,
                   CAST(COALESCE(SUM(s.net_fen) FILTER (WHERE cm.in_holdout), 0)
                        AS BIGINT) AS holdout_gmv_fen
            FROM c
            JOIN dim_campaign_member cm ON cm.campaign_code = c.code
            JOIN (SELECT a.member_id, a.date_key, a.business_type, a.net_fen
                  FROM fact_accrual a
                  WHERE a.date_key BETWEEN (SELECT min(start_key) FROM c)
                                       AND (SELECT max(end_key) FROM c)) s
              ON s.member_id = cm.member_id
             AND s.date_key BETWEEN c.start_key AND c.end_key AND {targeted("s.business_type")}
            GROUP BY c.code, s.date_key
        ),
        awarded AS (
            SELECT p.campaign_code AS code, p.date_key,
                   CAST(sum(p.points) AS BIGINT) AS points_awarded
            FROM fact_posting p
            WHERE p.type = 'accrual' AND p.campaign_code IN (SELECT code FROM c)
            GROUP BY ALL
        )
        SELECT code, date_key, COALESCE(sales.treated_gmv_fen, 0),
               COALESCE(sales.holdout_gmv_fen, 0), COALESCE(awarded.points_awarded, 0)
        FROM sales FULL OUTER JOIN awarded USING (code, date_key)
        """,
        "code, date_key",
    ),
)


# -- what a sync changed ------------------------------------------------------------------

# Fact tables the rollups read, and the columns that say which rollup rows they touch.
_TRACKED: Mapping[str, Mapping[str, str]] = {
    "fact_accrual": {"rollup_dates": "date_key", "rollup_members": "member_id"},
    "fact_posting": {"rollup_dates": "date_key", "rollup_campaigns": "campaign_code"},
    "fact_lot": {"rollup_dates": "date_key"},
}
# What rollup_buyer copies of a member: a change recomputes that member's rows.
_MEMBER_STANDING = (
    "{t}.registered_date_key",
    "{t}.registered_institution",
    "{t}.registered_channel",
    "{t}.status = 'merged'",
)
# Dimensions rollup_buyer copies a column of: a change rebuilds it.
_BUYER_DIMENSIONS = ("dim_institution", "dim_channel")


@dataclass
class Tracker:
    """Collects, over one sync, the keys whose rollup rows must be recomputed.

    The keys live in temporary tables of the sync's connection (`rollup_dates`,
    `rollup_members`, `rollup_campaigns`), so a large change never passes through Python.
    """

    writer: duckdb.DuckDBPyConnection
    # Everything from scratch: a new file, or a fact table loaded while empty.
    full: bool = False
    buyers_full: bool = False
    _ready: bool = field(default=False, repr=False)

    def _tables(self) -> None:
        if not self._ready:
            for name, column, _ in _KEYS.values():
                _run(self.writer, f"CREATE OR REPLACE TEMP TABLE {name} ({column})")
            self._ready = True

    def loaded_whole(self, table: str) -> None:
        """`table` was empty and got rows without comparing: recompute everything."""
        if table in _TRACKED or table == "dim_member":
            self.full = True

    def rows_changed(self, table: str, key: tuple[str, ...], staged: str) -> None:
        """Before the rows of `staged` (new versions, the table's columns) replace those
        of `table` with the same `key`: note the keys of the old and the new versions."""
        if self.full:
            return
        if table == "dim_member":
            self._members_changed(staged)
            return
        columns = _TRACKED.get(table)
        if columns is None:
            return
        self._tables()
        on = " AND ".join(f"t.{k} = s.{k}" for k in key)
        for target, column in columns.items():
            _run(
                self.writer,
                f"""
                INSERT INTO {target}
                SELECT {column} FROM {staged} WHERE {column} IS NOT NULL
                UNION
                SELECT t.{column} FROM {table} t SEMI JOIN {staged} s ON {on}
                WHERE t.{column} IS NOT NULL
                """,
            )

    def _members_changed(self, staged: str) -> None:
        """Members new or with another registration or merged state: rollup_buyer copies
        those (a new tier or a new phone number changes nothing here)."""
        self._tables()
        new = ", ".join(c.format(t="s") for c in _MEMBER_STANDING)
        old = ", ".join(c.format(t="t") for c in _MEMBER_STANDING)
        _run(
            self.writer,
            f"""
            INSERT INTO rollup_members
            SELECT member_id FROM (
                SELECT s.member_id, {new} FROM {staged} s
                EXCEPT
                SELECT t.member_id, {old} FROM dim_member t
                SEMI JOIN {staged} s ON s.member_id = t.member_id
            )
            """,
        )

    def reference_changed(self, table: str, keys: list[tuple[Any, ...]]) -> None:
        """`keys` of the reference `table` were added, changed or removed."""
        if not keys:
            return
        if table in _BUYER_DIMENSIONS:
            self.buyers_full = True
        elif table == "dim_campaign":
            self.campaigns_changed([str(code) for (code,) in keys])

    def campaigns_changed(self, codes: list[str]) -> None:
        if not codes or self.full:
            return
        self._tables()
        _run(
            self.writer,
            "INSERT INTO rollup_campaigns SELECT unnest($codes::VARCHAR[])",
            {"codes": codes},
        )

    def refresh(self) -> dict[str, int]:
        """Recompute the rollup rows of every key noted; returns rows written per rollup."""
        if self.full:
            return rebuild(self.writer)
        if not self._ready and not self.buyers_full:
            return {}
        self._tables()
        # A purchase in a campaign's baseline or window changes its GMV and groups.
        _run(
            self.writer,
            f"""
            INSERT INTO rollup_campaigns
            SELECT w.code FROM ({CAMPAIGN_WINDOWS}) w
            WHERE EXISTS (
                SELECT 1 FROM rollup_dates d
                WHERE d.date_key BETWEEN w.baseline_start_key AND w.end_key
            )
            """,
        )
        # Campaigns no longer in dim_campaign lose their rows.
        _run(
            self.writer,
            "INSERT INTO rollup_campaigns SELECT code FROM rollup_campaign "
            "WHERE code NOT IN (SELECT code FROM dim_campaign)",
        )
        written = {}
        for rollup in _ROLLUPS:
            if rollup.table == "rollup_buyer" and self.buyers_full:
                written[rollup.table] = _recompute(self.writer, rollup, everything=True)
            elif _scalar(self.writer, f"SELECT count(*) FROM {_KEYS[rollup.key][0]}"):
                written[rollup.table] = _recompute(self.writer, rollup, everything=False)
        return written


def rebuild(writer: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Every rollup from scratch; returns rows written per rollup."""
    return {rollup.table: _recompute(writer, rollup, everything=True) for rollup in _ROLLUPS}


def create(writer: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        _run(writer, statement)


def _recompute(writer: duckdb.DuckDBPyConnection, rollup: _Rollup, everything: bool) -> int:
    """Delete and insert the rows of the keys noted (or all of them); returns rows inserted."""
    if everything:
        _run(writer, f"DELETE FROM {rollup.table}")
        select = rollup.insert.format(keys="TRUE")
        return _scalar(
            writer, f"INSERT INTO {rollup.table} SELECT * FROM ({select}) ORDER BY {rollup.order}"
        )
    noted, _, column = _KEYS[rollup.key]
    chosen = f"SELECT DISTINCT {column} FROM {noted}"
    _run(writer, f"DELETE FROM {rollup.table} WHERE {column} IN ({chosen})")
    keys = f"{rollup.source_key} IN ({chosen})"
    return _scalar(writer, f"INSERT INTO {rollup.table} {rollup.insert.format(keys=keys)}")


def _run(
    writer: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, object] | None = None
) -> None:
    writer.execute(sql, params)
    writer.complete()


def _scalar(writer: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows = writer.execute(sql).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0
