"""Dashboards at scale: every page's callbacks on a warehouse of 10 million postings, against
the same SQL run directly on DuckDB in the same run; and the sync's throughput.

Run from the repository root: `.venv/bin/python -m bench.dashboards [--postings N]
[--sync-postings N] [--repeat R] [--work DIR]`. With `--work DIR` the files are kept
there and a later run with the same DIR reuses them (`--rebuild` to start again).

1. Sync: a scratch SQLite operational database (migrated, reference data loaded) gets a
   history inserted in bulk with SQLAlchemy Core (members, their accounts, accruals with
   lines, lots, postings, redemptions: `--sync-postings` postings), then
   `warehouse.sync_warehouse` rebuilds a warehouse from it: rows read per second.
2. Warehouse: that sync's reference dimensions (dates, institutions, channels, products,
   rewards) are copied into a new file, and two years of activity up to yesterday are
   generated there with SQL (hashes over `range()`), consistent with the schema: a
   million members, their purchases (a few buy often, most rarely), the postings these
   make (base and campaign points, releases, reversals, expiries, redemptions), lots,
   orders collected at post offices or left to expire, bill payments, mailings,
   subscriptions, and the five festival campaigns of the last year with holdout groups.
   Last, `warehouse.rollups.rebuild` builds the rollups a sync maintains (a kept file
   from before they existed gets them on reuse).
3. Callbacks: the dashboards are mounted on a Flask app reading that file through a
   `WarehouseReader`; each page's callbacks are posted to Dash's callback endpoint as the
   browser posts them (session cookie, JSON in, figures and tables out) for each view:
   default (the 30 days ending yesterday, every filter open), one-year (365 days),
   campaign (the latest finished campaign chosen, its window as the period) and
   campaign, one-year (that campaign over a year, as the Campaigns page opens it); with
   `--filtered` also narrower ones (a district, a channel, an outlet). The SQL each
   callback ran is recorded once and replayed on a raw DuckDB connection to the same
   file, interleaved with the callback runs.

A page's p50/p95 for a view are over all its callbacks' runs for that view. The last line
printed is one JSON object: `worst_view_p95_ms` is the slowest view of any page
(`worst_page`, `worst_view`), `ratio` its callback p95 over the raw p95 of the same SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from flask import Flask
from sqlalchemy.engine import Engine

import dashboards
from bench.common import percentile
from bench.dash_client import DashClient
from common.settings import Settings, normalise_database_url
from dashboards.auth import (
    COOKIE_PATH,
    SESSION_COOKIE,
    Refused,
    Sessions,
    StaffAccounts,
    Viewer,
)
from memberhub.operations import prepare_database
from memberhub.runtime import build_runtime
from warehouse import WarehouseReader, mask_name, mask_phone, rollups, sync_warehouse
from warehouse.schema import DDL, SCHEMA_VERSION

SECRET = "bench-dashboards-secret-key-0123456789"
# One admin session, looked up in memory: the bench measures the pages, not the logins.
BENCH_SESSION = "bench-session"
BENCH_ACCOUNTS = StaffAccounts(
    log_in=lambda username, password, address: Refused(),
    viewer_of=lambda token: Viewer("bench", "admin") if token == BENCH_SESSION else None,
    log_out=lambda token: None,
)
DAYS = 730
MEMBERS = 1_000_000
# Postings one generated purchase makes on average (base and campaign points, release,
# reversal, expiry, and redemptions in proportion); sizes the purchase count.
POSTINGS_PER_PURCHASE = 1.62
OPS_POSTINGS_PER_PURCHASE = 1.55
REFERENCE_DIMENSIONS = (
    "dim_date",
    "dim_institution",
    "dim_channel",
    "dim_category",
    "dim_business_type",
    "dim_product",
    "dim_reward",
)
# festival season: (code stem, name, English name, target business types,
# multiplier in basis points, bonus points)
CAMPAIGNS: dict[str, tuple[str, str, str, tuple[str, ...], int, int]] = {
    "spring": ("XCYL", "新春有礼", "Spring Festival gifts", ("goods", "philately"), 20_000, 0),
    "dragon_boat": ("QYDZ", "情邮独粽", "Zongzi by post", ("goods",), 15_000, 0),
    "summer": ("XRYS", "夏日邮爽", "Summer by post", ("bill_payment", "mailing"), 0, 50),
    "mid_autumn": ("PJY", "浦江月", "Moon over the Huangpu", ("goods",), 20_000, 0),
    "hairy_crab": ("XXYS", "香蟹驿舍", "Hairy crab station", ("goods",), 15_000, 0),
}
HOLDOUT_PCT = 10
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟")


def say(line: str = "") -> None:
    print(line, flush=True)


def run(connection: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> None:
    connection.execute(sql, params)
    connection.complete()


def scalar(connection: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> Any:
    row = connection.execute(sql, params).fetchone()
    return row[0] if row else None


# -- shared SQL vocabulary ------------------------------------------------------------

MACROS = (
    # A uniform number in [0, 1) drawn from a row number and a salt.
    "CREATE OR REPLACE TEMP MACRO unit(x, salt) AS ((hash(x, salt) % 1000000) / 1000000.0)",
    "CREATE OR REPLACE TEMP MACRO pick(items, x, salt) AS "
    "(items[1 + CAST(hash(x, salt) % len(items) AS INTEGER)])",
    "CREATE OR REPLACE TEMP MACRO key_of(d) AS (CAST(strftime(d, '%Y%m%d') AS INTEGER))",
    # A local (Asia/Shanghai, UTC+8) day and second of the day as a UTC instant.
    "CREATE OR REPLACE TEMP MACRO at_local(d, s) AS "
    "(CAST(CAST(d AS TIMESTAMP) + to_seconds(CAST(s AS BIGINT) - 8 * 3600) AS TIMESTAMPTZ))",
    # Purchases: channel mix, business mix, amounts in fen by business type.
    """
    CREATE OR REPLACE TEMP MACRO channel_of(u) AS (
        CASE WHEN u < 0.38 THEN 'counter' WHEN u < 0.58 THEN 'app' WHEN u < 0.70 THEN 'web'
             WHEN u < 0.80 THEN 'retail' WHEN u < 0.88 THEN 'distribution'
             WHEN u < 0.94 THEN 'hotline' ELSE 'partner' END)
    """,
    """
    CREATE OR REPLACE TEMP MACRO business_of(u) AS (
        CASE WHEN u < 0.45 THEN 'goods' WHEN u < 0.63 THEN 'bill_payment'
             WHEN u < 0.78 THEN 'mailing' WHEN u < 0.86 THEN 'philately'
             WHEN u < 0.94 THEN 'service' ELSE 'subscription' END)
    """,
    """
    CREATE OR REPLACE TEMP MACRO amount_of(business, u) AS (CAST(
        CASE business
            WHEN 'goods' THEN 990 + floor(pow(u, 3) * 160000)
            WHEN 'bill_payment' THEN 3000 + floor(u * 40000)
            WHEN 'mailing' THEN 600 + floor(pow(u, 2) * 9000)
            WHEN 'philately' THEN 1200 + floor(pow(u, 2) * 60000)
            WHEN 'service' THEN 500 + floor(u * 5000)
            ELSE 6000 + floor(u * 36000) END AS BIGINT))
    """,
)


def install_vocabulary(connection: duckdb.DuckDBPyConnection, places: str) -> None:
    """Macros, and the institution lists purchases are placed at (`places` is a query
    with columns code, kind, level)."""
    for macro in MACROS:
        run(connection, macro)
    run(
        connection,
        f"""
        CREATE OR REPLACE TEMP TABLE places AS
        SELECT list(code ORDER BY code) FILTER (WHERE kind IN ('outlet', 'kiosk')) AS outlets,
               list(code ORDER BY code) FILTER (WHERE kind = 'store') AS stores,
               list(code ORDER BY code) FILTER (WHERE kind = 'district') AS districts,
               min(code) FILTER (WHERE level = 0) AS company
        FROM ({places})
        """,
    )
    run(
        connection,
        """
        CREATE OR REPLACE TEMP MACRO place_of(channel, x) AS (
            CASE channel
                WHEN 'counter' THEN pick((SELECT outlets FROM places), x, 'outlet')
                WHEN 'distribution' THEN pick((SELECT outlets FROM places), x, 'outlet')
                WHEN 'retail' THEN pick((SELECT stores FROM places), x, 'store')
                WHEN 'hotline' THEN pick((SELECT districts FROM places), x, 'district')
                ELSE (SELECT company FROM places) END)
        """,
    )


# -- 1. the sync from an operational database -------------------------------------------


@dataclass(frozen=True)
class SyncFigures:
    source: str
    postings: int
    rows_read: int
    seconds: float
    again_seconds: float

    @property
    def rows_per_s(self) -> float:
        return self.rows_read / self.seconds


def measure_sync(work: Path, postings: int, end: date) -> SyncFigures:
    database = work / "operational.sqlite"
    for leftover in work.glob("operational.sqlite*"):
        leftover.unlink()
    settings = Settings(
        database_url=normalise_database_url(f"sqlite:///{database}"),
        secret_key=SECRET,
        warehouse_path=work / "synced.duckdb",
    )
    runtime = build_runtime(settings)
    prepare_database(runtime)
    started = time.perf_counter()
    inserted = insert_operational_history(runtime.engine, postings, end)
    say(
        f"operational history: {inserted['points_engine_posting']:,} postings, "
        + ", ".join(f"{n:,} {t}" for t, n in inserted.items() if t != "points_engine_posting")
        + f" inserted in {time.perf_counter() - started:.0f} s"
    )
    report = sync_warehouse(runtime.engine, settings.warehouse_path, rebuild=True)
    say(
        f"sync (rebuild) from SQLite: {report.rows_read:,} rows read in {report.seconds:.1f} s "
        f"= {report.rows_per_second:,.0f} rows/s; {report.rows_written:,} rows written"
    )
    again = sync_warehouse(runtime.engine, settings.warehouse_path)
    say(
        f"sync again, nothing new: {again.rows_read:,} rows read, "
        f"{again.rows_written:,} written in {again.seconds:.1f} s"
    )
    runtime.engine.dispose()
    return SyncFigures(
        "sqlite",
        inserted["points_engine_posting"],
        report.rows_read,
        report.seconds,
        again.seconds,
    )


def insert_operational_history(engine: Engine, postings: int, end: date) -> dict[str, int]:
    """Members, accounts, accruals, lots, postings and redemptions, consistent with the
    ledger's shapes, inserted in batches through SQLAlchemy Core; returns rows per table."""
    purchases = int(postings / OPS_POSTINGS_PER_PURCHASE) + 1
    members = max(1000, purchases // 8)
    start = end - timedelta(days=DAYS - 1)
    gen = duckdb.connect(config={"autoinstall_known_extensions": False})
    run(gen, "SET TimeZone = 'UTC'")
    with engine.connect() as connection:
        for table in ("common_institution", "points_engine_account", "points_engine_reward"):
            frame = pd.read_sql_table(table, connection)
            gen.register(f"src_{table}", frame)
    run(gen, "CREATE TEMP TABLE institution AS FROM src_common_institution")
    run(gen, "CREATE TEMP TABLE account AS FROM src_points_engine_account")
    run(gen, "CREATE TEMP TABLE reward AS FROM src_points_engine_reward")
    install_vocabulary(
        gen,
        "SELECT code, kind, CASE WHEN parent_code IS NULL THEN 0 ELSE 1 END AS level "
        "FROM institution",
    )
    base_account = int(scalar(gen, "SELECT max(id) FROM account")) + 1
    expiry_account = int(scalar(gen, "SELECT id FROM account WHERE kind = 'expiry'"))
    text_time = "strftime(CAST({} AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f')"
    ts = text_time.format

    run(
        gen,
        f"""
        CREATE TEMP TABLE member AS
        SELECT i + 1 AS id, unit(i, 'reg') AS ur, unit(i, 'chan') AS uc,
               CAST($start AS DATE) - 365
                   + CAST(floor(pow(unit(i, 'reg'), 0.8) * ({DAYS} + 365)) AS INTEGER) AS reg_day
        FROM range({members}) t(i)
        """,
        {"start": start},
    )
    run(
        gen,
        f"""
        CREATE TEMP TABLE purchase AS
        SELECT p.*, greatest(m.reg_day, CAST($start AS DATE))
                   + CAST(floor(p.ud * (CAST($end AS DATE)
                       - greatest(m.reg_day, CAST($start AS DATE)) + 1)) AS INTEGER) AS day
        FROM (
            SELECT i + 1 AS id,
                   1 + CAST(hash(CAST(floor({members} * pow(unit(i, 'who'), 2.2)) AS BIGINT),
                                 'scatter') % {members} AS BIGINT) AS member_id,
                   unit(i, 'day') AS ud, channel_of(unit(i, 'chan')) AS channel,
                   business_of(unit(i, 'biz')) AS business_type, unit(i, 'amount') AS ua,
                   unit(i, 'refund') AS ur, unit(i, 'hour') AS uh, unit(i, 'spend') AS us
            FROM range({purchases}) t(i)
        ) p JOIN member m ON m.id = p.member_id
        """,
        {"start": start, "end": end},
    )
    run(
        gen,
        """
        CREATE TEMP TABLE accrual AS
        SELECT *, place_of(channel, id) AS institution_code,
               at_local(day, 28800 + floor(uh * 46800)) AS occurred_at,
               business_type = 'goods' AS held,
               CASE WHEN ur < 0.015 THEN total_fen WHEN ur < 0.035 THEN total_fen // 3
                    ELSE 0 END AS refunded_fen
        FROM (SELECT *, amount_of(business_type, ua) AS total_fen FROM purchase)
        """,
    )
    run(
        gen,
        """
        CREATE TEMP TABLE accrual_points AS
        SELECT *, total_fen // 100 AS points,
               CASE WHEN refunded_fen = total_fen THEN total_fen // 100
                    ELSE (total_fen // 100) * refunded_fen // total_fen END AS points_reversed,
               make_date(year(day) + 1, 12, 31) AS expires_on,
               day + CASE WHEN held THEN 7 ELSE 0 END AS available_on
        FROM accrual
        """,
    )
    tables: list[tuple[str, str]] = [
        (
            "crm_member",
            f"""
            SELECT id, 'B' || lpad(CAST(id AS VARCHAR), 11, '0') AS member_no,
                   '139' || lpad(CAST(id AS VARCHAR), 8, '0') AS phone,
                   '会员' || CAST(id AS VARCHAR) AS name, NULL AS password_hash,
                   NULL AS birthday, CASE WHEN ur < 0.8 THEN 'regular' WHEN ur < 0.95
                   THEN 'silver' ELSE 'gold' END AS tier, NULL AS tier_reviewed_on,
                   'active' AS status, NULL AS merged_into_id, 1 AS marketing_consent,
                   0 AS sms_consent, 0 AS data_sharing_consent,
                   channel_of(uc) AS registered_channel,
                   place_of(channel_of(uc), id) AS registered_institution,
                   {ts("at_local(reg_day, 36000)")} AS created_at, NULL AS merged_at,
                   {ts("at_local(reg_day, 36000)")} AS updated_at
            FROM member ORDER BY id
            """,
        ),
        (
            "points_engine_account",
            f"""
            SELECT {base_account} + 2 * id + pending AS id,
                   CASE pending WHEN 0 THEN 'member:' ELSE 'member_pending:' END
                       || CAST(id AS VARCHAR) AS code,
                   CASE pending WHEN 0 THEN 'member' ELSE 'member_pending' END AS kind,
                   id AS member_id, NULL AS institution_code, 0 AS balance, 'open' AS status,
                   NULL AS merged_into_id, {ts("at_local(reg_day, 36000)")} AS created_at
            FROM member, range(2) r(pending) ORDER BY 1
            """,
        ),
        (
            "points_engine_accrual",
            f"""
            SELECT id, 'AC' || lpad(hex(id), 20, '0') AS accrual_no, channel,
                   'bench:' || CAST(id AS VARCHAR) AS external_id, member_id,
                   institution_code, business_type, {ts("occurred_at")} AS occurred_at,
                   total_fen, refunded_fen, points, points_reversed,
                   CASE WHEN refunded_fen = total_fen THEN 'refunded'
                        WHEN available_on > CAST($end AS DATE) THEN 'pending'
                        ELSE 'available' END AS status,
                   CAST(available_on AS VARCHAR) AS available_on, '[]' AS sources,
                   '[]' AS breakdown,
                   to_json([{{'sku': 'SKU-' || business_type, 'category': 'food',
                              'quantity': 1, 'amount_fen': total_fen}}]) AS lines,
                   'cash' AS payment_method, {ts("occurred_at")} AS updated_at
            FROM accrual_points ORDER BY id
            """,
        ),
        (
            "points_engine_lot",
            f"""
            SELECT id, {base_account} + 2 * member_id
                       + CASE WHEN available_on > CAST($end AS DATE) THEN 1 ELSE 0 END
                       AS account_id,
                   id AS accrual_id, points AS initial,
                   CASE WHEN refunded_fen = total_fen OR expires_on < CAST($end AS DATE)
                        THEN 0 WHEN us < 0.5 THEN points ELSE points // 2 END AS remaining,
                   CASE WHEN refunded_fen < total_fen AND expires_on < CAST($end AS DATE)
                        AND us < 0.4 THEN points ELSE 0 END AS expired,
                   CASE WHEN refunded_fen = total_fen THEN 'reversed'
                        WHEN expires_on < CAST($end AS DATE) AND us < 0.4 THEN 'expired'
                        WHEN available_on > CAST($end AS DATE) THEN 'pending'
                        ELSE 'available' END AS status,
                   CAST(day AS VARCHAR) AS earned_on,
                   CAST(available_on AS VARCHAR) AS available_on,
                   CAST(expires_on AS VARCHAR) AS expires_on, institution_code,
                   {ts("occurred_at")} AS updated_at
            FROM accrual_points WHERE points > 0 ORDER BY id
            """,
        ),
        (
            "points_engine_posting",
            f"""
            WITH issuance AS (
                SELECT institution_code AS code, id AS account_id FROM account
                WHERE kind = 'issuance'
            ),
            moves AS (
                SELECT a.id * 8 AS id, a.id AS txn, 'accrual' AS type, i.account_id AS from_id,
                       {base_account} + 2 * a.member_id + CASE WHEN a.held THEN 1 ELSE 0 END
                           AS to_id,
                       a.points, 'accrual:AC' || lpad(hex(a.id), 20, '0') AS reference,
                       a.occurred_at
                FROM accrual_points a JOIN issuance i ON i.code = a.institution_code
                WHERE a.points > 0
                UNION ALL
                SELECT id * 8 + 1, id * 8 + 1, 'release', {base_account} + 2 * member_id + 1,
                       {base_account} + 2 * member_id, points, 'release:lot:' || id,
                       occurred_at + INTERVAL 7 DAY
                FROM accrual_points
                WHERE held AND points > 0 AND refunded_fen < total_fen
                  AND available_on <= CAST($end AS DATE)
                UNION ALL
                SELECT a.id * 8 + 2, a.id * 8 + 2, 'reversal', {base_account} + 2 * a.member_id,
                       i.account_id, a.points_reversed,
                       'accrual:AC' || lpad(hex(a.id), 20, '0'), a.occurred_at + INTERVAL 2 DAY
                FROM accrual_points a JOIN issuance i ON i.code = a.institution_code
                WHERE a.points_reversed > 0
                UNION ALL
                SELECT id * 8 + 3, id * 8 + 3, 'expiry', {base_account} + 2 * member_id,
                       {expiry_account}, points, 'expiry:lot:' || id,
                       at_local(expires_on + 1, 1800)
                FROM accrual_points
                WHERE refunded_fen < total_fen AND expires_on < CAST($end AS DATE)
                  AND us < 0.4 AND points > 0
            )
            SELECT id, 'TX' || lpad(hex(txn), 20, '0') AS txn_id, type,
                   from_id AS from_account_id, to_id AS to_account_id, points,
                   NULL AS from_balance_after, NULL AS to_balance_after, reference,
                   {ts("occurred_at")} AS occurred_at, {ts("occurred_at")} AS recorded_at,
                   NULL AS breakdown
            FROM moves ORDER BY id
            """,
        ),
    ]
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        for table, query in tables:
            params = {"end": end} if "$end" in query else None
            counts[table] = _copy(gen, connection, table, query, params)
    redemptions = max(100, purchases // 11)
    run(
        gen,
        f"""
        CREATE TEMP TABLE redemption AS
        SELECT i + 1 AS id,
               1 + CAST(hash(CAST(floor({members} * pow(unit(i, 'who'), 2)) AS BIGINT),
                             'rscatter') % {members} AS BIGINT) AS member_id,
               pick((SELECT list(code ORDER BY code) FROM reward WHERE points_cost > 1),
                    i, 'reward') AS reward_code,
               unit(i, 'cancel') < 0.03 AS cancelled,
               at_local(CAST($start AS DATE) + CAST(floor(unit(i, 'day') * {DAYS}) AS INTEGER),
                        32400 + floor(unit(i, 'hour') * 36000)) AS created_at
        FROM range({redemptions}) t(i)
        """,
        {"start": start},
    )
    first_posting = int(purchases * 8 + 8)
    with engine.begin() as connection:
        counts["points_engine_redemption"] = _copy(
            gen,
            connection,
            "points_engine_redemption",
            f"""
            SELECT r.id, 'RD' || lpad(hex(r.id), 20, '0') AS redemption_no, r.member_id,
                   r.reward_code, 1 AS quantity, w.points_cost AS points_spent,
                   w.cash_fen, CASE WHEN r.cancelled THEN 'cancelled' ELSE 'completed' END
                       AS status, 'app' AS channel, {ts("r.created_at")} AS created_at,
                   CASE WHEN r.cancelled THEN {ts("r.created_at + INTERVAL 1 DAY")} END
                       AS cancelled_at,
                   {ts("r.created_at")} AS updated_at
            FROM redemption r JOIN reward w ON w.code = r.reward_code ORDER BY r.id
            """,
        )
        counts["points_engine_posting"] += _copy(
            gen,
            connection,
            "points_engine_posting",
            f"""
            SELECT {first_posting} + r.id * 2 + back AS id,
                   'TR' || lpad(hex(r.id * 2 + back), 20, '0') AS txn_id,
                   CASE back WHEN 0 THEN 'redemption' ELSE 'redemption_cancel' END AS type,
                   CASE back WHEN 0 THEN {base_account} + 2 * r.member_id ELSE a.id END
                       AS from_account_id,
                   CASE back WHEN 0 THEN a.id ELSE {base_account} + 2 * r.member_id END
                       AS to_account_id,
                   w.points_cost AS points, NULL AS from_balance_after,
                   NULL AS to_balance_after,
                   CASE back WHEN 0 THEN 'redemption:' ELSE 'redemption_cancel:' END
                       || 'RD' || lpad(hex(r.id), 20, '0') AS reference,
                   {ts("r.created_at + back * INTERVAL 1 DAY")} AS occurred_at,
                   {ts("r.created_at + back * INTERVAL 1 DAY")} AS recorded_at,
                   NULL AS breakdown
            FROM redemption r JOIN reward w ON w.code = r.reward_code
            JOIN account a ON a.code = CASE w.kind WHEN 'partner_miles' THEN 'partner:'
                                       ELSE 'redemption:' END || w.code,
                 range(2) b(back)
            WHERE back = 0 OR r.cancelled
            ORDER BY 1
            """,
        )
    gen.close()
    return counts


def _copy(
    gen: duckdb.DuckDBPyConnection,
    connection: Any,
    table: str,
    query: str,
    params: Mapping[str, object] | None = None,
    batch: int = 50_000,
) -> int:
    """Rows of a DuckDB query inserted into the operational table of the same columns."""
    result = gen.execute(query, params)
    names = [column[0] for column in result.description]
    placeholders = ", ".join("?" for _ in names)
    insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders})"
    total = 0
    while rows := result.fetchmany(batch):
        connection.exec_driver_sql(insert, rows)
        total += len(rows)
    return total


