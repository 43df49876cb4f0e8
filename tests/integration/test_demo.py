"""`memberhub demo`: a seeded history of every flow, intact ledgers and logins that work.

The module's demo runs once per backend: a SQLite file, or (MEMBERHUB_TEST_DB=postgresql:///...)
an empty PostgreSQL schema of its own. Its window spans a 31 December (last year's points
expire) and the start of the 新春有礼 season (its campaign runs, with a holdout group).
"""

from __future__ import annotations

import json
import re
import shlex
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, create_engine, text

import points_engine
from common.clock import as_utc
from common.db import read_session
from common.settings import load_settings, normalise_database_url
from memberhub.demo import DemoRefused, run_demo
from memberhub.demo.reporting import write_demo_reports
from memberhub.runtime import build_runtime
from memberhub.wiring import create_app
from storefront_api import prepaid
from tests.conftest import BACKEND, IS_POSTGRES
from warehouse import sync_warehouse

sqlite_only = pytest.mark.skipif(IS_POSTGRES, reason="about the demo's own SQLite file")

# A fixed window: 1 December 2025 to 28 February 2026 holds New Year's Eve, when the lots
# of 2024 expire, and the 新春有礼 season (27 January to 3 March 2026).
END = date(2026, 2, 28)
SEED = 2
# Large enough for every channel, status and payment method to turn up (a few prepaid-card
# and counter orders among them) and for a holdout group of some size, small enough to run
# in seconds.
MEMBERS, DAYS = 4000, 90
BASE = "http://127.0.0.1:8000"
ORDER_STATUSES = {
    "created",
    "paid",
    "ready_for_pickup",
    "picked_up",
    "shipped",
    "delivered",
    "cancelled",
    "refunded",
    "expired",
}


@dataclass(frozen=True)
class Demo:
    lines: list[str]
    var: Path
    database_url: str | None
    totals: dict[str, list[tuple[Any, ...]]]


def _use(monkeypatch: pytest.MonkeyPatch, var: Path, database_url: str | None = None) -> None:
    monkeypatch.setenv("MEMBERHUB_VAR_DIR", str(var))
    for name in ("MEMBERHUB_SECRET_KEY", "MEMBERHUB_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    if database_url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", database_url)


def _generate(
    var: Path, members: int, days: int, seed: int, database_url: str | None = None
) -> list[str]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _use(monkeypatch, var, database_url)
        return run_demo(members=members, days=days, seed=seed, end=END, progress=False)


TOTALS = {
    "members": "SELECT status, tier, COUNT(*) FROM crm_member GROUP BY status, tier",
    "accruals": "SELECT channel, business_type, status, COUNT(*), SUM(total_fen), SUM(points), "
    "SUM(refunded_fen), SUM(points_reversed) FROM points_engine_accrual "
    "GROUP BY channel, business_type, status",
    "redemptions": "SELECT reward_code, status, COUNT(*), SUM(points_spent) "
    "FROM points_engine_redemption GROUP BY reward_code, status",
    "postings": "SELECT type, COUNT(*), SUM(points) FROM points_engine_posting GROUP BY type",
    "balances": "SELECT kind, SUM(balance) FROM points_engine_account GROUP BY kind",
    "campaigns": "SELECT c.code, SUM(a.points) FROM points_engine_campaign_award a "
    "JOIN points_engine_campaign c ON c.id = a.campaign_id GROUP BY c.code",
    "lots": "SELECT status, institution_code, COUNT(*), SUM(initial), SUM(remaining) "
    "FROM points_engine_lot GROUP BY status, institution_code",
    "orders": "SELECT channel, fulfilment, payment_method, status, COUNT(*), SUM(total_fen), "
    "SUM(points_used), SUM(paid_fen) FROM storefront_order "
    "GROUP BY channel, fulfilment, payment_method, status",
    "order_changes": "SELECT from_status, to_status, COUNT(*) "
    "FROM storefront_order_status_change GROUP BY from_status, to_status",
    "order_payments": "SELECT method, COUNT(*), SUM(amount_fen), SUM(refunded_fen) "
    "FROM storefront_order_payment GROUP BY method",
    "order_lines": "SELECT business_type, category, COUNT(*), SUM(quantity) "
    "FROM storefront_order_line GROUP BY business_type, category",
    "bill_payments": "SELECT channel, status, COUNT(*), SUM(amount_fen), SUM(points), "
    "SUM(points_reversed) FROM storefront_bill_payment GROUP BY channel, status",
    "mailings": "SELECT service, status, COUNT(*), SUM(fee_fen), SUM(points) "
    "FROM storefront_mailing GROUP BY service, status",
    "mail_events": "SELECT status, COUNT(*) FROM storefront_mail_event GROUP BY status",
    "subscriptions": "SELECT channel, term, status, COUNT(*), SUM(total_fen), SUM(refund_fen), "
    "SUM(points) FROM storefront_subscription GROUP BY channel, term, status",
    "prepaid_entries": "SELECT kind, channel, COUNT(*), SUM(amount_fen) "
    "FROM storefront_prepaid_entry GROUP BY kind, channel",
    "registrations": "SELECT registered_channel, status, COUNT(*), MIN(created_at), "
    "MAX(created_at) FROM crm_member GROUP BY registered_channel, status",
}


