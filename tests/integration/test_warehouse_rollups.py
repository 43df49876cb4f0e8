"""The rollups the sync keeps: every block read from them equals the same block asked of
the fact tables, and recomputing only what a sync changed gives the rollups a rebuild
gives.

Two levels: the dashboard scenario written through the API and synced (the queries, and an
incremental sync after more activity against a rebuilt warehouse), and random histories of
fact rows driven through the sync's change tracking (`rollups.Tracker`) directly.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.clock import SHANGHAI
from memberhub.runtime import Runtime
from tests.integration import dashboard_scenario
from tests.integration.dashboard_scenario import BONUS_CAMPAIGN, CAMPAIGN, Scenario
from warehouse import WarehouseReader, queries, rollups, sync_warehouse
from warehouse.queries import Filters
from warehouse.schema import DDL

API = "/api/v1"
# The rollups a sync recomputes by day.
BY_DAY = (
    "rollup_sales_institution_day",
    "rollup_sales_day",
    "rollup_lot_institution_day",
    "rollup_lot_day",
    "rollup_issuance_institution_day",
    "rollup_issuance_day",
)


@pytest.fixture
def synced(
    db: Runtime, client: Any, channel_key: Any, staff_token: Any, auth: Any, tmp_path: Path
) -> Iterator[tuple[Scenario, Path]]:
    scenario = dashboard_scenario.build(client, db, channel_key, staff_token, auth)
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    yield scenario, path


def _filter_sets(scenario: Scenario) -> list[Filters]:
    """Every filter on its own and together, over the whole history and recent weeks."""
    now = scenario.today
    everything = (now - timedelta(days=820), now + timedelta(days=12))
    recent = (now - timedelta(days=59), now)
    window = (now - timedelta(days=75), now - timedelta(days=46))
    chosen = []
    for start, end in (everything, recent, window):
        chosen += [
            Filters(start, end),
            Filters(start, end, campaign=CAMPAIGN),
            Filters(start, end, campaign=BONUS_CAMPAIGN),
            Filters(start, end, channel="counter"),
            Filters(start, end, channel="web", campaign=CAMPAIGN),
            Filters(start, end, inst="SH"),
            Filters(start, end, inst="SH-HP"),
            Filters(start, end, inst=scenario.outlets["pd"], channel="counter"),
            Filters(start, end, inst="SH-PD", campaign=CAMPAIGN),
            Filters(start, end, campaign="NO-SUCH-CAMPAIGN"),
        ]
    return chosen


def _blocks(reader: queries.Reader, f: Filters, as_of: date) -> dict[str, Any]:
    """Every block with a rollup behind it, as a function of `from_facts`."""
    return {
        "headline_totals": lambda **o: queries.headline_totals(reader, f, **o),
        "daily_sales": lambda **o: queries.daily_sales(reader, f, **o),
        "sales_by_channel": lambda **o: queries.sales_by_channel(reader, f, **o),
        "sales_by_business_type": lambda **o: queries.sales_by_business_type(reader, f, **o),
        "sales_by_institution": lambda **o: queries.sales_by_institution(reader, f, **o),
        "institution_tree": lambda **o: queries.institution_tree(reader, f, **o),
        "campaign_results": lambda **o: queries.campaign_results(reader, f, **o),
        "campaign_daily": lambda **o: pd.concat(
            [queries.campaign_daily(reader, f, c, **o) for c in (CAMPAIGN, BONUS_CAMPAIGN, "C1")]
        ),
        "cohort_retention": lambda **o: queries.cohort_retention(reader, f, **o),
        "purchase_frequency": lambda **o: queries.purchase_frequency(reader, f, **o),
        "channel_mix": lambda **o: queries.channel_mix(reader, f, **o),
        "top_members": lambda **o: queries.top_members(
            reader, f, reveal_personal_data=True, limit=10, **o
        ),
        "points_liability": lambda **o: queries.points_liability(reader, f, as_of, **o),
        "liability_by_institution": lambda **o: queries.liability_by_institution(
            reader, f, as_of, **o
        ),
        "points_flow_daily": lambda **o: queries.points_flow_daily(reader, f, **o),
        "issuance_by_source": lambda **o: queries.issuance_by_source(reader, f, **o),
        "issuance_by_campaign": lambda **o: queries.issuance_by_campaign(reader, f, **o),
    }


def test_every_rollup_backed_block_equals_the_same_block_from_the_facts(
    synced: tuple[Scenario, Path],
) -> None:
    scenario, path = synced
    reader = WarehouseReader(path)
    differ, compared = [], 0
    try:
        assert queries.headline_totals(reader, _filter_sets(scenario)[0])["purchases"].sum() > 60
        for f in _filter_sets(scenario):
            for name, block in _blocks(reader, f, scenario.today).items():
                rolled, defined = block(), block(from_facts=True)
                compared += 1
                try:
                    pd.testing.assert_frame_equal(
                        rolled.reset_index(drop=True), defined.reset_index(drop=True)
                    )
                except AssertionError as error:
                    differ.append(f"{name} {f}: {error}")
    finally:
        reader.close()
    assert not differ, "\n\n".join(differ)
    assert compared == 17 * 30


def _rollup_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    reader = WarehouseReader(path)
    try:
        with reader.cursor() as cursor:
            return {
                t: cursor.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in rollups.ROLLUP_TABLES
            }
    finally:
        reader.close()


def _moment(day: date, hour: int = 11) -> str:
    return datetime.combine(day, time(hour), SHANGHAI).isoformat()


def test_a_sync_recomputes_only_what_changed_and_equals_a_rebuild(
    synced: tuple[Scenario, Path], db: Runtime, client: Any, tmp_path: Path
) -> None:
    scenario, path = synced
    before = tmp_path / "before.duckdb"
    shutil.copyfile(path, before)
    now = scenario.today
    counter = scenario.keys["counter_hp"]
    hp = scenario.outlets["hp"]

    def accrue(external_id: str, member_no: str, day: date, amount: int) -> None:
        body = {
            "external_id": external_id,
            "member": {"member_no": member_no},
            "institution_code": hp,
            "occurred_at": _moment(day),
            "business_type": "goods",
            "lines": [{"sku": "SKU-LATE", "category": "food", "quantity": 1, "amount_fen": amount}],
            "total_fen": amount,
            "payment_method": "cash",
        }
        answer = client.post(f"{API}/accruals", json=body, headers=counter)
        assert answer.status_code == 201, answer.get_data(as_text=True)

    # Late purchases on a few old days (one in the campaign's window), and a refund of an
    # old purchase: recomputed are those days, today's (the refund's postings) and the
    # members who bought, and the campaign whose window holds one of them.
    late_days = (now - timedelta(days=300), now - timedelta(days=60), now - timedelta(days=3))
    for number, day in enumerate(late_days):
        accrue(f"LATE-{number}", scenario.members[number + 2], day, 12_300 + number)
    refund = {"external_id": "RF-LATE", "original_external_id": "DASH-EDGE-3", "amount_fen": 500}
    answer = client.post(f"{API}/refunds", json=refund, headers=counter)
    assert answer.status_code == 201, answer.get_data(as_text=True)

    report = sync_warehouse(db.engine, path)
    assert not report.rebuilt

    con = duckdb.connect()
    con.execute(f"ATTACH '{before}' AS old (READ_ONLY)")
    con.execute(f"ATTACH '{path}' AS new (READ_ONLY)")

    def changed(table: str, column: str) -> set[Any]:
        rows = con.execute(
            f"SELECT {column} FROM (FROM new.{table} EXCEPT FROM old.{table}) "
            f"UNION SELECT {column} FROM (FROM old.{table} EXCEPT FROM new.{table})"
        ).fetchall()
        return {value for (value,) in rows}

    days = changed("fact_accrual", "date_key") | changed("fact_posting", "date_key")
    days |= changed("fact_lot", "date_key")
    members = changed("fact_accrual", "member_id")
    assert {int(d.strftime("%Y%m%d")) for d in late_days} <= days
    assert len(days) < 10 and len(members) < 6

    def rows_of(table: str, column: str, keys: set[Any]) -> int:
        found = con.execute(
            f"SELECT count(*) FROM new.{table} WHERE {column} IN (SELECT unnest($keys))",
            {"keys": sorted(keys)},
        ).fetchall()
        return int(found[0][0])

    for table in BY_DAY:
        assert report.rows[table] == rows_of(table, "date_key", days), table
        total = con.execute(f"SELECT count(*) FROM new.{table}").fetchall()
        assert report.rows[table] < total[0][0], table
    assert report.rows["rollup_buyer"] == rows_of("rollup_buyer", "member_id", members)
    assert report.rows["rollup_campaign"] == 1  # the window of the purchase 60 days ago
    con.close()

    rebuilt = tmp_path / "rebuilt.duckdb"
    again = sync_warehouse(db.engine, rebuilt)
    assert again.rebuilt
    assert _rollup_rows(path) == _rollup_rows(rebuilt)


# -- random histories through the change tracking ----------------------------------------------

START = date(2026, 3, 1)
MEMBERS = range(1, 5)
INSTITUTIONS = ("SH", "SH-HP", "SH-HP-0001", "SH-PD-0001", "SH-ST")
CHANNELS = ("web", "counter", "app", "kiosk")  # kiosk: not in dim_channel
CAMPAIGNS = {1: "C1", 2: "C2"}
DIMENSIONS = (
    """
    INSERT INTO dim_institution VALUES
        ('SH', '公司', 'Company', 'company', NULL, 0, 'SH', NULL, NULL, NULL),
        ('SH-HP', '黄浦', 'Huangpu', 'district', 'SH', 1, 'SH', 'SH-HP', '黄浦', 'Huangpu'),
        ('SH-PD', '浦东', 'Pudong', 'district', 'SH', 1, 'SH', 'SH-PD', '浦东', 'Pudong'),
        ('SH-HP-0001', '一所', 'One', 'outlet', 'SH-HP', 2, 'SH', 'SH-HP', '黄浦', 'Huangpu'),
        ('SH-PD-0001', '二所', 'Two', 'outlet', 'SH-PD', 2, 'SH', 'SH-PD', '浦东', 'Pudong'),
        ('SH-ST', '店', 'Store', 'store', 'SH', 1, 'SH', NULL, NULL, NULL)
    """,
    """
    INSERT INTO dim_channel VALUES
        ('web', '网站', 'Web', TRUE), ('app', 'App', 'App', TRUE),
        ('counter', '柜台', 'Counter', FALSE)
    """,
    """
    INSERT INTO dim_campaign VALUES
        ('C1', '一', 'One', DATE '2026-03-05', DATE '2026-03-09', 1000, 30, 20000, 0, NULL,
         '{"business_types": ["goods"]}', 1),
        ('C2', '二', 'Two', DATE '2026-03-08', DATE '2026-03-14', 1000, 30, 0, 10, NULL,
         '{}', 2)
    """,
    """
    INSERT INTO dim_campaign_member
    SELECT c, m, m % 3 = 0 FROM (VALUES ('C1'), ('C2')) t(c), range(1, 6) r(m)
    """,
    """
    INSERT INTO dim_member
    SELECT m, 'M' || m, '1390000000' || m, '1390****000' || m, '会员' || m, '会*', 'regular',
           'active', NULL, m, TIMESTAMPTZ '2026-02-01 02:00:00+00' + m * INTERVAL 3 DAY,
           CAST(strftime(DATE '2026-02-01' + CAST(m * 3 AS INTEGER), '%Y%m%d') AS INTEGER),
           CASE WHEN m % 2 = 0 THEN 'web' ELSE 'counter' END,
           CASE WHEN m % 2 = 0 THEN 'SH' ELSE 'SH-HP-0001' END, NULL, TRUE,
           TIMESTAMPTZ '2026-02-01 02:00:00+00'
    FROM range(1, 9) r(m)
    """,
)


@dataclass(frozen=True)
class Accrual:
    accrual_id: int
    member_id: int
    day: int
    institution: str
    channel: str
    business_type: str
    total: int
    refunded: int
    campaigns: tuple[int, ...]


accruals = st.builds(
    Accrual,
    accrual_id=st.integers(1, 16),
    member_id=st.sampled_from(MEMBERS),
    # Few members and days, so members buy twice a day and ranges start on purchases.
    day=st.integers(2, 14),
    institution=st.sampled_from(INSTITUTIONS),
    channel=st.sampled_from(CHANNELS),
    business_type=st.sampled_from(("goods", "mailing")),
    total=st.integers(100, 900),
    refunded=st.integers(0, 100),
    campaigns=st.lists(st.sampled_from((1, 2)), max_size=2, unique=True).map(tuple),
)
# A change to a lot (by the accrual it belongs to): status, what is left, what expired.
lot_changes = st.tuples(
    st.integers(1, 16),
    st.sampled_from(("pending", "available", "expired", "reversed")),
    st.integers(0, 50),
    st.integers(0, 50),
)
syncs = st.lists(
    st.tuples(
        st.lists(accruals, max_size=8),
        st.lists(lot_changes, max_size=3),
        st.booleans(),  # a new member joins both campaigns' groups
        st.booleans(),  # the store moves into a district (rollup_buyer keeps districts)
        st.booleans(),  # campaign C2 targets goods only, or every business type again
    ),
    min_size=1,
    max_size=4,
)


def _accrual_rows(batch: list[Accrual], earned: dict[int, tuple[int, ...]]) -> pd.DataFrame:
    """The rows of a sync's accruals; `earned` keeps the campaigns each earned from when
    first written (as the ledger does, and its postings follow)."""
    latest = {a.accrual_id: a for a in batch}  # one version of a row per sync
    rows = []
    for a in latest.values():
        campaigns = earned.setdefault(a.accrual_id, a.campaigns)
        day = START + timedelta(days=a.day)
        net = a.total - a.refunded
        rows.append(
            {
                "accrual_id": a.accrual_id,
                "accrual_no": f"AC{a.accrual_id}",
                "channel": a.channel,
                "member_id": a.member_id,
                "institution_code": a.institution,
                "business_type": a.business_type,
                "occurred_at": pd.Timestamp(day, tz="UTC"),
                "date_key": int(day.strftime("%Y%m%d")),
                "total_fen": a.total,
                "refunded_fen": a.refunded,
                "net_fen": net,
                "points": net // 10,
                "points_reversed": 0,
                "status": "available",
                "payment_method": "cash",
                "is_order": False,
                "updated_at": pd.Timestamp(day, tz="UTC"),
                "campaign_ids": list(campaigns),
            }
        )
    return pd.DataFrame(rows)


class Warehouse:
    """Fact rows written the way the sync writes them, with its change tracking."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        for statement in (*DDL, *rollups.DDL, *DIMENSIONS):
            self.run(statement)
        self.members = 5
        self.synced = False
        self.earned: dict[int, tuple[int, ...]] = {}

    def run(self, sql: str, params: dict[str, object] | None = None) -> None:
        self.con.execute(sql, params)
        self.con.complete()

    def sync(
        self,
        batch: list[Accrual],
        lots: list[tuple[int, str, int, int]],
        join: bool,
        move: bool,
        retarget: bool,
    ) -> tuple[rollups.Tracker, dict[str, int]]:
        tracker = rollups.Tracker(self.con)
        # The first sync writes a new file, which the sync builds whole.
        tracker.full = not self.synced
        self.synced = True
        frame = _accrual_rows(batch, self.earned)
        if not frame.empty:
            self._write(tracker, "fact_accrual", ("accrual_id",), frame)
            self._write(tracker, "fact_lot", ("lot_id",), self._lots(frame))
            self._write(tracker, "fact_posting", ("posting_id",), self._postings(frame))
        if lots:
            self._write(tracker, "fact_lot", ("lot_id",), self._changed_lots(lots))
        if join:
            self.members += 1
            self.run(
                "INSERT INTO dim_campaign_member VALUES ('C1', $m, FALSE), ('C2', $m, TRUE)",
                {"m": self.members},
            )
            tracker.campaigns_changed(["C1", "C2"])
        if move:
            self.run(
                "UPDATE dim_institution SET district_code = CASE WHEN district_code IS NULL "
                "THEN 'SH-PD' END WHERE code = 'SH-ST'"
            )
            tracker.reference_changed("dim_institution", [("SH-ST",)])
        if retarget:
            self.run(
                "UPDATE dim_campaign SET target_json = CASE target_json WHEN '{}' "
                """THEN '{"business_types": ["goods"]}' ELSE '{}' END WHERE code = 'C2'"""
            )
            tracker.reference_changed("dim_campaign", [("C2",)])
        return tracker, tracker.refresh()

    def _write(
        self, tracker: rollups.Tracker, table: str, key: tuple[str, ...], frame: pd.DataFrame
    ) -> None:
        if frame.empty:
            return
        self.con.register("batch", frame)
        if not self.con.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchall():
            tracker.loaded_whole(table)
            self.run(f"INSERT INTO {table} BY NAME SELECT * FROM batch")
        else:
            self.run(f"CREATE OR REPLACE TEMP TABLE changed AS FROM {table} LIMIT 0")
            self.run("INSERT INTO changed BY NAME SELECT * FROM batch")
            tracker.rows_changed(table, key, "changed")
            self.run(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM changed")
        self.con.unregister("batch")

    def _lots(self, accruals: pd.DataFrame) -> pd.DataFrame:
        """Each purchase's lot, as the purchase now is (the channel kept on most)."""
        self.con.register("frame_accruals", accruals)
        return self.con.execute(
            """
            SELECT accrual_id AS lot_id, member_id, accrual_id, institution_code,
                   points AS initial, points AS remaining, 0 AS expired, 'available' AS status,
                   CAST(occurred_at AS DATE) AS earned_on, date_key,
                   CAST(occurred_at AS DATE) AS available_on,
                   CAST(occurred_at AS DATE) + 300 AS expires_on, updated_at,
                   CASE WHEN accrual_id % 4 = 0 THEN NULL ELSE channel END AS channel
            FROM frame_accruals
            """
        ).df()

    def _postings(self, accruals: pd.DataFrame) -> pd.DataFrame:
        self.con.register("frame_accruals", accruals)
        return self.con.execute(
            """
            SELECT accrual_id * 10 + k AS posting_id, 'TX' || accrual_id AS txn_id,
                   'accrual' AS type, occurred_at, date_key, points + k AS points,
                   CASE k WHEN 0 THEN 'issuance' ELSE 'campaign_budget' END AS from_kind,
                   'member_available' AS to_kind, member_id, points + k AS member_delta,
                   CASE k WHEN 0 THEN institution_code END AS institution_code,
                   CASE k WHEN 0 THEN NULL ELSE 'C' || k END AS campaign_code,
                   NULL AS reward_code, 'accrual:' || accrual_no AS reference, accrual_id
            FROM frame_accruals, range(0, 3) r(k)
            WHERE k = 0 OR list_contains(campaign_ids, k)
            """
        ).df()

    def _changed_lots(self, changes: list[tuple[int, str, int, int]]) -> pd.DataFrame:
        latest = {lot: (status, remaining, expired) for lot, status, remaining, expired in changes}
        frame = pd.DataFrame(
            [(lot, *values) for lot, values in latest.items()],
            columns=["lot_id", "new_status", "new_remaining", "new_expired"],
        )
        self.con.register("lot_changes", frame)
        return self.con.execute(
            """
            SELECT l.* REPLACE (c.new_status AS status, c.new_remaining AS remaining,
                                c.new_expired AS expired)
            FROM fact_lot l JOIN lot_changes c USING (lot_id)
            """
        ).df()

    def contents(self) -> dict[str, list[tuple[Any, ...]]]:
        return {
            t: self.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
            for t in rollups.ROLLUP_TABLES
        }


class _Reader:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def query(self, sql: str, params: Any) -> pd.DataFrame:
        return self.con.execute(sql, params).df()


periods = st.tuples(st.integers(2, 14), st.integers(1, 14))
# Every kind of scope: all purchases, a campaign's (known or not), a channel (one
# dim_channel lacks too), a subtree at each level, and some together.
SCOPES = (
    {},
    {"campaign": "C1"},
    {"campaign": "C9"},
    {"channel": "web"},
    {"channel": "kiosk", "campaign": "C2"},
    {"inst": "SH"},
    {"inst": "SH-HP", "campaign": "C2"},
    {"inst": "SH-HP-0001", "channel": "counter"},
    {"inst": "SH-ST"},
)


# Each example asks 17 blocks twice in 9 scopes: a few hundred queries.
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=syncs, period=periods)
def test_every_block_from_rollups_equals_the_facts_on_random_histories(
    history: list[tuple[list[Accrual], list[tuple[int, str, int, int]], bool, bool, bool]],
    period: tuple[int, int],
) -> None:
    """Same-day purchases, a range starting or ending on a purchase, members in several
    channels and campaigns: the counting rows answer what the facts answer."""
    warehouse = Warehouse()
    for batch, lots, join, move, retarget in history:
        warehouse.sync(batch, lots, join, move, retarget)
    reader = _Reader(warehouse.con)
    first, days = period
    start = START + timedelta(days=first)
    for scope in SCOPES:
        chosen = Filters(start, start + timedelta(days=days - 1), **scope)
        for name, block in _blocks(reader, chosen, START + timedelta(days=10)).items():
            pd.testing.assert_frame_equal(
                block().reset_index(drop=True),
                block(from_facts=True).reset_index(drop=True),
                obj=f"{name} {chosen}",
            )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=syncs)
def test_incremental_refreshes_equal_a_rebuild(
    history: list[tuple[list[Accrual], list[tuple[int, str, int, int]], bool, bool, bool]],
) -> None:
    warehouse = Warehouse()
    for batch, lots, join, move, retarget in history:
        tracker, written = warehouse.sync(batch, lots, join, move, retarget)
        if tracker.full or tracker.buyers_full:
            continue
        # Only the days noted were rewritten.
        for table in BY_DAY:
            if table in written:
                noted = warehouse.con.execute(
                    f"SELECT count(*) FROM {table} "
                    "WHERE date_key IN (SELECT date_key FROM rollup_dates)"
                ).fetchall()
                assert written[table] == noted[0][0], table
    incremental = warehouse.contents()
    rollups.rebuild(warehouse.con)
    assert incremental == warehouse.contents()
