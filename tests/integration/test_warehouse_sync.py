"""The warehouse sync against real SQLite/PostgreSQL and DuckDB files: incremental, idempotent,
rebuildable, readable while it runs, bounded in memory, exportable to Parquet."""

from __future__ import annotations

import fcntl
import itertools
import json
import resource
import threading
import time
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from sqlalchemy import func, insert, select, text

import crm.insights
import points_engine
from common.clock import SHANGHAI, business_date, utcnow
from common.unit_of_work import transaction
from memberhub.models import metadata
from tests.api.support import self_register
from warehouse import (
    DIMENSION_TABLES,
    FACT_TABLES,
    SyncInProgress,
    WarehouseNotReady,
    WarehouseReader,
    export_parquet,
    sync_warehouse,
)
from warehouse.sync import lock_path

API = "/api/v1"
OUTLET = "SH-HP-0001"
TABLES = (*DIMENSION_TABLES, *FACT_TABLES)
_ids = itertools.count(1)


def s10(serial: int, prefix: str = "EE", country: str = "CN") -> str:
    """A valid UPU S10 tracking number (check digit per the standard's weights)."""
    digits = f"{serial:08d}"
    total = sum(int(d) * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7), strict=True))
    check = 11 - total % 11
    check = {10: 0, 11: 5}.get(check, check)
    return f"{prefix}{digits}{check}{country}"


def now_shanghai() -> datetime:
    return datetime.now(SHANGHAI)


