"""Free delivery, a club benefit: a delivered order carries a delivery fee as a line of its
own (paid, earned on, refunded and cleared as parcel delivery), unless the member's tier
delivers free; a pickup never has one."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from common.settings import SettingsError, load_settings
from crm.adapters.orm import Tier
from points_engine.adapters.orm import Accrual
from tests.api.support import problem, row_counts
from tests.api.test_member_prices import _member
from tests.api.test_orders import API, order_body, pay

ADDRESS = {"type": "delivery", "address": "上海市黄浦区中山东一路1号"}
FEE = 1000


def _order(client, web, member_no: str, fulfillment=None):
    answer = client.post(
        f"{API}/orders", json=order_body(member_no, fulfillment=fulfillment), headers=web
    )
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_delivered_order_pays_the_fee_unless_the_tier_delivers_free(
    client, auth, channel_key, db
):
    web = auth(channel_key("web"))
    tiers = {tier["code"]: tier for tier in client.get(f"{API}/tiers").json["items"]}
    assert {code for code, tier in tiers.items() if tier["free_delivery"]} == {"gold", "diamond"}

    silver = _member(client, web, db, "13911110001", "silver")
    pickup = _order(client, web, silver)
    delivered = _order(client, web, silver, ADDRESS)
    assert pickup["delivery_fee_fen"] == 0 and "DELIVERY" not in {
        line["sku"] for line in pickup["lines"]
    }
    fee_line = delivered["lines"][-1]
    assert fee_line["sku"] == "DELIVERY" and fee_line["amount_fen"] == FEE
    assert delivered["delivery_fee_fen"] == FEE
    assert delivered["total_fen"] == pickup["total_fen"] + FEE
    assert delivered["payable_fen"] == pickup["payable_fen"] + FEE
    # The exact amount payable, fee included, is what a payment must bring.
    assert pay(client, web, delivered, amount=pickup["payable_fen"]).status_code == 422
    assert pay(client, web, delivered).status_code == 201
    with db.session_factory() as session:
        mailing = session.scalar(
            select(Accrual.total_fen).where(
                Accrual.external_id == f"order:{delivered['order_no']}:mailing"
            )
        )
    assert mailing == FEE

    gold = _member(client, web, db, "13911110002", "gold")
    free = _order(client, web, gold, ADDRESS)
    assert free["delivery_fee_fen"] == 0
    assert [line["sku"] for line in free["lines"]] == [line["sku"] for line in pickup["lines"]]


def test_a_cancelled_delivery_returns_the_fee_with_the_goods(client, auth, channel_key, db):
    web = auth(channel_key("web"))
    member_no = _member(client, web, db, "13911110003", "regular")
    order = _order(client, web, member_no, ADDRESS)
    assert pay(client, web, order).status_code == 201
    cancelled = client.post(f"{API}/orders/{order['order_no']}/cancel", headers=web)
    assert cancelled.status_code == 200, cancelled.json
    detail = client.get(f"{API}/orders/{order['order_no']}", headers=web).json
    assert detail["status"] in ("cancelled", "refunded"), detail["status"]
    refunds = [p for p in detail.get("payments", []) if p.get("refunded_fen")]
    assert sum(p["refunded_fen"] for p in refunds) == order["payable_fen"]


def test_an_admin_who_turns_free_delivery_off_makes_the_tier_pay(client, auth, channel_key, db):
    web = auth(channel_key("web"))
    member_no = _member(client, web, db, "13911110004", "diamond")
    with db.session_factory() as session, session.begin():
        session.execute(update(Tier).where(Tier.code == "diamond").values(free_delivery=False))
    assert _order(client, web, member_no, ADDRESS)["delivery_fee_fen"] == FEE


def test_the_fee_is_configured(monkeypatch):
    assert load_settings().delivery_fee_fen == FEE
    monkeypatch.setenv("MEMBERHUB_DELIVERY_FEE_FEN", "600")
    assert load_settings().delivery_fee_fen == 600
    for bad in ("-1", "ten"):
        monkeypatch.setenv("MEMBERHUB_DELIVERY_FEE_FEN", bad)
        with pytest.raises(SettingsError, match="MEMBERHUB_DELIVERY_FEE_FEN"):
            load_settings()


def test_no_product_may_take_the_delivery_fee_s_sku(client, auth, staff_token, db):
    admin = auth(staff_token("admin"))
    before = row_counts(db)
    product = {
        "sku": "DELIVERY",
        "name": "配送",
        "category": "other",
        "price_fen": 100,
        "business_type": "goods",
    }
    refused = client.post(f"{API}/products", json=product, headers=admin)
    problem(refused, 422, "sku")
    assert row_counts(db) == before