def _totals(var: Path, database_url: str | None = None) -> dict[str, list[tuple[Any, ...]]]:
    url = normalise_database_url(database_url or f"sqlite:///{var / 'memberhub.db'}")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                name: sorted((tuple(row) for row in connection.execute(text(query))), key=repr)
                for name, query in TOTALS.items()
            }
    finally:
        engine.dispose()


def _count(rows: list[tuple[Any, ...]], column: int, where: dict[int, Any] | None = None) -> int:
    """Sum of `column` over the rows whose columns match `where` ({column: value})."""
    matching = [row for row in rows if all(row[i] == v for i, v in (where or {}).items())]
    return sum(int(row[column]) for row in matching)


def _values(rows: list[tuple[Any, ...]], column: int) -> set[Any]:
    return {row[column] for row in rows}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    var = tmp_path_factory.mktemp("demo-var")
    if not IS_POSTGRES:
        lines = _generate(var, MEMBERS, DAYS, SEED)
        yield Demo(lines, var, None, _totals(var))
        return
    schema = f"mh_demo_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_database_url(BACKEND), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in BACKEND else "?"
    url = f"{BACKEND}{separator}options={quote(f'-csearch_path={schema}')}"
    try:
        lines = _generate(var, MEMBERS, DAYS, SEED, url)
        yield Demo(lines, var, url, _totals(var, url))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def client(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlaskClient]:
    """A test client on the demo's database with the demo's settings (the printed keys' home)."""
    _use(monkeypatch, demo.var, demo.database_url)
    runtime = build_runtime(load_settings())
    app = create_app(runtime)
    app.config["TESTING"] = True
    yield app.test_client()
    runtime.engine.dispose()


def _field(lines: list[str], label: str) -> list[list[str]]:
    return [
        [part.strip() for part in line[14:].split(" / ")]
        for line in lines
        if line[:14].strip() == label
    ]


def test_history_has_members_purchases_refunds_redemptions_and_merges(demo: Demo) -> None:
    totals = demo.totals
    by_status: dict[str, int] = {}
    for status, _tier, count in totals["members"]:
        by_status[status] = by_status.get(status, 0) + count
    assert by_status == {"active": MEMBERS - 2, "merged": 2}
    accruals = totals["accruals"]
    assert {"counter", "retail", "app", "web", "hotline", "distribution"} <= _values(accruals, 0)
    assert {"goods", "mailing", "bill_payment", "philately", "subscription"} <= _values(accruals, 1)
    assert _count(accruals, 3) >= 200
    assert _count(totals["redemptions"], 2) >= 1
    assert _count(accruals, 6) > 0  # refunded_fen: refunds, cancels, returns, expiries
    posting_types = _values(totals["postings"], 0)
    assert {
        "accrual",
        "reversal",
        "redemption",
        "merge",
        "release",
        "budget",
        "expiry",
    } <= posting_types
    # Orders and online goods wait out their return window; the weekly jobs released old ones.
    assert any(row[0] == "available" and row[2] > 0 for row in totals["lots"])
    # Lots earned in 2024 (last year's till sales) expired at the end of 2025.
    assert _count(totals["lots"], 2, {0: "expired"}) > 0
    # The campaigns really ran: some member earned a campaign bonus.
    assert _count(totals["campaigns"], 1) > 0


