"""Accruals, batches and refunds over HTTP: points, idempotency, per-item results, reversal."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from common.clock import business_date
from tests.api.support import each_is_problem, problem, row_counts, self_register

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARD = "6221880000001234"
PHONE = "13800001234"


def occurred_at():
    return (datetime.now(SHANGHAI) - timedelta(hours=1)).replace(microsecond=0)


def accrual(external_id="POS-0001-000123", amount=25800, institution="SH-HP-0001", **changes):
    body = {
        "external_id": external_id,
        "member": {"card_no": CARD},
        "institution_code": institution,
        "occurred_at": occurred_at().isoformat(),
        "business_type": "goods",
        "lines": [
            {"sku": "MOONCAKE-PJL-01", "category": "food", "quantity": 2, "amount_fen": amount}
        ],
        "total_fen": amount,
        "payment_method": "cash",
    }
    body.update(changes)
    return body


@pytest.fixture
def member(client):
    response = self_register(client, {"phone": PHONE, "name": "张三", "card_no": CARD})
    assert response.status_code == 201
    return response.json["member_no"]


@pytest.fixture
def counter(channel_key, auth):
    return auth(channel_key("counter", "SH-HP-0001"))


@pytest.fixture
def web(channel_key, auth):
    return auth(channel_key("web"))


def balance(client, headers, member_no):
    body = client.get(f"/api/v1/members/{member_no}/points", headers=headers).json
    return body["available"], body["pending"]


def ledger(client, headers, member_no):
    return client.get(f"/api/v1/members/{member_no}/ledger?limit=500", headers=headers).json[
        "items"
    ]


# -- single accrual -----------------------------------------------------------------


def test_accrual_answers_points_breakdown_and_balance(client, member, counter):
    response = client.post("/api/v1/accruals", json=accrual(), headers=counter)
    assert response.status_code == 201
    assert response.content_type == "application/json"
    body = response.json
    assert body["accrual_id"]
    assert body["member_no"] == member
    assert body["points"] == 258
    assert body["status"] == "available"
    assert "available_on" not in body
    assert [(b["rule"], b["points"]) for b in body["breakdown"]] == [("BASE-GOODS", 258)]
    assert body["balance"] == {"available": 258, "pending": 0}
    assert balance(client, counter, member) == (258, 0)


@pytest.mark.parametrize(
    "ref", [{"member_no": None}, {"phone": "+86 138 0000 1234"}, {"card_no": CARD}]
)
def test_member_can_be_named_three_ways(client, member, counter, ref):
    if "member_no" in ref:
        ref = {"member_no": member}
    response = client.post("/api/v1/accruals", json=accrual(member=ref), headers=counter)
    assert response.status_code == 201
    assert response.json["member_no"] == member


def test_lines_earn_by_their_own_rule(client, member, counter):
    body = accrual(
        lines=[
            {"sku": "RICE-5KG", "category": "farm", "amount_fen": 10000},
            {"sku": "GOLD-RING", "category": "jewelry", "amount_fen": 10000},
            {"sku": "POS-MISC", "amount_fen": 199},
        ],
        total_fen=20199,
    )
    response = client.post("/api/v1/accruals", json=body, headers=counter)
    assert response.status_code == 201
    breakdown = {b["rule"]: b["points"] for b in response.json["breakdown"]}
    assert breakdown == {"BASE-GOODS": 101, "BASE-GOODS-JEWELRY": 50}
    assert response.json["points"] == 151


def test_replay_answers_200_with_the_first_body_and_posts_nothing(client, db, member, counter):
    body = accrual()
    first = client.post("/api/v1/accruals", json=body, headers=counter)
    assert first.status_code == 201
    before = row_counts(db)
    replay = client.post("/api/v1/accruals", json=copy.deepcopy(body), headers=counter)
    assert replay.status_code == 200
    assert replay.json == first.json
    assert row_counts(db) == before
    assert balance(client, counter, member) == (258, 0)
    assert len(ledger(client, counter, member)) == 1


def test_same_external_id_with_another_payload_is_409(client, db, member, counter):
    assert client.post("/api/v1/accruals", json=accrual(), headers=counter).status_code == 201
    before = row_counts(db)
    changed = accrual(amount=30000)
    problem(client.post("/api/v1/accruals", json=changed, headers=counter), 409)
    assert row_counts(db) == before
    assert balance(client, counter, member) == (258, 0)


def test_external_ids_are_per_channel(client, member, counter, web):
    first = client.post("/api/v1/accruals", json=accrual(), headers=counter)
    other = client.post("/api/v1/accruals", json=accrual(amount=10000), headers=web)
    assert (first.status_code, other.status_code) == (201, 201)
    assert other.json["accrual_id"] != first.json["accrual_id"]


def test_web_goods_are_pending_for_the_return_window(client, member, web):
    body = accrual(amount=10000)
    response = client.post("/api/v1/accruals", json=body, headers=web)
    assert response.status_code == 201
    answer = response.json
    assert answer["status"] == "pending"
    expected = business_date(datetime.fromisoformat(body["occurred_at"])) + timedelta(days=7)
    assert answer["available_on"] == expected.isoformat()
    assert answer["breakdown"][0]["rule"] == "BASE-GOODS-WEB"
    assert answer["balance"] == {"available": 0, "pending": 100}
    assert balance(client, web, member) == (0, 100)


def test_largest_amounts_are_accepted(client, member, web):
    amount = 10**12
    body = accrual(
        amount=amount,
        lines=[{"sku": "S" * 64, "quantity": 100_000, "amount_fen": amount}],
        payment_method="p" * 32,
        external_id="E" * 120,
    )
    response = client.post("/api/v1/accruals", json=body, headers=web)
    assert response.status_code == 201, response.json
    assert response.json["points"] == 10**10


def _set(path, value):
    def change(body):
        target = body
        *parents, last = path
        for key in parents:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
        return body

    return change


_DELETE = object()
NAIVE = "2026-11-24T10:15:00"

BAD_ACCRUALS = [
    (_set(["lines", 0, "amount_fen"], "25800"), "lines[0].amount_fen"),
    (_set(["lines", 0, "amount_fen"], 258.5), "lines[0].amount_fen"),
    (_set(["lines", 0, "quantity"], 1.5), "lines[0].quantity"),
    (_set(["lines", 0, "quantity"], 0), "lines[0].quantity"),
    (_set(["lines", 0, "amount_fen"], 0), "lines[0].amount_fen"),
    (_set(["lines", 0, "amount_fen"], -100), "lines[0].amount_fen"),
    (_set(["total_fen"], -25800), "total_fen"),
    (_set(["total_fen"], 25801), "total_fen"),
    (_set(["total_fen"], "25800"), "total_fen"),
    (_set(["occurred_at"], NAIVE), "occurred_at"),
    (_set(["occurred_at"], "yesterday"), "occurred_at"),
    (_set(["occurred_at"], 1764000000), "occurred_at"),
    (_set(["external_id"], ""), "external_id"),
    (_set(["external_id"], "   "), "external_id"),
    (_set(["external_id"], "X" * 121), "external_id"),
    (_set(["external_id"], 123), "external_id"),
    (_set(["external_id"], _DELETE), "external_id"),
    (_set(["member"], _DELETE), "member"),
    (_set(["member"], {}), "member"),
    (_set(["member"], {"card_no": CARD, "phone": PHONE}), "member"),
    (_set(["member"], {"email": "a@b.cn"}), "member.email"),
    (_set(["member"], {"card_no": "6221880000009999"}), "member.card_no"),
    (_set(["member"], {"card_no": "12"}), "member.card_no"),
    (_set(["member"], {"phone": "13900009999"}), "member.phone"),
    (_set(["member"], {"member_no": "800000000000"}), "member.member_no"),
    (_set(["institution_code"], "SH-XX-9999"), "institution_code"),
    (_set(["institution_code"], _DELETE), "institution_code"),
    (_set(["business_type"], "lottery"), "business_type"),
    (_set(["lines", 0, "category"], "toys"), "lines[0].category"),
    (_set(["lines", 0, "sku"], "S" * 65), "lines[0].sku"),
    (_set(["lines", 0, "sku"], _DELETE), "lines[0].sku"),
    (_set(["lines", 0, "discount_fen"], 100), "lines[0].discount_fen"),
    (_set(["lines"], []), "lines"),
    (_set(["lines"], {"sku": "A", "amount_fen": 25800}), "lines"),
    (_set(["coupon"], "SAVE10"), "coupon"),
    (_set(["payment_method"], "p" * 33), "payment_method"),
    (_set(["payment_method"], 1), "payment_method"),
    (_set(["external_id"], "POS\u0000-1"), "external_id"),
    (_set(["lines", 0, "sku"], "SKU\u0000"), "lines[0].sku"),
]


def test_bad_accruals_are_422_naming_the_field_and_write_nothing(client, db, member, web):
    before = row_counts(db)
    each_is_problem(
        BAD_ACCRUALS,
        lambda mutate: client.post("/api/v1/accruals", json=mutate(accrual()), headers=web),
    )
    assert row_counts(db) == before
    assert balance(client, web, member) == (0, 0)


def test_too_many_lines_is_422(client, db, member, web):
    lines = [{"sku": f"S{i}", "amount_fen": 1} for i in range(201)]
    before = row_counts(db)
    response = client.post(
        "/api/v1/accruals", json=accrual(lines=lines, total_fen=201), headers=web
    )
    problem(response, 422, "lines")
    assert row_counts(db) == before


def test_malformed_json_is_400_and_writes_nothing(client, db, member, web):
    before = row_counts(db)
    raw = '{"external_id": "POS-1", "member": {"card_no": '
    response = client.post(
        "/api/v1/accruals", data=raw, content_type="application/json", headers=web
    )
    body = problem(response, 400)
    assert body["errors"][0]["field"] == "body"
    assert row_counts(db) == before


def test_accrual_for_a_merged_member_lands_on_the_survivor(
    client, member, counter, staff_token, auth
):
    other = self_register(client, {"phone": "13900000002", "name": "李四"}).json["member_no"]
    merged = client.post(
        "/api/v1/members/merge",
        json={"survivor": other, "absorbed": member},
        headers=auth(staff_token("admin")),
    )
    assert merged.status_code == 200
    response = client.post("/api/v1/accruals", json=accrual(), headers=counter)
    assert response.status_code == 201
    assert response.json["member_no"] == other
    assert balance(client, counter, other) == (258, 0)


# -- batch --------------------------------------------------------------------------


def test_batch_items_stand_alone(client, db, member, counter):
    replayed = accrual("POS-OLD-1", amount=10000)
    earlier = client.post("/api/v1/accruals", json=replayed, headers=counter)
    assert earlier.status_code == 201
    fresh = accrual("POS-NEW-1", amount=20000)
    items = [
        fresh,
        _set(["lines", 0, "amount_fen"], "100")(accrual("POS-BAD-1")),
        replayed,
        dict(replayed, total_fen=50000, lines=[{"sku": "A", "amount_fen": 50000}]),
        accrual("POS-NOBODY", member={"card_no": "6221880000009999"}),
        copy.deepcopy(fresh),
        dict(fresh, payment_method="card"),
        {"external_id": 7, "lines": []},
    ]
    response = client.post("/api/v1/accruals/batch", json={"items": items}, headers=counter)
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["status"] for r in results] == [201, 422, 200, 409, 422, 200, 409, 422]
    assert [r["external_id"] for r in results] == [
        "POS-NEW-1",
        "POS-BAD-1",
        "POS-OLD-1",
        "POS-OLD-1",
        "POS-NOBODY",
        "POS-NEW-1",
        "POS-NEW-1",
        None,
    ]
    assert results[0]["body"]["points"] == 200
    assert results[2]["body"] == earlier.json
    assert results[5]["body"] == results[0]["body"]
    for index in (1, 3, 4, 6, 7):
        assert results[index]["body"]["status"] == results[index]["status"]
        assert results[index]["body"]["type"].startswith("https://")
    assert any(e["field"].endswith("lines[0].amount_fen") for e in results[1]["body"]["errors"])
    assert any(e["field"].endswith("member.card_no") for e in results[4]["body"]["errors"])
    assert balance(client, counter, member) == (300, 0)
    assert len(ledger(client, counter, member)) == 2


def test_batch_item_for_another_institution_is_403_alone(client, member, counter):
    items = [
        accrual("POS-1", amount=10000),
        accrual("POS-2", amount=10000, institution="SH-HP-0002"),
        accrual("POS-3", amount=10000),
    ]
    response = client.post("/api/v1/accruals/batch", json={"items": items}, headers=counter)
    assert response.status_code == 200
    results = response.json["results"]
    assert [r["status"] for r in results] == [201, 403, 201]
    assert results[1]["body"]["status"] == 403
    assert results[1]["body"]["type"].endswith("forbidden")
    assert balance(client, counter, member) == (200, 0)


def test_batch_replayed_whole_posts_nothing_new(client, db, member, counter):
    items = [accrual(f"POS-{i}", amount=1000 * (i + 1)) for i in range(3)]
    first = client.post("/api/v1/accruals/batch", json={"items": items}, headers=counter)
    assert [r["status"] for r in first.json["results"]] == [201, 201, 201]
    before = row_counts(db)
    again = client.post("/api/v1/accruals/batch", json={"items": items}, headers=counter)
    assert [r["status"] for r in again.json["results"]] == [200, 200, 200]
    assert [r["body"] for r in again.json["results"]] == [r["body"] for r in first.json["results"]]
    assert row_counts(db) == before


def test_bad_batch_envelope_is_422(client, db, member, counter):
    cases = [
        ({"items": []}, "items"),
        ({"items": "POS-1"}, "items"),
        ({"items": [1, "x"]}, "items[0]"),
        ({}, "items"),
        ({"items": [{}], "atomic": True}, "atomic"),
    ]
    before = row_counts(db)
    each_is_problem(
        cases, lambda body: client.post("/api/v1/accruals/batch", json=body, headers=counter)
    )
    assert row_counts(db) == before


def test_batch_over_1000_items_is_422_and_writes_nothing(client, db, member, web):
    item = accrual(amount=100)
    items = [dict(item, external_id=f"W-{i}") for i in range(1001)]
    before = row_counts(db)
    response = client.post("/api/v1/accruals/batch", json={"items": items}, headers=web)
    problem(response, 422, "items")
    assert row_counts(db) == before


# -- refunds ------------------------------------------------------------------------


def refund(external_id, amount_fen, original="POS-0001-000123"):
    return {"external_id": external_id, "original_external_id": original, "amount_fen": amount_fen}


def test_partial_then_full_refund_reverses_in_proportion(client, db, member, counter):
    assert client.post("/api/v1/accruals", json=accrual(), headers=counter).status_code == 201
    half = client.post("/api/v1/refunds", json=refund("RF-1", 12900), headers=counter)
    assert half.status_code == 201
    assert half.json["refund_id"]
    assert half.json["points_reversed"] == 129
    assert half.json["balance"] == {"available": 129, "pending": 0}
    rest = client.post("/api/v1/refunds", json=refund("RF-2", 12900), headers=counter)
    assert rest.status_code == 201
    assert rest.json["points_reversed"] == 129
    assert rest.json["balance"] == {"available": 0, "pending": 0}
    types = [e["type"] for e in ledger(client, counter, member)]
    assert types == ["reversal", "reversal", "accrual"]
    before = row_counts(db)
    beyond = client.post("/api/v1/refunds", json=refund("RF-3", 1), headers=counter)
    body = problem(beyond, 422, "amount_fen")
    assert body["type"].endswith("refund-exceeds-original")
    assert row_counts(db) == before


def test_odd_partial_refunds_add_up_to_what_was_earned(client, member, counter):
    assert client.post("/api/v1/accruals", json=accrual(), headers=counter).status_code == 201
    reversed_points = []
    for index, amount in enumerate((9999, 1, 7777, 8023)):
        response = client.post(
            "/api/v1/refunds", json=refund(f"RF-{index}", amount), headers=counter
        )
        assert response.status_code == 201
        reversed_points.append(response.json["points_reversed"])
    assert reversed_points == [99, 1, 77, 81]
    assert sum(reversed_points) == 258
    assert balance(client, counter, member) == (0, 0)


def test_refund_beyond_the_original_at_once_is_422(client, db, member, counter):
    assert client.post("/api/v1/accruals", json=accrual(), headers=counter).status_code == 201
    before = row_counts(db)
    problem(
        client.post("/api/v1/refunds", json=refund("RF-1", 25801), headers=counter),
        422,
        "amount_fen",
    )
    assert row_counts(db) == before
    assert balance(client, counter, member) == (258, 0)


def test_refund_of_unknown_original_is_422(client, db, member, counter, web):
    assert client.post("/api/v1/accruals", json=accrual(), headers=counter).status_code == 201
    before = row_counts(db)
    problem(
        client.post("/api/v1/refunds", json=refund("RF-1", 100, "POS-NONE"), headers=counter),
        422,
        "original_external_id",
    )
    # Another channel's accrual is not this channel's to refund.
    problem(
        client.post("/api/v1/refunds", json=refund("RF-1", 100), headers=web),
        422,
        "original_external_id",
    )
    assert row_counts(db) == before


def test_refund_replay_is_200_and_conflict_is_409(client, db, member, counter):
    assert client.post("/api/v1/accruals", json=accrual(), headers=counter).status_code == 201
    first = client.post("/api/v1/refunds", json=refund("RF-1", 10000), headers=counter)
    assert first.status_code == 201
    before = row_counts(db)
    replay = client.post("/api/v1/refunds", json=refund("RF-1", 10000), headers=counter)
    assert replay.status_code == 200
    assert replay.json == first.json
    problem(client.post("/api/v1/refunds", json=refund("RF-1", 5000), headers=counter), 409)
    assert row_counts(db) == before
    assert balance(client, counter, member) == (158, 0)


def test_refund_of_pending_accrual_cancels_pending_points(client, member, web):
    assert (
        client.post("/api/v1/accruals", json=accrual(amount=10000), headers=web).status_code == 201
    )
    response = client.post("/api/v1/refunds", json=refund("RF-1", 4000), headers=web)
    assert response.status_code == 201
    assert response.json["points_reversed"] == 40
    assert response.json["balance"] == {"available": 0, "pending": 60}


def test_bad_refunds_are_422(client, db, member, counter):
    cases = [
        (refund("RF-1", 0), "amount_fen"),
        (refund("RF-1", -100), "amount_fen"),
        (refund("RF-1", "100"), "amount_fen"),
        (refund("RF-1", 1.5), "amount_fen"),
        ({"external_id": "RF-1", "amount_fen": 100}, "original_external_id"),
        ({**refund("RF-1", 100), "reason": "damaged"}, "reason"),
        (refund("", 100), "external_id"),
    ]
    assert client.post("/api/v1/accruals", json=accrual(), headers=counter).status_code == 201
    before = row_counts(db)
    each_is_problem(cases, lambda body: client.post("/api/v1/refunds", json=body, headers=counter))
    assert row_counts(db) == before


# -- preview ------------------------------------------------------------------------


def test_a_preview_answers_what_the_accrual_earns_and_writes_nothing(client, db, member, counter):
    before = row_counts(db)
    preview = client.post("/api/v1/accruals/preview", json=accrual(), headers=counter)
    assert preview.status_code == 200, preview.json
    assert row_counts(db) == before
    assert preview.json["budgets"] == []
    posted = client.post("/api/v1/accruals", json=accrual(), headers=counter)
    assert posted.status_code == 201
    for field in ("member_no", "points", "status", "breakdown", "balance"):
        assert preview.json[field] == posted.json[field], field
    # The external_id is not looked up: a preview of a recorded purchase says what it
    # earns afresh, on today's balance.
    again = client.post("/api/v1/accruals/preview", json=accrual(), headers=counter)
    assert again.json["points"] == posted.json["points"]
    assert again.json["balance"]["available"] == 2 * posted.json["balance"]["available"]


def test_a_preview_refuses_bad_input_as_the_accrual_does(client, db, member, counter, web):
    before = row_counts(db)
    cases = [
        (accrual(total_fen=1), "total_fen"),
        (accrual(business_type="lottery"), "business_type"),
        (accrual(member={"card_no": "6221889999999999"}), "member.card_no"),
        (accrual(occurred_at="2026-13-01T00:00:00+08:00"), "occurred_at"),
        ({**accrual(), "lines": []}, "lines"),
    ]
    each_is_problem(
        cases, lambda body: client.post("/api/v1/accruals/preview", json=body, headers=counter)
    )
    unknown = accrual(institution_code="SH-NOPE")
    problem(
        client.post("/api/v1/accruals/preview", json=unknown, headers=web), 422, "institution_code"
    )
    assert row_counts(db) == before


def test_a_counter_key_previews_only_for_its_own_outlet(client, member, counter):
    other = accrual(institution="SH-HP-0002")
    problem(client.post("/api/v1/accruals/preview", json=other, headers=counter), 403)