@dataclass
class Shop:
    """Drives real activity through the HTTP API, every channel and flow the warehouse loads."""

    client: Any
    counter: dict[str, str]
    web: dict[str, str]
    hotline: dict[str, str]
    admin: dict[str, str]
    marketer: dict[str, str]

    def ok(self, response: Any, status: int = 201) -> dict[str, Any]:
        assert response.status_code == status, response.get_data(as_text=True)
        return response.json  # type: ignore[no-any-return]

    def member(self, phone: str, name: str) -> str:
        body = {"phone": phone, "name": name, "marketing_consent": True}
        return str(self.ok(self_register(self.client, body))["member_no"])

    def campaign(self, code: str) -> None:
        day = business_date(utcnow())
        body = {
            "code": code,
            "name": "中秋双倍积分",
            "starts_on": (day - timedelta(days=1)).isoformat(),
            "ends_on": (day + timedelta(days=30)).isoformat(),
            "budget_points": 100_000,
            "multiplier_bp": 20_000,
            "holdout_pct": 20,
            "categories": ["food"],
        }
        self.ok(self.client.post(f"{API}/campaigns", json=body, headers=self.marketer))

    def accrue(self, member_no: str, amount_fen: int, category: str = "food") -> str:
        external_id = f"POS-{next(_ids)}"
        body = {
            "external_id": external_id,
            "member": {"member_no": member_no},
            "institution_code": OUTLET,
            "occurred_at": (now_shanghai() - timedelta(minutes=5)).isoformat(),
            "business_type": "goods",
            "lines": [
                {
                    "sku": "SKU-1",
                    "category": category,
                    "quantity": 2,
                    "amount_fen": amount_fen - 100,
                },
                {"sku": "SKU-2", "quantity": 1, "amount_fen": 100},
            ],
            "total_fen": amount_fen,
            "payment_method": "cash",
        }
        self.ok(self.client.post(f"{API}/accruals", json=body, headers=self.counter))
        return external_id

    def refund(self, original: str, amount_fen: int) -> None:
        body = {
            "external_id": f"RF-{next(_ids)}",
            "original_external_id": original,
            "amount_fen": amount_fen,
        }
        self.ok(self.client.post(f"{API}/refunds", json=body, headers=self.counter))

    def redeem(self, member_no: str) -> str:
        body = {
            "external_id": f"RD-{next(_ids)}",
            "member_no": member_no,
            "reward_code": "VOUCHER-MALL-10",
            "quantity": 1,
        }
        answer = self.ok(self.client.post(f"{API}/redemptions", json=body, headers=self.counter))
        return str(answer["redemption_id"])

    def cancel_redemption(self, redemption_id: str) -> None:
        self.ok(
            self.client.post(f"{API}/redemptions/{redemption_id}/cancel", headers=self.counter),
            200,
        )

    def merge(self, survivor: str, absorbed: str) -> None:
        body = {"survivor": survivor, "absorbed": absorbed}
        self.ok(self.client.post(f"{API}/members/merge", json=body, headers=self.admin), 200)

    def order(self, member_no: str) -> str:
        body = {
            "external_id": f"ORD-{next(_ids)}",
            "member_no": member_no,
            "lines": [{"sku": "MA-PJL-MOONCAKE-01", "quantity": 1}],
            "fulfillment": {"type": "pickup", "outlet_code": OUTLET},
            "payment": {"method": "online"},
        }
        order = self.ok(self.client.post(f"{API}/orders", json=body, headers=self.web))
        return str(order["order_no"])

    def pay_and_pick_up(self, order_no: str) -> None:
        detail = self.ok(self.client.get(f"{API}/orders/{order_no}", headers=self.web), 200)
        paid = self.ok(
            self.client.post(
                f"{API}/orders/{order_no}/payments",
                json={
                    "external_id": f"PAY-{next(_ids)}",
                    "amount_fen": detail["payable_fen"],
                    "method": "online",
                    "transaction_ref": "WX-1",
                },
                headers=self.web,
            )
        )
        body = {"outlet_code": OUTLET, "pickup_code": paid["pickup_code"]}
        self.ok(self.client.post(f"{API}/pickups/verify", json=body, headers=self.counter), 200)

    def cancel_order(self, order_no: str) -> None:
        self.ok(self.client.post(f"{API}/orders/{order_no}/cancel", headers=self.web), 200)

    def pay_bill(self, member_no: str, account_no: str) -> None:
        query = {"biller_code": "SH-GAS", "account_no": account_no}
        bill = self.ok(
            self.client.post(f"{API}/bills/query", json=query, headers=self.counter), 200
        )
        body = {
            "external_id": f"BILL-{next(_ids)}",
            "bill_id": bill["bill_id"],
            "amount_fen": bill["amount_due_fen"],
            "member": {"member_no": member_no},
        }
        self.ok(self.client.post(f"{API}/bill-payments", json=body, headers=self.counter))

    def mail(self, member_no: str, tracking_no: str) -> None:
        body = {
            "external_id": f"MAIL-{next(_ids)}",
            "tracking_no": tracking_no,
            "member": {"member_no": member_no},
            "service": "ems",
            "fee_fen": 2200,
            "accepted_at": (now_shanghai() - timedelta(hours=2)).isoformat(),
        }
        self.ok(self.client.post(f"{API}/mailings", json=body, headers=self.counter))

    def track(self, tracking_no: str) -> None:
        body = {
            "status": "in_transit",
            "location": "上海邮区中心局",
            "occurred_at": (now_shanghai() - timedelta(hours=1)).isoformat(),
        }
        self.ok(
            self.client.post(
                f"{API}/mailings/{tracking_no}/events", json=body, headers=self.counter
            )
        )

    def subscribe(self, phone: str) -> None:
        today = business_date(utcnow())
        start = date(today.year + today.month // 12, today.month % 12 + 1, 1)
        body = {
            "external_id": f"HL-{next(_ids)}",
            "member": {"phone": phone},
            "title_code": "JFRB",
            "term": "monthly",
            "start_date": start.isoformat(),
            "delivery": {"type": "address", "address": "上海市黄浦区四川中路200号"},
            "payment_method": "cash",
        }
        self.ok(self.client.post(f"{API}/subscriptions", json=body, headers=self.hotline))


@dataclass
class History:
    members: dict[str, str]
    accruals: dict[str, str]
    redemption_id: str
    orders: dict[str, str]


@pytest.fixture
def shop(client, channel_key, auth, staff_token) -> Shop:
    return Shop(
        client=client,
        counter=auth(channel_key("counter", OUTLET)),
        web=auth(channel_key("web")),
        hotline=auth(channel_key("hotline")),
        admin=auth(staff_token("admin")),
        marketer=auth(staff_token("marketer")),
    )


def first_round(shop: Shop) -> History:
    shop.campaign("WH-AUTUMN")
    members = {
        "a": shop.member("13900000001", "张三"),
        "b": shop.member("13900000002", "李四"),
        "c": shop.member("13900000003", "王五"),
    }
    accruals = {
        "a": shop.accrue(members["a"], 300_000),
        "b": shop.accrue(members["b"], 10_000, "home"),
        "c": shop.accrue(members["c"], 5_000),
    }
    redemption_id = shop.redeem(members["a"])
    picked_up = shop.order(members["a"])
    shop.pay_and_pick_up(picked_up)
    waiting = shop.order(members["b"])
    shop.pay_bill(members["b"], "3100123456")
    shop.mail(members["c"], s10(12345678))
    shop.subscribe("13900000001")
    return History(members, accruals, redemption_id, {"picked_up": picked_up, "waiting": waiting})


def second_round(shop: Shop, history: History) -> None:
    """New rows in every append-only table and changes to rows loaded before."""
    members = history.members
    members["d"] = shop.member("13900000004", "赵六")
    history.accruals["d"] = shop.accrue(members["d"], 20_000)
    shop.refund(history.accruals["a"], 100_000)
    shop.cancel_redemption(history.redemption_id)
    shop.merge(members["b"], members["c"])
    shop.track(s10(12345678))
    shop.cancel_order(history.orders["waiting"])
    shop.order(members["d"])
    shop.pay_bill(members["d"], "3100654321")


def contents(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    reader = WarehouseReader(path)
    try:
        with reader.cursor() as cursor:
            return {t: cursor.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}
    finally:
        reader.close()


def scalar(path: Path, sql: str, params: list[Any] | None = None) -> Any:
    reader = WarehouseReader(path)
    try:
        return reader.query(sql, params or []).iloc[0, 0]
    finally:
        reader.close()


def source_count(db, sql: str, **params: Any) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text(sql), params).scalar_one())


