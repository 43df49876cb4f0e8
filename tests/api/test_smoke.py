"""A first end-to-end pass through the API with the Flask test client."""

from __future__ import annotations

from tests.api.support import self_register


def test_register_accrue_and_read_points(client, channel_key, auth):
    key = channel_key("counter", "SH-HP-0001")
    created = self_register(
        client, {"phone": "13800001234", "name": "张三", "card_no": "6221880000001234"}
    )
    assert created.status_code == 201, created.json
    member_no = created.json["member_no"]
    accrual = {
        "external_id": "POS-0001-20261124-000123",
        "member": {"card_no": "6221880000001234"},
        "institution_code": "SH-HP-0001",
        "occurred_at": "2026-11-24T10:15:00+08:00",
        "business_type": "goods",
        "lines": [
            {"sku": "MOONCAKE-PJL-01", "category": "food", "quantity": 2, "amount_fen": 25800}
        ],
        "total_fen": 25800,
        "payment_method": "cash",
    }
    first = client.post("/api/v1/accruals", json=accrual, headers=auth(key))
    assert first.status_code == 201, first.json
    assert first.json["points"] == 258
    replay = client.post("/api/v1/accruals", json=accrual, headers=auth(key))
    assert replay.status_code == 200
    assert replay.json == first.json
    points = client.get(f"/api/v1/members/{member_no}/points", headers=auth(key))
    assert points.json["available"] == 258