# -- 2. the warehouse of ten million postings -------------------------------------------


def build_warehouse(path: Path, synced: Path, postings: int, end: date) -> int:
    """Generates the warehouse at `path`; returns its number of postings."""
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
    purchases = int(postings / POSTINGS_PER_PURCHASE) + 1
    start = end - timedelta(days=DAYS - 1)
    w = duckdb.connect(
        str(path), config={"autoinstall_known_extensions": False, "preserve_insertion_order": False}
    )
    run(w, "SET TimeZone = 'UTC'")
    run(w, "SET enable_progress_bar = false")
    for statement in (*DDL, *rollups.DDL):
        run(w, statement)
    literal = str(synced).replace("'", "''")
    run(w, f"ATTACH '{literal}' AS synced (READ_ONLY)")
    for table in REFERENCE_DIMENSIONS:
        run(w, f"INSERT INTO {table} SELECT * FROM synced.{table}")
    run(w, "DETACH synced")
    install_vocabulary(w, "SELECT code, kind, level FROM dim_institution")
    steps: list[tuple[str, Callable[[], None]]] = [
        ("campaigns", lambda: _campaigns(w, end)),
        ("members", lambda: _members(w, start)),
        ("purchases", lambda: _purchases(w, start, end, purchases)),
        ("postings and lots", lambda: _postings_and_lots(w, end)),
        ("redemptions", lambda: _redemptions(w, start, purchases)),
        ("orders, bills, mail, subscriptions", lambda: _commerce(w, start, end, purchases)),
        ("campaign groups and budgets", lambda: _campaign_groups(w)),
        # What a sync maintains as it loads, built by the sync's own code.
        ("rollups", lambda: _rollups(w)),
    ]
    for name, step in steps:
        began = time.perf_counter()
        step()
        say(f"  {name}: {time.perf_counter() - began:.0f} s")
    for key, value in (
        ("schema_version", str(SCHEMA_VERSION)),
        ("source", "bench.dashboards (generated)"),
        ("synced_at", pd.Timestamp.now(tz="UTC").isoformat()),
    ):
        run(w, "INSERT OR REPLACE INTO meta VALUES ($key, $value)", {"key": key, "value": value})
    run(w, "CHECKPOINT")
    count = int(scalar(w, "SELECT count(*) FROM fact_posting"))
    w.close()
    return count


