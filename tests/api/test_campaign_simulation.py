"""Campaign simulation over HTTP: POST /campaigns/simulate and /campaigns/{code}/simulate."""

from __future__ import annotations

import itertools

import pytest

from storefront_api.auth import MemberPrincipal
from storefront_api.http.context import EXTENSION_KEY
from tests.api.support import each_is_problem, problem, row_counts, self_register

PROPOSED = "/api/v1/campaigns/simulate"
_ids = itertools.count(1)


def proposal(code="MID-AUTUMN", **changes):
    """x1.5 on food, at most 150 points a member, running through September 2025."""
    body = {
        "code": code,
        "name": "中秋加倍积分",
        "starts_on": "2025-09-01",
        "ends_on": "2025-09-30",
        "budget_points": 10_000,
        "multiplier_bp": 15_000,
        "per_member_cap": 150,
        "categories": ["food"],
    }
    body.update(changes)
    return body


# September 2024 (the default history of the proposal):
# first  09-02 food 25800 -> 129; 09-05 food 10000 + home 5000 -> 50, capped to 21
# second 09-10 food 12345 -> 61; 10-01 food 9000 is after the period.
EXPECTED = {
    "campaign": "MID-AUTUMN",
    "period": {"from": "2024-09-01", "to": "2024-09-30"},
    "accruals_examined": 3,
    "eligible_accruals": 3,
    "participants": 2,
    "holdout_members": 0,
    "eligible_gmv_fen": 25800 + 10000 + 12345,
    "points_cost": 129 + 21 + 61,
    "budget_points": 10_000,
    "budget_left": 10_000 - 211,
    "budget_exhausted_on": None,
    "members_capped": 1,
}


@pytest.fixture
def marketer(staff_token, auth):
    return auth(staff_token("marketer"))


@pytest.fixture
def history(client, channel_key, auth):
    counter = auth(channel_key("counter", "SH-HP-0001"))
    first, second = (
        self_register(client, {"phone": phone, "name": "模拟"}).json["member_no"]
        for phone in ("13700000001", "13700000002")
    )
    for member_no, moment, lines in (
        (first, "2024-09-02T12:00:00+08:00", [("food", 25800)]),
        (first, "2024-09-05T12:00:00+08:00", [("food", 10000), ("home", 5000)]),
        (second, "2024-09-10T12:00:00+08:00", [("food", 12345)]),
        (second, "2024-10-01T00:30:00+08:00", [("food", 9000)]),
    ):
        response = client.post(
            "/api/v1/accruals",
            json={
                "external_id": f"SIM-{next(_ids)}",
                "member": {"member_no": member_no},
                "institution_code": "SH-HP-0001",
                "occurred_at": moment,
                "business_type": "goods",
                "lines": [
                    {"sku": f"SKU-{i}", "category": category, "amount_fen": amount}
                    for i, (category, amount) in enumerate(lines)
                ],
                "total_fen": sum(amount for _, amount in lines),
            },
            headers=counter,
        )
        assert response.status_code == 201, response.get_data(as_text=True)
    return first, second


def test_marketer_simulates_a_proposed_campaign_and_nothing_is_written(
    client, db, marketer, history
):
    before = row_counts(db)
    response = client.post(PROPOSED, json=proposal(), headers=marketer)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json == EXPECTED
    explicit = client.post(
        PROPOSED,
        json=proposal(history_from="2024-09-06", history_to="2024-10-01"),
        headers=marketer,
    )
    assert explicit.status_code == 200
    assert explicit.json["period"] == {"from": "2024-09-06", "to": "2024-10-01"}
    assert explicit.json["accruals_examined"] == 2
    assert explicit.json["points_cost"] == 61 + 45
    assert row_counts(db) == before
    listed = client.get("/api/v1/campaigns", headers=marketer)
    assert listed.json["items"] == []


def test_admin_may_simulate(client, staff_token, auth, history):
    response = client.post(PROPOSED, json=proposal(), headers=auth(staff_token("admin")))
    assert response.status_code == 200
    assert response.json == EXPECTED