def test_members_joined_over_the_years_before_and_during_the_history(demo: Demo) -> None:
    rows = demo.totals["registrations"]
    first = min(as_utc(_moment(row[3])) for row in rows)
    last = max(as_utc(_moment(row[4])) for row in rows)
    assert first.year <= 2023 and date(2026, 2, 1) <= last.date() <= END
    assert {"counter", "app"} <= _values(rows, 0)


def _moment(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def test_a_wrong_merge_was_undone_and_both_members_stand_alone(demo: Demo) -> None:
    with _connection(demo) as connection:
        undone = connection.execute(
            text(
                "SELECT s.status, a.status, a.merged_into_id, g.undone_by "
                "FROM crm_merge g JOIN crm_member s ON s.id = g.survivor_id "
                "JOIN crm_member a ON a.id = g.absorbed_id WHERE g.undone_at IS NOT NULL"
            )
        ).all()
        open_accounts = connection.execute(
            text(
                "SELECT COUNT(*) FROM points_engine_account acc JOIN crm_merge g "
                "ON acc.member_id = g.absorbed_id WHERE g.undone_at IS NOT NULL "
                "AND acc.status = 'open'"
            )
        ).scalar_one()
    assert [tuple(row) for row in undone] == [("active", "active", None, "staff:admin")]
    assert open_accounts == 2  # the restored member's available and pending accounts
    assert "(1 undone," in _field(demo.lines, "history")[0][0]


def test_members_buy_often_rarely_or_stop(demo: Demo) -> None:
    """A few buy every week or so, most a few times, and many not at all in the window."""
    with _connection(demo) as connection:
        counts = sorted(
            int(n)
            for (n,) in connection.execute(
                text(
                    "SELECT COUNT(a.id) FROM crm_member m LEFT JOIN points_engine_accrual a "
                    "ON a.member_id = m.id AND a.occurred_at >= :start "
                    "WHERE m.status = 'active' GROUP BY m.id"
                ),
                {"start": datetime(2025, 12, 1, tzinfo=UTC)},
            )
        )
    idle = sum(1 for n in counts if n == 0) / len(counts)
    top = sum(counts[-len(counts) // 100 :]) / sum(counts)
    assert 0.3 < idle < 0.8
    assert top > 0.05  # the top 1% make well over 1% of the purchases
    assert counts[-1] >= 20


def test_festival_campaign_offers_a_holdout_nothing_and_treated_members_buy_more(
    demo: Demo,
) -> None:
    """Holdout members of a campaign get no award however much they buy its gift boxes, and
    members who got the offer spend more on them in its window: a true incremental effect."""
    with _connection(demo) as connection:
        campaigns = connection.execute(
            text(
                "SELECT id, code, starts_on, ends_on, holdout_pct, target "
                "FROM points_engine_campaign"
            )
        ).all()
        awards = connection.execute(
            text("SELECT campaign_id, member_id, points FROM points_engine_campaign_award")
        ).all()
        members = [
            int(member_id)
            for (member_id,) in connection.execute(
                text("SELECT id FROM crm_member WHERE status = 'active'")
            )
        ]
        purchases = connection.execute(
            text(
                "SELECT member_id, occurred_at, lines FROM points_engine_accrual "
                "WHERE status <> 'refunded'"
            )
        ).all()
    assert [code for _, code, *_ in campaigns] == ["SPRING-2026"]
    for campaign_id, code, starts_on, ends_on, holdout_pct, target in campaigns:
        skus = set(_json_value(target)["skus"])
        assert skus and holdout_pct > 0
        holdout = {m for m in members if points_engine.in_holdout(code, m, holdout_pct)}
        treated = set(members) - holdout
        awarded = {m for c, m, points in awards if c == campaign_id and points > 0}
        assert holdout and awarded
        assert not awarded & holdout
        spend = dict.fromkeys(members, 0)
        for member_id, occurred_at, lines in purchases:
            day = as_utc(_moment(occurred_at)).date()
            if member_id in spend and _day(starts_on) <= day <= _day(ends_on):
                spend[member_id] += sum(
                    int(line["amount_fen"]) for line in _json_value(lines) if line["sku"] in skus
                )
        # Holdout members did buy the gift boxes, only less: they were not offered anything.
        assert sum(spend[m] for m in holdout) > 0
        treated_mean = sum(spend[m] for m in treated) / len(treated)
        holdout_mean = sum(spend[m] for m in holdout) / len(holdout)
        assert treated_mean > 1.2 * holdout_mean


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _json_value(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


@contextmanager
def _connection(demo: Demo) -> Iterator[Connection]:
    """A connection to the demo's database for queries of its own."""
    url = demo.database_url or f"sqlite:///{demo.var / 'memberhub.db'}"
    engine = create_engine(normalise_database_url(url))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def test_orders_come_from_every_channel_reach_every_status_and_use_every_payment(
    demo: Demo,
) -> None:
    orders = demo.totals["orders"]
    assert _values(orders, 0) == {"web", "app", "counter", "hotline", "distribution"}
    assert _values(orders, 1) == {"pickup", "delivery"}
    assert _values(orders, 2) == {"online", "cod", "prepaid_card", "points_cash"}
    # Counter orders are pre-orders collected at that counter's outlet.
    assert _values([row for row in orders if row[0] == "counter"], 1) == {"pickup"}
    # Every status of the state machine was reached; some orders still wait or are in transit.
    changes = demo.totals["order_changes"]
    assert _values(changes, 1) == ORDER_STATUSES
    assert {"ready_for_pickup", "picked_up", "delivered", "cancelled", "refunded", "expired"} <= (
        _values(orders, 3)
    )
    # Expired: pickups nobody collected, and online orders nobody paid.
    assert _count(changes, 2, {0: "ready_for_pickup", 1: "expired"}) > 0
    assert _count(changes, 2, {0: "created", 1: "expired"}) > 0
    assert (
        _count(changes, 2, {0: "picked_up", 1: "refunded"})
        + _count(changes, 2, {0: "delivered", 1: "refunded"})
        > 0
    )
    # Points spent on points_cash orders, money taken by each way of paying.
    assert _count(orders, 6, {2: "points_cash"}) > 0
    assert {"online", "cod", "prepaid_card"} <= _values(demo.totals["order_payments"], 0)
    lines = demo.totals["order_lines"]
    assert _count(lines, 2, {0: "philately"}) > 0
    assert _count(lines, 2, {0: "goods"}) > _count(lines, 2, {0: "philately"})


def test_bills_mail_subscriptions_and_prepaid_cards_went_through_their_services(
    demo: Demo,
) -> None:
    totals = demo.totals
    payments = totals["bill_payments"]
    assert _values(payments, 0) == {"counter", "app"}
    assert _count(payments, 2, {1: "paid"}) > 20
    assert _count(payments, 4, {1: "paid"}) > 0  # points
    # A few are declined or reversed the same day; the job settled every unanswered one.
    assert "paid" in _values(payments, 1) <= {"paid", "declined", "reversed"}
    mailings = totals["mailings"]
    assert _values(mailings, 0) == {"letter", "registered", "parcel", "ems"}
    assert _count(mailings, 4) > 0
    events = dict((status, count) for status, count in totals["mail_events"])
    assert events["accepted"] == _count(mailings, 2)
    assert events["in_transit"] >= events["out_for_delivery"] >= events["delivered"] > 0
    subscriptions = totals["subscriptions"]
    assert {"counter", "hotline", "web", "app"} <= _values(subscriptions, 0)
    assert _values(subscriptions, 1) == {"monthly", "quarterly", "annual"}
    assert _count(subscriptions, 3, {2: "cancelled"}) > 0
    assert _count(subscriptions, 6) > 0
    entries = totals["prepaid_entries"]
    assert {"issue", "charge", "refund"} <= _values(entries, 0)
    assert {"counter", "app"} <= {row[1] for row in entries if row[0] == "issue"}


def test_ledger_and_prepaid_cards_of_the_demo_verify(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, demo.var, demo.database_url)
    runtime = build_runtime(load_settings())
    try:
        with read_session(runtime.session_factory) as session:
            assert points_engine.find_breaches(session) == []
            assert prepaid.find_breaches(session) == []
            assert points_engine.queries.posting_count(session) > 0
    finally:
        runtime.engine.dispose()


def test_printed_lines_name_the_database_staff_keys_and_demo_member(demo: Demo) -> None:
    if demo.database_url is None:
        assert demo.lines[0].split()[-1] == f"sqlite:///{demo.var / 'memberhub.db'}"
    else:
        assert demo.lines[0].split()[-1].startswith("postgresql+psycopg://")
    assert sorted(row[:2] for row in _field(demo.lines, "staff")) == [
        ["admin", "admin"],
        ["finance", "finance"],
        ["marketer", "marketer"],
    ]
    keys = {row[0]: row[1] for row in _field(demo.lines, "channel key")}
    assert keys == {
        "web": "-",
        "app": "-",
        "hotline": "-",
        "partner": "-",
        "distribution": "-",
        "counter": "SH-HP-0001",
        "retail": keys["retail"],
    }
    assert re.fullmatch(r"SH-[A-Z]{2}-\d{4}", keys["retail"])
    [member] = _field(demo.lines, "member")
    assert re.fullmatch(r"\d{12}", member[0])
    assert re.fullmatch(r"1[3-9]\d{9}", member[1])


def test_printed_counts_match_the_database(demo: Demo) -> None:
    totals = demo.totals
    [orders] = _field(demo.lines, "orders")
    assert orders[0].startswith(f"{_count(totals['orders'], 4)} orders (")
    expired = _count(totals["order_changes"], 2, {0: "ready_for_pickup", 1: "expired"})
    assert f"; {expired} pickups expired uncollected" in orders[0]
    [bills] = _field(demo.lines, "bills")
    assert bills[0].startswith(f"{_count(totals['bill_payments'], 2) - _declined(totals)} bill")
    [mail] = _field(demo.lines, "mail")
    events = sum(count for _, count in totals["mail_events"])
    accepted = dict(totals["mail_events"])["accepted"]
    assert mail[0] == f"{accepted} mailings, {events - accepted} tracking events"
    [subscriptions] = _field(demo.lines, "subscriptions")
    assert subscriptions[0].startswith(f"{_count(totals['subscriptions'], 3)} subscriptions")
    [cards] = _field(demo.lines, "cards")
    issued = _count(totals["prepaid_entries"], 2, {0: "issue"})
    assert cards[0].startswith(f"{issued} prepaid cards issued")


def _declined(totals: dict[str, list[tuple[Any, ...]]]) -> int:
    return _count(totals["bill_payments"], 2, {1: "declined"})


@dataclass(frozen=True)
class Call:
    argv: list[str]
    status: int
    body: Any


def _replay(client: FlaskClient, lines: list[str]) -> list[Call]:
    """Run the printed curl examples in order on the test client, as a shell would.

    `NAME=$(curl ... | python3 -c '...["field"][0]["inner"]')` keeps that part of the
    answer in $NAME for the calls after it.
    """
    variables: dict[str, str] = {}
    calls = []
    for line in lines:
        command = line.strip()
        from_file = re.fullmatch(
            r"(\w+)=\$\(tail -1 (\S+) \| python3 -c '.*\[\"(\w+)\"\]\)'\)", command
        )
        if from_file is not None:
            last = Path(from_file.group(2)).read_text(encoding="utf-8").splitlines()[-1]
            variables[from_file.group(1)] = str(json.loads(last)[from_file.group(3)])
            continue
        assigned = re.fullmatch(
            r"(\w+)=\$\((curl .*) \| python3 -c '.*?sys\.stdin\)((?:\[[^\]]+\])+)\)'\)", command
        )
        if assigned is None and not command.startswith("curl "):
            continue
        argv = shlex.split(assigned.group(2) if assigned else command)
        for name, value in variables.items():
            argv = [arg.replace(f"${name}", value) for arg in argv]
        url = next(arg for arg in argv if arg.startswith(BASE)).removeprefix(BASE)
        headers = dict(argv[i + 1].split(": ", 1) for i, arg in enumerate(argv) if arg == "-H")
        body = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-d"]
        response = (
            client.post(url, headers=headers, data=body[0])
            if "POST" in argv
            else client.get(url, headers=headers)
        )
        answer: Any = response.json
        calls.append(Call(argv, response.status_code, answer))
        if assigned:
            assert response.status_code < 300, (argv, answer)
            for key, index in re.findall(r'\[(?:"(\w+)"|(\d+))\]', assigned.group(3)):
                answer = answer[key] if key else answer[int(index)]
            variables[assigned.group(1)] = str(answer)
    return calls


def test_printed_curl_examples_work_in_order(demo: Demo, client: FlaskClient) -> None:
    """Accrual, login, points, redemption, then an order paid online and collected at the
    counter, the member's orders and timeline, a bill looked up and paid, a tracked item."""
    calls = _replay(client, demo.lines)
    assert [call.status for call in calls] == [
        201, 200, 200, 201, 200, 201, 201, 200, 200, 200, 200, 201, 200, 202, 201, 200, 200
    ]  # fmt: skip
    *calls, _code_sent, registered, _admin_login, audit = calls
    assert registered.body["registered_channel"] == "self"
    assert any(event["action"] == "login.staff" for event in audit.body["items"])
    (
        earned,
        _,
        balance,
        redeemed,
        wallet,
        placed,
        paid,
        collected,
        listed,
        timeline,
        bill,
        paid_bill,
        track,
    ) = calls
    assert earned.body["points"] > 0
    assert balance.body["available"] >= 500
    assert redeemed.body["points_spent"] == 1_000
    assert redeemed.body["balance"]["available"] == balance.body["available"] - 1_000
    [voucher] = redeemed.body["vouchers"]
    assert wallet.body["items"][0]["code"] == voucher["code"]
    assert placed.body["status"] == "created"
    assert placed.body["voucher_fen"] == voucher["value_fen"] == 1_000
    assert placed.body["payable_fen"] == placed.body["total_fen"] - 1_000
    assert paid.body["status"] == "ready_for_pickup"
    assert paid.body["payable_fen"] == placed.body["payable_fen"] > 0
    assert collected.body["status"] == "picked_up"
    assert collected.body["order_no"] == placed.body["order_no"]
    order_no = placed.body["order_no"]
    assert listed.body["items"][0]["order_no"] == order_no
    assert listed.body["items"][0]["status"] == "picked_up"
    assert {"order_no": order_no, "status": "picked_up"}.items() <= listed.body["items"][0].items()
    assert any(
        item["kind"] == "order" and item["reference"] == order_no and item["status"] == "picked_up"
        for item in timeline.body["items"]
    )
    assert bill.body["amount_due_fen"] == paid_bill.body["amount_fen"]
    assert paid_bill.body["status"] == "paid" and paid_bill.body["points"] > 0
    assert track.body["events"][0]["status"] == "accepted"
    assert len(track.body["events"]) > 1
    assert (
        json.loads(placed.argv[placed.argv.index("-d") + 1])["member_no"]
        == (balance.body["member_no"])
    )


def _pages(client: FlaskClient, url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = f"?limit=100&cursor={cursor}" if cursor else "?limit=100"
        response = client.get(url + query, headers=headers)
        page: Any = response.json
        assert response.status_code == 200, page
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_the_demo_members_order_list_and_timeline_agree(demo: Demo, client: FlaskClient) -> None:
    [member] = _field(demo.lines, "member")
    member_no, phone, password = member[0], member[1], member[2].split()[0]
    login = client.post("/api/v1/auth/member-token", json={"phone": phone, "password": password})
    assert login.status_code == 200, login.json
    token: Any = login.json
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    orders = _pages(client, f"/api/v1/members/{member_no}/orders", headers)
    timeline = _pages(client, f"/api/v1/members/{member_no}/activity", headers)
    assert len(orders) >= 5
    changes: dict[str, list[str]] = {}
    for item in timeline:
        if item["kind"] == "order":
            changes.setdefault(item["reference"], []).append(item["status"])
    assert set(changes) == {order["order_no"] for order in orders}
    for order in orders:
        response = client.get(f"/api/v1/orders/{order['order_no']}", headers=headers)
        detail: Any = response.json
        assert response.status_code == 200, detail
        history = [change["to"] for change in detail["history"]]
        assert sorted(changes[order["order_no"]]) == sorted(history)
        assert history[-1] == order["status"] == detail["status"]
    # The member's other flows show on the same timeline.
    assert {"order", "points", "bill", "mail", "prepaid_card"} <= {i["kind"] for i in timeline}


def test_staff_logins_work(demo: Demo, client: FlaskClient) -> None:
    for username, role, password in _field(demo.lines, "staff"):
        response = client.post(
            "/api/v1/auth/staff-token", json={"username": username, "password": password}
        )
        assert response.status_code == 200, (role, response.json)


def test_channel_keys_work_for_their_channel_and_institution(
    demo: Demo, client: FlaskClient
) -> None:
    [member] = _field(demo.lines, "member")
    for channel, institution, key in _field(demo.lines, "channel key"):
        headers = {"Authorization": f"Bearer {key}"}
        response = client.get(f"/api/v1/members/{member[0]}/points", headers=headers)
        assert response.status_code == 200, (channel, response.json)
        if institution != "-":
            elsewhere = client.post(
                "/api/v1/accruals",
                headers=headers,
                json={
                    "external_id": f"T-{uuid.uuid4().hex}",
                    "member": {"member_no": member[0]},
                    "institution_code": "SH-PD-0001",
                    "occurred_at": "2026-01-05T10:00:00+08:00",
                    "business_type": "mailing",
                    "lines": [{"sku": "MAIL-PARCEL", "amount_fen": 1500}],
                    "total_fen": 1500,
                },
            )
            assert elsewhere.status_code == 403, channel


@sqlite_only
def test_same_seed_same_history_and_a_rerun_starts_afresh(tmp_path: Path) -> None:
    first = _generate(tmp_path, members=30, days=40, seed=SEED)
    totals = _totals(tmp_path)
    other = _generate(tmp_path, members=30, days=40, seed=SEED + 1)
    assert _totals(tmp_path) != totals
    # Same path again: the old file goes first (else the phones and staff names would clash).
    again = _generate(tmp_path, members=30, days=40, seed=SEED)
    assert _totals(tmp_path) == totals
    assert again[1:9] == first[1:9] != other[1:9]  # the printed summary of the history
    assert _field(again, "member")[0][1:] == _field(first, "member")[0][1:]


@sqlite_only
def test_a_demo_of_a_day_or_three_clears_what_it_can(tmp_path: Path) -> None:
    [one_day] = [line for line in _generate(tmp_path, 5, 1, SEED) if line.startswith("clearing")]
    assert "no day to clear yet" in one_day, one_day
    [three] = [line for line in _generate(tmp_path, 5, 3, SEED) if line.startswith("clearing")]
    assert "2 days cleared from 2026-02-26 to 2026-02-27 (1 closed)" in three, three


@pytest.fixture
def empty_postgres(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if not IS_POSTGRES:
        pytest.skip("needs MEMBERHUB_TEST_DB=postgresql:///...")
    schema = f"mh_demo_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalise_database_url(BACKEND), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in BACKEND else "?"
    url = f"{BACKEND}{separator}options={quote(f'-csearch_path={schema}')}"
    _use(monkeypatch, tmp_path, url)
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_postgres_demo_fills_an_empty_database_and_refuses_one_in_use(
    empty_postgres: str,
) -> None:
    lines = run_demo(members=5, days=3, seed=1, end=END, progress=False)
    assert lines[0].startswith("database      postgresql+psycopg://")
    with pytest.raises(DemoRefused, match="already holds members"):
        run_demo(members=5, days=3, seed=1, end=END, progress=False)
    runtime = build_runtime(load_settings())
    try:
        with read_session(runtime.session_factory) as session:
            assert points_engine.find_breaches(session) == []
            assert prepaid.find_breaches(session) == []
            # The refused run wrote nothing: still the first run's five members.
            assert session.scalar(text("SELECT COUNT(*) FROM crm_member")) == 5
    finally:
        runtime.engine.dispose()


def test_the_demo_closes_its_books_and_finance_sees_the_lost_till_sale(
    demo: Demo, client: FlaskClient
) -> None:
    [line] = [line for line in demo.lines if line.startswith("clearing")]
    # Every day of the history is cleared; all but yesterday are closed.
    assert "89 days cleared from 2025-12-01 to 2026-02-27 (88 closed)" in line, line
    assert "(1 mismatch, explained, on 2026-02-24)" in line, line
    finance = next(f for f in _field(demo.lines, "staff") if f[1] == "finance")
    token = client.post(
        "/api/v1/auth/staff-token", json={"username": finance[0], "password": finance[2]}
    ).json["access_token"]  # type: ignore[index]
    headers = {"Authorization": f"Bearer {token}"}
    day = client.get("/api/v1/clearing/runs/2026-02-24", headers=headers).json
    assert day["status"] == "closed" and day["balanced"], day
    assert "till lost one sale" in day["close_reason"]
    [lost] = [m for m in day["mismatches"] if m["status"] == "mismatch"]
    assert len(lost["extra"]) == 1 and lost["missing"] == []
    assert lost["cleared_sales"] == lost["reported_sales"] + 1
    yesterday = client.get("/api/v1/clearing/runs/2026-02-27", headers=headers).json
    assert yesterday["status"] == "open"
    first = client.get("/api/v1/clearing/runs/2025-12-01", headers=headers).json
    assert first["status"] == "closed" and first["balanced"], first
    assert first["totals"]["sales"] > 0, first["totals"]
    assert (demo.var / "clearing" / "2026-02-27" / "transfers.csv").exists()
    assert not (demo.var / "clearing" / "2025-12-01").exists()  # files: the last two weeks


def test_the_demo_exchanges_points_with_partners(demo: Demo) -> None:
    [line] = [line for line in demo.lines if line.startswith("partners")]
    assert "12 exchanges of 2000 points into MU miles on 2026-02-27" in line, line
    assert "11 settled, 1 rejected (2000 points back to their lots)" in line, line
    assert "5000 points bought in with PSBC card points" in line, line


def test_the_demo_shares_saved_views_and_writes_their_daily_reports(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(monkeypatch, demo.var, demo.database_url)
    runtime = build_runtime(load_settings())
    try:
        sync_warehouse(runtime.engine, runtime.settings.warehouse_path)
        run_day = END + timedelta(days=1)
        line = write_demo_reports(runtime, run_day)
        assert line.startswith("3 saved views (2 with a daily report); 2 reports written"), line
        folders = sorted((runtime.settings.report_outbox / run_day.isoformat()).iterdir())
        manifests = [json.loads((f / "manifest.json").read_text("utf-8")) for f in folders]
        assert sorted(m["name"] for m in manifests) == ["每日总览", "清分日报"]
        for manifest in manifests:
            assert manifest["files"] and (folders[0].parent / manifest["view_no"]).is_dir()
        overview = next(m for m in manifests if m["page"] == "overview")
        assert overview["query"] == {} and overview["recipients"] == ["marketing@post.example.cn"]
        assert any(name.endswith(".xlsx") for name in overview["files"])
        assert any(name.endswith(".png") for name in overview["files"])
        clearing = next(m for m in manifests if m["page"] == "clearing")
        assert any("positions" in name for name in clearing["files"]), clearing["files"]
        again = write_demo_reports(runtime, run_day)
        assert "0 reports written" in again
    finally:
        runtime.engine.dispose()


def test_the_demo_s_delivery_fees_are_the_order_lines_that_say_so(demo: Demo) -> None:
    [line] = [line for line in demo.lines if line.startswith("order mix")]
    found = re.search(r"(\d+) delivered, (\d+) of them free .*?([\d,.]+) 元 in delivery fees", line)
    assert found, line
    with _connection(demo) as connection:
        delivered, charged, fees = connection.execute(
            text(
                "SELECT COUNT(DISTINCT o.id), COUNT(l.id), COALESCE(SUM(l.amount_fen), 0) "
                "FROM storefront_order o LEFT JOIN storefront_order_line l "
                "ON l.order_id = o.id AND l.sku = 'DELIVERY' "
                "WHERE o.fulfilment = 'delivery' AND o.reward_code IS NULL"
            )
        ).one()
    assert int(found[1]) == delivered and int(found[2]) == delivered - charged
    assert round(float(found[3].replace(",", "")) * 100) == fees
    assert charged > 0


def test_the_demo_s_club_members_get_their_birthday_bonuses(demo: Demo) -> None:
    [line] = [line for line in demo.lines if line.startswith("club")]
    found = re.search(r"(\d+) birthday bonuses \((\d+) points\)", line)
    assert found, line
    with _connection(demo) as connection:
        count, points = connection.execute(
            text(
                "SELECT COUNT(*), COALESCE(SUM(points), 0) FROM points_engine_posting "
                "WHERE type = 'adjustment'"
            )
        ).one()
    assert (int(found[1]), int(found[2])) == (count, points)
    assert count > 0, "a year of members has birthdays among silver, gold or diamond"
