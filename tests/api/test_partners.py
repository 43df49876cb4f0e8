"""Partner exchange over HTTP: the member spends points into airline miles; bad input is a
problem naming the field and takes no points."""

from __future__ import annotations

import pytest

import crm
from common.clock import today
from storefront_api import partners
from tests.api.support import problem, row_counts, self_register
from tests.api.test_accruals import occurred_at

PHONE, CARD = "13800007777", "6221880000007777"


@pytest.fixture
def member(client, channel_key, auth):
    registered = self_register(client, {"phone": PHONE, "name": "王五", "card_no": CARD})
    member_no = registered.json["member_no"]
    body = {
        "external_id": "POS-PX-1",
        "member": {"member_no": member_no},
        "institution_code": "SH-HP-0001",
        "occurred_at": occurred_at().isoformat(),
        "business_type": "goods",
        "lines": [{"sku": "S", "category": "food", "amount_fen": 500_000}],
        "total_fen": 500_000,
    }
    earned = client.post("/api/v1/accruals", json=body, headers=auth(channel_key("counter")))
    assert earned.status_code == 201, earned.json
    return member_no


def exchange(member_no, changes=None):
    body = {
        "external_id": "APP-PX-1",
        "member_no": member_no,
        "partner_code": "MU",
        "points": 1_000,
        "partner_member_no": "MU12345678",
    }
    return {**body, **(changes or {})}


def test_a_member_exchanges_points_into_miles_once(client, auth, channel_key, member):
    app = auth(channel_key("app"))
    partners = client.get("/api/v1/partners").json["items"]
    mu = next(p for p in partners if p["code"] == "MU")
    assert mu["out"] == {"points_per_unit": 10, "min_points": 1000, "daily_limit_points": 20000}
    first = client.post("/api/v1/partner-exchanges", json=exchange(member), headers=app)
    assert first.status_code == 201, first.json
    assert (first.json["partner_units"], first.json["status"], first.json["available"]) == (
        100,
        "pending",
        4_000,
    )
    again = client.post("/api/v1/partner-exchanges", json=exchange(member), headers=app)
    assert again.status_code == 200 and again.json["exchange_no"] == first.json["exchange_no"]
    shown = client.get(f"/api/v1/partner-exchanges/{first.json['exchange_no']}", headers=app)
    assert shown.status_code == 200 and shown.json["points"] == 1_000
    other_channel = auth(channel_key("web"))
    hidden = client.get(
        f"/api/v1/partner-exchanges/{first.json['exchange_no']}", headers=other_channel
    )
    assert hidden.status_code == 403


def test_bad_exchanges_name_the_field_and_take_nothing(client, auth, channel_key, member):
    app = auth(channel_key("app"))
    for number, (changes, status, field) in enumerate(
        (
            ({"points": 999}, 422, "points"),
            ({"points": 1_005}, 422, "points"),
            ({"points": 30_000}, 422, "points"),  # more than the member has
            ({"partner_code": "NOPE"}, 422, "partner_code"),
            ({"partner_member_no": "mu-1"}, 422, "partner_member_no"),
            ({"member_no": "1234"}, 422, "member_no"),
            ({"points": "1000"}, 422, "points"),
        )
    ):
        response = client.post(
            "/api/v1/partner-exchanges",
            json=exchange(member, {"external_id": f"BAD-{number}", **changes}),
            headers=app,
        )
        assert response.status_code == status, (changes, response.json)
        assert response.content_type == "application/problem+json"
        assert response.json["errors"][0]["field"] == field, (changes, response.json)
    points = client.get(f"/api/v1/members/{member}/points", headers=app).json
    assert points["available"] == 5_000
    bank = client.post(
        "/api/v1/partner-exchanges",
        json=exchange(member, {"external_id": "BANK-OUT", "partner_code": "PSBC"}),
        headers=app,
    )
    assert bank.status_code == 422 and bank.json["type"].endswith("exchange-not-offered")


def test_a_miles_reward_goes_to_the_airline_and_a_rejection_gives_the_points_back(
    client, auth, channel_key, member, uow, db
):
    app = auth(channel_key("app"))
    body = {"external_id": "APP-RD-MILES-1", "member_no": member, "reward_code": "MILES-MU-500"}
    before = row_counts(db)
    missing = client.post("/api/v1/redemptions", json=body, headers=app)
    assert problem(missing, 422)["errors"][0]["field"] == "partner_member_no"
    wrong_kind = {**body, "reward_code": "VOUCHER-MALL-10", "partner_member_no": "MU12345678"}
    refused = client.post("/api/v1/redemptions", json=wrong_kind, headers=app)
    assert problem(refused, 422)["errors"][0]["field"] == "partner_member_no"
    assert row_counts(db) == before
    redeemed = client.post(
        "/api/v1/redemptions", json={**body, "partner_member_no": "MU12345678"}, headers=app
    )
    assert redeemed.status_code == 201, redeemed.json
    line = redeemed.json["exchange"]
    assert (line["partner_code"], line["partner_units"], line["points"], line["status"]) == (
        "MU",
        500,
        4_000,
        "pending",
    )
    assert redeemed.json["balance"]["available"] == 1_000
    cancel = client.post(
        f"/api/v1/redemptions/{redeemed.json['redemption_id']}/cancel", headers=app
    )
    assert problem(cancel, 409)["type"].endswith("/reward-underway")
    with uow() as unit:
        sent = partners.settlement_file(unit, "MU", today())
    assert line["exchange_no"] in sent
    answer = [partners.Answer(line["exchange_no"], "rejected", "no such member")]
    with uow() as unit:
        done = partners.acknowledge(unit, crm.CrmMemberDirectory(), "MU", answer)
    assert (done.rejected, done.points_returned) == (1, 4_000)
    points = client.get(f"/api/v1/members/{member}/points", headers=app).json
    assert points["available"] == 5_000