def test_existing_campaign_simulates_on_its_window_a_year_earlier(client, db, marketer, history):
    created = client.post("/api/v1/campaigns", json=proposal(), headers=marketer)
    assert created.status_code == 201
    before = row_counts(db)
    url = "/api/v1/campaigns/MID-AUTUMN/simulate"
    no_body = client.post(url, headers=marketer)
    assert no_body.status_code == 200, no_body.get_data(as_text=True)
    assert no_body.json == EXPECTED
    assert client.post(url, json={}, headers=marketer).json == EXPECTED
    later = client.post(url, json={"history_from": "2024-09-06"}, headers=marketer)
    assert later.status_code == 200
    assert later.json["period"] == {"from": "2024-09-06", "to": "2024-09-30"}
    assert later.json["points_cost"] == 61
    assert row_counts(db) == before


def test_simulation_needs_a_marketer(client, db, app, staff_token, channel_key, auth, history):
    client.post("/api/v1/campaigns", json=proposal(), headers=auth(staff_token("marketer")))
    member = app.extensions[EXTENSION_KEY].tokens.issue(MemberPrincipal(history[0]))
    refused = [
        auth(staff_token("finance")),
        auth(channel_key("counter", "SH-HP-0001")),
        auth(member),
    ]
    before = row_counts(db)
    for url, body in ((PROPOSED, proposal()), ("/api/v1/campaigns/MID-AUTUMN/simulate", {})):
        problem(client.post(url, json=body), 401)
        problem(client.post(url, json=body, headers={"Authorization": "Bearer nope"}), 401)
        for headers in refused:
            problem(client.post(url, json=body, headers=headers), 403)
    assert row_counts(db) == before


def test_unknown_campaign_is_404(client, marketer):
    body = problem(client.post("/api/v1/campaigns/NO-SUCH/simulate", headers=marketer), 404)
    assert body["type"].endswith("unknown-campaign")


def test_bad_windows_and_proposals_are_422(client, db, marketer):
    assert client.post("/api/v1/campaigns", json=proposal(), headers=marketer).status_code == 201
    before = row_counts(db)
    proposed = [
        ({"history_from": "2024-09-30", "history_to": "2024-09-01"}, "history_to"),
        ({"history_to": "2024-08-01"}, "history_to"),
        ({"history_from": "2023-01-01", "history_to": "2024-01-02"}, "history_to"),
        ({"starts_on": "2023-01-01"}, "history_to"),
        ({"history_from": "2024/09/01"}, "history_from"),
        ({"history_to": 20240901}, "history_to"),
        ({"ends_on": "2025-08-01"}, "ends_on"),
        ({"bonus_points": 10}, "multiplier_bp"),
        ({"budget_points": 0}, "budget_points"),
        ({"history": "last-year"}, "history"),
        ({"history_from": "0001-01-01"}, "history_from"),
        ({"history_from": "9998-12-01", "history_to": "9999-12-31"}, "history_to"),
        ({"starts_on": "0001-01-01", "ends_on": "0001-01-31"}, "history_from"),
    ]
    each_is_problem(
        proposed, lambda change: client.post(PROPOSED, json=proposal(**change), headers=marketer)
    )
    existing = [
        ({"history_from": "2024-09-30", "history_to": "2024-09-01"}, "history_to"),
        ({"history_from": "2024-10-01"}, "history_to"),
        ({"history_from": "2023-01-01", "history_to": "2024-01-02"}, "history_to"),
        ({"history_to": "yesterday"}, "history_to"),
        ({"budget_points": 5}, "budget_points"),
    ]
    each_is_problem(
        existing,
        lambda body: client.post(
            "/api/v1/campaigns/MID-AUTUMN/simulate", json=body, headers=marketer
        ),
    )
    assert row_counts(db) == before


def test_malformed_json_is_400(client, marketer):
    for url in (PROPOSED, "/api/v1/campaigns/MID-AUTUMN/simulate"):
        response = client.post(
            url, data="{", headers={**marketer, "Content-Type": "application/json"}
        )
        problem(response, 400)


def test_simulation_is_documented(client):
    document = client.get("/api/v1/openapi.json").json
    proposed = document["paths"]["/api/v1/campaigns/simulate"]["post"]
    existing = document["paths"]["/api/v1/campaigns/{code}/simulate"]["post"]
    assert proposed["requestBody"]["required"] is True
    assert existing["requestBody"]["required"] is False
    assert "404" in existing["responses"]
    schemas = document["components"]["schemas"]
    answer = schemas["CampaignSimulationOut"]
    assert set(answer["required"]) >= set(EXPECTED)
    assert set(schemas["SimulationPeriod"]["properties"]) == {"from", "to"}
    assert {"history_from", "history_to", "code", "budget_points"} <= set(
        schemas["CampaignSimulationIn"]["properties"]
    )