# -- incremental, idempotent, rebuild -------------------------------------------------


def _score_every_member(db) -> None:
    """One insights run over the members, so the score tables have rows to load."""
    with transaction(db.session_factory) as uow:
        ids = uow.session.execute(text("SELECT id FROM crm_member ORDER BY id")).scalars().all()
        crm.insights.store_scores(
            uow,
            as_of=date(2026, 1, 31),
            model_version="sync-test",
            metrics={},
            scores=[
                {
                    "member_id": i,
                    "r": 1,
                    "f": 1,
                    "m": 1,
                    "segment_code": "regular",
                    "churn_risk": 0.5,
                    "expected_value_fen": 100,
                }
                for i in ids
            ],
        )


def test_first_sync_loads_every_flow_and_dimension(db, shop, tmp_path):
    history = first_round(shop)
    _score_every_member(db)
    path = tmp_path / "warehouse.duckdb"
    report = sync_warehouse(db.engine, path)
    assert report.rebuilt and report.reason == "new warehouse"
    for table in ("fact_posting", "fact_accrual", "fact_lot", "fact_order", "dim_member"):
        assert report.rows[table] > 0, table
    assert report.rows_read >= report.rows["fact_posting"]
    got = contents(path)
    for table in TABLES:
        assert got[table], f"{table} is empty"
    counts = {
        "fact_posting": "points_engine_posting",
        "fact_accrual": "points_engine_accrual",
        "fact_lot": "points_engine_lot",
        "fact_redemption": "points_engine_redemption",
        "fact_order": "storefront_order",
        "fact_order_line": "storefront_order_line",
        "fact_bill_payment": "storefront_bill_payment",
        "fact_mailing": "storefront_mailing",
        "fact_subscription": "storefront_subscription",
        "dim_member": "crm_member",
        "dim_institution": "common_institution",
        "dim_product": "storefront_product",
        "dim_reward": "points_engine_reward",
    }
    for table, source in counts.items():
        assert len(got[table]) == source_count(db, f"SELECT count(*) FROM {source}"), table
    # Points are conserved: what members hold equals what every posting gave them.
    held = source_count(
        db,
        "SELECT COALESCE(SUM(balance), 0) FROM points_engine_account "
        "WHERE kind IN ('member', 'member_pending')",
    )
    assert scalar(path, "SELECT SUM(member_delta)::BIGINT FROM fact_posting") == held
    campaign_points = scalar(
        path, "SELECT SUM(points)::BIGINT FROM fact_posting WHERE campaign_code = 'WH-AUTUMN'"
    )
    # The budget itself, and the bonus paid out of it to the food buyers (a and c) who are
    # not in the holdout; which members are held out depends on their ids, so ask the rule.
    food_buyers = [
        source_count(db, "SELECT id FROM crm_member WHERE member_no = :no", no=history.members[k])
        for k in ("a", "c")
    ]
    paid = [m for m in food_buyers if not points_engine.in_holdout("WH-AUTUMN", m, 20)]
    assert (campaign_points > 100_000) == bool(paid)
    assert campaign_points >= 100_000
    a = scalar(
        path, "SELECT name_masked FROM dim_member WHERE member_no = ?", [history.members["a"]]
    )
    assert a == "张*"
    assert scalar(path, "SELECT count(*) FROM fact_accrual_line WHERE sku = 'SKU-2'") == 3
    day = business_date(utcnow())
    assert scalar(path, "SELECT max(date_key) FROM fact_accrual") == int(day.strftime("%Y%m%d"))