def _rollups(w: duckdb.DuckDBPyConnection) -> None:
    for table, rows in rollups.rebuild(w).items():
        say(f"    {table}: {rows:,} rows")


def ensure_rollups(path: Path) -> None:
    """A warehouse generated with an older schema gets this version's rollups (and number)."""
    w = duckdb.connect(str(path), config={"autoinstall_known_extensions": False})
    try:
        run(w, "SET TimeZone = 'UTC'")
        run(w, "SET enable_progress_bar = false")
        version = scalar(w, "SELECT value FROM meta WHERE key = 'schema_version'")
        if version == str(SCHEMA_VERSION):
            return
        say(f"schema version {version}: building the rollups of version {SCHEMA_VERSION} ...")
        began = time.perf_counter()
        for (table,) in w.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'rollup_%'"
        ).fetchall():
            run(w, f"DROP TABLE {table}")
        for statement in rollups.DDL:
            run(w, statement)
        _rollups(w)
        run(
            w,
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', $value)",
            {"value": str(SCHEMA_VERSION)},
        )
        run(w, "CHECKPOINT")
        say(f"  rollups: {time.perf_counter() - began:.0f} s")
    finally:
        w.close()


def _campaigns(w: duckdb.DuckDBPyConnection, end: date) -> None:
    """The latest run of each festival season in the year up to `end` is a campaign."""
    days = w.execute(
        "SELECT day, festival FROM dim_date WHERE day BETWEEN $first AND $end "
        "AND festival IS NOT NULL ORDER BY day",
        {"first": end - timedelta(days=364), "end": end},
    ).fetchall()
    runs: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for day, festival in days:
        spans = runs[festival]
        if spans and spans[-1][1] == day - timedelta(days=1):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    for campaign_id, (festival, spans) in enumerate(runs.items(), start=1):
        # A season's tail from last year (a few days in the window) is no campaign.
        whole = [span for span in spans if (span[1] - span[0]).days >= 6]
        if not whole:
            continue
        first, last = whole[-1]
        stem, name, name_en, targets, multiplier, bonus = CAMPAIGNS[festival]
        run(
            w,
            "INSERT INTO dim_campaign VALUES ($code, $name, $name_en, $starts, $ends, 0, "
            "$holdout, $multiplier, $bonus, NULL, $target, $id)",
            {
                "code": f"{stem}-{first.year}",
                "name": f"{name} {first.year}",
                "name_en": f"{name_en} {first.year}",
                "starts": first,
                "ends": last,
                "holdout": HOLDOUT_PCT,
                "multiplier": multiplier,
                "bonus": bonus,
                "target": json.dumps({"business_types": list(targets)}),
                "id": campaign_id,
            },
        )
    run(
        w,
        """
        CREATE TEMP TABLE campaign_day AS
        SELECT key_of(CAST(d AS DATE)) AS date_key, c.code, c.campaign_id, c.multiplier_bp,
               c.bonus_points,
               CAST(json_extract(c.target_json, '$.business_types') AS VARCHAR[]) AS targets
        FROM dim_campaign c,
             generate_series(CAST(c.starts_on AS TIMESTAMP), CAST(c.ends_on AS TIMESTAMP),
                             INTERVAL 1 DAY) t(d)
        """,
    )


