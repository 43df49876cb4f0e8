"""Reference data (institutions, channels, categories, business types) and campaigns over HTTP."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from common.clock import business_date
from tests.api.support import an_hour_ago_today as now
from tests.api.support import each_is_problem, problem, row_counts, self_register

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


# -- administration: change before start, pause, resume, stop ------------------------------


def later(days):
    return (business_date(now()) + timedelta(days=days)).isoformat()


def ledger_holds(db):
    import points_engine
    from common.db import read_session

    with read_session(db.session_factory) as session:
        assert points_engine.find_breaches(session) == []


def test_a_campaign_is_changed_before_it_starts_budget_included(client, db, marketer):
    future = campaign("NEW-YEAR", starts_on=later(10), ends_on=later(20), budget_points=5_000)
    assert client.post("/api/v1/campaigns", json=future, headers=marketer).status_code == 201
    changed = client.patch(
        "/api/v1/campaigns/NEW-YEAR",
        json={
            "starts_on": later(12),
            "ends_on": later(30),
            "budget_points": 8_000,
            "per_member_cap": 300,
            "holdout_pct": 10,
            "categories": ["food", "farm"],
        },
        headers=marketer,
    )
    assert changed.status_code == 200, changed.json
    body = changed.json
    assert (body["starts_on"], body["ends_on"]) == (later(12), later(30))
    assert body["budget_points"] == body["budget_remaining"] == 8_000
    assert body["per_member_cap"] == 300 and body["holdout_pct"] == 10
    assert body["target"]["categories"] == ["food", "farm"]
    assert body["target"]["business_types"] == [] and body["multiplier_bp"] == 20_000
    smaller = client.patch(
        "/api/v1/campaigns/NEW-YEAR",
        json={
            "budget_points": 2_000,
            "per_member_cap": None,
            "multiplier_bp": 10_000,
            "bonus_points": 5,
        },
        headers=marketer,
    )
    assert smaller.status_code == 200, smaller.json
    assert smaller.json["budget_remaining"] == 2_000 and smaller.json["per_member_cap"] is None
    assert (smaller.json["multiplier_bp"], smaller.json["bonus_points"]) == (10_000, 5)
    assert remaining(client, marketer, "NEW-YEAR") == 2_000
    ledger_holds(db)


def test_bad_changes_are_refused_and_change_nothing(client, db, marketer):
    future = campaign("DRAGON-BOAT", starts_on=later(10), ends_on=later(20))
    assert client.post("/api/v1/campaigns", json=future, headers=marketer).status_code == 201
    before = row_counts(db)
    send = lambda body: client.patch("/api/v1/campaigns/DRAGON-BOAT", json=body, headers=marketer)  # noqa: E731
    each_is_problem(
        [
            ({"ends_on": later(5)}, "ends_on"),
            ({"starts_on": later(-3)}, "starts_on"),
            ({"budget_points": 0}, "budget_points"),
            ({"holdout_pct": 80}, "holdout_pct"),
            ({"bonus_points": 10}, "multiplier_bp"),
            ({"categories": ["no-such"]}, "categories[0]"),
            ({"name": None}, "name"),
            ({"colour": "red"}, "colour"),
        ],
        send,
    )
    problem(send({}), 422)
    problem(
        client.patch("/api/v1/campaigns/NO-SUCH", json={"holdout_pct": 5}, headers=marketer), 404
    )
    assert row_counts(db) == before
    running = campaign("RUNNING")  # started yesterday
    assert client.post("/api/v1/campaigns", json=running, headers=marketer).status_code == 201
    problem(
        client.patch("/api/v1/campaigns/RUNNING", json={"holdout_pct": 5}, headers=marketer), 409
    )


def test_a_paused_campaign_awards_nothing_until_resumed(
    client, db, marketer, member, channel_key, auth
):
    counter = auth(channel_key("counter", "SH-HP-0001"))
    assert client.post("/api/v1/campaigns", json=campaign(), headers=marketer).status_code == 201
    paused = client.post("/api/v1/campaigns/MID-AUTUMN/pause", headers=marketer)
    assert paused.status_code == 200 and paused.json["status"] == "paused"
    problem(client.post("/api/v1/campaigns/MID-AUTUMN/pause", headers=marketer), 409)
    during = accrue(client, counter, member, 10000)
    assert [item["rule"] for item in during["breakdown"]] == ["BASE-GOODS"]
    assert remaining(client, marketer, "MID-AUTUMN") == 100_000
    resumed = client.post("/api/v1/campaigns/MID-AUTUMN/resume", headers=marketer)
    assert resumed.status_code == 200 and resumed.json["status"] == "active"
    after = accrue(client, counter, member, 10000)
    assert "campaign:MID-AUTUMN" in [item["rule"] for item in after["breakdown"]]
    ledger_holds(db)


def test_stopping_returns_the_unspent_budget_for_good(
    client, db, marketer, member, channel_key, auth
):
    counter = auth(channel_key("counter", "SH-HP-0001"))
    assert client.post("/api/v1/campaigns", json=campaign(), headers=marketer).status_code == 201
    accrue(client, counter, member, 25800)  # draws 258
    stopped = client.post("/api/v1/campaigns/MID-AUTUMN/stop", headers=marketer)
    assert stopped.status_code == 200, stopped.json
    assert stopped.json["status"] == "stopped"
    assert stopped.json["budget_returned"] == 100_000 - 258
    assert stopped.json["budget_remaining"] == 0
    problem(client.post("/api/v1/campaigns/MID-AUTUMN/resume", headers=marketer), 409)
    problem(client.post("/api/v1/campaigns/MID-AUTUMN/stop", headers=marketer), 409)
    later_sale = accrue(client, counter, member, 10000)
    assert [item["rule"] for item in later_sale["breakdown"]] == ["BASE-GOODS"]
    ledger_holds(db)


def test_overlapping_campaigns_on_the_same_target_are_warned(client, marketer):
    first = campaign("FOOD-A", starts_on=later(10), ends_on=later(20))
    assert client.post("/api/v1/campaigns", json=first, headers=marketer).json["warnings"] == []
    apart = campaign("HOME-B", starts_on=later(10), ends_on=later(20), categories=["home"])
    assert client.post("/api/v1/campaigns", json=apart, headers=marketer).json["warnings"] == []
    clash = campaign("ALL-C", starts_on=later(15), ends_on=later(25), categories=[])
    warnings = client.post("/api/v1/campaigns", json=clash, headers=marketer).json["warnings"]
    assert len(warnings) == 2
    assert "'FOOD-A'" in warnings[0] and later(15) in warnings[0] and later(20) in warnings[0]
    moved = client.patch(
        "/api/v1/campaigns/ALL-C",
        json={"starts_on": later(21), "ends_on": later(30)},
        headers=marketer,
    )
    assert moved.json["warnings"] == []


def test_every_campaign_change_is_in_the_audit_trail(client, marketer, staff_token, auth):
    future = campaign("AUDITED", starts_on=later(10), ends_on=later(20))
    client.post("/api/v1/campaigns", json=future, headers=marketer)
    client.patch("/api/v1/campaigns/AUDITED", json={"holdout_pct": 5}, headers=marketer)
    client.post("/api/v1/campaigns/AUDITED/pause", headers=marketer)
    client.post("/api/v1/campaigns/AUDITED/resume", headers=marketer)
    client.post("/api/v1/campaigns/AUDITED/stop", headers=marketer)
    admin = auth(staff_token("admin"))
    events = client.get("/api/v1/audit-events?limit=20", headers=admin).json["items"]
    actions = [(event["action"], event["target"]) for event in events][:5]
    assert [action for action, _ in actions[::-1]] == [
        "reference.create_campaign",
        "reference.update_campaign",
        "reference.pause_campaign",
        "reference.resume_campaign",
        "reference.stop_campaign",
    ]
    assert all(
        target == "AUDITED" for action, target in actions if action != "reference.create_campaign"
    )


# -- base earning rules: dated versions --------------------------------------------------


def rule_version(**changes):
    body = {
        "code": "BASE-GOODS",
        "effective_from": later(1),
        "business_type": "goods",
        "points": 2,
        "per_fen": 100,
        "description": "商品消费每1元积2分",
        "description_en": "Goods: 2 points per yuan",
    }
    body.update(changes)
    return body


def earned(db, member, day_offset, category="food"):
    """Points for a 100-yuan purchase `day_offset` days from today, through the service
    (over HTTP a purchase cannot be dated tomorrow)."""
    import crm
    import points_engine
    from common.clock import SHANGHAI as TZ
    from common.unit_of_work import transaction

    moment = datetime.combine(
        business_date(now()) + timedelta(days=day_offset),
        datetime.min.time().replace(hour=11),
        TZ,
    )
    command = points_engine.AccrualCommand(
        external_id=f"RULE-{day_offset}-{next(_ids)}",
        member=points_engine.MemberRef(member_no=member),
        institution_code="SH-HP-0001",
        occurred_at=moment,
        business_type="goods",
        lines=(points_engine.AccrualLine("SKU-1", 1, 10_000, category),),
        total_fen=10_000,
    )
    with transaction(db.session_factory) as uow:
        written = points_engine.accrue_points(uow, crm.CrmMemberDirectory(), "counter", command)
    return written.body.points


def test_a_rule_version_applies_from_its_day_and_not_before(client, db, marketer, member):
    scheduled = client.post("/api/v1/earning-rules", json=rule_version(), headers=marketer)
    assert scheduled.status_code == 201, scheduled.json
    assert scheduled.json["created_by"] == "staff:marketer-api-test"
    listed = client.get("/api/v1/earning-rules", headers=marketer).json["items"]
    goods = [item for item in listed if item["code"] == "BASE-GOODS"]
    assert [(g["effective_from"], g["points"]) for g in goods] == [(None, 1), (later(1), 2)]

    assert earned(db, member, 0) == 100
    assert earned(db, member, 1) == 200
    assert earned(db, member, 2) == 200
    ledger_holds(db)


def test_a_withdrawn_rule_earns_nothing_from_its_day(client, db, marketer, member):
    withdrawn = rule_version(code="BASE-GOODS-JEWELRY", active=False, category="jewelry")
    assert client.post("/api/v1/earning-rules", json=withdrawn, headers=marketer).status_code == 201
    listed = client.get("/api/v1/earning-rules", headers=marketer).json["items"]
    assert {
        "code": "BASE-GOODS-JEWELRY",
        "effective_from": later(1),
        "active": False,
    }.items() <= next(item for item in listed if item["effective_from"] == later(1)).items()


def test_bad_rule_versions_are_refused_and_change_nothing(client, db, marketer):
    before = row_counts(db)
    send = lambda body: client.post("/api/v1/earning-rules", json=body, headers=marketer)  # noqa: E731
    each_is_problem(
        [
            (rule_version(effective_from=later(0)), "effective_from"),
            (rule_version(effective_from=later(-3)), "effective_from"),
            (rule_version(business_type="lottery"), "business_type"),
            (rule_version(channel="carrier-pigeon"), "channel"),
            (rule_version(per_fen=0), "per_fen"),
            (rule_version(points=-1), "points"),
            (rule_version(pending_days=400), "pending_days"),
        ],
        send,
    )
    assert row_counts(db) == before
    assert send(rule_version()).status_code == 201
    problem(send(rule_version()), 409)


# -- lift -----------------------------------------------------------------------------------


def test_lift_compares_treated_and_holdout_members_and_says_what_it_means(
    client, db, marketer, staff_token, auth, channel_key
):
    counter = auth(channel_key("counter", "SH-HP-0001"))
    today = business_date(now())
    body = campaign(
        "LIFT-TEST",
        starts_on=(today - timedelta(days=6)).isoformat(),
        ends_on=(today + timedelta(days=3)).isoformat(),
        holdout_pct=50,
        categories=[],
    )
    assert client.post("/api/v1/campaigns", json=body, headers=marketer).status_code == 201
    members = [
        self_register(client, {"phone": f"1360000{n:04d}", "name": "会员"}).json["member_no"]
        for n in range(16)
    ]
    for n, member_no in enumerate(members):
        accrue(client, counter, member_no, 5000 + 100 * n, when=now() - timedelta(days=9))
        accrue(client, counter, member_no, 8000 + 100 * n, when=now() - timedelta(days=3))
    finance = auth(staff_token("finance"))
    answer = client.get("/api/v1/campaigns/LIFT-TEST/lift", headers=finance)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    lift = answer.json
    assert lift["treated_members"] + lift["holdout_members"] == 16
    assert lift["holdout_members"] >= 2 and lift["treated_members"] >= 2
    assert (lift["measured_from"], lift["measured_to"]) == (
        (today - timedelta(days=6)).isoformat(),
        (today - timedelta(days=1)).isoformat(),
    )
    # Everyone bought the same way; only the treated got campaign points.
    assert lift["points_cost"] == 100_000 - remaining(client, marketer, "LIFT-TEST") > 0
    assert lift["points_cost_yuan"] == lift["points_cost"] / 100
    gmv = lift["gmv_fen"]
    assert gmv["interval"]["low"] <= gmv["difference"] <= gmv["interval"]["high"]
    assert 0 <= gmv["variance_reduction"] <= 1
    assert isinstance(lift["conclusion"], str) and lift["conclusion"]
    if gmv["interval"]["low"] <= 0 <= gmv["interval"]["high"]:
        assert "includes zero" in lift["conclusion"]
    assert lift["roi"] is not None


def test_lift_needs_a_campaign_with_a_complete_day(client, marketer):
    problem(client.get("/api/v1/campaigns/NO-SUCH/lift", headers=marketer), 404)
    future = campaign("NOT-YET", starts_on=later(5), ends_on=later(9))
    assert client.post("/api/v1/campaigns", json=future, headers=marketer).status_code == 201
    problem(client.get("/api/v1/campaigns/NOT-YET/lift", headers=marketer), 422)
