"""Daily clearing over HTTP: finance runs, reads, downloads and closes a day; channels
send their control totals; bad input is a problem naming the field and changes nothing."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta

import pytest

from common.clock import SHANGHAI, today
from tests.api.support import self_register

DAY = today() - timedelta(days=3)
SHOP = "SH-HP-0001"
CARD = "6221880000005678"


@pytest.fixture
def registered_member(client):
    response = self_register(client, {"phone": "13800005678", "name": "李四", "card_no": CARD})
    assert response.status_code == 201


def _sell(client, auth, key, external_id: str, amount_fen: int) -> None:
    body = {
        "external_id": external_id,
        "member": {"card_no": CARD},
        "institution_code": SHOP,
        "occurred_at": datetime.combine(DAY, time(12), SHANGHAI).isoformat(),
        "business_type": "goods",
        "lines": [{"sku": "SKU-1", "category": "food", "quantity": 1, "amount_fen": amount_fen}],
        "total_fen": amount_fen,
        "payment_method": "cash",
    }
    response = client.post("/api/v1/accruals", json=body, headers=auth(key))
    assert response.status_code in (200, 201), response.json


def test_finance_clears_reads_downloads_and_closes_a_day(
    client, auth, staff_token, channel_key, registered_member
):
    key = channel_key("counter", SHOP)
    _sell(client, auth, key, "POS-API-1", 12_345)
    _sell(client, auth, key, "POS-API-2", 1_000)
    finance = auth(staff_token("finance"))
    run = client.post("/api/v1/clearing/runs", json={"business_date": str(DAY)}, headers=finance)
    assert run.status_code == 200, run.json
    # Two sales, each bringing the points it issued.
    assert run.json["status"] == "open" and run.json["changed"] and run.json["movements"] >= 2
    day = client.get(f"/api/v1/clearing/runs/{DAY}", headers=finance)
    assert day.status_code == 200, day.json
    assert day.json["balanced"]
    line = next(x for x in day.json["lines"] if x["institution_code"] == SHOP)
    assert (line["channel"], line["sales"], line["gross_fen"]) == ("counter", 2, 13_345)
    assert {"payer": SHOP, "payee": "SH", "amount_fen": 13_345, "amount_yuan": "133.45"} in (
        day.json["transfers"]
    )
    rolled = client.get(f"/api/v1/clearing/runs/{DAY}?level=district", headers=finance)
    assert {x["institution_code"] for x in rolled.json["lines"]} == {"SH-HP"}
    download = client.get(f"/api/v1/clearing/runs/{DAY}/reports/lines", headers=finance)
    assert download.status_code == 200 and download.content_type.startswith("text/csv")
    assert f"clearing-{DAY}-lines-outlet.csv" in download.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0]["gross_fen"] == "13345" and rows[0]["net_fen"] == "13345"

    # The till reports one sale: the day cannot close without a reason.
    total = {"business_date": str(DAY), "institution_code": SHOP, "sales": 1, "amount_fen": 1000}
    sent = client.post("/api/v1/clearing/control-totals", json=total, headers=auth(key))
    assert sent.status_code == 200, sent.json
    close = {"business_date": str(DAY), "close": True}
    refused = client.post("/api/v1/clearing/runs", json=close, headers=finance)
    assert refused.status_code == 422
    assert refused.json["type"].endswith("clearing-unexplained-mismatches")
    assert refused.json["errors"][0]["field"] == "reason"
    still_open = client.get(f"/api/v1/clearing/runs/{DAY}", headers=finance)
    assert still_open.json["status"] == "open"
    closed = client.post(
        "/api/v1/clearing/runs", json={**close, "reason": "till lost a sale"}, headers=finance
    )
    assert closed.json["status"] == "closed", closed.json
    again = client.post("/api/v1/clearing/runs", json=close, headers=finance)
    assert again.status_code == 200 and not again.json["changed"]
    assert "nothing changed" in again.json["message"]
    late = client.post("/api/v1/clearing/control-totals", json=total, headers=auth(key))
    assert late.status_code == 409 and late.json["type"].endswith("clearing-day-closed")

    journal = client.get(f"/api/v1/clearing/journal/{DAY:%Y-%m}", headers=finance)
    assert journal.status_code == 200 and journal.headers["X-Closed-Days"] == "1"
    booked = list(csv.DictReader(io.StringIO(journal.get_data(as_text=True))))
    assert sum(int(r["debit_fen"]) for r in booked) == sum(int(r["credit_fen"]) for r in booked)
    revenue = [r for r in booked if r["account"].startswith("6001")]
    assert sum(int(r["credit_fen"]) for r in revenue) == 13_345


def test_bad_clearing_requests_are_problems_naming_the_field(
    client, auth, staff_token, channel_key
):
    finance = auth(staff_token("finance"))
    future = today() + timedelta(days=1)
    for body, field in (
        ({"business_date": "2026-13-01"}, "business_date"),
        ({"business_date": str(future)}, "business_date"),
        ({}, "business_date"),
        ({"business_date": str(DAY), "close": "yes"}, "close"),
        ({"business_date": str(DAY), "extra": 1}, "extra"),
        ({"business_date": str(DAY), "reason": ""}, "reason"),
    ):
        response = client.post("/api/v1/clearing/runs", json=body, headers=finance)
        assert response.status_code == 422, body
        assert response.content_type == "application/problem+json"
        assert response.json["errors"][0]["field"] == field, body
    not_run = client.get(f"/api/v1/clearing/runs/{DAY}", headers=finance)
    assert not_run.status_code == 409 and not_run.json["type"].endswith("clearing-day-not-run")
    assert client.get("/api/v1/clearing/runs/yesterday", headers=finance).status_code == 422
    level = client.get(f"/api/v1/clearing/runs/{DAY}?level=planet", headers=finance)
    assert level.status_code == 422 and level.json["errors"][0]["field"] == "level"
    client.post("/api/v1/clearing/runs", json={"business_date": str(DAY)}, headers=finance)
    unknown = client.get(f"/api/v1/clearing/runs/{DAY}/reports/salaries", headers=finance)
    assert unknown.status_code == 404
    month = client.get("/api/v1/clearing/journal/2026-13", headers=finance)
    assert month.status_code == 422 and month.json["errors"][0]["field"] == "month"
    nothing_closed = client.get(f"/api/v1/clearing/journal/{DAY:%Y-%m}", headers=finance)
    assert nothing_closed.status_code == 409

    key = channel_key("web")
    base = {"business_date": str(DAY), "institution_code": "SH", "sales": 2, "amount_fen": 10}
    for body, field in (
        ({**base, "institution_code": "NOWHERE"}, "institution_code"),
        ({**base, "transaction_ids": ["A"]}, "transaction_ids"),
        ({**base, "transaction_ids": ["A", "A"]}, "transaction_ids"),
        ({**base, "sales": -1}, "sales"),
        ({**base, "amount_fen": 1.5}, "amount_fen"),
        ({**base, "business_date": str(future)}, "business_date"),
    ):
        response = client.post("/api/v1/clearing/control-totals", json=body, headers=auth(key))
        assert response.status_code == 422, (body, response.json)
        assert response.json["errors"][0]["field"] == field, body


def test_only_finance_clears_and_a_till_reports_only_for_its_own_outlet(
    client, auth, staff_token, channel_key
):
    body = {"business_date": str(DAY)}
    for role in ("marketer",):
        refused = client.post("/api/v1/clearing/runs", json=body, headers=auth(staff_token(role)))
        assert refused.status_code == 403
    assert client.post("/api/v1/clearing/runs", json=body).status_code == 401
    till = channel_key("counter", SHOP)
    assert client.get(f"/api/v1/clearing/runs/{DAY}", headers=auth(till)).status_code == 403
    other_outlet = {**body, "institution_code": "SH-HP-0002", "sales": 0, "amount_fen": 0}
    response = client.post("/api/v1/clearing/control-totals", json=other_outlet, headers=auth(till))
    assert response.status_code == 403