def _members(w: duckdb.DuckDBPyConnection, start: date) -> None:
    w.create_function("mask_phone", mask_phone, ["VARCHAR"], "VARCHAR")
    w.create_function("mask_name", mask_name, ["VARCHAR"], "VARCHAR")
    surnames = [*SURNAMES]
    run(
        w,
        f"""
        INSERT INTO dim_member
        WITH base AS (
            SELECT i + 1 AS id,
                   -- a quarter joined before the two years shown, more joined lately
                   CAST($start AS DATE) - 730
                       + CAST(floor(pow(unit(i, 'reg'), 0.8) * ({DAYS} + 730)) AS INTEGER)
                       AS reg_day,
                   channel_of(unit(i, 'chan')) AS channel, unit(i, 'tier') AS ut,
                   '1' || pick(['33', '35', '38', '39', '50', '52', '58', '86', '88', '89'],
                               i, 'prefix')
                       || lpad(CAST(hash(i, 'phone') % 100000000 AS VARCHAR), 8, '0') AS phone,
                   pick($surnames, i, 'surname') || pick($given, i, 'given') AS name
            FROM range({MEMBERS}) t(i)
        )
        SELECT id, 'M' || lpad(CAST(id AS VARCHAR), 11, '0'), phone, mask_phone(phone), name,
               mask_name(name),
               CASE WHEN ut < 0.70 THEN 'regular' WHEN ut < 0.88 THEN 'silver'
                    WHEN ut < 0.97 THEN 'gold' ELSE 'diamond' END,
               CASE WHEN id % 250 = 0 THEN 'merged' ELSE 'active' END,
               CASE WHEN id % 250 = 0 THEN id - 1 END,
               CASE WHEN id % 250 = 0 THEN id - 1 ELSE id END,
               at_local(reg_day, 32400 + hash(id, 'sec') % 43200), key_of(reg_day), channel,
               place_of(channel, id), CAST(1950 + hash(id, 'born') % 55 AS SMALLINT),
               unit(id, 'consent') < 0.7,
               at_local(reg_day, 32400 + hash(id, 'sec') % 43200)
        FROM base
        """,
        {"start": start, "surnames": surnames, "given": list(GIVEN)},
    )


