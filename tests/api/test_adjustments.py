"""Manual point adjustments by finance and admin staff: credits, debits, limits and access."""

from __future__ import annotations

from tests.api.support import problem, row_counts, self_register

URL = "/api/v1/members/{}/adjustments"


def register(client, phone="13900000001"):
    created = self_register(client, {"phone": phone, "name": "钱七"})
    assert created.status_code == 201
    return created.json["member_no"]


def points(client, headers, member_no):
    return client.get(f"/api/v1/members/{member_no}/points", headers=headers).json


def test_a_credit_becomes_spendable_points_with_the_reason_on_the_ledger(client, staff_token, auth):
    finance = auth(staff_token("finance"))
    member_no = register(client)
    body = {"external_id": "ADJ-1", "points": 500, "reason": "补偿：包裹延误"}
    credited = client.post(URL.format(member_no), json=body, headers=finance)
    assert credited.status_code == 201, credited.json
    assert credited.json["balance"] == {"available": 500, "pending": 0}
    replay = client.post(URL.format(member_no), json=body, headers=finance)
    assert replay.status_code == 200 and replay.json == credited.json
    summary = points(client, finance, member_no)
    assert summary["available"] == 500
    assert [e["points"] for e in summary["expiring"]] == [500]
    entry = client.get(f"/api/v1/members/{member_no}/ledger", headers=finance).json["items"][0]
    assert entry["type"] == "adjustment" and entry["points"] == 500
    assert entry["breakdown"]["reason"] == "补偿：包裹延误"


def test_a_debit_spends_lots_and_never_makes_a_debt(client, staff_token, auth, db):
    admin = auth(staff_token("admin"))
    member_no = register(client)
    client.post(
        URL.format(member_no),
        json={"external_id": "A1", "points": 300, "reason": "x"},
        headers=admin,
    )
    debit = client.post(
        URL.format(member_no),
        json={"external_id": "A2", "points": -200, "reason": "重复积分更正"},
        headers=admin,
    )
    assert debit.status_code == 201 and debit.json["balance"]["available"] == 100
    before = row_counts(db)
    too_much = client.post(
        URL.format(member_no),
        json={"external_id": "A3", "points": -101, "reason": "x"},
        headers=admin,
    )
    body = problem(too_much, 422, "points")
    assert body["type"].endswith("insufficient-points")
    assert row_counts(db) == before


def test_bad_adjustments_are_refused_and_write_nothing(client, staff_token, auth, db):
    finance = auth(staff_token("finance"))
    member_no = register(client)
    before = row_counts(db)
    for body, field in (
        ({"external_id": "Z", "points": 0, "reason": "x"}, "points"),
        ({"external_id": "Z", "points": 10, "reason": ""}, "reason"),
        ({"external_id": "Z", "points": 10}, "reason"),
        ({"external_id": "Z", "points": "10", "reason": "x"}, "points"),
        ({"external_id": "Z", "points": 2_000_000, "reason": "x"}, "points"),
    ):
        problem(client.post(URL.format(member_no), json=body, headers=finance), 422, field)
    problem(
        client.post(
            URL.format("800000000000"),
            json={"external_id": "Z", "points": 1, "reason": "x"},
            headers=finance,
        ),
        404,
    )
    assert row_counts(db) == before


def test_only_finance_and_admin_may_adjust(client, staff_token, auth, channel_key):
    member_no = register(client)
    body = {"external_id": "X", "points": 10, "reason": "x"}
    problem(client.post(URL.format(member_no), json=body), 401)
    for headers in (auth(staff_token("marketer")), auth(channel_key("web"))):
        problem(client.post(URL.format(member_no), json=body, headers=headers), 403)
