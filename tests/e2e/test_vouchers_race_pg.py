"""Real parallel HTTP on PostgreSQL: one voucher code raced by 32 tills and 32 orders."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from bench.server import RunningServer, start_server
from tests.e2e.test_partners_race_pg import _member_with_points
from tests.e2e.test_prepaid_race_pg import get, post, problem_code, race
from tests.e2e.test_prepaid_race_pg import pytestmark as pg_only

pytestmark = pg_only


@pytest.fixture(scope="module")
def server(runtime: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = start_server(
        database_url=runtime.settings.database_url,
        secret_key=runtime.settings.secret_key,
        var_dir=Path(tmp_path_factory.mktemp("e2e-vouchers-var")),
        workers=4,
    )
    yield running
    running.stop()


def _voucher(server: RunningServer, member_no: str, app: str) -> str:
    body = {
        "external_id": f"RD-{uuid.uuid4().hex}",
        "member_no": member_no,
        "reward_code": "VOUCHER-MALL-20",
    }
    status, redeemed = post(server, "/api/v1/redemptions", body, app)
    assert status == 201, redeemed
    return str(redeemed["vouchers"][0]["code"])


def _status_of(server: RunningServer, member_no: str, code: str, app: str) -> str:
    items = get(server, f"/api/v1/members/{member_no}/vouchers", app)["items"]
    return next(item["status"] for item in items if item["code"].endswith(code[-4:]))


def test_32_tills_racing_for_one_code_take_it_once(
    server: RunningServer, db: Any, channel_key: Any
) -> None:
    web, counter, app = channel_key("web"), channel_key("counter"), channel_key("app")
    member_no = _member_with_points(server, web, counter, 5_000)
    code = _voucher(server, member_no, app)
    uses = [
        {
            "external_id": f"VU-{n}-{uuid.uuid4().hex[:8]}",
            "voucher_code": code,
            "member": {"member_no": member_no},
            "institution_code": "SH-HP-0001",
            "business_type": "goods",
            "spend_fen": 30_000,
        }
        for n in range(32)
    ]
    results = race([partial(post, server, "/api/v1/voucher-uses", body, counter) for body in uses])
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 31}, results
    assert {problem_code(body) for status, body in results if status == 409} == {
        "voucher-already-used"
    }
    assert _status_of(server, member_no, code, app) == "used"


def test_32_orders_racing_for_one_code_take_it_once_and_a_cancel_returns_it(
    server: RunningServer, db: Any, channel_key: Any
) -> None:
    web, counter, app = channel_key("web"), channel_key("counter"), channel_key("app")
    member_no = _member_with_points(server, web, counter, 5_000)
    code = _voucher(server, member_no, app)

    def order(n: int) -> dict[str, Any]:
        return {
            "external_id": f"OD-{n}-{uuid.uuid4().hex[:8]}",
            "member_no": member_no,
            "lines": [{"sku": "MA-PJL-MOONCAKE-01", "quantity": 1}],
            "fulfillment": {"type": "delivery", "address": "上海市黄浦区南京东路1号"},
            "payment": {"method": "online", "voucher_code": code},
        }

    results = race([partial(post, server, "/api/v1/orders", order(n), web) for n in range(32)])
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 1, 409: 31}, results
    placed = next(body for status, body in results if status == 201)
    assert placed["voucher_fen"] == 2_000
    status, cancelled = post(server, f"/api/v1/orders/{placed['order_no']}/cancel", {}, web)
    assert status == 200 and cancelled["status"] == "cancelled", cancelled
    assert _status_of(server, member_no, code, app) == "issued"
    status, again = post(server, "/api/v1/orders", order(99), web)
    assert status == 201 and again["voucher_fen"] == 2_000, again