def test_second_sync_after_new_activity_loads_only_new_and_changed_rows(db, shop, tmp_path):
    history = first_round(shop)
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    before = contents(path)
    last_posting = source_count(db, "SELECT max(id) FROM points_engine_posting")
    last_line = source_count(db, "SELECT max(id) FROM storefront_order_line")
    last_accrual = source_count(db, "SELECT max(id) FROM points_engine_accrual")
    time.sleep(0.05)
    changed_from = utcnow()
    second_round(shop, history)

    report = sync_warehouse(db.engine, path)
    assert not report.rebuilt

    def changed(source: str) -> int:
        with db.engine.connect() as connection:
            table = metadata.tables[source]
            return int(
                connection.execute(
                    select(func.count()).where(table.c.updated_at >= changed_from)
                ).scalar_one()
            )

    assert report.rows["fact_posting"] == source_count(
        db, "SELECT count(*) FROM points_engine_posting WHERE id > :id", id=last_posting
    )
    assert report.rows["fact_order_line"] == source_count(
        db, "SELECT count(*) FROM storefront_order_line WHERE id > :id", id=last_line
    )
    expected_changes = {
        "fact_accrual": "points_engine_accrual",
        "fact_lot": "points_engine_lot",
        "fact_redemption": "points_engine_redemption",
        "fact_order": "storefront_order",
        "fact_bill_payment": "storefront_bill_payment",
        "fact_mailing": "storefront_mailing",
        "dim_member": "crm_member",
    }
    for table, source in expected_changes.items():
        assert report.rows[table] == changed(source) > 0, table
    assert report.rows["fact_subscription"] == 0
    with db.engine.connect() as connection:
        new_lines = sum(
            len(json.loads(lines) if isinstance(lines, str) else lines)
            for (lines,) in connection.execute(
                text("SELECT lines FROM points_engine_accrual WHERE id > :id"), {"id": last_accrual}
            )
        )
    assert report.rows["fact_accrual_line"] == new_lines
    assert report.rows["dim_date"] == report.rows["dim_institution"] == 0

    after = contents(path)
    # Changed rows were replaced, not added twice.
    for table in ("fact_accrual", "fact_redemption", "fact_mailing", "dim_member"):
        assert len(after[table]) == source_count(
            db, f"SELECT count(*) FROM {expected_changes[table]}"
        )
    refunded = scalar(
        path,
        "SELECT refunded_fen FROM fact_accrual a JOIN dim_member m USING (member_id) "
        "WHERE m.member_no = ? AND total_fen = 300000",
        [history.members["a"]],
    )
    assert refunded == 100_000
    assert scalar(path, "SELECT status FROM fact_redemption") == "cancelled"
    assert scalar(path, "SELECT status FROM fact_mailing") == "in_transit"
    merged = WarehouseReader(path).query(
        "SELECT status, survivor_id, (SELECT member_id FROM dim_member WHERE member_no = $b) AS b "
        "FROM dim_member WHERE member_no = $c",
        {"b": history.members["b"], "c": history.members["c"]},
    )
    assert merged.loc[0, "status"] == "merged"
    assert merged.loc[0, "survivor_id"] == merged.loc[0, "b"]
    # Rows nobody touched are exactly as they were.
    assert set(before["fact_subscription"]) == set(after["fact_subscription"])
    assert set(before["fact_posting"]) <= set(after["fact_posting"])