def _purchases(w: duckdb.DuckDBPyConnection, start: date, end: date, purchases: int) -> None:
    """Purchases over the two years, plus extra ones by members who got a campaign's
    offer during its window: the uplift the holdout groups measure."""
    extra = purchases // 12
    run(
        w,
        "CREATE TEMP TABLE member_day AS "
        "SELECT member_id, CAST(strptime(CAST(registered_date_key AS VARCHAR), '%Y%m%d') "
        "AS DATE) AS reg_day FROM dim_member",
    )
    run(
        w,
        f"""
        CREATE TEMP TABLE drawn AS
        SELECT i + 1 AS accrual_id,
               1 + CAST(hash(CAST(floor({MEMBERS} * pow(unit(i, 'who'), 2.2)) AS BIGINT),
                             'scatter') % {MEMBERS} AS BIGINT) AS member_id,
               unit(i, 'day') AS ud, business_of(unit(i, 'biz')) AS business_type
        FROM range({purchases}) t(i)
        """,
    )
    run(
        w,
        """
        CREATE TEMP TABLE purchase AS
        SELECT d.accrual_id, d.member_id, d.business_type,
               greatest(m.reg_day, CAST($start AS DATE))
                   + CAST(floor(d.ud * (CAST($end AS DATE)
                       - greatest(m.reg_day, CAST($start AS DATE)) + 1)) AS INTEGER) AS day
        FROM drawn d JOIN member_day m USING (member_id)
        """,
        {"start": start, "end": end},
    )
    run(
        w,
        f"""
        INSERT INTO purchase
        SELECT {purchases} + d.i + 1, d.member_id, pick(d.chosen.targets, d.i, 'target'),
               d.day
        FROM (
            SELECT i, chosen, chosen.code AS code,
                   CAST(strptime(CAST(chosen.date_key AS VARCHAR), '%Y%m%d') AS DATE) AS day,
                   1 + CAST(hash(i, 'extra-member') % {MEMBERS} AS BIGINT) AS member_id
            FROM (
                SELECT i, pick(l.days, i, 'campaign-day') AS chosen
                FROM range({extra}) t(i),
                     (SELECT list(c ORDER BY c.date_key, c.code) AS days
                      FROM campaign_day c) l
            )
        ) d JOIN member_day m USING (member_id)
        WHERE m.reg_day <= d.day AND NOT hash(d.code, d.member_id) % 100 < {HOLDOUT_PCT}
        """,
    )
    run(w, "DROP TABLE drawn")
    run(
        w,
        f"""
        CREATE TEMP TABLE accrual AS
        WITH placed AS (
            SELECT p.*, channel_of(unit(accrual_id, 'chan')) AS channel,
                   amount_of(p.business_type, unit(accrual_id, 'amount')) AS total_fen,
                   unit(accrual_id, 'refund') AS ur, unit(accrual_id, 'hour') AS uh,
                   key_of(p.day) AS date_key
            FROM purchase p
        ),
        earned AS (
            SELECT pl.*, place_of(pl.channel, pl.accrual_id) AS institution_code,
                   total_fen // 100 AS base_points,
                   CASE WHEN cd.code IS NULL THEN 0
                        WHEN cd.multiplier_bp > 0
                            THEN (total_fen // 100) * (cd.multiplier_bp - 10000) // 10000
                        ELSE cd.bonus_points END AS bonus_points,
                   cd.code AS campaign_code, cd.campaign_id,
                   CASE WHEN ur < 0.015 THEN total_fen WHEN ur < 0.035 THEN total_fen // 3
                        ELSE 0 END AS refunded_fen
            FROM placed pl
            LEFT JOIN campaign_day cd
              ON cd.date_key = pl.date_key AND list_contains(cd.targets, pl.business_type)
             AND NOT hash(cd.code, pl.member_id) % 100 < {HOLDOUT_PCT}
        )
        SELECT *, base_points + bonus_points AS points,
               base_points * refunded_fen // total_fen AS base_reversed,
               bonus_points * refunded_fen // total_fen AS bonus_reversed,
               at_local(day, 28800 + floor(uh * 46800)) AS occurred_at,
               business_type = 'goods' AS held,
               day + CASE WHEN business_type = 'goods' THEN 7 ELSE 0 END AS available_on,
               make_date(year(day) + 1, 12, 31) AS expires_on,
               'AC' || lpad(hex(accrual_id), 20, '0') AS accrual_no
        FROM earned
        """,
    )
    run(w, "DROP TABLE purchase")
    run(
        w,
        """
        INSERT INTO fact_accrual
        SELECT accrual_id, accrual_no, channel, member_id, institution_code, business_type,
               occurred_at, date_key, total_fen, refunded_fen, total_fen - refunded_fen,
               points, base_reversed + bonus_reversed,
               CASE WHEN refunded_fen = total_fen THEN 'refunded'
                    WHEN available_on > CAST($end AS DATE) THEN 'pending'
                    ELSE 'available' END,
               pick(['cash', 'wechat', 'alipay', 'card'], accrual_id, 'pay'),
               channel IN ('web', 'app') AND business_type = 'goods'
                   AND unit(accrual_id, 'order') < 0.4,
               occurred_at,
               CASE WHEN bonus_points > 0 THEN [campaign_id] ELSE [] END
        FROM accrual
        """,
        {"end": end},
    )
    run(
        w,
        """
        CREATE TEMP TABLE catalogue AS
        SELECT business_type, list(sku ORDER BY sku) AS skus,
               list(category ORDER BY sku) AS categories
        FROM dim_product GROUP BY business_type
        """,
    )
    run(
        w,
        """
        INSERT INTO fact_accrual_line
        SELECT a.accrual_id, 1,
               COALESCE(k.skus[1 + CAST(hash(a.accrual_id, 'sku') % len(k.skus) AS INTEGER)],
                        upper(a.business_type)),
               COALESCE(k.categories[1 + CAST(hash(a.accrual_id, 'sku') % len(k.skus)
                                              AS INTEGER)], 'service'),
               1, a.total_fen, a.date_key
        FROM accrual a LEFT JOIN catalogue k USING (business_type)
        """,
    )


def _postings_and_lots(w: duckdb.DuckDBPyConnection, end: date) -> None:
    """What the ledger books for each purchase: base points from the institution's
    issuance account and campaign points from the budget (to pending while goods may
    still be returned), their release a week later, reversals of refunds, and the expiry
    of what was left unspent at the end of the following year."""
    run(
        w,
        """
        CREATE TEMP TABLE lot AS
        SELECT accrual_id, member_id, institution_code, channel, points, day, available_on,
               expires_on, occurred_at, held, refunded_fen = total_fen AS reversed,
               unit(accrual_id, 'spend') AS us,
               expires_on < CAST($end AS DATE) AS past
        FROM accrual WHERE points > 0
        """,
        {"end": end},
    )
    run(
        w,
        """
        INSERT INTO fact_lot
        SELECT accrual_id, member_id, accrual_id, institution_code, points,
               CASE WHEN reversed OR past THEN 0 WHEN us < 0.45 THEN points
                    WHEN us < 0.75 THEN points // 2 ELSE 0 END,
               CASE WHEN NOT reversed AND past AND us < 0.4 THEN points ELSE 0 END,
               CASE WHEN reversed THEN 'reversed' WHEN past AND us < 0.4 THEN 'expired'
                    WHEN available_on > CAST($end AS DATE) THEN 'pending'
                    ELSE 'available' END,
               day, key_of(day), available_on, expires_on, occurred_at, channel
        FROM lot
        """,
        {"end": end},
    )
    member_side = "CASE WHEN held THEN 'member_pending' ELSE 'member_available' END"
    run(
        w,
        f"""
        INSERT INTO fact_posting
        SELECT accrual_id * 8, 'TX' || lpad(hex(accrual_id), 20, '0'), 'accrual', occurred_at,
               date_key, base_points, 'issuance', {member_side}, member_id, base_points,
               institution_code, NULL, NULL, 'accrual:' || accrual_no, accrual_id
        FROM accrual WHERE base_points > 0
        UNION ALL
        SELECT accrual_id * 8 + 1, 'TX' || lpad(hex(accrual_id), 20, '0'), 'accrual',
               occurred_at, date_key, bonus_points, 'campaign_budget', {member_side},
               member_id, bonus_points, NULL, campaign_code, NULL, 'accrual:' || accrual_no,
               accrual_id
        FROM accrual WHERE bonus_points > 0
        UNION ALL
        SELECT accrual_id * 8 + 2, 'TR' || lpad(hex(accrual_id), 20, '0'), 'release',
               occurred_at + INTERVAL 7 DAY, key_of(available_on), points, 'member_pending',
               'member_available', member_id, 0, NULL, NULL, NULL,
               'release:lot:' || accrual_id, NULL
        FROM accrual
        WHERE held AND points > 0 AND refunded_fen < total_fen
          AND available_on <= CAST($end AS DATE)
        UNION ALL
        SELECT accrual_id * 8 + 3, 'TV' || lpad(hex(accrual_id), 20, '0'), 'reversal',
               least(occurred_at + INTERVAL 2 DAY, at_local(CAST($end AS DATE), 79200)),
               key_of(least(day + 2, CAST($end AS DATE))), base_reversed, 'member_available',
               'issuance', member_id, -base_reversed, institution_code, NULL, NULL,
               'accrual:' || accrual_no, NULL
        FROM accrual WHERE base_reversed > 0
        UNION ALL
        SELECT accrual_id * 8 + 4, 'TV' || lpad(hex(accrual_id), 20, '0'), 'reversal',
               least(occurred_at + INTERVAL 2 DAY, at_local(CAST($end AS DATE), 79200)),
               key_of(least(day + 2, CAST($end AS DATE))), bonus_reversed,
               'member_available', 'campaign_budget', member_id, -bonus_reversed, NULL,
               campaign_code, NULL, 'accrual:' || accrual_no, NULL
        FROM accrual WHERE bonus_reversed > 0
        """,
        {"end": end},
    )
    run(
        w,
        """
        INSERT INTO fact_posting
        SELECT accrual_id * 8 + 5, 'TE' || lpad(hex(accrual_id), 20, '0'), 'expiry',
               at_local(expires_on + 1, 1800), key_of(expires_on + 1), points,
               'member_available', 'expiry', member_id, -points, NULL, NULL, NULL,
               'expiry:lot:' || accrual_id, NULL
        FROM lot WHERE NOT reversed AND past AND us < 0.4
        """,
    )
    run(w, "DROP TABLE lot")


