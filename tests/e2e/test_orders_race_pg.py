"""Real parallel HTTP requests on PostgreSQL: last units, double pickups, cancel against pickup."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest

from tests.e2e.test_concurrency_pg import (  # noqa: F401  (server is a fixture)
    OUTLET,
    Api,
    pytestmark,
    race,
    server,
)


@pytest.fixture
def api(server: Any, db: Any, channel_key: Any, staff_token: Any) -> Api:  # noqa: F811
    return Api(server, channel_key("web"), staff_token("admin"))


@pytest.fixture
def counters(channel_key: Any) -> list[dict[str, str]]:
    """Two counter keys of the same outlet: two tills verifying at the same instant."""
    return [{"Authorization": f"Bearer {channel_key('counter', OUTLET)}"} for _ in range(2)]


def limited_product(
    api: Api, stock: int, per_member_limit: int | None, price_fen: int = 1200
) -> str:
    sku = f"PH-E2E-{uuid.uuid4().hex[:8].upper()}"
    status, body = api.post(
        "/products",
        {
            "sku": sku,
            "name": "《丁未年》生肖邮票 测试版",
            "category": "stamps",
            "price_fen": price_fen,
            "business_type": "philately",
            "stock": stock,
            "per_member_limit": per_member_limit,
        },
        api.admin,
    )
    assert status == 201, body
    return sku


def order(
    api: Api, member_no: str, sku: str = "MA-PJL-MOONCAKE-02", quantity: int = 1
) -> tuple[int, Any]:
    return api.post(
        "/orders",
        {
            "external_id": f"WEB-{uuid.uuid4().hex}",
            "member_no": member_no,
            "lines": [{"sku": sku, "quantity": quantity}],
            "fulfillment": {"type": "pickup", "outlet_code": OUTLET},
            "payment": {"method": "online"},
        },
        api.channel,
    )


def paid_pickup_order(api: Api, member_no: str, sku: str = "MA-PJL-MOONCAKE-02") -> tuple[str, str]:
    status, placed = order(api, member_no, sku)
    assert status == 201, placed
    status, paid = api.post(
        f"/orders/{placed['order_no']}/payments",
        {
            "external_id": f"PAY-{uuid.uuid4().hex}",
            "amount_fen": placed["payable_fen"],
            "method": "online",
            "transaction_ref": "WX-E2E",
        },
        api.channel,
    )
    assert status == 201, paid
    return str(placed["order_no"]), str(paid["pickup_code"])


def stock_of(api: Api, sku: str) -> int:
    return int(api.get(f"/products/{sku}")["stock"])


def test_fifty_members_race_for_the_last_ten_stamp_sheets(api: Api) -> None:
    sku = limited_product(api, stock=10, per_member_limit=2)
    members = [api.register() for _ in range(50)]

    results = race([lambda m=m: order(api, m, sku) for m in members])

    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 10, 409: 40}, results
    assert {body["type"].rsplit("/", 1)[-1] for status, body in results if status == 409} == {
        "out-of-stock"
    }
    assert stock_of(api, sku) == 0


def test_one_member_racing_past_the_per_member_limit_gets_exactly_the_limit(api: Api) -> None:
    sku = limited_product(api, stock=100, per_member_limit=2)
    member_no = api.register()

    results = race([lambda: order(api, member_no, sku) for _ in range(12)])

    assert Counter(status for status, _ in results) == {201: 2, 422: 10}, results
    assert stock_of(api, sku) == 98
    listed = api.get(f"/members/{member_no}/orders")["items"]
    assert sum(line["quantity"] for o in listed for line in o["lines"]) == 2


def test_two_counters_verifying_one_code_at_once_hand_it_over_once(
    api: Api, counters: list[dict[str, str]]
) -> None:
    member_no = api.register()
    for _ in range(5):
        order_no, code = paid_pickup_order(api, member_no)
        body = {"outlet_code": OUTLET, "pickup_code": code}

        results = race([lambda h=h, b=body: api.post("/pickups/verify", b, h) for h in counters])

        assert sorted(status for status, _ in results) == [200, 409], results
        assert api.get(f"/orders/{order_no}")["status"] == "picked_up"
    points = api.get(f"/members/{member_no}/points")
    assert points["available"] == 5 * 78 and points["pending"] == 0


def test_cancel_racing_pickup_ends_in_exactly_one_of_them(
    api: Api, counters: list[dict[str, str]]
) -> None:
    member_no = api.register()
    sku = limited_product(api, stock=100, per_member_limit=None, price_fen=7800)
    outcomes: Counter[str] = Counter()
    for _ in range(8):
        order_no, code = paid_pickup_order(api, member_no, sku)
        verify_body = {"outlet_code": OUTLET, "pickup_code": code}

        (cancel_status, cancelled), (verify_status, verified) = race(
            [
                lambda order_no=order_no: api.post(f"/orders/{order_no}/cancel", {}, api.channel),
                lambda verify_body=verify_body: api.post(
                    "/pickups/verify", verify_body, counters[0]
                ),
            ]
        )

        assert sorted([cancel_status, verify_status]) == [200, 409], (cancelled, verified)
        final = api.get(f"/orders/{order_no}")
        assert final["status"] == ("cancelled" if cancel_status == 200 else "picked_up")
        outcomes[final["status"]] += 1
    picked_up = outcomes["picked_up"]
    points = api.get(f"/members/{member_no}/points")
    assert points["available"] == picked_up * 78 and points["pending"] == 0
    assert stock_of(api, sku) == 100 - picked_up
    orders = api.get(f"/members/{member_no}/orders")["items"]
    assert Counter(o["status"] for o in orders) == outcomes
