"""`jobs run-due` settles commerce: uncollected pickups expire, unanswered bill payments resolve."""

from __future__ import annotations

from datetime import timedelta

from common.clock import today
from memberhub.operations import run_due_jobs


def test_run_due_expires_pickups_and_settles_unanswered_bills(db, client, channel_key, auth):
    web = auth(channel_key("web"))
    counter = auth(channel_key("counter", "SH-HP-0001"))
    member_no = client.post(
        "/api/v1/members", json={"phone": "13700001111", "name": "沈"}, headers=web
    ).json["member_no"]
    placed = client.post(
        "/api/v1/orders",
        json={
            "external_id": "JOB-1",
            "member_no": member_no,
            "lines": [{"sku": "HC-LYT-RICE", "quantity": 1}],
            "fulfillment": {"type": "pickup", "outlet_code": "SH-HP-0001"},
            "payment": {"method": "cod"},
        },
        headers=web,
    ).json
    bill = client.post(
        "/api/v1/bills/query",
        json={"biller_code": "SH-WATER-CTWS", "account_no": "3100129992"},
        headers=counter,
    ).json
    paid = client.post(
        "/api/v1/bill-payments",
        json={
            "external_id": "BILL-JOB-1",
            "bill_id": bill["bill_id"],
            "amount_fen": bill["amount_due_fen"],
            "member": {"member_no": member_no},
        },
        headers=counter,
    )
    assert paid.status_code == 202 and paid.json["status"] == "unknown"

    report = run_due_jobs(db, today())
    assert report["orders_expired"] == 0 and report["bills_resolved"] == 1
    receipt = client.get(f"/api/v1/bill-payments/{paid.json['payment_no']}", headers=counter)
    assert receipt.json["status"] == "paid" and receipt.json["points"] > 0

    late = run_due_jobs(db, today() + timedelta(days=9))
    assert late["orders_expired"] == 1 and late["bills_resolved"] == 0
    order = client.get(f"/api/v1/orders/{placed['order_no']}", headers=web).json
    assert order["status"] == "expired" and order["history"][-1]["by"] == "job:expire-orders"
    assert run_due_jobs(db, today() + timedelta(days=9))["orders_expired"] == 0