def _redemptions(w: duckdb.DuckDBPyConnection, start: date, purchases: int) -> None:
    count = max(100, purchases // 11)
    first = (purchases * 2 + 10) * 8
    run(
        w,
        f"""
        CREATE TEMP TABLE redemption AS
        SELECT i + 1 AS redemption_id,
               1 + CAST(hash(CAST(floor({MEMBERS} * pow(unit(i, 'who'), 2)) AS BIGINT),
                             'scatter') % {MEMBERS} AS BIGINT) AS member_id,
               pick((SELECT list(code ORDER BY code) FROM dim_reward WHERE points_cost > 1),
                    i, 'reward') AS reward_code,
               CASE WHEN unit(i, 'quantity') < 0.05 THEN 2 ELSE 1 END AS quantity,
               unit(i, 'cancel') < 0.03 AS cancelled,
               pick(['app', 'web', 'counter'], i, 'channel') AS channel,
               CAST($start AS DATE) + CAST(floor(unit(i, 'day') * {DAYS}) AS INTEGER) AS day,
               unit(i, 'hour') AS uh
        FROM range({count}) t(i)
        """,
        {"start": start},
    )
    run(
        w,
        """
        INSERT INTO fact_redemption
        SELECT r.redemption_id, 'RD' || lpad(hex(r.redemption_id), 20, '0'), r.member_id,
               r.reward_code, r.quantity, w.points_cost * r.quantity, w.cash_fen * r.quantity,
               CASE WHEN r.cancelled THEN 'cancelled' ELSE 'completed' END, r.channel,
               at_local(r.day, 32400 + floor(r.uh * 39600)), key_of(r.day),
               CASE WHEN r.cancelled THEN at_local(r.day + 1, 36000) END
        FROM redemption r JOIN dim_reward w ON w.code = r.reward_code
        """,
    )
    run(
        w,
        f"""
        INSERT INTO fact_posting
        SELECT {first} + r.redemption_id * 2, 'TR' || lpad(hex(r.redemption_id), 20, '0'),
               'redemption', at_local(r.day, 32400 + floor(r.uh * 39600)), key_of(r.day),
               w.points_cost * r.quantity, 'member_available',
               CASE w.kind WHEN 'partner_miles' THEN 'partner' ELSE 'redemption' END,
               r.member_id, -w.points_cost * r.quantity, NULL, NULL, r.reward_code,
               'redemption:RD' || lpad(hex(r.redemption_id), 20, '0'), NULL
        FROM redemption r JOIN dim_reward w ON w.code = r.reward_code
        UNION ALL
        SELECT {first} + r.redemption_id * 2 + 1, 'TC' || lpad(hex(r.redemption_id), 20, '0'),
               'redemption_cancel', at_local(r.day + 1, 36000), key_of(r.day + 1),
               w.points_cost * r.quantity,
               CASE w.kind WHEN 'partner_miles' THEN 'partner' ELSE 'redemption' END,
               'member_available', r.member_id, w.points_cost * r.quantity, NULL, NULL,
               r.reward_code, 'redemption_cancel:RD' || lpad(hex(r.redemption_id), 20, '0'), NULL
        FROM redemption r JOIN dim_reward w ON w.code = r.reward_code WHERE r.cancelled
        """,
    )
    run(w, "DROP TABLE redemption")


def _commerce(w: duckdb.DuckDBPyConnection, start: date, end: date, purchases: int) -> None:
    """Orders (most collected at a post office, some left to expire), their lines, bill
    payments, mailings and press subscriptions."""
    orders, services, subscriptions = purchases // 10, purchases // 9, purchases // 100
    run(
        w,
        f"""
        CREATE TEMP TABLE order_draw AS
        SELECT i + 1 AS order_id,
               1 + CAST(hash(CAST(floor({MEMBERS} * pow(unit(i, 'who'), 2)) AS BIGINT),
                             'oscatter') % {MEMBERS} AS BIGINT) AS member_id,
               CASE WHEN unit(i, 'chan') < 0.55 THEN 'app' WHEN unit(i, 'chan') < 0.85
                    THEN 'web' ELSE 'counter' END AS channel,
               unit(i, 'fulfil') < 0.6 AS pickup, unit(i, 'fate') AS fate,
               CAST($start AS DATE) + CAST(floor(unit(i, 'day') * {DAYS}) AS INTEGER) AS day,
               990 + CAST(floor(pow(unit(i, 'amount'), 2) * 40000) AS BIGINT) AS total_fen,
               unit(i, 'wait') AS wait
        FROM range({orders}) t(i)
        """,
        {"start": start},
    )
    run(
        w,
        """
        INSERT INTO fact_order
        WITH placed AS (
            SELECT *, at_local(day, 32400 + floor(wait * 43200)) AS created_at,
                   CASE WHEN NOT pickup THEN
                            CASE WHEN day + 3 <= CAST($end AS DATE) THEN 'delivered'
                                 ELSE 'shipped' END
                        WHEN fate < 0.82 AND day + 1 <= CAST($end AS DATE) THEN 'picked_up'
                        WHEN day + 10 < CAST($end AS DATE) AND fate < 0.9 THEN 'expired'
                        WHEN day + 10 < CAST($end AS DATE) THEN 'picked_up'
                        ELSE 'ready_for_pickup' END AS status
            FROM order_draw
        )
        SELECT order_id, 'OD' || lpad(hex(order_id), 16, '0'), member_id, channel,
               place_of(channel, order_id), CASE WHEN pickup THEN 'pickup' ELSE 'delivery' END,
               CASE WHEN pickup THEN pick((SELECT outlets FROM places), order_id, 'pickup') END,
               CASE WHEN channel = 'counter' THEN 'cash' ELSE 'online' END, status, total_fen,
               0, 0, total_fen, total_fen, created_at, key_of(day),
               created_at + INTERVAL 2 MINUTE,
               CASE WHEN status IN ('picked_up', 'delivered')
                    THEN created_at + to_seconds(CAST(3600 + wait * 86400 * 4 AS BIGINT)) END,
               CASE WHEN pickup THEN day + 10 END,
               created_at + INTERVAL 1 DAY
        FROM placed
        """,
        {"end": end},
    )
    run(
        w,
        """
        INSERT INTO fact_order_line
        WITH goods AS (
            SELECT list(sku ORDER BY sku) AS skus FROM dim_product WHERE business_type = 'goods'
        ),
        lines AS (
            SELECT o.order_id, o.date_key, n,
                   pick((SELECT skus FROM goods), o.order_id * 4 + n, 'sku') AS sku,
                   1 + CAST(hash(o.order_id, n, 'qty') % 2 AS INTEGER) AS quantity
            FROM fact_order o,
                 range(1 + CAST(hash(o.order_id, 'lines') % 3 = 0 AS INTEGER)) r(n)
        )
        SELECT l.order_id * 4 + l.n, l.order_id, p.sku, p.category, p.business_type,
               l.quantity, p.price_fen, p.price_fen * l.quantity, l.date_key
        FROM lines l JOIN dim_product p USING (sku)
        """,
    )
    run(w, "DROP TABLE order_draw")
    run(
        w,
        f"""
        INSERT INTO fact_bill_payment
        WITH drawn AS (
            SELECT i + 1 AS id, pick(['SH-WATER-CTWS', 'SH-POWER-SGCC', 'SH-GAS',
                                      'SH-CT-BROADBAND', 'SH-CU-LANDLINE'], i, 'biller')
                       AS biller_code,
                   CASE WHEN unit(i, 'chan') < 0.5 THEN 'counter' WHEN unit(i, 'chan') < 0.8
                        THEN 'app' ELSE 'web' END AS channel,
                   CAST($start AS DATE) + CAST(floor(unit(i, 'day') * {DAYS}) AS INTEGER)
                       AS day,
                   3000 + CAST(floor(unit(i, 'amount') * 40000) AS BIGINT) AS amount_fen,
                   unit(i, 'member') < 0.8 AS known, unit(i, 'status') AS us
            FROM range({services}) t(i)
        )
        SELECT id, 'BP' || lpad(hex(id), 16, '0'),
               CASE WHEN known THEN 1 + CAST(hash(id, 'bill-member') % {MEMBERS} AS BIGINT) END,
               biller_code,
               CASE biller_code WHEN 'SH-WATER-CTWS' THEN 'water'
                    WHEN 'SH-POWER-SGCC' THEN 'electricity' WHEN 'SH-GAS' THEN 'gas'
                    WHEN 'SH-CT-BROADBAND' THEN 'broadband' ELSE 'landline' END,
               channel, place_of(channel, id), amount_fen,
               CASE WHEN us < 0.96 THEN 'paid' WHEN us < 0.99 THEN 'failed' ELSE 'reversed' END,
               CASE WHEN known AND us < 0.96 THEN amount_fen // 100 ELSE 0 END,
               at_local(day, 32400 + hash(id, 'sec') % 36000), key_of(day),
               at_local(day, 32400 + hash(id, 'sec') % 36000)
        FROM drawn
        """,
        {"start": start},
    )
    run(
        w,
        f"""
        INSERT INTO fact_mailing
        WITH drawn AS (
            SELECT i + 1 AS id, unit(i, 'service') AS us,
                   CASE WHEN unit(i, 'chan') < 0.85 THEN 'counter' ELSE 'app' END AS channel,
                   CAST($start AS DATE) + CAST(floor(unit(i, 'day') * {DAYS}) AS INTEGER)
                       AS day,
                   unit(i, 'member') < 0.7 AS known
            FROM range({services}) t(i)
        )
        SELECT id, 'EE' || lpad(CAST(id AS VARCHAR), 9, '0') || 'CN',
               CASE WHEN known THEN 1 + CAST(hash(id, 'mail-member') % {MEMBERS} AS BIGINT) END,
               CASE WHEN us < 0.35 THEN 'letter' WHEN us < 0.6 THEN 'registered'
                    WHEN us < 0.9 THEN 'parcel' ELSE 'ems' END AS service,
               CASE WHEN us < 0.35 THEN 120 WHEN us < 0.6 THEN 500 WHEN us < 0.9
                    THEN 1200 + hash(id, 'fee') % 2000 ELSE 2200 + hash(id, 'fee') % 3000 END,
               channel, place_of('counter', id),
               CASE WHEN day + 3 < CAST($end AS DATE) THEN 'delivered' ELSE 'in_transit' END,
               CASE WHEN known THEN 1 ELSE 0 END,
               at_local(day, 32400 + hash(id, 'sec') % 36000), key_of(day),
               at_local(day, 32400 + hash(id, 'sec') % 36000)
        FROM drawn
        """,
        {"start": start, "end": end},
    )
    run(
        w,
        f"""
        INSERT INTO fact_subscription
        WITH drawn AS (
            SELECT i + 1 AS id, pick(['monthly', 'quarterly', 'annual'], i, 'term') AS term,
                   pick(['JFRB', 'XMWB', 'WHB', 'QNB', 'SHZB', 'DZRB'], i, 'title') AS title,
                   CASE WHEN unit(i, 'chan') < 0.5 THEN 'counter' WHEN unit(i, 'chan') < 0.8
                        THEN 'hotline' ELSE 'app' END AS channel,
                   CAST($start AS DATE) + CAST(floor(unit(i, 'day') * {DAYS}) AS INTEGER)
                       AS day,
                   unit(i, 'cancel') < 0.03 AS cancelled
            FROM range({subscriptions}) t(i)
        ),
        priced AS (
            SELECT *, CASE term WHEN 'monthly' THEN 1 WHEN 'quarterly' THEN 3 ELSE 12 END
                          AS months,
                   CAST(date_trunc('month', day) AS DATE) + INTERVAL 1 MONTH AS first_day
            FROM drawn
        )
        SELECT id, 'SB' || lpad(hex(id), 12, '0'),
               1 + CAST(hash(id, 'sub-member') % {MEMBERS} AS BIGINT), title, term, channel,
               place_of(channel, id), months * 4500,
               CASE WHEN cancelled THEN months * 1500 ELSE 0 END, months * 45,
               CASE WHEN cancelled THEN 'cancelled' ELSE 'active' END,
               CAST(first_day AS DATE),
               CAST(first_day + to_months(months) - INTERVAL 1 DAY AS DATE),
               at_local(day, 36000), key_of(day), at_local(day, 36000)
        FROM priced
        """,
        {"start": start},
    )


def _campaign_groups(w: duckdb.DuckDBPyConnection) -> None:
    """Every member registered by a campaign's end, in its holdout group or not (the
    same draw the purchases used); budgets a little above what was awarded."""
    run(
        w,
        """
        INSERT INTO dim_campaign_member
        SELECT c.code, m.member_id, hash(c.code, m.member_id) % 100 < c.holdout_pct
        FROM dim_campaign c JOIN dim_member m ON m.registered_date_key <= key_of(c.ends_on)
        """,
    )
    run(
        w,
        """
        UPDATE dim_campaign SET budget_points = awarded.budget
        FROM (
            SELECT campaign_code, CAST(ceil(sum(points) * 1.25 / 100000) * 100000 AS BIGINT)
                       AS budget
            FROM fact_posting WHERE type = 'accrual' AND campaign_code IS NOT NULL
            GROUP BY campaign_code
        ) awarded
        WHERE dim_campaign.code = awarded.campaign_code
        """,
    )
    run(w, "UPDATE dim_campaign SET budget_points = 100000 WHERE budget_points = 0")


# -- 3. callbacks against raw queries ----------------------------------------------------


class RecordingReader:
    """The warehouse reader, noting the SQL it runs while `log` is a list."""

    def __init__(self, inner: WarehouseReader) -> None:
        self.inner = inner
        self.log: list[tuple[str, dict[str, object]]] | None = None

    @property
    def version(self) -> str:
        return self.inner.version

    def query(self, sql: str, params: Mapping[str, object]) -> pd.DataFrame:
        if self.log is not None:
            self.log.append((sql, dict(params)))
        return self.inner.query(sql, params)


@dataclass(frozen=True)
class View:
    name: str
    store: dict[str, str]


@dataclass(frozen=True)
class Timing:
    """One run of a callback for a view, and of its SQL on the raw connection, in ms."""

    page: str
    callback: str
    view: str
    callback_ms: float
    raw_ms: float


PAGES = {
    "overview": "/dashboards/",
    "campaigns": "/dashboards/campaigns",
    "channels": "/dashboards/channels",
    "members": "/dashboards/members",
    "insights": "/dashboards/insights",
    "points": "/dashboards/points",
}
DETAIL_OUTPUTS = {"campaigns-detail-kpis", "campaigns-chart-groups", "campaigns-grid-daily"}


# The views every page is judged on, and narrower ones measured with `--filtered`.
REQUIRED_VIEWS = ("default", "one-year", "campaign", "campaign, one-year")


def views(reader: WarehouseReader, end: date, filtered: bool = False) -> list[View]:
    """default: the 30 days ending yesterday, every filter open; one-year: 365 days;
    campaign: the latest finished campaign chosen and its window as the period;
    campaign, one-year: that campaign chosen over a year, the view the Campaigns page
    (a year by default) opens from its list. `filtered` adds narrower views."""

    def period(days: int, **filters: str) -> dict[str, str]:
        return {
            "from": (end - timedelta(days=days - 1)).isoformat(),
            "to": end.isoformat(),
            **filters,
        }

    chosen = reader.query(
        "SELECT code, starts_on, ends_on FROM dim_campaign WHERE ends_on <= $end "
        "ORDER BY ends_on DESC LIMIT 1",
        {"end": end},
    ).iloc[0]
    campaign = str(chosen["code"])
    window = {
        "from": pd.Timestamp(chosen["starts_on"]).date().isoformat(),
        "to": pd.Timestamp(chosen["ends_on"]).date().isoformat(),
        "campaign": campaign,
    }
    found = [
        View("default", period(30)),
        View("one-year", period(365)),
        View("campaign", window),
        View("campaign, one-year", period(365, campaign=campaign)),
    ]
    if not filtered:
        return found
    district = str(
        reader.query(
            "SELECT code FROM dim_institution WHERE kind = 'district' ORDER BY code LIMIT 1", {}
        )["code"].iloc[0]
    )
    outlet = str(
        reader.query(
            "SELECT code FROM dim_institution WHERE kind = 'outlet' AND district_code = $d "
            "ORDER BY code LIMIT 1",
            {"d": district},
        )["code"].iloc[0]
    )
    return [
        *found,
        View("7 days, district", period(7, inst=district)),
        View("90 days, counter", period(90, channel="counter")),
        View("30 days, outlet, counter", period(30, inst=outlet, channel="counter")),
    ]


# What a grid asks for when it opens: its first page, unsorted and unfiltered.
FIRST_GRID_PAGE = {"startRow": 0, "endRow": 50, "sortModel": [], "filterModel": {}}


def page_callbacks(dash: DashClient, prefix: str) -> list[tuple[str, str | None]]:
    """The first output id of each callback a page's filters drive, with the grid whose
    page request drives it (None: the page's filter store does)."""
    found: list[tuple[str, str | None]] = []
    for dependency in dash.dependencies:
        first = dependency["output"].strip(".").split("...")[0].split("@")[0]
        output = first.rsplit(".", 1)[0]
        if any(
            i["id"] == f"{prefix}-query" and i["property"] == "data" for i in dependency["inputs"]
        ):
            found.append((output, None))
        elif any(
            i["id"].startswith(f"{prefix}-grid-") and i["property"] == "getRowsRequest"
            for i in dependency["inputs"]
        ):
            found.append((output, output))
    return found


def applies(output: str, view: View) -> bool:
    """Campaign detail blocks exist only with a campaign chosen, the list only without."""
    if not output.startswith("campaigns-"):
        return True
    return (output in DETAIL_OUTPUTS) == bool(view.store.get("campaign"))


def measure_callbacks(
    path: Path, end: date, repeat: int, filtered: bool = False
) -> tuple[list[Timing], dict[str, list[float]]]:
    """Callback and raw timings; and each page's layout render times (ms)."""
    # Every callback computes its answer: a kept result would time the cache, not the SQL.
    inner = WarehouseReader(path, keep_results=False)
    reader = RecordingReader(inner)
    app = Flask("bench-dashboards")
    dashboards.mount(
        app,
        reader=reader,
        accounts=BENCH_ACCOUNTS,
        secret_key=SECRET,
        today=lambda: end,
    )
    client = app.test_client()
    cookie = Sessions(SECRET, BENCH_ACCOUNTS, lambda: None).sign(BENCH_SESSION)
    client.set_cookie(SESSION_COOKIE, cookie, path=COOKIE_PATH)
    dash = DashClient(client)
    raw = duckdb.connect(str(path), read_only=True)
    run(raw, "SET TimeZone = 'UTC'")
    chosen = views(inner, end, filtered)
    timings: list[Timing] = []
    layouts: dict[str, list[float]] = defaultdict(list)

    def post(output: str, inputs: dict[str, Any], state: dict[str, Any] | None = None) -> float:
        began = time.perf_counter()
        answer = dash.call(output, inputs, state)
        elapsed = (time.perf_counter() - began) * 1000
        if answer.status_code != 200:
            raise RuntimeError(
                f"{output}: {answer.status_code} {answer.get_data(as_text=True)[:300]}"
            )
        return elapsed

    def replay(statements: Sequence[tuple[str, Mapping[str, object]]]) -> float:
        began = time.perf_counter()
        for sql, params in statements:
            raw.execute(sql, params).fetchall()
        return (time.perf_counter() - began) * 1000

    for prefix, page_path in PAGES.items():
        outputs = page_callbacks(dash, prefix)
        say(f"  {prefix}: {len(outputs)} callbacks x {len(chosen)} views x {repeat}")
        for view in chosen:
            search = "?" + "&".join(f"{k}={v}" for k, v in view.store.items())
            location = {"_pages_location.pathname": page_path, "_pages_location.search": search}
            post("_pages_content", location)
            for _ in range(repeat):
                layouts[prefix].append(post("_pages_content", location))
            for output, grid in outputs:
                if not applies(output, view):
                    continue
                inputs: dict[str, Any] = {f"{prefix}-query.data": view.store}
                state: dict[str, Any] | None = None
                if grid is not None:  # a grid's first page, as it opens with the view
                    inputs, state = {f"{grid}.getRowsRequest": FIRST_GRID_PAGE}, inputs
                post(output, inputs, state)  # warm: caches, first plans
                reader.log = []
                post(output, inputs, state)
                statements, reader.log = reader.log, None
                replay(statements)
                for _ in range(repeat):
                    took = post(output, inputs, state)
                    timings.append(Timing(prefix, output, view.name, took, replay(statements)))
    raw.close()
    inner.close()
    return timings, layouts


# -- report ---------------------------------------------------------------------------------


def p(values: Sequence[float], fraction: float) -> float:
    return percentile(sorted(values), fraction)


def figures_of(chosen: Sequence[Timing]) -> dict[str, float]:
    """p50/p95 of the callbacks and of their SQL run raw, and the ratio of the p95s."""
    callback, raw = [t.callback_ms for t in chosen], [t.raw_ms for t in chosen]
    figures = {
        "callback_p50_ms": p(callback, 0.5),
        "callback_p95_ms": p(callback, 0.95),
        "raw_p50_ms": p(raw, 0.5),
        "raw_p95_ms": p(raw, 0.95),
    }
    figures["ratio"] = figures["callback_p95_ms"] / max(figures["raw_p95_ms"], 0.001)
    return figures


@dataclass(frozen=True)
class Report:
    pages: dict[str, dict[str, float]]
    # page -> view -> figures
    views: dict[str, dict[str, dict[str, float]]]


def report(timings: Sequence[Timing], layouts: Mapping[str, list[float]]) -> Report:
    """Prints the figures per page, per callback and per page and view."""
    pages: dict[str, dict[str, float]] = {}
    by_view: dict[str, dict[str, dict[str, float]]] = {}
    say("")
    say(f"{'page / callback':44} {'cb p50':>8} {'cb p95':>8} {'raw p50':>8} {'raw p95':>8} ratio")

    def line(label: str, chosen: Sequence[Timing]) -> dict[str, float]:
        figures = figures_of(chosen)
        say(
            f"{label:44} {figures['callback_p50_ms']:8.1f} {figures['callback_p95_ms']:8.1f} "
            f"{figures['raw_p50_ms']:8.1f} {figures['raw_p95_ms']:8.1f} {figures['ratio']:5.2f}"
        )
        return figures

    page_names = list(dict.fromkeys(t.page for t in timings))
    view_names = list(dict.fromkeys(t.view for t in timings))
    for page in page_names:
        mine = [t for t in timings if t.page == page]
        pages[page] = line(page.upper(), mine)
        pages[page]["layout_p95_ms"] = p(layouts[page], 0.95)
        callbacks = list(dict.fromkeys(t.callback for t in mine))
        by_p95 = sorted(
            callbacks, key=lambda c: -p([t.callback_ms for t in mine if t.callback == c], 0.95)
        )
        for callback in by_p95:
            line(f"  {callback}", [t for t in mine if t.callback == callback])
        say(f"  {'(page layout on navigation)':42} {'':8} {pages[page]['layout_p95_ms']:8.1f}")
    say("")
    say("per page and view:")
    say(f"{'page / view':44} {'cb p50':>8} {'cb p95':>8} {'raw p50':>8} {'raw p95':>8} ratio")
    for page in page_names:
        by_view[page] = {}
        for view in view_names:
            chosen = [t for t in timings if t.page == page and t.view == view]
            if chosen:
                by_view[page][view] = line(f"{page} / {view}", chosen)
    return Report(pages, by_view)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postings", type=int, default=10_000_000)
    parser.add_argument("--sync-postings", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per callback and view")
    parser.add_argument("--work", type=Path, help="keep (and reuse) the files here")
    parser.add_argument("--rebuild", action="store_true", help="regenerate kept files")
    parser.add_argument(
        "--filtered", action="store_true", help="also time narrower views (district, channel)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-dashboards-"))
    work.mkdir(parents=True, exist_ok=True)
    end = date.today() - timedelta(days=1)
    warehouse_path = work / "warehouse.duckdb"
    figures_path = work / "build.json"
    try:
        built = json.loads(figures_path.read_text()) if figures_path.exists() else None
        if args.rebuild or built is None or built["end"] != end.isoformat():
            sync = measure_sync(work, args.sync_postings, end)
            say(f"generating the warehouse ({args.postings:,} postings or more) ...")
            began = time.perf_counter()
            postings = build_warehouse(warehouse_path, work / "synced.duckdb", args.postings, end)
            say(
                f"warehouse: {postings:,} postings, "
                f"{warehouse_path.stat().st_size / 2**30:.1f} GiB, "
                f"built in {time.perf_counter() - began:.0f} s"
            )
            built = {
                "end": end.isoformat(),
                "postings": postings,
                "sync": vars(sync) | {"rows_per_s": sync.rows_per_s},
            }
            figures_path.write_text(json.dumps(built))
        else:
            say(f"reusing {warehouse_path} ({built['postings']:,} postings) and its sync figures")
            ensure_rollups(warehouse_path)
        say("timing callbacks against raw queries ...")
        # Timings are wall clock on a shared machine: say how busy it was.
        load_before = os.getloadavg()[0]
        timings, layouts = measure_callbacks(warehouse_path, end, args.repeat, args.filtered)
        load_after = os.getloadavg()[0]
        figures = report(timings, layouts)
        say(f"load average (1 min) {load_before:.1f} before, {load_after:.1f} after the timings")
        # The slowest view of any page, and its ratio to the same SQL run raw.
        page, view = max(
            ((page, view) for page, views in figures.views.items() for view in views),
            key=lambda chosen: figures.views[chosen[0]][chosen[1]]["callback_p95_ms"],
        )
        worst = figures.views[page][view]
        say("")
        say(
            json.dumps(
                {
                    "postings": built["postings"],
                    "worst_view_p95_ms": round(worst["callback_p95_ms"], 1),
                    "worst_page": page,
                    "worst_view": view,
                    "raw_p95_ms": round(worst["raw_p95_ms"], 1),
                    "ratio": round(worst["ratio"], 2),
                    "max_view_ratio": round(
                        max(f["ratio"] for views in figures.views.values() for f in views.values()),
                        2,
                    ),
                    "sync_rows_per_s": round(built["sync"]["rows_per_s"]),
                    "sync_source": built["sync"]["source"],
                    "sync_rows_read": built["sync"]["rows_read"],
                    "load_average": round(max(load_before, load_after), 1),
                    "views": {
                        page: {
                            view: {k: round(v, 1) for k, v in f.items() if k != "ratio"}
                            | {"ratio": round(f["ratio"], 2)}
                            for view, f in views.items()
                        }
                        for page, views in figures.views.items()
                    },
                    "pages": {
                        page: {k: round(v, 1) for k, v in f.items()}
                        for page, f in figures.pages.items()
                    },
                }
            )
        )
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
