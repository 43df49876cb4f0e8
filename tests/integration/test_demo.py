"""`memberhub demo`: a seeded history on a fresh database, an intact ledger and logins that work."""

from __future__ import annotations

import json
import re
import shlex
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

import points_engine
from common.clock import today
from common.db import read_session
from common.settings import load_settings, normalise_database_url
from memberhub.demo import DemoRefused, run_demo
from memberhub.wiring import build_runtime, create_app
from tests.conftest import BACKEND, IS_POSTGRES

sqlite_only = pytest.mark.skipif(IS_POSTGRES, reason="the demo's own database is a SQLite file")

# One end date for every run of this module, so that two runs straddling midnight agree.
END = today() - timedelta(days=3)
SEED = 2


@dataclass(frozen=True)
class Demo:
    lines: list[str]
    var: Path
    totals: dict[str, list[tuple[Any, ...]]]


def _use(monkeypatch: pytest.MonkeyPatch, var: Path, database_url: str | None = None) -> None:
    monkeypatch.setenv("MEMBERHUB_VAR_DIR", str(var))
    for name in ("MEMBERHUB_SECRET_KEY", "MEMBERHUB_WAREHOUSE"):
        monkeypatch.delenv(name, raising=False)
    if database_url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", database_url)


def _generate(var: Path, members: int, days: int, seed: int) -> list[str]:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _use(monkeypatch, var)
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
}


def _totals(var: Path) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(f"sqlite:///{var / 'memberhub.db'}")
    try:
        with engine.connect() as connection:
            return {
                name: sorted(tuple(row) for row in connection.execute(text(query)))
                for name, query in TOTALS.items()
            }
    finally:
        engine.dispose()


def _count(totals: dict[str, list[tuple[Any, ...]]], table: str, column: int) -> int:
    return sum(int(row[column]) for row in totals[table])


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    if IS_POSTGRES:
        pytest.skip("the demo's own database is a SQLite file")
    var = tmp_path_factory.mktemp("demo-var")
    lines = _generate(var, members=30, days=40, seed=SEED)
    return Demo(lines, var, _totals(var))


@pytest.fixture
def client(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlaskClient]:
    """A test client on the demo's database with the demo's settings (the printed keys' home)."""
    _use(monkeypatch, demo.var)
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


@sqlite_only
def test_history_has_members_purchases_refunds_redemptions_and_merges(demo: Demo) -> None:
    totals = demo.totals
    by_status: dict[str, int] = {}
    for status, _tier, count in totals["members"]:
        by_status[status] = by_status.get(status, 0) + count
    assert by_status == {"active": 28, "merged": 2}
    channels = {row[0] for row in totals["accruals"]}
    business_types = {row[1] for row in totals["accruals"]}
    assert {"counter", "app", "web"} <= channels
    assert {"goods", "mailing", "bill_payment"} <= business_types
    assert _count(totals, "accruals", 3) >= 50
    assert _count(totals, "redemptions", 2) >= 1
    assert _count(totals, "accruals", 6) > 0  # refunded_fen
    posting_types = {row[0] for row in totals["postings"]}
    assert {"accrual", "redemption", "merge", "release", "budget"} <= posting_types
    # Online goods wait out their return window; the weekly jobs released the old ones.
    assert any(row[0] == "available" and row[2] > 0 for row in totals["lots"])
    # The campaigns really ran: some member earned a campaign bonus.
    assert _count(totals, "campaigns", 1) > 0


@sqlite_only
def test_ledger_of_the_demo_verifies(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, demo.var)
    runtime = build_runtime(load_settings())
    try:
        with read_session(runtime.session_factory) as session:
            assert points_engine.find_breaches(session) == []
            assert points_engine.queries.posting_count(session) > 0
    finally:
        runtime.engine.dispose()


@sqlite_only
def test_printed_lines_name_the_database_staff_keys_and_demo_member(demo: Demo) -> None:
    assert demo.lines[0].split()[-1] == f"sqlite:///{demo.var / 'memberhub.db'}"
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


@sqlite_only
def test_staff_logins_work(demo: Demo, client: FlaskClient) -> None:
    for username, role, password in _field(demo.lines, "staff"):
        response = client.post(
            "/api/v1/auth/staff-token", json={"username": username, "password": password}
        )
        assert response.status_code == 200, (role, response.json)


@sqlite_only
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


def _curls(lines: list[str]) -> list[list[str]]:
    commands = [line.strip() for line in lines if line.strip().startswith(("curl ", "TOKEN="))]
    return [shlex.split(command.split("$(", 1)[-1]) for command in commands]


def _option(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv) if arg == flag]


@sqlite_only
def test_printed_curl_examples_work_in_order(demo: Demo, client: FlaskClient) -> None:
    """Replays the four examples (accrual, member token, points, redemption) on the test client."""
    accrual, login, points, redemption = _curls(demo.lines)
    base = "http://127.0.0.1:8000"

    def call(argv: list[str], token: str | None = None) -> Any:
        url = next(arg for arg in argv if arg.startswith(base)).removeprefix(base)
        headers = dict(h.split(": ", 1) for h in _option(argv, "-H"))
        if token is not None:
            headers["Authorization"] = headers["Authorization"].replace("$TOKEN", token)
        body = _option(argv, "-d")
        if "POST" in argv:
            return client.post(url, headers=headers, data=body[0])
        return client.get(url, headers=headers)

    earned = call(accrual)
    assert earned.status_code == 201, earned.json
    assert earned.json["points"] > 0
    logged_in = call(login)
    assert logged_in.status_code == 200, logged_in.json
    token = logged_in.json["access_token"]
    balance = call(points, token)
    assert balance.status_code == 200, balance.json
    assert balance.json["available"] >= 500
    redeemed = call(redemption, token)
    assert redeemed.status_code == 201, redeemed.json
    assert redeemed.json["points_spent"] == 500
    assert redeemed.json["balance"]["available"] == balance.json["available"] - 500
    assert json.loads(_option(redemption, "-d")[0])["member_no"] == balance.json["member_no"]


@sqlite_only
def test_same_seed_same_history_and_a_rerun_starts_afresh(demo: Demo, tmp_path: Path) -> None:
    other = _generate(tmp_path, members=30, days=40, seed=SEED + 1)
    assert _totals(tmp_path) != demo.totals
    # Same path again: the old file goes first (else the phones and staff names would clash).
    again = _generate(tmp_path, members=30, days=40, seed=SEED)
    assert _totals(tmp_path) == demo.totals
    assert again[1] == demo.lines[1] != other[1]  # the printed summary of the history
    assert _field(again, "member")[0][1:] == _field(demo.lines, "member")[0][1:]


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
            # The refused run wrote nothing: still the first run's five members.
            assert session.scalar(text("SELECT COUNT(*) FROM crm_member")) == 5
    finally:
        runtime.engine.dispose()
