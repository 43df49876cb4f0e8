"""Real parallel HTTP on PostgreSQL: partner exchanges replayed and raced."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bench.server import RunningServer, start_server
from tests.e2e.test_prepaid_race_pg import get, post, problem_code, race
from tests.e2e.test_prepaid_race_pg import pytestmark as pg_only

pytestmark = pg_only


@pytest.fixture(scope="module")
def server(runtime: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        database_url=runtime.settings.database_url,
        secret_key=runtime.settings.secret_key,
        var_dir=Path(tmp_path_factory.mktemp("e2e-partners-var")),
        workers=4,
    )
    yield running
    running.stop()


def _member_with_points(server: RunningServer, web: str, counter: str, points: int) -> str:
    phone = f"139{uuid.uuid4().int % 10**8:08d}"
    status, member = post(server, "/api/v1/members", {"phone": phone, "name": "赛跑"}, web)
    assert status == 201, member
    sale = {
        "external_id": f"POS-{uuid.uuid4().hex}",
        "member": {"member_no": member["member_no"]},
        "institution_code": "SH-HP-0001",
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
        "business_type": "goods",
        "lines": [{"sku": "S", "category": "food", "amount_fen": points * 100}],
        "total_fen": points * 100,
    }
    status, earned = post(server, "/api/v1/accruals", sale, counter)
    assert status == 201 and earned["points"] == points, earned
    return str(member["member_no"])


def _exchange(member_no: str, external_id: str) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "member_no": member_no,
        "partner_code": "MU",
        "points": 1_000,
        "partner_member_no": "MU12345678",
    }


def test_32_parallel_replays_take_the_points_once(
    server: RunningServer, db: Any, channel_key: Any
) -> None:
    web, counter, app = channel_key("web"), channel_key("counter"), channel_key("app")
    member_no = _member_with_points(server, web, counter, 5_000)
    body = _exchange(member_no, f"APP-{uuid.uuid4().hex}")
    results = race([partial(post, server, "/api/v1/partner-exchanges", body, app)] * 32)
    statuses = Counter(status for status, _ in results)
    assert statuses[201] == 1 and statuses[201] + statuses[200] == 32, results
    assert len({answer["exchange_no"] for _, answer in results}) == 1
    points = get(server, f"/api/v1/members/{member_no}/points", app)
    assert points["available"] == 4_000


def test_32_parallel_exchanges_stop_exactly_at_the_daily_limit(
    server: RunningServer, db: Any, channel_key: Any
) -> None:
    web, counter, app = channel_key("web"), channel_key("counter"), channel_key("app")
    member_no = _member_with_points(server, web, counter, 50_000)
    tasks = [
        partial(post, server, "/api/v1/partner-exchanges", _exchange(member_no, f"L-{n}"), app)
        for n in range(32)
    ]
    results = race(tasks)
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 20, 422: 12}, results  # 20 x 1,000 = the 20,000 a day
    refused = {problem_code(body) for status, body in results if status == 422}
    assert refused == {"partner-daily-limit"}
    points = get(server, f"/api/v1/members/{member_no}/points", app)
    assert points["available"] == 30_000