def test_a_second_sync_with_no_new_activity_changes_nothing(db, shop, tmp_path):
    history = first_round(shop)
    second_round(shop, history)
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    first = contents(path)
    report = sync_warehouse(db.engine, path)
    assert not report.rebuilt
    assert report.rows_written == 0, {t: n for t, n in report.rows.items() if n}
    # Recent rows are read again (the look-back) and found unchanged.
    assert report.rows_read > 0
    assert contents(path) == first


def test_rebuild_equals_incremental(db, shop, tmp_path):
    incremental = tmp_path / "incremental.duckdb"
    history = first_round(shop)
    sync_warehouse(db.engine, incremental)
    second_round(shop, history)
    sync_warehouse(db.engine, incremental, batch_size=3)
    rebuilt = tmp_path / "rebuilt.duckdb"
    sync_warehouse(db.engine, rebuilt)
    again = sync_warehouse(db.engine, rebuilt, rebuild=True, batch_size=7)
    assert again.rebuilt and again.reason == "rebuild asked"
    left, right = contents(incremental), contents(rebuilt)
    for table in TABLES:
        assert left[table] == right[table], table


def test_campaign_members_follow_the_ledgers_holdout_rule(db, shop, tmp_path):
    first_round(shop)
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    rows = WarehouseReader(path).query(
        "SELECT p.campaign_code, p.member_id, p.in_holdout, c.holdout_pct "
        "FROM dim_campaign_member p JOIN dim_campaign c ON c.code = p.campaign_code",
        [],
    )
    assert len(rows) == source_count(db, "SELECT count(*) FROM crm_member")
    for row in rows.itertuples():
        assert row.in_holdout == points_engine.in_holdout(
            row.campaign_code, int(row.member_id), int(row.holdout_pct)
        )


def test_a_recreated_source_database_is_loaded_from_scratch(db, shop, tmp_path):
    first_round(shop)
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    # As if a new demo had replaced the database: the newest posting is another one.
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE points_engine_posting SET txn_id = 'recreated' "
                "WHERE id = (SELECT max(id) FROM points_engine_posting)"
            )
        )
    report = sync_warehouse(db.engine, path)
    assert report.rebuilt and report.reason == "the source database was recreated"
    assert scalar(path, "SELECT count(*) FROM fact_posting WHERE txn_id = 'recreated'") == 1


# -- one writer, many readers ---------------------------------------------------------


def test_readers_keep_answering_during_a_sync_and_then_see_the_new_rows(db, shop, tmp_path):
    history = first_round(shop)
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    reader = WarehouseReader(path)
    before = int(reader.query("SELECT count(*) FROM fact_posting", []).iloc[0, 0])
    version = reader.version
    second_round(shop, history)
    expected = source_count(db, "SELECT count(*) FROM points_engine_posting")
    assert expected > before

    failures: list[BaseException] = []

    def run() -> None:
        try:
            sync_warehouse(db.engine, path, batch_size=1)
        except BaseException as error:
            failures.append(error)

    writer = threading.Thread(target=run)
    writer.start()
    seen: list[int] = []
    while writer.is_alive():
        count = reader.query(
            "SELECT count(*) AS n FROM fact_posting WHERE points > $min", {"min": 0}
        )
        seen.append(int(count.loc[0, "n"]))
    writer.join()
    assert not failures, failures
    assert len(seen) > 3, "the sync ended before the reader could ask during it"
    assert set(seen) <= {before, expected}
    assert int(reader.query("SELECT count(*) FROM fact_posting", []).iloc[0, 0]) == expected
    assert reader.version != version
    reader.close()


