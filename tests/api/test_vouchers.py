"""Voucher rewards over HTTP: a redemption issues codes; an order or a till takes one off
a purchase once; a cancelled order or a voided sale gives it back; a cancelled redemption
voids what is unused. Bad input is a problem naming the field and changes nothing."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storefront_api.vouchers import normalise
from storefront_api.vouchers.domain import ALPHABET
from tests.api.support import problem, row_counts
from tests.api.test_rewards import counter, fund, new_member, redemption  # noqa: F401

SHANGHAI = ZoneInfo("Asia/Shanghai")
MOONCAKE, MOONCAKE_FEN = "MA-PJL-MOONCAKE-01", 25_800
_ids = itertools.count(1)


def uid(prefix):
    return f"{prefix}-{next(_ids):05d}"


@pytest.fixture
def holder(client, counter, new_member):  # noqa: F811
    member_no, headers = new_member("13900001111")
    fund(client, counter, member_no, 20_000)
    return member_no, headers


def redeem(client, member_no, headers, reward="VOUCHER-MALL-20", quantity=1, external_id=None):
    body = redemption(member_no, reward, quantity, external_id or uid("RD"))
    response = client.post("/api/v1/redemptions", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def order(member_no, voucher_code=None, method="online", **payment):
    body = {
        "external_id": uid("OD"),
        "member_no": member_no,
        "lines": [{"sku": MOONCAKE, "quantity": 1}],
        "fulfillment": {"type": "pickup", "outlet_code": "SH-HP-0001"},
        "payment": {"method": method, **payment},
    }
    if voucher_code is not None:
        body["payment"]["voucher_code"] = voucher_code
    return body


def till_use(member_no, code, spend_fen=30_000, business_type="goods", external_id=None):
    return {
        "external_id": external_id or uid("VU"),
        "voucher_code": code,
        "member": {"member_no": member_no},
        "institution_code": "SH-HP-0001",
        "business_type": business_type,
        "spend_fen": spend_fen,
    }


def wallet(client, member_no, headers):
    response = client.get(f"/api/v1/members/{member_no}/vouchers", headers=headers)
    assert response.status_code == 200, response.json
    return {item["code"]: item for item in response.json["items"]}


def test_a_voucher_reward_issues_codes_once(client, holder):
    member_no, me = holder
    first = redeem(client, member_no, me, quantity=2, external_id="RD-TWO")
    codes = [v["code"] for v in first["vouchers"]]
    assert len(set(codes)) == 2
    for code in codes:
        plain = normalise(code)
        assert len(plain) == 16 and set(plain) <= set(ALPHABET) and code.count("-") == 3
    today = datetime.now(SHANGHAI).date()
    assert {(v["value_fen"], v["min_spend_fen"], v["status"]) for v in first["vouchers"]} == {
        (2_000, 10_000, "issued")
    }
    assert first["vouchers"][0]["valid_from"] == today.isoformat()
    assert first["vouchers"][0]["valid_until"] == (today + timedelta(days=89)).isoformat()
    again = client.post(
        "/api/v1/redemptions",
        json=redemption(member_no, "VOUCHER-MALL-20", 2, "RD-TWO"),
        headers=me,
    )
    assert again.status_code == 200 and [v["code"] for v in again.json["vouchers"]] == codes
    assert set(wallet(client, member_no, me)) == set(codes)
    credit = redeem(client, member_no, me, reward="BILL-WATER-10")["vouchers"]
    assert [(v["applies_to"], v["biller_kind"]) for v in credit] == [("bill_payment", "water")]


def test_the_wallet_shows_codes_to_the_member_and_not_to_a_channel(
    client, holder, auth, channel_key, staff_token
):
    member_no, me = holder
    code = redeem(client, member_no, me)["vouchers"][0]["code"]
    for headers, shown in (
        (me, code),
        (auth(channel_key("app")), "****-****-****-" + code[-4:]),
        (auth(staff_token("marketer")), "****-****-****-" + code[-4:]),
        (auth(staff_token("finance")), code),
    ):
        assert list(wallet(client, member_no, headers)) == [shown]


def test_an_order_takes_a_voucher_once_and_a_cancel_gives_it_back(
    client, db, holder, auth, channel_key
):
    member_no, me = holder
    web = auth(channel_key("web"))
    code = redeem(client, member_no, me)["vouchers"][0]["code"]
    typed = code.lower().replace("-", " ")  # as a person may type it
    placed = client.post("/api/v1/orders", json=order(member_no, typed), headers=web)
    assert placed.status_code == 201, placed.json
    assert (placed.json["voucher_fen"], placed.json["payable_fen"]) == (
        2_000,
        MOONCAKE_FEN - 2_000,
    )
    assert wallet(client, member_no, me)[code]["status"] == "used"
    before = row_counts(db)
    twice = client.post("/api/v1/orders", json=order(member_no, code), headers=web)
    assert problem(twice, 409)["type"].endswith("/voucher-already-used")
    assert row_counts(db) == before
    cancelled = client.post(
        f"/api/v1/orders/{placed.json['order_no']}/cancel", json={}, headers=web
    )
    assert cancelled.status_code == 200, cancelled.json
    assert wallet(client, member_no, me)[code]["status"] == "issued"
    reused = client.post("/api/v1/orders", json=order(member_no, code), headers=web)
    assert reused.status_code == 201 and reused.json["voucher_fen"] == 2_000


def test_points_cash_is_split_on_what_the_voucher_leaves(client, holder, auth, channel_key):
    member_no, me = holder
    code = redeem(client, member_no, me)["vouchers"][0]["code"]
    placed = client.post(
        "/api/v1/orders",
        json=order(member_no, code, method="points_cash", points=1_000),
        headers=auth(channel_key("web")),
    )
    assert placed.status_code == 201, placed.json
    body = placed.json
    assert (
        body["total_fen"] == body["voucher_fen"] + body["points_offset_fen"] + body["payable_fen"]
    )


def test_a_voucher_that_pays_for_everything_leaves_nothing_to_collect(
    client, holder, auth, channel_key, staff_token
):
    member_no, me = holder
    client.post(
        "/api/v1/rewards",
        json={
            "code": "VOUCHER-BIG",
            "name": "大额券",
            "kind": "voucher",
            "points_cost": 100,
            "value_fen": 100_000,
            "valid_days": 7,
        },
        headers=auth(staff_token("admin")),
    )
    code = redeem(client, member_no, me, reward="VOUCHER-BIG")["vouchers"][0]["code"]
    placed = client.post(
        "/api/v1/orders", json=order(member_no, code), headers=auth(channel_key("web"))
    )
    assert placed.status_code == 201, placed.json
    assert (placed.json["voucher_fen"], placed.json["payable_fen"]) == (MOONCAKE_FEN, 0)
    assert placed.json["status"] == "ready_for_pickup" and placed.json["pickup_code"]


def test_bad_voucher_uses_name_the_field_and_change_nothing(
    client,
    db,
    holder,
    new_member,  # noqa: F811
    auth,
    channel_key,
):
    member_no, me = holder
    other_no, _ = new_member("13900002222")
    web = auth(channel_key("web"))
    mall = redeem(client, member_no, me, reward="VOUCHER-MALL-50")["vouchers"][0]["code"]
    mailing = redeem(client, member_no, me, reward="VOUCHER-MAILING-5")["vouchers"][0]["code"]
    till = auth(channel_key("counter", "SH-HP-0001"))
    before = row_counts(db)
    refusals = (
        (order(other_no, mall), 422, "payment.voucher_code"),  # another member's code
        (order(member_no, "ABCD-EFGH-JKMN-PQRS"), 422, "payment.voucher_code"),  # unknown
        (order(member_no, mailing), 422, "payment.voucher_code"),  # mailing only
        (order(member_no, "not a code!"), 422, "payment.voucher_code"),
        (order(member_no, mall, method="cod", points=10), 422, "payment.points"),
    )
    for body, status, field in refusals:
        response = client.post("/api/v1/orders", json=body, headers=web)
        assert problem(response, status)["errors"][0]["field"] == field, response.json
    unknown = client.post(
        "/api/v1/orders", json=order(member_no, "ABCD-EFGH-JKMN-PQRS"), headers=web
    ).json
    not_theirs = client.post("/api/v1/orders", json=order(other_no, mall), headers=web).json
    assert unknown["errors"] == not_theirs["errors"]  # a code cannot be probed
    below_minimum = client.post(
        "/api/v1/voucher-uses", json=till_use(member_no, mall, spend_fen=19_999), headers=till
    )
    assert problem(below_minimum, 422)["errors"][0]["field"] == "voucher_code"
    assert row_counts(db) == before
    assert {v["status"] for v in wallet(client, member_no, me).values()} == {"issued"}


def test_a_till_takes_a_voucher_once_and_a_void_gives_it_back(client, holder, auth, channel_key):
    member_no, me = holder
    till = auth(channel_key("counter", "SH-HP-0001"))
    code = redeem(client, member_no, me, reward="VOUCHER-MAILING-5")["vouchers"][0]["code"]
    body = till_use(member_no, code, spend_fen=2_200, business_type="mailing")
    used = client.post("/api/v1/voucher-uses", json=body, headers=till)
    assert used.status_code == 201, used.json
    assert (used.json["applied_fen"], used.json["amount_due_fen"], used.json["status"]) == (
        500,
        1_700,
        "applied",
    )
    replay = client.post("/api/v1/voucher-uses", json=body, headers=till)
    assert replay.status_code == 200 and replay.json["use_no"] == used.json["use_no"]
    other_sale = till_use(member_no, code, spend_fen=2_200, business_type="mailing")
    assert problem(client.post("/api/v1/voucher-uses", json=other_sale, headers=till), 409)[
        "type"
    ].endswith("/voucher-already-used")
    other_outlet = auth(channel_key("counter", "SH-HP-0002"))
    refused = client.post(
        f"/api/v1/voucher-uses/{used.json['use_no']}/cancel", headers=other_outlet
    )
    assert refused.status_code == 403
    voided = client.post(f"/api/v1/voucher-uses/{used.json['use_no']}/cancel", headers=till)
    assert voided.status_code == 200 and voided.json["status"] == "returned"
    assert wallet(client, member_no, me)[code]["status"] == "issued"


def test_cancelling_a_redemption_voids_its_vouchers_unless_one_is_used(
    client, db, holder, auth, channel_key
):
    member_no, me = holder
    till = auth(channel_key("counter", "SH-HP-0001"))
    unused = redeem(client, member_no, me)
    cancelled = client.post(f"/api/v1/redemptions/{unused['redemption_id']}/cancel", headers=me)
    assert cancelled.status_code == 200 and cancelled.json["points_returned"] == 2_000
    assert wallet(client, member_no, me)[unused["vouchers"][0]["code"]]["status"] == "void"
    voided_code = unused["vouchers"][0]["code"]
    refused = client.post(
        "/api/v1/voucher-uses", json=till_use(member_no, voided_code), headers=till
    )
    assert problem(refused, 422)["errors"][0]["field"] == "voucher_code"
    spent = redeem(client, member_no, me)
    code = spent["vouchers"][0]["code"]
    assert (
        client.post(
            "/api/v1/voucher-uses", json=till_use(member_no, code), headers=till
        ).status_code
        == 201
    )
    before = row_counts(db)
    blocked = client.post(f"/api/v1/redemptions/{spent['redemption_id']}/cancel", headers=me)
    assert problem(blocked, 409)["type"].endswith("/voucher-already-used")
    assert row_counts(db) == before
    assert wallet(client, member_no, me)[code]["status"] == "used"


def test_a_voucher_reward_needs_its_terms(client, auth, staff_token):
    admin = auth(staff_token("admin"))
    base = {"code": "VOUCHER-X", "name": "券", "kind": "voucher", "points_cost": 100}
    for changes, field in (
        ({}, "value_fen"),
        ({"value_fen": 500}, "valid_days"),
        ({"kind": "goods", "value_fen": 500, "valid_days": 30}, "value_fen"),
        ({"value_fen": 500, "valid_days": 30, "applies_to": "parcels"}, "applies_to"),
        ({"value_fen": 0, "valid_days": 30}, "value_fen"),
    ):
        response = client.post("/api/v1/rewards", json={**base, **changes}, headers=admin)
        assert problem(response, 422)["errors"][0]["field"] == field, (changes, response.json)
    made = client.post(
        "/api/v1/rewards", json={**base, "value_fen": 500, "valid_days": 30}, headers=admin
    )
    assert made.status_code == 201 and made.json["value_fen"] == 500
