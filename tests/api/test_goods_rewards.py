"""Goods rewards over HTTP: the redemption places an order through the order flow; its
points pay for the reward, a cash part is paid like any order's before it is handed
over, and cancelling the order gives the points (and the reward's stock) back."""

from __future__ import annotations

import pytest

from tests.api.support import problem, row_counts
from tests.api.test_rewards import counter, fund, new_member  # noqa: F401

OUTLET = "SH-HP-0001"


@pytest.fixture
def holder(client, counter, new_member):  # noqa: F811
    member_no, headers = new_member("13900003333")
    fund(client, counter, member_no, 20_000)
    return member_no, headers


def redemption(member_no, reward, external_id="RD-GOODS-1", **more):
    return {"external_id": external_id, "member_no": member_no, "reward_code": reward, **more}


PICKUP = {"type": "pickup", "outlet_code": OUTLET}
DELIVERY = {"type": "delivery", "address": "上海市黄浦区南京东路1号"}


def points(client, member_no, headers):
    return client.get(f"/api/v1/members/{member_no}/points", headers=headers).json["available"]


def stock(client, reward):
    items = client.get("/api/v1/rewards").json["items"]
    return next(item["stock"] for item in items if item["code"] == reward)


def test_a_points_only_gift_waits_at_the_outlet_and_is_collected(client, holder, counter):  # noqa: F811
    member_no, me = holder
    body = redemption(member_no, "GIFT-POSTCARD-SET", fulfillment=PICKUP)
    first = client.post("/api/v1/redemptions", json=body, headers=me)
    assert first.status_code == 201, first.json
    order = first.json["order"]
    assert order["reward_code"] == "GIFT-POSTCARD-SET"
    assert (order["status"], order["points_used"], order["payable_fen"]) == (
        "ready_for_pickup",
        800,
        0,
    )
    assert order["pickup_code"]
    again = client.post("/api/v1/redemptions", json=body, headers=me)
    assert again.status_code == 200 and again.json["order"]["order_no"] == order["order_no"]
    assert "pickup_code" not in again.json["order"]  # shown once, as for any order
    collected = client.post(
        "/api/v1/pickups/verify",
        json={"outlet_code": OUTLET, "pickup_code": order["pickup_code"]},
        headers=counter,
    )
    assert collected.status_code == 200 and collected.json["status"] == "picked_up"
    shown = client.get(f"/api/v1/orders/{order['order_no']}", headers=me)
    assert shown.json["status"] == "picked_up" and shown.json["lines"][0]["sku"] == (
        "GIFT-POSTCARD-SET"
    )


def test_the_cash_part_is_paid_before_the_gift_and_a_cancel_gives_everything_back(
    client, holder, auth, channel_key
):
    member_no, _ = holder
    app = auth(channel_key("app"))
    before, in_stock = points(client, member_no, app), stock(client, "GIFT-MOONCAKE")
    body = redemption(member_no, "GIFT-MOONCAKE", fulfillment=DELIVERY)
    redeemed = client.post("/api/v1/redemptions", json=body, headers=app)
    assert redeemed.status_code == 201, redeemed.json
    order = redeemed.json["order"]
    assert (order["status"], order["payable_fen"], order["points_used"]) == (
        "created",
        4_900,
        6_000,
    )
    assert order["total_fen"] == order["points_offset_fen"] + order["payable_fen"]
    assert points(client, member_no, app) == before - 6_000
    assert stock(client, "GIFT-MOONCAKE") == in_stock - 1
    shipped_unpaid = client.post(f"/api/v1/orders/{order['order_no']}/shipments", headers=app)
    assert shipped_unpaid.status_code in (409, 422)  # nothing leaves before it is paid
    paid = client.post(
        f"/api/v1/orders/{order['order_no']}/payments",
        json={
            "external_id": "PAY-GIFT-1",
            "amount_fen": 4_900,
            "method": "online",
            "transaction_ref": "WX-GIFT-1",
        },
        headers=app,
    )
    assert paid.status_code == 201 and paid.json["status"] == "paid", paid.json
    cancelled = client.post(f"/api/v1/orders/{order['order_no']}/cancel", json={}, headers=app)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert points(client, member_no, app) == before
    assert stock(client, "GIFT-MOONCAKE") == in_stock


def test_bad_goods_redemptions_name_the_field_and_change_nothing(
    db,
    client,
    holder,
    auth,
    channel_key,
):
    member_no, me = holder
    retail = auth(channel_key("retail", OUTLET))
    before = row_counts(db)
    for body, headers, field in (
        (redemption(member_no, "GIFT-POSTCARD-SET"), me, "fulfillment"),
        (redemption(member_no, "VOUCHER-MALL-10", fulfillment=PICKUP), me, "fulfillment"),
        (
            redemption(member_no, "GIFT-POSTCARD-SET", fulfillment={**PICKUP, "outlet_code": "SH"}),
            me,
            "fulfillment.outlet_code",
        ),
        (redemption(member_no, "GIFT-POSTCARD-SET", fulfillment=PICKUP), retail, "fulfillment"),
        (
            redemption(member_no, "GIFT-MOONCAKE", fulfillment=PICKUP, cash_payment_method="card"),
            me,
            "cash_payment_method",
        ),
    ):
        response = client.post("/api/v1/redemptions", json=body, headers=headers)
        assert problem(response, 422)["errors"][0]["field"] == field, response.json
    assert row_counts(db) == before


def test_a_redemption_whose_order_stands_is_cancelled_through_the_order(client, holder):
    member_no, me = holder
    body = redemption(member_no, "GIFT-POSTCARD-SET", fulfillment=PICKUP)
    order = client.post("/api/v1/redemptions", json=body, headers=me).json
    refused = client.post(f"/api/v1/redemptions/{order['redemption_id']}/cancel", headers=me)
    assert problem(refused, 409)["type"].endswith("/reward-underway")
    assert order["order"]["order_no"] in refused.json["detail"]
