"""Reference data (institutions, channels, categories, business types) and campaigns over HTTP."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from common.clock import business_date
from tests.api.support import each_is_problem, problem, row_counts, self_register

SHANGHAI = ZoneInfo("Asia/Shanghai")
_ids = itertools.count(1)

CATEGORY_LABELS = {
    "home": ("家居百货", "Home"),
    "baby": ("母婴用品", "Mother & baby"),
    "digital": ("数码家电", "Digital & appliances"),
    "beauty": ("美容护肤", "Beauty"),
    "sports": ("运动户外", "Sports & outdoor"),
    "jewelry": ("珠宝首饰", "Jewellery"),
    "food": ("食品饮料", "Food & drink"),
    "farm": ("绿邮田园", "Farm produce"),
    "stamps": ("集邮", "Philately"),
    "press": ("报刊", "Newspapers & magazines"),
    "other": ("其他", "Other"),
}


# -- reference data -----------------------------------------------------------------------


def test_institutions_page_through_the_whole_tree(client):
    first = client.get("/api/v1/institutions")
    assert first.status_code == 200
    assert len(first.json["items"]) == 50
    assert first.json["next_cursor"]
    seen = []
    cursor = None
    while True:
        query = "?limit=500" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/institutions{query}").json
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    codes = [item["code"] for item in seen]
    assert len(codes) == len(set(codes)) > 700
    assert codes[:50] == [item["code"] for item in first.json["items"]]
    by_code = {item["code"]: item for item in seen}
    assert by_code["SH"]["kind"] == "company" and by_code["SH"]["parent_code"] is None
    assert by_code["SH-HP"] == {**by_code["SH-HP"], "kind": "district", "parent_code": "SH"}
    assert by_code["SH-HP-0001"]["kind"] == "outlet"
    assert by_code["SH-HP-0001"]["parent_code"] == "SH-HP"
    assert {item["kind"] for item in seen} <= {"company", "district", "outlet", "kiosk", "store"}
    assert all(item["parent_code"] in by_code for item in seen if item["parent_code"])


def test_institutions_by_parent(client):
    page = client.get("/api/v1/institutions?parent_code=SH-HP&limit=500").json
    assert page["items"]
    assert {item["parent_code"] for item in page["items"]} == {"SH-HP"}
    assert "SH-HP-0001" in {item["code"] for item in page["items"]}
    none = client.get("/api/v1/institutions?parent_code=SH-HP-0001").json
    assert none == {"items": [], "next_cursor": None}


def test_bad_institution_queries_are_422(client):
    cases = [
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?limit=many", "limit"),
        ("?cursor=A", "cursor"),
        ("?cursor=_-8", "cursor"),
        ("?cursor=" + "A" * 201, "cursor"),
        ("?kind=outlet", "kind"),
        ("?parent_code=%00", "parent_code"),
    ]
    each_is_problem(cases, lambda query: client.get(f"/api/v1/institutions{query}"))


def test_channels_categories_and_business_types(client):
    channels = client.get("/api/v1/channels")
    assert channels.status_code == 200
    assert {c["code"] for c in channels.json["items"]} == {
        "web",
        "app",
        "counter",
        "retail",
        "hotline",
        "distribution",
        "partner",
    }
    categories = client.get("/api/v1/categories").json["items"]
    assert {c["code"]: (c["name"], c["name_en"]) for c in categories} == CATEGORY_LABELS
    types = client.get("/api/v1/business-types").json["items"]
    assert {t["code"] for t in types} == {
        "goods",
        "bill_payment",
        "mailing",
        "subscription",
        "philately",
        "service",
    }


# -- campaigns ----------------------------------------------------------------------------


def now():
    return (datetime.now(SHANGHAI) - timedelta(hours=1)).replace(microsecond=0)


def campaign(code="MID-AUTUMN", **changes):
    day = business_date(now())
    body = {
        "code": code,
        "name": "中秋双倍积分",
        "starts_on": (day - timedelta(days=1)).isoformat(),
        "ends_on": (day + timedelta(days=1)).isoformat(),
        "budget_points": 100_000,
        "multiplier_bp": 20_000,
        "categories": ["food"],
    }
    body.update(changes)
    return body


@pytest.fixture
def marketer(staff_token, auth):
    return auth(staff_token("marketer"))


@pytest.fixture
def member(client):
    response = self_register(client, {"phone": "13900000001", "name": "周杰"})
    return response.json["member_no"]


def accrue(client, headers, member_no, amount_fen, category="food", when=None, external_id=None):
    external_id = external_id or f"POS-{next(_ids)}"
    response = client.post(
        "/api/v1/accruals",
        json={
            "external_id": external_id,
            "member": {"member_no": member_no},
            "institution_code": "SH-HP-0001",
            "occurred_at": (when or now()).isoformat(),
            "business_type": "goods",
            "lines": [{"sku": "SKU-1", "category": category, "amount_fen": amount_fen}],
            "total_fen": amount_fen,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def remaining(client, headers, code):
    items = client.get("/api/v1/campaigns", headers=headers).json["items"]
    return next(item["budget_remaining"] for item in items if item["code"] == code)


def test_marketer_creates_a_campaign_and_sees_its_budget(client, marketer, staff_token, auth):
    response = client.post("/api/v1/campaigns", json=campaign(), headers=marketer)
    assert response.status_code == 201
    body = response.json
    assert body["code"] == "MID-AUTUMN"
    assert body["budget_points"] == 100_000
    assert body["budget_remaining"] == 100_000
    listed = client.get("/api/v1/campaigns", headers=marketer)
    assert listed.status_code == 200
    assert [c["code"] for c in listed.json["items"]] == ["MID-AUTUMN"]
    finance = auth(staff_token("finance"))
    assert remaining(client, finance, "MID-AUTUMN") == 100_000


def test_accrual_in_the_window_earns_the_campaign_bonus(
    client, marketer, member, channel_key, auth
):
    counter = auth(channel_key("counter", "SH-HP-0001"))
    assert client.post("/api/v1/campaigns", json=campaign(), headers=marketer).status_code == 201
    earned = accrue(client, counter, member, 25800)
    breakdown = {item["rule"]: item["points"] for item in earned["breakdown"]}
    assert breakdown == {"BASE-GOODS": 258, "campaign:MID-AUTUMN": 258}
    assert earned["points"] == 516
    assert earned["balance"]["available"] == 516
    assert remaining(client, marketer, "MID-AUTUMN") == 100_000 - 258

    not_targeted = accrue(client, counter, member, 10000, category="home")
    assert [item["rule"] for item in not_targeted["breakdown"]] == ["BASE-GOODS"]
    before_window = accrue(client, counter, member, 10000, when=now() - timedelta(days=5))
    assert [item["rule"] for item in before_window["breakdown"]] == ["BASE-GOODS"]
    assert remaining(client, marketer, "MID-AUTUMN") == 100_000 - 258


def test_refund_returns_campaign_points_to_the_budget(client, marketer, member, channel_key, auth):
    counter = auth(channel_key("counter", "SH-HP-0001"))
    assert client.post("/api/v1/campaigns", json=campaign(), headers=marketer).status_code == 201
    accrue(client, counter, member, 25800, external_id="POS-CAMP")
    refund = client.post(
        "/api/v1/refunds",
        json={"external_id": "RF-1", "original_external_id": "POS-CAMP", "amount_fen": 25800},
        headers=counter,
    )
    assert refund.status_code == 201
    assert refund.json["points_reversed"] == 516
    assert remaining(client, marketer, "MID-AUTUMN") == 100_000


def test_bonus_campaign_respects_member_cap_and_budget(client, marketer, member, channel_key, auth):
    counter = auth(channel_key("counter", "SH-HP-0001"))
    body = campaign(
        "COUNTER-BONUS",
        multiplier_bp=10_000,
        bonus_points=50,
        per_member_cap=80,
        budget_points=1000,
        categories=[],
        channels=["counter"],
    )
    assert client.post("/api/v1/campaigns", json=body, headers=marketer).status_code == 201
    first = accrue(client, counter, member, 1000)
    second = accrue(client, counter, member, 1000)
    bonus = [
        next(i for i in answer["breakdown"] if i["rule"] == "campaign:COUNTER-BONUS")
        for answer in (first, second)
    ]
    assert [item["points"] for item in bonus] == [50, 30]
    assert bonus[1]["limited_by"] == "member_cap"
    web = accrue(client, auth(channel_key("web")), member, 1000)
    assert all(item["rule"] != "campaign:COUNTER-BONUS" for item in web["breakdown"])
    assert remaining(client, marketer, "COUNTER-BONUS") == 920


def test_campaign_budget_runs_out(client, marketer, member, channel_key, auth):
    counter = auth(channel_key("counter", "SH-HP-0001"))
    body = campaign("SMALL", multiplier_bp=10_000, bonus_points=80, budget_points=100)
    assert client.post("/api/v1/campaigns", json=body, headers=marketer).status_code == 201
    other = self_register(client, {"phone": "13900000002", "name": "蔡依林"})
    awards = []
    for member_no in (member, other.json["member_no"]):
        answer = accrue(client, counter, member_no, 1000)
        awards.append(
            next(i for i in answer["breakdown"] if i["rule"] == "campaign:SMALL")["points"]
        )
    assert awards == [80, 20]
    assert remaining(client, marketer, "SMALL") == 0


def test_admin_may_create_campaigns(client, staff_token, auth):
    response = client.post("/api/v1/campaigns", json=campaign(), headers=auth(staff_token("admin")))
    assert response.status_code == 201


def test_campaigns_need_staff(client, db):
    problem(client.get("/api/v1/campaigns"), 401)
    before = row_counts(db)
    problem(client.post("/api/v1/campaigns", json=campaign()), 401)
    assert row_counts(db) == before


def test_bad_campaigns_are_422_and_write_nothing(client, db, marketer):
    cases = [
        ({"ends_on": "2020-01-01"}, "ends_on"),
        ({"starts_on": "2026/11/01"}, "starts_on"),
        ({"bonus_points": 10}, "multiplier_bp"),
        ({"multiplier_bp": 10_000}, "multiplier_bp"),
        ({"multiplier_bp": 9_000}, "multiplier_bp"),
        ({"budget_points": 0}, "budget_points"),
        ({"budget_points": "1000"}, "budget_points"),
        ({"holdout_pct": 51}, "holdout_pct"),
        ({"categories": ["toys"]}, "categories[0]"),
        ({"business_types": ["lottery"]}, "business_types[0]"),
        ({"funded_by": "SH-XX"}, "funded_by"),
        ({"code": ""}, "code"),
        ({"name": "x" * 201}, "name"),
        ({"skus": ["S"] * 501}, "skus"),
        ({"budget": 10}, "budget"),
    ]
    before = row_counts(db)
    each_is_problem(
        cases,
        lambda change: client.post("/api/v1/campaigns", json=campaign(**change), headers=marketer),
    )
    assert row_counts(db) == before


def test_duplicate_campaign_code_is_409(client, db, marketer):
    assert client.post("/api/v1/campaigns", json=campaign(), headers=marketer).status_code == 201
    before = row_counts(db)
    problem(client.post("/api/v1/campaigns", json=campaign(), headers=marketer), 409)
    assert row_counts(db) == before
    assert remaining(client, marketer, "MID-AUTUMN") == 100_000