def test_a_reader_before_the_first_sync_is_told_so(tmp_path):
    reader = WarehouseReader(tmp_path / "nothing.duckdb")
    with pytest.raises(WarehouseNotReady):
        reader.query("SELECT 1", [])


def test_queries_are_parameterised(db, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    reader = WarehouseReader(path)
    with pytest.raises(TypeError):
        reader.query("SELECT 1", "1")  # type: ignore[arg-type]
    answer = reader.query("SELECT count(*) AS n FROM dim_channel WHERE code = ?", ["web"])
    assert int(answer.loc[0, "n"]) == 1
    reader.close()


def test_a_reader_keeps_answers_until_the_next_sync_and_hands_out_copies(db, shop, tmp_path):
    history = first_round(shop)
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    reader = WarehouseReader(path)
    sql = "SELECT count(*) AS n FROM fact_posting WHERE points > $min"
    every = {"min": -(10**12)}
    first = reader.query(sql, every)
    first.loc[0, "n"] = -1  # the caller's copy, not the kept answer
    again = reader.query(sql, every)
    assert int(again.loc[0, "n"]) > 0
    assert reader.query(sql, {"min": 10**9}).loc[0, "n"] == 0  # other parameters
    listed = "SELECT count(*) AS n FROM dim_channel WHERE list_contains($codes, code)"
    assert int(reader.query(listed, {"codes": ["web", "counter"]}).loc[0, "n"]) == 2
    second_round(shop, history)
    sync_warehouse(db.engine, path)
    expected = source_count(db, "SELECT count(*) FROM points_engine_posting")
    assert int(reader.query(sql, every).loc[0, "n"]) == expected > int(again.loc[0, "n"])
    reader.close()


def test_a_second_sync_waits_or_refuses_while_one_runs(db, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with open(lock_path(path), "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(SyncInProgress):
            sync_warehouse(db.engine, path, wait=False)
        assert not path.exists()
        fcntl.flock(held, fcntl.LOCK_UN)
    assert sync_warehouse(db.engine, path, wait=False).rebuilt


# -- memory ---------------------------------------------------------------------------

LARGE = 300_000
BATCH = 10_000


def bulk_postings(db, rows: int) -> None:
    """Postings between two system accounts whose balances are sums (no invariant breaks)."""
    accounts = metadata.tables["points_engine_account"]
    postings = metadata.tables["points_engine_posting"]
    now = utcnow()
    with db.engine.begin() as connection:
        ids = []
        for code, kind in (("issuance:WH-BULK", "issuance"), ("redemption:WH-BULK", "redemption")):
            ids.append(
                connection.execute(
                    insert(accounts)
                    .values(code=code, kind=kind, institution_code="SH", balance=0, status="open")
                    .values(created_at=now)
                    .returning(accounts.c.id)
                ).scalar_one()
            )
        for start in range(0, rows, 20_000):
            connection.execute(
                insert(postings),
                [
                    {
                        "txn_id": f"bulk{i:027d}",
                        "type": "redemption",
                        "from_account_id": ids[0],
                        "to_account_id": ids[1],
                        "points": 1 + i % 997,
                        "reference": f"redemption:BULK-{i}",
                        "occurred_at": now - timedelta(minutes=i),
                        "recorded_at": now,
                    }
                    for i in range(start, min(rows, start + 20_000))
                ],
            )


def test_memory_stays_bounded_on_a_large_table(db, tmp_path):
    bulk_postings(db, LARGE)
    from warehouse.feeds import POSTINGS

    # What holding the whole table in this process would cost, from one batch's cost.
    tracemalloc.start()
    with db.engine.connect() as connection:
        rows = connection.execute(POSTINGS.query.limit(BATCH)).all()
        frame = pd.DataFrame.from_records(rows, columns=list(rows[0]._fields))
        per_row = tracemalloc.get_traced_memory()[0] / len(rows)
    del rows, frame
    tracemalloc.stop()
    whole_table = per_row * LARGE

    path = tmp_path / "warehouse.duckdb"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    report = sync_warehouse(db.engine, path, batch_size=BATCH, memory_limit="256MB")
    python_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before

    assert report.rows["fact_posting"] == LARGE
    assert scalar(path, "SELECT count(*) FROM fact_posting") == LARGE
    # A few batches at a time, never the table: the Python heap stays within a tenth of
    # what the whole table would take, and the process within half of it.
    assert python_peak < whole_table / 10, (python_peak, whole_table)
    assert rss_growth < whole_table / 2, (rss_growth, whole_table)


# -- export ---------------------------------------------------------------------------


def test_export_writes_date_partitioned_parquet_other_engines_read(db, shop, tmp_path):
    first_round(shop)
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    out = tmp_path / "export"
    files = export_parquet(path, out)
    day = business_date(utcnow()).strftime("%Y%m%d")
    assert (out / "fact_posting" / f"date_key={day}").is_dir()
    assert all(f.suffix == ".parquet" and f.exists() for f in files)
    assert (out / "dim_member.parquet") in files

    engine = duckdb.connect()
    for table in FACT_TABLES:
        rows = scalar(path, f"SELECT count(*) FROM {table}")
        if rows == 0:  # no business date, so no partition (here: no insights trained)
            assert not list((out / table).rglob("*.parquet")), table
            continue
        files_of_table = f"{out / table}/**/*.parquet"
        exported = engine.execute(
            f"SELECT count(*) FROM read_parquet('{files_of_table}', hive_partitioning = true)"
        ).fetchall()[0][0]
        assert exported == rows, table
    keys = engine.execute(
        f"SELECT DISTINCT date_key FROM read_parquet('{out}/fact_accrual/**/*.parquet', "
        "hive_partitioning = true)"
    ).fetchall()
    assert (int(day),) in [(int(k),) for (k,) in keys]
    member_columns = {
        name: kind
        for name, kind, *_ in engine.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{out / 'dim_member.parquet'}')"
        ).fetchall()
    }
    assert "phone" not in member_columns and "name" not in member_columns
    assert {"phone_masked", "name_masked"} <= set(member_columns)
    assert member_columns["registered_at"] == "TIMESTAMP"
    masked = engine.execute(
        f"SELECT phone_masked FROM read_parquet('{out / 'dim_member.parquet'}') ORDER BY 1"
    ).fetchall()
    assert masked[0][0] == "139****0001"
    # Exported timestamps are UTC wall-clock values.
    stored = scalar(path, "SELECT max(occurred_at) FROM fact_posting")
    exported_at = engine.execute(
        f"SELECT max(occurred_at) FROM read_parquet('{out}/fact_posting/**/*.parquet')"
    ).fetchall()[0][0]
    assert exported_at == stored.tz_convert(UTC).tz_localize(None).to_pydatetime()

    # Exporting again replaces the files instead of adding to them.
    again = export_parquet(path, out)
    assert sorted(again) == sorted(files)


def test_export_is_readable_by_pyarrow(db, shop, tmp_path):
    dataset = pytest.importorskip("pyarrow.dataset")
    first_round(shop)
    path = tmp_path / "warehouse.duckdb"
    sync_warehouse(db.engine, path)
    out = tmp_path / "export"
    export_parquet(path, out)
    postings = dataset.dataset(out / "fact_posting", format="parquet", partitioning="hive")
    assert postings.count_rows() == scalar(path, "SELECT count(*) FROM fact_posting")
    assert "date_key" in postings.schema.names
