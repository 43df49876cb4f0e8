"""Catalogue, orders, payments, pickup and the member's order list over HTTP."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from common.clock import business_date
from common.unit_of_work import UnitOfWork, transaction
from storefront_api import orders
from storefront_api.auth import MemberPrincipal
from storefront_api.http.context import EXTENSION_KEY
from storefront_api.orders.orm import Order
from tests.api.support import each_is_problem, problem, row_counts

SHANGHAI = ZoneInfo("Asia/Shanghai")
API = "/api/v1"
OUTLET = "SH-HP-0001"
OTHER_OUTLET = "SH-HP-0002"
_ids = itertools.count(1)


def next_id(prefix="ORD"):
    return f"{prefix}-{next(_ids)}"


@pytest.fixture
def web(channel_key, auth):
    return auth(channel_key("web"))


@pytest.fixture
def counter(channel_key, auth):
    return auth(channel_key("counter", OUTLET))


@pytest.fixture
def member(client, web):
    created = client.post(
        f"{API}/members", json={"phone": "13900001111", "name": "林小邮"}, headers=web
    )
    assert created.status_code == 201
    return created.json["member_no"]


@pytest.fixture
def member_auth(app, auth):
    tokens = app.extensions[EXTENSION_KEY].tokens
    return lambda member_no: auth(tokens.issue(MemberPrincipal(member_no)))


def order_body(
    member_no,
    *,
    sku="MA-PJL-MOONCAKE-01",
    quantity=1,
    payment=None,
    fulfillment=None,
    external_id=None,
):
    return {
        "external_id": external_id or next_id(),
        "member_no": member_no,
        "lines": [{"sku": sku, "quantity": quantity}],
        "fulfillment": fulfillment or {"type": "pickup", "outlet_code": OUTLET},
        "payment": payment or {"method": "online"},
    }


def place(client, headers, member_no, **kwargs):
    response = client.post(f"{API}/orders", json=order_body(member_no, **kwargs), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def pay(client, headers, order, amount=None, external_id=None):
    return client.post(
        f"{API}/orders/{order['order_no']}/payments",
        json={
            "external_id": external_id or next_id("PAY"),
            "amount_fen": order["payable_fen"] if amount is None else amount,
            "method": "online",
            "transaction_ref": "WX-4200001234",
        },
        headers=headers,
    )


def points_of(client, headers, member_no):
    response = client.get(f"{API}/members/{member_no}/points", headers=headers)
    assert response.status_code == 200
    return response.json


def fund(client, headers, member_no, points):
    response = client.post(
        f"{API}/accruals",
        json={
            "external_id": next_id("POS"),
            "member": {"member_no": member_no},
            "institution_code": OUTLET,
            "occurred_at": (datetime.now(SHANGHAI) - timedelta(hours=1)).isoformat(),
            "business_type": "goods",
            "lines": [{"sku": "X", "amount_fen": points * 100}],
            "total_fen": points * 100,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.json


def stock_of(client, sku):
    return client.get(f"{API}/products/{sku}").json["stock"]


# -- catalogue -------------------------------------------------------------------------


def test_catalogue_lists_festival_gifts_and_own_brands(client):
    response = client.get(f"{API}/products?limit=500")
    assert response.status_code == 200
    items = response.json["items"]
    festivals = {item["festival"] for item in items}
    assert {"spring", "dragon_boat", "summer", "mid_autumn", "hairy_crab"} <= festivals
    assert {"浦江礼", "绿油田园"} <= {item["brand"] for item in items}
    assert {"goods", "philately"} <= {item["business_type"] for item in items}
    page = client.get(f"{API}/products?limit=5")
    assert len(page.json["items"]) == 5 and page.json["next_cursor"]
    second = client.get(f"{API}/products?limit=5&cursor={page.json['next_cursor']}")
    assert not {i["sku"] for i in second.json["items"]} & {i["sku"] for i in page.json["items"]}
    stamps = client.get(f"{API}/products?business_type=philately").json["items"]
    assert stamps and all(s["per_member_limit"] for s in stamps)


def test_admin_adds_and_changes_products(client, staff_token, auth):
    admin = auth(staff_token("admin"))
    body = {
        "sku": "NEW-1",
        "name": "新品",
        "category": "home",
        "price_fen": 990,
        "business_type": "goods",
        "stock": 3,
    }
    created = client.post(f"{API}/products", json=body, headers=admin)
    assert created.status_code == 201, created.json
    assert client.post(f"{API}/products", json=body, headers=admin).status_code == 409
    assert (
        client.post(f"{API}/products", json=body, headers=auth(staff_token("marketer"))).status_code
        == 403
    )
    changed = client.patch(
        f"{API}/products/NEW-1", json={"stock": 10, "price_fen": 1290}, headers=admin
    )
    assert changed.json["stock"] == 10 and changed.json["price_fen"] == 1290
    problem(client.patch(f"{API}/products/NOPE", json={"stock": 1}, headers=admin), 422, "sku")


def test_bad_products_are_refused_and_nothing_is_written(client, staff_token, auth, db):
    admin = auth(staff_token("admin"))
    good = {
        "sku": "NEW-2",
        "name": "新品",
        "category": "home",
        "price_fen": 990,
        "business_type": "goods",
    }
    before = row_counts(db)
    each_is_problem(
        [
            ({**good, "price_fen": 0}, "price_fen"),
            ({**good, "category": "cars"}, "category"),
            ({**good, "business_type": "loans"}, "business_type"),
            ({**good, "stock": -1}, "stock"),
            ({**good, "sku": ""}, "sku"),
            ({**good, "extra": 1}, "extra"),
        ],
        lambda case: client.post(f"{API}/products", json=case, headers=admin),
    )
    assert row_counts(db) == before


# -- the pickup flow ---------------------------------------------------------------------


def test_order_online_pay_and_collect_at_the_outlet(client, web, counter, member):
    stock = stock_of(client, "MA-PJL-MOONCAKE-01")
    order = place(client, web, member, quantity=2)
    assert (
        order["status"] == "created"
        and order["payable_fen"] == 2 * 25800
        and order["points_used"] == 0
    )
    assert stock_of(client, "MA-PJL-MOONCAKE-01") == stock - 2
    paid = pay(client, web, order)
    assert paid.status_code == 201, paid.json
    code = paid.json["pickup_code"]
    assert paid.json["status"] == "ready_for_pickup" and len(code) == 8 and code.isdigit()
    assert code not in order["order_no"]
    points = points_of(client, web, member)
    assert points["pending"] == 516 and points["available"] == 0

    verified = client.post(
        f"{API}/pickups/verify", json={"outlet_code": OUTLET, "pickup_code": code}, headers=counter
    )
    assert verified.status_code == 200, verified.json
    assert verified.json["status"] == "picked_up"
    points = points_of(client, web, member)
    assert points["available"] == 516 and points["pending"] == 0

    again = client.post(
        f"{API}/pickups/verify", json={"outlet_code": OUTLET, "pickup_code": code}, headers=counter
    )
    problem(again, 409)
    detail = client.get(f"{API}/orders/{order['order_no']}", headers=web).json
    assert [h["to"] for h in detail["history"]] == [
        "created",
        "paid",
        "ready_for_pickup",
        "picked_up",
    ]
    assert detail["payments"][0]["transaction_ref"] == "WX-4200001234"
    assert "pickup_code" not in detail


def test_payment_replay_answers_the_first_result_without_the_code(client, web, member):
    order = place(client, web, member)
    first = pay(client, web, order, external_id="PAY-R1")
    replay = pay(client, web, order, external_id="PAY-R1")
    assert replay.status_code == 200
    assert replay.json["order_no"] == first.json["order_no"] and "pickup_code" not in replay.json
    problem(pay(client, web, order, amount=1, external_id="PAY-R1"), 409)
    problem(pay(client, web, order, external_id="PAY-R2"), 409)


def test_a_lost_code_can_be_reissued_and_the_old_one_stops_working(
    client, web, counter, member, member_auth
):
    order = place(client, web, member)
    old = pay(client, web, order).json["pickup_code"]
    fresh = client.post(
        f"{API}/orders/{order['order_no']}/pickup-code", headers=member_auth(member)
    )
    assert fresh.status_code == 200
    new = fresh.json["pickup_code"]
    if new != old:
        verify = client.post(
            f"{API}/pickups/verify",
            json={"outlet_code": OUTLET, "pickup_code": old},
            headers=counter,
        )
        problem(verify, 404)
    ok = client.post(
        f"{API}/pickups/verify", json={"outlet_code": OUTLET, "pickup_code": new}, headers=counter
    )
    assert ok.status_code == 200


def test_wrong_outlet_is_forbidden(client, web, channel_key, auth, member):
    order = place(client, web, member)
    code = pay(client, web, order).json["pickup_code"]
    other = auth(channel_key("counter", OTHER_OUTLET))
    at_other = client.post(
        f"{API}/pickups/verify",
        json={"outlet_code": OTHER_OUTLET, "pickup_code": code},
        headers=other,
    )
    # At another outlet the code is as unknown as one never issued: the answer does not
    # tell a guesser that it is live somewhere.
    body = problem(at_other, 404)
    assert OUTLET not in body["detail"]
    # A key may not even claim to be at another outlet.
    problem(
        client.post(
            f"{API}/pickups/verify",
            json={"outlet_code": OUTLET, "pickup_code": code},
            headers=other,
        ),
        403,
    )
    problem(
        client.post(
            f"{API}/pickups/verify", json={"outlet_code": OUTLET, "pickup_code": code}, headers=web
        ),
        403,
    )


def test_expired_code_is_a_conflict(client, web, counter, member, db):
    order = place(client, web, member)
    code = pay(client, web, order).json["pickup_code"]
    with db.engine.begin() as connection:
        yesterday = business_date(datetime.now(SHANGHAI)) - timedelta(days=1)
        connection.execute(
            update(Order)
            .where(Order.order_no == order["order_no"])
            .values(pickup_expires_on=yesterday)
        )
        from storefront_api.pickup.orm import PickupCode

        connection.execute(update(PickupCode).values(expires_on=yesterday))
    body = problem(
        client.post(
            f"{API}/pickups/verify",
            json={"outlet_code": OUTLET, "pickup_code": code},
            headers=counter,
        ),
        409,
    )
    assert "expired" in body["detail"]


def test_wrong_codes_are_throttled_per_outlet_whichever_key_guesses(
    client, counter, channel_key, auth
):
    for attempt in range(5):
        guess = f"{attempt:08d}"
        problem(
            client.post(
                f"{API}/pickups/verify",
                json={"outlet_code": OUTLET, "pickup_code": guess},
                headers=counter,
            ),
            404,
        )
    blocked = client.post(
        f"{API}/pickups/verify",
        json={"outlet_code": OUTLET, "pickup_code": "12345678"},
        headers=counter,
    )
    problem(blocked, 429)
    assert int(blocked.headers["Retry-After"]) > 0
    # Another key of the same outlet gets no fresh allowance...
    other_key = auth(channel_key("counter", OUTLET))
    problem(
        client.post(
            f"{API}/pickups/verify",
            json={"outlet_code": OUTLET, "pickup_code": "12345678"},
            headers=other_key,
        ),
        429,
    )
    # ...while another outlet is not slowed down by this one's guesses.
    problem(
        client.post(
            f"{API}/pickups/verify",
            json={"outlet_code": OTHER_OUTLET, "pickup_code": "12345678"},
            headers=auth(channel_key("counter", OTHER_OUTLET)),
        ),
        404,
    )
    problem(
        client.post(
            f"{API}/pickups/verify",
            json={"outlet_code": OUTLET, "pickup_code": "12ab"},
            headers=other_key,
        ),
        422,
        "pickup_code",
    )


def test_right_codes_do_not_use_up_the_outlets_allowance(client, web, counter, member):
    for _ in range(7):
        order = place(client, web, member)
        code = pay(client, web, order).json["pickup_code"]
        verified = client.post(
            f"{API}/pickups/verify",
            json={"outlet_code": OUTLET, "pickup_code": code},
            headers=counter,
        )
        assert verified.status_code == 200, verified.json


# -- payments -----------------------------------------------------------------------------


def test_points_cash_spends_points_at_order_time_and_returns_them_on_cancel(
    client, web, counter, member
):
    fund(client, counter, member, 20_000)
    before = points_of(client, web, member)["available"]
    order = place(client, web, member, payment={"method": "points_cash", "points": 10_000})
    assert order["points_used"] == 10_000 and order["payable_fen"] == 25800 - 10_000
    assert points_of(client, web, member)["available"] == before - 10_000
    cancelled = client.post(f"{API}/orders/{order['order_no']}/cancel", headers=web)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert points_of(client, web, member)["available"] == before


def test_points_cash_limits(client, web, counter, member, db):
    fund(client, counter, member, 100)
    before = row_counts(db)
    too_much = client.post(
        f"{API}/orders",
        json=order_body(member, payment={"method": "points_cash", "points": 20_000}),
        headers=web,
    )
    problem(too_much, 422, "payment.points")
    not_enough = client.post(
        f"{API}/orders",
        json=order_body(member, payment={"method": "points_cash", "points": 5_000}),
        headers=web,
    )
    body = problem(not_enough, 422, "payment.points")
    assert body["type"].endswith("insufficient-points")
    assert row_counts(db) == before


def test_prepaid_card_pays_at_once_and_is_refunded_on_cancel(client, web, counter, member):
    card = client.post(
        f"{API}/prepaid-cards",
        json={"external_id": "CARD-1", "amount_fen": 50_000},
        headers=counter,
    )
    assert card.status_code == 201, card.json
    card_no, pin = card.json["card_no"], card.json["pin"]
    order = place(
        client,
        web,
        member,
        payment={"method": "prepaid_card", "card_no": card_no, "card_pin": pin},
    )
    assert order["status"] == "ready_for_pickup" and order["pickup_code"]
    assert (
        client.get(f"{API}/prepaid-cards/{card_no}", headers=web).json["balance_fen"]
        == 50_000 - 25800
    )
    client.post(f"{API}/orders/{order['order_no']}/cancel", headers=web)
    assert client.get(f"{API}/prepaid-cards/{card_no}", headers=web).json["balance_fen"] == 50_000
    assert points_of(client, web, member)["pending"] == 0


def test_prepaid_card_without_enough_money_changes_nothing(client, web, counter, member, db):
    issued = client.post(
        f"{API}/prepaid-cards", json={"external_id": "CARD-2", "amount_fen": 100}, headers=counter
    ).json
    card_no, pin = issued["card_no"], issued["pin"]
    before = row_counts(db)
    short = client.post(
        f"{API}/orders",
        json=order_body(
            member, payment={"method": "prepaid_card", "card_no": card_no, "card_pin": pin}
        ),
        headers=web,
    )
    problem(short, 422)
    assert row_counts(db) == before


def test_cash_on_delivery_pickup_is_paid_at_the_counter(client, web, counter, member):
    order = place(client, web, member, payment={"method": "cod"})
    assert order["status"] == "ready_for_pickup" and order["pickup_code"]
    assert points_of(client, web, member)["pending"] == 0
    verified = client.post(
        f"{API}/pickups/verify",
        json={"outlet_code": OUTLET, "pickup_code": order["pickup_code"]},
        headers=counter,
    )
    assert verified.status_code == 200
    assert verified.json["paid_fen"] == 25800
    assert points_of(client, web, member)["available"] == 258


def test_delivery_order_is_shipped_delivered_and_points_wait_for_the_return_window(
    client, web, member, channel_key, auth
):
    order = place(
        client,
        web,
        member,
        fulfillment={"type": "delivery", "address": "上海市黄浦区中山东一路1号"},
    )
    pay(client, web, order)
    courier = auth(channel_key("distribution"))
    problem(client.post(f"{API}/orders/{order['order_no']}/delivery", headers=courier), 409)
    assert (
        client.post(f"{API}/orders/{order['order_no']}/shipments", headers=web).json["status"]
        == "shipped"
    )
    problem(client.post(f"{API}/orders/{order['order_no']}/cancel", headers=web), 409)
    delivered = client.post(f"{API}/orders/{order['order_no']}/delivery", headers=courier)
    assert delivered.json["status"] == "delivered"
    points = points_of(client, web, member)
    # The goods earn 258; the 10 元 delivery fee earns 20 as the parcel delivery it is.
    assert order["delivery_fee_fen"] == 1000
    assert points["pending"] == 258 + 20 and points["available"] == 0
    returned = client.post(
        f"{API}/orders/{order['order_no']}/returns", json={"reason": "破损"}, headers=web
    )
    assert returned.status_code == 200 and returned.json["status"] == "refunded"
    assert points_of(client, web, member)["pending"] == 0


# -- bad input: problem+json naming the field, nothing written ----------------------------


def test_bad_orders_are_refused_and_nothing_is_written(client, web, member, db):
    before = row_counts(db)
    good = order_body(member)
    each_is_problem(
        [
            ({**good, "lines": [{"sku": "NOPE", "quantity": 1}]}, "lines[0].sku"),
            (
                {**good, "lines": [{"sku": "MA-PJL-MOONCAKE-01", "quantity": 0}]},
                "lines[0].quantity",
            ),
            ({**good, "lines": []}, "lines"),
            (
                {**good, "fulfillment": {"type": "pickup", "outlet_code": "SH-HP"}},
                "fulfillment.outlet_code",
            ),
            ({**good, "fulfillment": {"type": "delivery"}}, "fulfillment.delivery.address"),
            ({**good, "payment": {"method": "bitcoin"}}, "payment.method"),
            ({**good, "payment": {"method": "online", "points": 10}}, "payment.points"),
            ({**good, "payment": {"method": "points_cash"}}, "payment.points"),
            ({**good, "payment": {"method": "prepaid_card"}}, "payment.card_no"),
            ({**good, "payment": {"method": "prepaid_card", "card_no": "123"}}, "payment.card_no"),
            ({**good, "member_no": "MH000"}, "member_no"),
            ({k: v for k, v in good.items() if k != "external_id"}, "external_id"),
        ],
        lambda case: client.post(f"{API}/orders", json=case, headers=web),
    )
    assert row_counts(db) == before


def test_paying_a_cancelled_order_or_the_wrong_amount(client, web, member, db):
    order = place(client, web, member)
    problem(pay(client, web, order, amount=order["payable_fen"] - 1), 422, "amount_fen")
    bad_method = client.post(
        f"{API}/orders/{order['order_no']}/payments",
        json={
            "external_id": "P-x",
            "amount_fen": order["payable_fen"],
            "method": "cod",
            "transaction_ref": "x",
        },
        headers=web,
    )
    problem(bad_method, 422, "method")
    client.post(f"{API}/orders/{order['order_no']}/cancel", headers=web)
    before = row_counts(db)
    problem(pay(client, web, order), 409)
    problem(pay(client, web, {"order_no": "PO-NONE", "payable_fen": 1}), 404)
    assert row_counts(db) == before


def test_retail_and_partner_keys_do_not_take_orders(client, channel_key, auth, member):
    response = client.post(
        f"{API}/orders", json=order_body(member), headers=auth(channel_key("partner"))
    )
    problem(response, 403)


# -- stock and limits -----------------------------------------------------------------------


def test_stock_is_released_on_cancel_and_never_oversold(client, web, member, staff_token, auth):
    admin = auth(staff_token("admin"))
    client.post(
        f"{API}/products",
        json={
            "sku": "LAST-2",
            "name": "限量",
            "category": "home",
            "price_fen": 100,
            "business_type": "goods",
            "stock": 2,
        },
        headers=admin,
    )
    first = place(client, web, member, sku="LAST-2", quantity=2)
    problem(client.post(f"{API}/orders", json=order_body(member, sku="LAST-2"), headers=web), 409)
    client.post(f"{API}/orders/{first['order_no']}/cancel", headers=web)
    assert stock_of(client, "LAST-2") == 2
    place(client, web, member, sku="LAST-2")


def test_philately_per_member_limit_counts_live_orders(client, web, member):
    sku = "PH-2027-ZODIAC-SHEET"  # limit 2 per member
    first = place(client, web, member, sku=sku, quantity=2)
    problem(
        client.post(f"{API}/orders", json=order_body(member, sku=sku), headers=web),
        422,
        "lines[0].quantity",
    )
    client.post(f"{API}/orders/{first['order_no']}/cancel", headers=web)
    place(client, web, member, sku=sku)


# -- members -----------------------------------------------------------------------------------


def test_member_orders_for_themself_and_sees_all_channels(
    client, web, channel_key, auth, member, member_auth
):
    own = member_auth(member)
    place(client, own, member)
    place(client, auth(channel_key("hotline")), member)
    place(client, web, member)
    other = client.post(
        f"{API}/members", json={"phone": "13900002222", "name": "王"}, headers=web
    ).json["member_no"]
    problem(client.post(f"{API}/orders", json=order_body(other), headers=own), 403)
    listed = client.get(f"{API}/members/{member}/orders", headers=own)
    assert listed.status_code == 200
    assert {o["channel"] for o in listed.json["items"]} == {"app", "hotline", "web"}
    assert len(client.get(f"{API}/members/{member}/orders?limit=2", headers=own).json["items"]) == 2
    others = place(client, web, other)
    problem(client.get(f"{API}/orders/{others['order_no']}", headers=own), 403)
    problem(client.post(f"{API}/orders/{others['order_no']}/cancel", headers=own), 403)


def test_order_replay_returns_the_first_answer(client, web, member):
    body = order_body(member, external_id="WEB-ORDER-1")
    first = client.post(f"{API}/orders", json=body, headers=web)
    again = client.post(f"{API}/orders", json=body, headers=web)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json["order_no"] == first.json["order_no"]
    problem(
        client.post(
            f"{API}/orders",
            json={**body, "lines": [{"sku": "MA-PJL-MOONCAKE-01", "quantity": 3}]},
            headers=web,
        ),
        409,
    )


# -- expiry ------------------------------------------------------------------------------------


def test_uncollected_orders_expire_and_everything_is_given_back(client, web, counter, member, db):
    fund(client, counter, member, 20_000)
    stock = stock_of(client, "MA-PJL-MOONCAKE-01")
    card_no = client.post(
        f"{API}/prepaid-cards",
        json={"external_id": "CARD-9", "amount_fen": 30_000},
        headers=counter,
    ).json
    by_card = place(
        client,
        web,
        member,
        payment={
            "method": "prepaid_card",
            "card_no": card_no["card_no"],
            "card_pin": card_no["pin"],
        },
    )
    card_no = card_no["card_no"]
    with_points = place(client, web, member, payment={"method": "points_cash", "points": 5_000})
    pay(client, web, with_points)
    available = points_of(client, web, member)["available"]
    context = orders.OrderContext.from_settings(db_directory(db), db.settings)
    late = business_date(datetime.now(SHANGHAI)) + timedelta(days=9)
    expired = orders.expire_due_orders(lambda: UnitOfWork(db.session_factory), context, late)
    assert expired == 2
    assert orders.expire_due_orders(lambda: UnitOfWork(db.session_factory), context, late) == 0
    for order in (by_card, with_points):
        assert (
            client.get(f"{API}/orders/{order['order_no']}", headers=web).json["status"] == "expired"
        )
    assert stock_of(client, "MA-PJL-MOONCAKE-01") == stock
    assert client.get(f"{API}/prepaid-cards/{card_no}", headers=web).json["balance_fen"] == 30_000
    points = points_of(client, web, member)
    assert points["available"] == available + 5_000 and points["pending"] == 0
    problem(
        client.post(
            f"{API}/pickups/verify",
            json={"outlet_code": OUTLET, "pickup_code": by_card["pickup_code"]},
            headers=counter,
        ),
        409,
    )


def db_directory(db):
    import crm

    return crm.CrmMemberDirectory()


# -- the member's timeline ---------------------------------------------------------------------


def test_activity_timeline_pages_through_orders_and_points(
    client, web, counter, member, member_auth, staff_token, auth
):
    fund(client, counter, member, 300)
    order = place(client, web, member)
    code = pay(client, web, order).json["pickup_code"]
    client.post(
        f"{API}/pickups/verify", json={"outlet_code": OUTLET, "pickup_code": code}, headers=counter
    )
    own = member_auth(member)
    everything = client.get(f"{API}/members/{member}/activity?limit=500", headers=own)
    assert everything.status_code == 200, everything.json
    items = everything.json["items"]
    kinds = {item["kind"] for item in items}
    assert {"order", "points"} <= kinds
    times = [item["occurred_at"] for item in items]
    assert times == sorted(times, reverse=True)
    statuses = [i["status"] for i in items if i["kind"] == "order"]
    assert statuses == ["picked_up", "ready_for_pickup", "paid", "created"]

    paged, cursor = [], None
    while True:
        url = f"{API}/members/{member}/activity?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=own).json
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert paged == items
    assert (
        client.get(
            f"{API}/members/{member}/activity", headers=auth(staff_token("marketer"))
        ).status_code
        == 200
    )
    problem(client.get(f"{API}/members/{member}/activity", headers=web), 403)
    problem(
        client.get(f"{API}/members/{member}/activity?cursor=bm9wZQ", headers=own), 422, "cursor"
    )


def test_after_a_merge_the_survivor_sees_the_absorbed_members_orders(
    client, web, member, staff_token, auth, member_auth
):
    other = client.post(
        f"{API}/members", json={"phone": "13900003333", "name": "林小邮"}, headers=web
    ).json["member_no"]
    theirs = place(client, web, other)
    merged = client.post(
        f"{API}/members/merge",
        json={"survivor": member, "absorbed": other},
        headers=auth(staff_token("admin")),
    )
    assert merged.status_code == 200, merged.json
    listed = client.get(f"{API}/members/{member}/orders", headers=member_auth(member)).json["items"]
    assert theirs["order_no"] in {o["order_no"] for o in listed}
    assert (
        client.get(f"{API}/orders/{theirs['order_no']}", headers=member_auth(member)).status_code
        == 200
    )
    timeline = client.get(f"{API}/members/{member}/activity", headers=member_auth(member)).json[
        "items"
    ]
    assert theirs["order_no"] in {i["reference"] for i in timeline}


def test_returns_close_after_the_return_window(client, web, counter, member, db):
    order = place(client, web, member)
    code = pay(client, web, order).json["pickup_code"]
    client.post(
        f"{API}/pickups/verify", json={"outlet_code": OUTLET, "pickup_code": code}, headers=counter
    )
    context = orders.OrderContext.from_settings(db_directory(db), db.settings)
    caller = orders.Caller(channel="web", scope="channel:web", actor="test")
    late = datetime.now(SHANGHAI) + timedelta(days=8)
    with UnitOfWork(db.session_factory) as uow, pytest.raises(orders.ReturnWindowClosed):
        orders.return_order(uow, context, caller, order["order_no"], now=late)
    with transaction(db.session_factory) as uow:
        body = orders.return_order(
            uow, context, caller, order["order_no"], "尺寸不合", now=late - timedelta(days=2)
        )
    assert body["status"] == "refunded" and body["history"][-1]["reason"] == "尺寸不合"
    assert points_of(client, web, member)["available"] == 0


def test_unpaid_orders_expire_after_a_whole_day_and_release_their_stock(client, web, member, db):
    stock = stock_of(client, "MA-PJL-MOONCAKE-01")
    order = place(
        client, web, member, fulfillment={"type": "delivery", "address": "上海市静安区南京西路1号"}
    )
    context = orders.OrderContext.from_settings(db_directory(db), db.settings)
    today_ = business_date(datetime.now(SHANGHAI))
    factory = lambda: UnitOfWork(db.session_factory)  # noqa: E731
    assert orders.expire_due_orders(factory, context, today_ + timedelta(days=1)) == 0
    assert orders.expire_due_orders(factory, context, today_ + timedelta(days=2)) == 1
    detail = client.get(f"{API}/orders/{order['order_no']}", headers=web).json
    assert detail["status"] == "expired" and detail["history"][-1]["reason"] == "not paid in time"
    assert stock_of(client, "MA-PJL-MOONCAKE-01") == stock
