"""Campaigns targeted on segments and score ranges, over HTTP: create, read, change,
refuse bad input, award only matching members (single, batch, preview), warn overlaps."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy import select

import warehouse
from common.clock import business_date, utcnow
from common.unit_of_work import transaction
from crm.adapters.orm import Member
from crm.insights.orm import InsightRun, MemberScore
from tests.api.support import an_hour_ago_today as now
from tests.api.support import each_is_problem, problem, row_counts, self_register
from warehouse import WarehouseReader, sync_warehouse

_ids = itertools.count(1)


def campaign(code: str, **changes: object) -> dict[str, object]:
    day = business_date(now())
    body: dict[str, object] = {
        "code": code,
        "name": "挽留老客",
        "starts_on": (day - timedelta(days=1)).isoformat(),
        "ends_on": (day + timedelta(days=1)).isoformat(),
        "budget_points": 100_000,
        "bonus_points": 100,
    }
    body.update(changes)
    return body


def later(days: int) -> str:
    return (business_date(now()) + timedelta(days=days)).isoformat()


@pytest.fixture
def marketer(staff_token, auth):
    return auth(staff_token("marketer"))


@pytest.fixture
def counter(channel_key, auth):
    return auth(channel_key("counter", "SH-HP-0001"))


def register(client, phone: str) -> str:
    response = self_register(client, {"phone": phone, "name": "测试"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["member_no"]


def score(db, scores: dict[str, tuple[str, int, int | None]], as_of: date | None = None) -> None:
    """One insight run scoring these members: `{member_no: (segment, risk_bp, value_fen)}`."""
    as_of = as_of or business_date(now())
    with transaction(db.session_factory) as uow:
        session = uow.session
        run = InsightRun(
            as_of=as_of,
            model_version=f"test-{next(_ids)}",
            trained_at=utcnow(),
            members=len(scores),
            metrics={},
        )
        session.add(run)
        session.flush()
        ids = dict(
            session.execute(
                select(Member.member_no, Member.id).where(Member.member_no.in_(scores))
            ).all()
        )
        for member_no, (segment, risk_bp, value_fen) in scores.items():
            session.add(
                MemberScore(
                    run_id=run.id,
                    member_id=ids[member_no],
                    as_of=as_of,
                    model_version=run.model_version,
                    r=3,
                    f=3,
                    m=3,
                    segment_code=segment,
                    churn_risk_bp=risk_bp,
                    expected_value_fen=value_fen,
                )
            )
        uow.commit()


def accrual(member_no: str, amount_fen: int = 10_000) -> dict[str, object]:
    return {
        "external_id": f"POS-SCORE-{next(_ids)}",
        "member": {"member_no": member_no},
        "institution_code": "SH-HP-0001",
        "occurred_at": now().isoformat(),
        "business_type": "goods",
        "lines": [{"sku": "SKU-1", "category": "food", "amount_fen": amount_fen}],
        "total_fen": amount_fen,
    }


def campaign_points(answer: dict[str, object], code: str) -> int:
    breakdown = answer["breakdown"]
    assert isinstance(breakdown, list)
    return sum(item["points"] for item in breakdown if item["rule"] == f"campaign:{code}")


# -- create, read, list -----------------------------------------------------------------


def test_a_score_targeted_campaign_is_created_read_and_listed(client, marketer):
    body = campaign(
        "WIN-BACK",
        segments=["at_risk", "lost"],
        churn_risk={"min": 0.6},
        expected_value_fen={"min": 1000, "max": 500_000},
    )
    created = client.post("/api/v1/campaigns", json=body, headers=marketer)
    assert created.status_code == 201, created.get_data(as_text=True)
    target = created.json["target"]
    assert target["segments"] == ["at_risk", "lost"]
    assert target["churn_risk"] == {"min": 0.6, "max": None}
    assert target["expected_value_fen"] == {"min": 1000, "max": 500_000}
    one = client.get("/api/v1/campaigns/WIN-BACK", headers=marketer)
    assert one.status_code == 200
    assert one.json["target"] == target
    assert one.json["budget_remaining"] == 100_000
    assert one.json["code"] == "WIN-BACK" and one.json["status"] == "active"
    listed = client.get("/api/v1/campaigns", headers=marketer).json["items"]
    assert next(item for item in listed if item["code"] == "WIN-BACK")["target"] == target


def test_an_unknown_campaign_is_404(client, marketer):
    problem(client.get("/api/v1/campaigns/NO-SUCH", headers=marketer), 404)


def test_the_openapi_document_shows_the_score_targets(client):
    document = client.get("/api/v1/openapi.json").json
    schemas = document["components"]["schemas"]
    for name in ("segments", "churn_risk", "expected_value_fen"):
        assert name in schemas["CampaignIn"]["properties"]
        assert name in schemas["CampaignPatchIn"]["properties"]
        assert name in schemas["CampaignTargetOut"]["properties"]
    operation = document["paths"]["/api/v1/campaigns/{code}"]["get"]
    assert "200" in operation["responses"]
    assert "x-access-policy" in operation


# -- bad input --------------------------------------------------------------------------


def test_bad_score_targets_are_422_naming_the_field_and_write_nothing(client, db, marketer):
    before = row_counts(db)
    cases = [
        ({"segments": ["no_such_segment"]}, "segments"),
        ({"churn_risk": {"min": 1.5}}, "churn_risk.min"),
        ({"churn_risk": {"min": -0.1}}, "churn_risk.min"),
        ({"churn_risk": {"max": "high"}}, "churn_risk.max"),
        ({"churn_risk": {"min": 0.8, "max": 0.6}}, "churn_risk.min"),
        ({"churn_risk": {}}, "churn_risk"),
        ({"churn_risk": {"min": 0.5, "mean": 0.6}}, "churn_risk.mean"),
        ({"expected_value_fen": {"min": -1}}, "expected_value_fen.min"),
        ({"expected_value_fen": {"max": 12.5}}, "expected_value_fen.max"),
        ({"expected_value_fen": {"min": 900, "max": 100}}, "expected_value_fen.min"),
        ({"segments": "at_risk"}, "segments"),
    ]
    each_is_problem(
        cases,
        lambda change: client.post(
            "/api/v1/campaigns", json=campaign("BAD", **change), headers=marketer
        ),
    )
    assert row_counts(db) == before


def test_a_campaign_is_retargeted_by_patch_and_a_range_removed_with_null(client, db, marketer):
    future = campaign("LATER", starts_on=later(10), ends_on=later(20))
    assert client.post("/api/v1/campaigns", json=future, headers=marketer).status_code == 201
    send = lambda body: client.patch("/api/v1/campaigns/LATER", json=body, headers=marketer)  # noqa: E731
    changed = send({"segments": ["at_risk"], "churn_risk": {"min": 0.5, "max": 0.9}})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.json["target"]["segments"] == ["at_risk"]
    assert changed.json["target"]["churn_risk"] == {"min": 0.5, "max": 0.9}
    before = row_counts(db)
    each_is_problem(
        [
            ({"churn_risk": {"min": 0.95, "max": 0.9}}, "churn_risk.min"),
            ({"segments": ["nope"]}, "segments"),
            ({"expected_value_fen": {"min": -5}}, "expected_value_fen.min"),
        ],
        send,
    )
    assert row_counts(db) == before
    assert client.get("/api/v1/campaigns/LATER", headers=marketer).json["target"]["churn_risk"] == {
        "min": 0.5,
        "max": 0.9,
    }
    removed = send({"churn_risk": None, "expected_value_fen": {"min": 100}})
    assert removed.status_code == 200, removed.get_data(as_text=True)
    assert "churn_risk" not in removed.json["target"]
    assert removed.json["target"]["expected_value_fen"] == {"min": 100, "max": None}
    assert removed.json["target"]["segments"] == ["at_risk"]  # not named: unchanged
    cleared = send({"segments": []})
    assert cleared.json["target"]["segments"] == []


# -- awards -----------------------------------------------------------------------------


def test_a_segment_campaign_awards_only_the_segments_members(client, db, marketer, counter):
    at_risk = register(client, "13900001001")
    champion = register(client, "13900001002")
    unscored = register(client, "13900001003")
    score(db, {at_risk: ("at_risk", 7_000, 40_000), champion: ("champions", 500, 90_000)})
    body = campaign("AT-RISK", segments=["at_risk"])
    assert client.post("/api/v1/campaigns", json=body, headers=marketer).status_code == 201
    answers = {}
    for member_no in (at_risk, champion, unscored):
        response = client.post("/api/v1/accruals", json=accrual(member_no), headers=counter)
        assert response.status_code == 201, response.get_data(as_text=True)
        answers[member_no] = response.json
    assert campaign_points(answers[at_risk], "AT-RISK") == 100
    assert campaign_points(answers[champion], "AT-RISK") == 0
    assert campaign_points(answers[unscored], "AT-RISK") == 0
    assert answers[champion]["points"] == answers[unscored]["points"] == 100  # base only
    assert answers[at_risk]["points"] == 200
    remaining = client.get("/api/v1/campaigns/AT-RISK", headers=marketer).json
    assert remaining["budget_remaining"] == 100_000 - 100


def test_the_latest_run_decides(client, db, marketer, counter):
    member_no = register(client, "13900001011")
    score(db, {member_no: ("at_risk", 8_000, None)})
    score(db, {member_no: ("champions", 1_000, None)})  # newer: no longer at risk
    body = campaign("RISKY", churn_risk={"min": 0.6})
    assert client.post("/api/v1/campaigns", json=body, headers=marketer).status_code == 201
    answer = client.post("/api/v1/accruals", json=accrual(member_no), headers=counter).json
    assert campaign_points(answer, "RISKY") == 0
    score(db, {member_no: ("at_risk", 6_000, None)})  # newest: at risk again, on the bound
    answer = client.post("/api/v1/accruals", json=accrual(member_no), headers=counter).json
    assert campaign_points(answer, "RISKY") == 100


def test_expected_value_ranges_award_members_within_them(client, db, marketer, counter):
    valuable = register(client, "13900001021")
    modest = register(client, "13900001022")
    no_value = register(client, "13900001023")
    score(
        db,
        {
            valuable: ("regular", 3_000, 200_000),
            modest: ("regular", 3_000, 5_000),
            no_value: ("new", 3_000, None),
        },
    )
    body = campaign("VALUABLE", expected_value_fen={"min": 100_000})
    assert client.post("/api/v1/campaigns", json=body, headers=marketer).status_code == 201
    points = {
        member_no: campaign_points(
            client.post("/api/v1/accruals", json=accrual(member_no), headers=counter).json,
            "VALUABLE",
        )
        for member_no in (valuable, modest, no_value)
    }
    assert points == {valuable: 100, modest: 0, no_value: 0}


def test_a_batch_awards_exactly_as_single_accruals_do(client, db, marketer, counter):
    members = [register(client, f"1390000103{i}") for i in range(4)]
    score(
        db,
        {
            members[0]: ("at_risk", 7_000, 1),
            members[1]: ("lost", 9_000, 1),
            members[2]: ("at_risk", 2_000, 1),
        },
    )
    body = campaign("BATCH", segments=["at_risk", "lost"], churn_risk={"min": 0.6, "max": 1})
    assert client.post("/api/v1/campaigns", json=body, headers=marketer).status_code == 201
    items = [accrual(m) for m in members] + [accrual(members[0])]
    response = client.post("/api/v1/accruals/batch", json={"items": items}, headers=counter)
    assert response.status_code == 200, response.get_data(as_text=True)
    results = response.json["results"]
    assert [r["status"] for r in results] == [201] * 5
    assert [campaign_points(r["body"], "BATCH") for r in results] == [100, 100, 0, 0, 100]


def test_preview_agrees_with_posting(client, db, marketer, counter):
    in_segment = register(client, "13900001041")
    outside = register(client, "13900001042")
    score(db, {in_segment: ("at_risk", 7_000, 1), outside: ("champions", 7_000, 1)})
    body = campaign("PREVIEWED", segments=["at_risk"], churn_risk={"min": 0.6})
    assert client.post("/api/v1/campaigns", json=body, headers=marketer).status_code == 201
    for member_no, expected in ((in_segment, 100), (outside, 0)):
        payload = accrual(member_no)
        preview = client.post("/api/v1/accruals/preview", json=payload, headers=counter)
        assert preview.status_code == 200, preview.get_data(as_text=True)
        posted = client.post("/api/v1/accruals", json=payload, headers=counter).json
        assert campaign_points(preview.json, "PREVIEWED") == expected
        assert preview.json["points"] == posted["points"]
        assert preview.json["breakdown"] == posted["breakdown"]
        assert preview.json["balance"] == posted["balance"]


# -- overlap warnings ---------------------------------------------------------------------


def test_disjoint_segments_and_ranges_are_not_warned_as_overlapping(client, marketer):
    window = {"starts_on": later(10), "ends_on": later(20)}

    def create(code: str, **target: object) -> list[str]:
        response = client.post(
            "/api/v1/campaigns", json=campaign(code, **window, **target), headers=marketer
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json["warnings"]

    assert create("SEG-A", segments=["at_risk"], churn_risk={"min": 0.7}) == []
    assert create("SEG-B", segments=["champions"]) == []
    low_risk = create("LOW-RISK", churn_risk={"max": 0.3})  # SEG-A wants 0.7 and above
    assert len(low_risk) == 1 and "'SEG-B'" in low_risk[0]
    warned = create("ALSO-AT-RISK", segments=["at_risk", "lost"], churn_risk={"min": 0.5})
    # Meets SEG-A (at_risk from 0.7); not SEG-B (champions) nor LOW-RISK (up to 0.3).
    assert len(warned) == 1 and "'SEG-A'" in warned[0]


# -- access -------------------------------------------------------------------------------


def test_reading_one_campaign_is_for_marketing_and_finance_staff(
    client, db, marketer, staff_token, auth, channel_key
):
    assert (
        client.post("/api/v1/campaigns", json=campaign("SEEN"), headers=marketer).status_code == 201
    )
    for role in ("marketer", "finance", "admin"):
        response = client.get("/api/v1/campaigns/SEEN", headers=auth(staff_token(role)))
        assert response.status_code == 200, role
    problem(client.get("/api/v1/campaigns/SEEN"), 401)
    for channel in ("web", "app", "hotline", "partner"):
        problem(client.get("/api/v1/campaigns/SEEN", headers=auth(channel_key(channel))), 403)
    problem(
        client.get("/api/v1/campaigns/SEEN", headers=auth(channel_key("counter", "SH-HP-0001"))),
        403,
    )
    before = row_counts(db)
    problem(
        client.post(
            "/api/v1/campaigns",
            json=campaign("BY-FINANCE", segments=["at_risk"]),
            headers=auth(staff_token("finance")),
        ),
        403,
    )
    assert row_counts(db) == before


# -- lift ---------------------------------------------------------------------------------


def test_lift_of_a_segment_campaign_compares_only_members_in_it_at_the_start(
    client, db, marketer, staff_token, auth, counter
):
    import points_engine

    today = business_date(now())
    start = today - timedelta(days=6)
    body = campaign(
        "LIFT-SEG",
        starts_on=start.isoformat(),
        ends_on=(today + timedelta(days=3)).isoformat(),
        holdout_pct=50,
        segments=["at_risk"],
    )
    assert client.post("/api/v1/campaigns", json=body, headers=marketer).status_code == 201
    members = [register(client, f"1370000{n:04d}") for n in range(30)]
    # As of the campaign's start the first 20 were at risk, the rest champions; a run
    # after the start says the opposite, and must not decide who was eligible.
    score(
        db,
        {m: ("at_risk" if n < 20 else "champions", 7_000, 1) for n, m in enumerate(members)},
        as_of=start - timedelta(days=1),
    )
    score(
        db,
        {m: ("champions" if n < 20 else "at_risk", 7_000, 1) for n, m in enumerate(members)},
        as_of=today,
    )
    for n, member_no in enumerate(members):
        for days_ago in (9, 3):
            payload = accrual(member_no, 5_000 + 100 * n + 1_000 * (days_ago == 3))
            payload["occurred_at"] = (now() - timedelta(days=days_ago)).isoformat()
            response = client.post("/api/v1/accruals", json=payload, headers=counter)
            assert response.status_code == 201, response.get_data(as_text=True)
    with db.engine.connect() as connection:
        ids = dict(
            connection.execute(
                select(Member.member_no, Member.id).where(Member.member_no.in_(members))
            ).all()
        )
    reached = [ids[m] for m in members[:20]]
    held = sum(points_engine.in_holdout("LIFT-SEG", member_id, 50) for member_id in reached)
    answer = client.get("/api/v1/campaigns/LIFT-SEG/lift", headers=auth(staff_token("finance")))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["holdout_members"] == held
    assert answer.json["treated_members"] == 20 - held
    # The campaign page's headline, from the warehouse, measures the same members.
    sync_warehouse(db.engine, db.settings.warehouse_path)
    reader = WarehouseReader(db.settings.warehouse_path)
    try:
        headline = warehouse.campaign_headline(reader, "LIFT-SEG", today, 1)
    finally:
        reader.close()
        db.settings.warehouse_path.unlink(missing_ok=True)
    assert headline is not None and headline.effect is not None
    assert headline.effect.holdout_members == held
    assert headline.effect.treated_members == 20 - held
    assert headline.effect.incremental_gmv_yuan == pytest.approx(
        answer.json["incremental_gmv_yuan"], abs=0.01
    )
    # Without a score target every registered member would count: the 30 and more.
    plain = campaign("LIFT-ALL", starts_on=start.isoformat(), holdout_pct=50)
    assert client.post("/api/v1/campaigns", json=plain, headers=marketer).status_code == 201
    everyone = client.get("/api/v1/campaigns/LIFT-ALL/lift", headers=auth(staff_token("finance")))
    assert everyone.json["treated_members"] + everyone.json["holdout_members"] >= 30
