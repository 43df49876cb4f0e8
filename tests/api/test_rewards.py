"""Reward catalogue, redemptions and cancellation over HTTP."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storefront_api.auth import MemberPrincipal
from storefront_api.http.context import EXTENSION_KEY
from tests.api.support import each_is_problem, problem, row_counts, self_register

SHANGHAI = ZoneInfo("Asia/Shanghai")
_ids = itertools.count(1)


@pytest.fixture
def counter(channel_key, auth):
    return auth(channel_key("counter", "SH-HP-0001"))


@pytest.fixture
def new_member(app, client, auth):
    """`new_member("13900000001")` → (member_no, headers with that member's token)."""
    tokens = app.extensions[EXTENSION_KEY].tokens

    def make(phone):
        created = self_register(client, {"phone": phone, "name": "赵敏"})
        assert created.status_code == 201
        member_no = created.json["member_no"]
        return member_no, auth(tokens.issue(MemberPrincipal(member_no)))

    return make


def fund(client, headers, member_no, points, when=None, external_id=None):
    when = when or datetime.now(SHANGHAI) - timedelta(hours=1)
    response = client.post(
        "/api/v1/accruals",
        json={
            "external_id": external_id or f"POS-{next(_ids)}",
            "member": {"member_no": member_no},
            "institution_code": "SH-HP-0001",
            "occurred_at": when.isoformat(),
            "business_type": "goods",
            "lines": [{"sku": "SKU-1", "amount_fen": points * 100}],
            "total_fen": points * 100,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def redemption(member_no, reward="VOUCHER-MALL-10", quantity=1, external_id="RD-1"):
    body = {
        "external_id": external_id,
        "member_no": member_no,
        "reward_code": reward,
        "quantity": quantity,
    }
    if reward.startswith("GIFT-"):  # goods rewards are ordered, here to collect at an outlet
        body["fulfillment"] = {"type": "pickup", "outlet_code": "SH-HP-0001"}
    return body


def points(client, headers, member_no):
    return client.get(f"/api/v1/members/{member_no}/points", headers=headers).json


def stock_of(client, code):
    items = client.get("/api/v1/rewards").json["items"]
    return next(item["stock"] for item in items if item["code"] == code)


# -- catalogue --------------------------------------------------------------------------


def test_anyone_can_read_the_catalogue(client):
    response = client.get("/api/v1/rewards")
    assert response.status_code == 200
    items = response.json["items"]
    assert len(items) == 15
    for item in items:
        assert {"code", "name", "kind", "points_cost", "cash_fen", "stock"} <= set(item)
        assert item["kind"] in {"goods", "voucher", "bill_credit", "partner_miles"}
        assert isinstance(item["points_cost"], int) and item["points_cost"] > 0
    by_code = {item["code"]: item for item in items}
    assert by_code["GIFT-CANVAS-BAG"]["stock"] == 2000
    assert by_code["VOUCHER-MALL-10"]["stock"] is None
    assert by_code["GIFT-MOONCAKE"]["cash_fen"] == 4900
    costs = [item["points_cost"] for item in items]
    assert costs == sorted(costs)


def test_admin_adds_a_reward(client, db, staff_token, auth):
    admin = auth(staff_token("admin"))
    body = {
        "code": "GIFT-UMBRELLA",
        "name": "邮政雨伞",
        "kind": "goods",
        "points_cost": 1200,
        "cash_fen": 0,
        "stock": 50,
    }
    response = client.post("/api/v1/rewards", json=body, headers=admin)
    assert response.status_code == 201
    assert {k: response.json[k] for k in body} == body
    listed = client.get("/api/v1/rewards").json["items"]
    assert any(item["code"] == "GIFT-UMBRELLA" and item["stock"] == 50 for item in listed)
    before = row_counts(db)
    problem(client.post("/api/v1/rewards", json=body, headers=admin), 409)
    assert row_counts(db) == before


def test_bad_rewards_are_422(client, db, staff_token, auth):
    cases = [
        ({"kind": "cash"}, "kind"),
        ({"points_cost": 0}, "points_cost"),
        ({"points_cost": "1200"}, "points_cost"),
        ({"stock": -1}, "stock"),
        ({"cash_fen": -1}, "cash_fen"),
        ({"name": "名" * 201}, "name"),
        ({"code": ""}, "code"),
        ({"code": "C" * 65}, "code"),
        ({"active": False}, "active"),
    ]
    admin = auth(staff_token("admin"))
    body = {"code": "GIFT-UMBRELLA", "name": "邮政雨伞", "kind": "goods", "points_cost": 1200}
    before = row_counts(db)
    each_is_problem(
        cases,
        lambda change: client.post("/api/v1/rewards", json={**body, **change}, headers=admin),
    )
    assert row_counts(db) == before


# -- redemption -------------------------------------------------------------------------


def test_member_redeems_own_points(client, counter, new_member):
    member_no, member = new_member("13900000001")
    fund(client, counter, member_no, 2500)
    response = client.post(
        "/api/v1/redemptions",
        json=redemption(member_no, "GIFT-CANVAS-BAG"),
        headers=member,
    )
    assert response.status_code == 201
    body = response.json
    assert body["redemption_id"]
    assert body["points_spent"] == 1500
    assert body["balance"] == {"available": 1000, "pending": 0}
    assert stock_of(client, "GIFT-CANVAS-BAG") == 1999
    latest = client.get(f"/api/v1/members/{member_no}/ledger?limit=1", headers=member).json
    assert latest["items"][0]["type"] == "redemption"
    assert latest["items"][0]["points"] == -1500
    assert latest["items"][0]["balance_after"] == 1000


def test_channel_redeems_for_a_member(client, counter, new_member, channel_key, auth):
    member_no, _ = new_member("13900000001")
    fund(client, counter, member_no, 3000)
    app = auth(channel_key("app"))
    response = client.post(
        "/api/v1/redemptions", json=redemption(member_no, quantity=2), headers=app
    )
    assert response.status_code == 201
    assert response.json["points_spent"] == 2000
    assert points(client, app, member_no)["available"] == 1000


def test_member_may_not_redeem_for_another_member(client, db, counter, new_member):
    _, member = new_member("13900000001")
    other, _ = new_member("13900000002")
    fund(client, counter, other, 5000)
    before = row_counts(db)
    problem(client.post("/api/v1/redemptions", json=redemption(other), headers=member), 403)
    assert row_counts(db) == before
    assert points(client, counter, other)["available"] == 5000


def test_redemption_replay_and_conflict(client, db, counter, new_member):
    member_no, member = new_member("13900000001")
    fund(client, counter, member_no, 5000)
    first = client.post("/api/v1/redemptions", json=redemption(member_no), headers=member)
    assert first.status_code == 201
    before = row_counts(db)
    replay = client.post("/api/v1/redemptions", json=redemption(member_no), headers=member)
    assert replay.status_code == 200
    assert replay.json == first.json
    changed = redemption(member_no, quantity=2)
    problem(client.post("/api/v1/redemptions", json=changed, headers=member), 409)
    assert row_counts(db) == before
    assert points(client, member, member_no)["available"] == 4000


def test_insufficient_points_is_422(client, db, counter, new_member):
    member_no, member = new_member("13900000001")
    fund(client, counter, member_no, 999)
    before = row_counts(db)
    response = client.post("/api/v1/redemptions", json=redemption(member_no), headers=member)
    body = problem(response, 422)
    assert body["type"].endswith("insufficient-points")
    assert row_counts(db) == before
    assert points(client, member, member_no)["available"] == 999


def test_pending_points_cannot_be_redeemed(client, new_member, channel_key, auth):
    member_no, member = new_member("13900000001")
    web = auth(channel_key("web"))
    fund(client, web, member_no, 5000)
    assert points(client, member, member_no)["pending"] == 5000
    response = client.post("/api/v1/redemptions", json=redemption(member_no), headers=member)
    assert problem(response, 422)["type"].endswith("insufficient-points")


def test_out_of_stock_is_409(client, db, counter, new_member, staff_token, auth):
    admin = auth(staff_token("admin"))
    created = client.post(
        "/api/v1/rewards",
        json={
            "code": "GIFT-RARE",
            "name": "限量纪念封",
            "kind": "goods",
            "points_cost": 100,
            "stock": 1,
        },
        headers=admin,
    )
    assert created.status_code == 201
    member_no, member = new_member("13900000001")
    fund(client, counter, member_no, 1000)
    too_many = redemption(member_no, "GIFT-RARE", quantity=2, external_id="RD-2")
    before = row_counts(db)
    body = problem(client.post("/api/v1/redemptions", json=too_many, headers=member), 409)
    assert body["type"].endswith("out-of-stock")
    assert row_counts(db) == before
    ok = client.post("/api/v1/redemptions", json=redemption(member_no, "GIFT-RARE"), headers=member)
    assert ok.status_code == 201
    assert stock_of(client, "GIFT-RARE") == 0
    again = redemption(member_no, "GIFT-RARE", external_id="RD-3")
    problem(client.post("/api/v1/redemptions", json=again, headers=member), 409)
    assert points(client, member, member_no)["available"] == 900


def test_refund_debt_blocks_redemption_until_repaid(client, counter, new_member):
    member_no, member = new_member("13900000001")
    earned = fund(client, counter, member_no, 1000, external_id="POS-DEBT")
    assert earned["points"] == 1000
    spent = client.post("/api/v1/redemptions", json=redemption(member_no), headers=member)
    assert spent.status_code == 201
    refund = client.post(
        "/api/v1/refunds",
        json={"external_id": "RF-1", "original_external_id": "POS-DEBT", "amount_fen": 100000},
        headers=counter,
    )
    assert refund.status_code == 201, refund.json
    assert refund.json["balance"]["negative_debt"] == 1000
    summary = points(client, member, member_no)
    assert (summary["available"], summary["negative_debt"]) == (0, 1000)
    blocked = client.post(
        "/api/v1/redemptions",
        json=redemption(member_no, "VOUCHER-MAILING-5", external_id="RD-2"),
        headers=member,
    )
    assert problem(blocked, 422)["type"].endswith("points-debt-outstanding")
    fund(client, counter, member_no, 1500)
    summary = points(client, member, member_no)
    assert (summary["available"], summary["negative_debt"]) == (500, 0)


def test_bad_redemptions_are_422(client, db, counter, new_member):
    cases = [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 1.5}, "quantity"),
        ({"quantity": 1001}, "quantity"),
        ({"quantity": "1"}, "quantity"),
        ({"reward_code": ""}, "reward_code"),
        ({"external_id": "X" * 121}, "external_id"),
        ({"points": 1000}, "points"),
    ]
    member_no, member = new_member("13900000001")
    fund(client, counter, member_no, 5000)
    before = row_counts(db)
    each_is_problem(
        cases,
        lambda change: client.post(
            "/api/v1/redemptions", json={**redemption(member_no), **change}, headers=member
        ),
    )
    assert row_counts(db) == before


def test_unknown_reward_or_member(client, db, counter, new_member, channel_key, auth):
    member_no, member = new_member("13900000001")
    fund(client, counter, member_no, 5000)
    app = auth(channel_key("app"))
    before = row_counts(db)
    problem(
        client.post(
            "/api/v1/redemptions", json=redemption(member_no, "NO-SUCH-REWARD"), headers=member
        ),
        422,
        "reward_code",
    )
    problem(
        client.post(
            "/api/v1/redemptions",
            json=redemption("800000000000"),
            headers=app,
        ),
        422,
        "member_no",
    )
    assert row_counts(db) == before


# -- cancellation ------------------------------------------------------------------------


def test_cancel_gives_points_and_stock_back(client, db, counter, new_member):
    member_no, member = new_member("13900000001")
    fund(client, counter, member_no, 2000)
    spent = client.post(
        "/api/v1/redemptions",
        json=redemption(member_no, "VOUCHER-MAILING-5", quantity=3),
        headers=member,
    )
    redemption_id = spent.json["redemption_id"]
    cancelled = client.post(f"/api/v1/redemptions/{redemption_id}/cancel", headers=member)
    assert cancelled.status_code == 200
    body = cancelled.json
    assert body["redemption_id"] == redemption_id
    assert body["status"] == "cancelled"
    assert body["points_returned"] == 1500
    assert body["points_expired"] == 0
    assert body["balance"] == {"available": 2000, "pending": 0}
    latest = client.get(f"/api/v1/members/{member_no}/ledger?limit=1", headers=member).json
    assert latest["items"][0]["type"] == "redemption_cancel"
    assert latest["items"][0]["points"] == 1500

    before = row_counts(db)
    twice = client.post(f"/api/v1/redemptions/{redemption_id}/cancel", headers=member)
    assert problem(twice, 409)["type"].endswith("already-cancelled")
    assert row_counts(db) == before
    assert points(client, member, member_no)["available"] == 2000


def test_cancelled_points_go_back_to_the_lots_they_came_from(client, counter, new_member):
    member_no, member = new_member("13900000001")
    now = datetime.now(SHANGHAI) - timedelta(hours=1)
    last_year = now.replace(year=now.year - 1, month=12, day=10)
    fund(client, counter, member_no, 1000, when=last_year)
    fund(client, counter, member_no, 1000, when=now)
    older = f"{now.year}-12-31"
    newer = f"{now.year + 1}-12-31"

    def expiring():
        summary = points(client, member, member_no)
        return [(e["points"], e["expires_on"]) for e in summary["expiring"]]

    assert expiring() == [(1000, older), (1000, newer)]
    spent = client.post(
        "/api/v1/redemptions",
        json=redemption(member_no, "VOUCHER-MAILING-5", quantity=3),
        headers=member,
    )
    assert spent.status_code == 201
    assert expiring() == [(500, newer)]
    cancelled = client.post(
        f"/api/v1/redemptions/{spent.json['redemption_id']}/cancel", headers=member
    )
    assert cancelled.status_code == 200
    assert expiring() == [(1000, older), (1000, newer)]


def test_member_may_not_cancel_another_members_redemption(client, db, counter, new_member):
    owner, owner_headers = new_member("13900000001")
    _, intruder = new_member("13900000002")
    fund(client, counter, owner, 2000)
    spent = client.post("/api/v1/redemptions", json=redemption(owner), headers=owner_headers)
    redemption_id = spent.json["redemption_id"]
    before = row_counts(db)
    problem(client.post(f"/api/v1/redemptions/{redemption_id}/cancel", headers=intruder), 403)
    assert row_counts(db) == before
    assert points(client, owner_headers, owner)["available"] == 1000


def test_the_redeeming_channel_and_finance_may_cancel_others_may_not(
    client, counter, new_member, staff_token, auth, channel_key
):
    member_no, member = new_member("13900000001")
    fund(client, counter, member_no, 3000)
    by_counter = client.post(
        "/api/v1/redemptions", json=redemption(member_no), headers=counter
    ).json["redemption_id"]
    in_app = client.post(
        "/api/v1/redemptions", json=redemption(member_no, external_id="RD-2"), headers=member
    ).json["redemption_id"]
    strangers = (
        auth(staff_token("marketer")),
        auth(channel_key("partner")),
        auth(channel_key("counter", "SH-HP-0002")),
        auth(channel_key("web")),
    )
    for redemption_id in (by_counter, in_app):
        for headers in strangers:
            cancelled = client.post(f"/api/v1/redemptions/{redemption_id}/cancel", headers=headers)
            problem(cancelled, 403)
    # The in-app redemption belongs to no channel: not even the counter that holds the
    # member's points may cancel it, only the member or finance.
    problem(client.post(f"/api/v1/redemptions/{in_app}/cancel", headers=counter), 403)
    assert (
        client.post(f"/api/v1/redemptions/{by_counter}/cancel", headers=counter).status_code == 200
    )
    by_finance = client.post(
        f"/api/v1/redemptions/{in_app}/cancel", headers=auth(staff_token("finance"))
    )
    assert by_finance.status_code == 200
    assert points(client, member, member_no)["available"] == 3000


def test_cancel_unknown_redemption_is_404(client, counter):
    problem(client.post("/api/v1/redemptions/RD0000000000/cancel", headers=counter), 404)
