"""Newspaper subscriptions over HTTP: titles, subscribe, read, cancel with a pro-rata refund."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from common.clock import today
from common.db import read_session
from common.unit_of_work import transaction
from storefront_api import subscriptions
from storefront_api.auth import MemberPrincipal
from storefront_api.http.context import EXTENSION_KEY
from storefront_api.subscriptions.orm import Subscription
from tests.api.support import each_is_problem, problem, row_counts, self_register

PHONE = "13800005678"
CARD = "6221880000005678"
ADDRESS = "上海市黄浦区四川中路200号1201室"


def next_month_start(day=None):
    day = day or today()
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def subscription(external_id="HL-20261125-0001", **changes):
    body = {
        "external_id": external_id,
        "member": {"phone": PHONE},
        "title_code": "JFRB",
        "term": "monthly",
        "start_date": next_month_start().isoformat(),
        "delivery": {"type": "address", "address": ADDRESS},
        "payment_method": "cash",
    }
    body.update(changes)
    return body


@pytest.fixture
def member(client):
    response = self_register(client, {"phone": PHONE, "name": "王芳", "card_no": CARD})
    assert response.status_code == 201
    return response.json["member_no"]


@pytest.fixture
def member_headers(app, auth):
    tokens = app.extensions[EXTENSION_KEY].tokens
    return lambda member_no: auth(tokens.issue(MemberPrincipal(member_no)))


@pytest.fixture
def other_member(client):
    response = self_register(client, {"phone": "13900009999", "name": "李雷"})
    assert response.status_code == 201
    return response.json["member_no"]


@pytest.fixture
def hotline(channel_key, auth):
    return auth(channel_key("hotline"))


@pytest.fixture
def counter(channel_key, auth):
    return auth(channel_key("counter", "SH-HP-0001"))


def subscribe(client, headers, **changes):
    response = client.post("/api/v1/subscriptions", json=subscription(**changes), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def points(client, headers, member_no):
    body = client.get(f"/api/v1/members/{member_no}/points", headers=headers).json
    return body["available"]


def ledger(client, headers, member_no):
    return client.get(f"/api/v1/members/{member_no}/ledger?limit=500", headers=headers).json[
        "items"
    ]


def stored(db, subscription_no):
    """The row as stored, detached with its values loaded."""
    with read_session(db.session_factory) as session:
        row = session.scalars(
            select(Subscription).where(Subscription.subscription_no == subscription_no)
        ).one()
        session.expunge(row)
        return row


# -- titles ----------------------------------------------------------------------------------


def test_anyone_lists_the_titles_with_their_monthly_price(client):
    response = client.get("/api/v1/press-titles")
    assert response.status_code == 200
    titles = {item["code"]: item for item in response.json["items"]}
    assert {"JFRB", "WHB", "XMWB", "RMRB", "CKXX", "SHZQB", "GSH", "DZ", "QNB"} <= set(titles)
    assert titles["JFRB"] == {
        "code": "JFRB",
        "name": "解放日报",
        "name_en": "Jiefang Daily",
        "publisher": "上海报业集团",
        "frequency": "daily",
        "monthly_price_fen": 4200,
    }
    assert all(item["monthly_price_fen"] > 0 for item in titles.values())


def test_loading_the_titles_again_changes_nothing(db):
    with transaction(db.session_factory) as uow:
        assert subscriptions.load_press_titles(uow) == 0


# -- subscribe -------------------------------------------------------------------------------


def test_the_hotline_subscribes_a_member_who_earns_points(client, db, member, hotline):
    start = next_month_start()
    response = client.post("/api/v1/subscriptions", json=subscription(), headers=hotline)
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert body["subscription_no"].startswith("SB")
    assert body["status"] == "active"
    assert body["member_no"] == member
    assert body["channel"] == "hotline"
    assert body["total_fen"] == 4200
    assert body["starts_on"] == start.isoformat()
    last_day = calendar.monthrange(start.year, start.month)[1]
    assert body["ends_on"] == start.replace(day=last_day).isoformat()
    assert body["delivery"] == {"type": "address", "address": ADDRESS}
    assert body["points"] == 42
    assert body["balance"]["available"] == 42
    assert points(client, hotline, member) == 42
    accrual = ledger(client, hotline, member)[0]
    assert (accrual["type"], accrual["points"]) == ("accrual", 42)
    # Sold by phone for home delivery: the company itself issues the points.
    assert stored(db, body["subscription_no"]).institution_code == "SH"


def test_quarterly_and_annual_prices(client, member, hotline):
    quarterly = subscribe(client, hotline, external_id="Q", term="quarterly", title_code="WHB")
    assert quarterly["total_fen"] == 3 * 4200
    annual = subscribe(client, hotline, external_id="A", term="annual", title_code="WHB")
    assert annual["total_fen"] == 47880  # 12 x 42.00 yuan, 5% off
    assert annual["points"] == 478
    start = next_month_start()
    assert annual["ends_on"] == (date(start.year + 1, start.month, 1) - timedelta(1)).isoformat()


def test_a_counter_sale_earns_for_its_outlet(client, db, member, counter):
    body = subscribe(client, counter)
    assert stored(db, body["subscription_no"]).institution_code == "SH-HP-0001"


def test_delivery_to_an_outlet_earns_for_that_outlet(client, db, member, channel_key, auth):
    web = auth(channel_key("web"))
    body = subscribe(client, web, delivery={"type": "outlet", "outlet_code": "SH-HP-0002"})
    assert body["delivery"] == {"type": "outlet", "outlet_code": "SH-HP-0002"}
    assert stored(db, body["subscription_no"]).institution_code == "SH-HP-0002"


def test_a_replay_answers_the_first_body_and_another_payload_conflicts(client, db, member, hotline):
    first = client.post("/api/v1/subscriptions", json=subscription(), headers=hotline)
    assert first.status_code == 201
    before = row_counts(db)
    again = client.post("/api/v1/subscriptions", json=subscription(), headers=hotline)
    assert again.status_code == 200
    assert again.json == first.json
    changed = client.post(
        "/api/v1/subscriptions", json=subscription(term="annual"), headers=hotline
    )
    problem(changed, 409)
    assert row_counts(db) == before
    assert points(client, hotline, member) == 42


def test_a_member_subscribes_themself_in_the_app(client, member, member_headers):
    mine = member_headers(member)
    body = subscribe(client, mine, member={"member_no": member})
    assert body["channel"] == "app"
    assert body["points"] == 42


def test_a_member_may_not_subscribe_someone_else(client, db, member, other_member, member_headers):
    before = row_counts(db)
    response = client.post(
        "/api/v1/subscriptions",
        json=subscription(member={"member_no": member}),
        headers=member_headers(other_member),
    )
    problem(response, 403)
    assert row_counts(db) == before


def test_staff_do_not_sell_subscriptions(client, db, member, staff_token, auth):
    before = row_counts(db)
    response = client.post(
        "/api/v1/subscriptions", json=subscription(), headers=auth(staff_token("admin"))
    )
    problem(response, 403)
    assert row_counts(db) == before


def test_subscribing_needs_a_token(client, member):
    problem(client.post("/api/v1/subscriptions", json=subscription()), 401)


def test_bad_subscriptions_name_the_field_and_write_nothing(client, db, member, hotline):
    start = next_month_start()
    past_start = date(today().year, today().month, 1) - timedelta(days=1)
    cases = [
        (subscription(title_code="NOPE"), "title_code"),
        (subscription(term="weekly"), "term"),
        (subscription(term=12), "term"),
        (subscription(start_date=past_start.replace(day=1).isoformat()), "start_date"),
        (subscription(start_date=start.replace(day=2).isoformat()), "start_date"),
        (subscription(start_date="2027-13-01"), "start_date"),
        (subscription(delivery={"type": "address"}), "delivery.address"),
        (subscription(delivery={"type": "address", "address": "  "}), "delivery.address"),
        (subscription(delivery={"type": "outlet"}), "delivery.outlet_code"),
        (
            subscription(delivery={"type": "outlet", "outlet_code": "SH-HP-9999"}),
            "delivery.outlet_code",
        ),
        # A district bureau is an institution, but no post office to collect papers from.
        (
            subscription(delivery={"type": "outlet", "outlet_code": "SH-HP"}),
            "delivery.outlet_code",
        ),
        (
            subscription(
                delivery={"type": "outlet", "outlet_code": "SH-HP-0002", "address": ADDRESS}
            ),
            "delivery.address",
        ),
        (subscription(delivery={"type": "drone", "address": ADDRESS}), "delivery.type"),
        (subscription(member={"phone": "13700000000"}), "member.phone"),
        (subscription(member={"member_no": "M404"}), "member.member_no"),
        (subscription(member={}), "member"),
        (subscription(external_id=""), "external_id"),
        (subscription(payment_method=""), "payment_method"),
        (subscription(price_fen=1), "price_fen"),
        ({k: v for k, v in subscription().items() if k != "delivery"}, "delivery"),
    ]
    before = row_counts(db)
    each_is_problem(
        cases,
        lambda body: client.post("/api/v1/subscriptions", json=body, headers=hotline),
    )
    assert row_counts(db) == before


def test_an_unknown_title_has_its_own_problem_type(client, member, hotline):
    response = client.post(
        "/api/v1/subscriptions", json=subscription(title_code="NOPE"), headers=hotline
    )
    assert problem(response, 422, "title_code")["type"].endswith("unknown-press-title")


def test_malformed_json_is_400(client, member, hotline):
    response = client.post(
        "/api/v1/subscriptions",
        data="{not json",
        headers={**hotline, "Content-Type": "application/json"},
    )
    problem(response, 400)


# -- read ------------------------------------------------------------------------------------


def test_the_member_the_selling_channel_and_staff_read_a_subscription(
    client, member, other_member, hotline, member_headers, channel_key, auth, staff_token
):
    created = subscribe(client, hotline)
    path = f"/api/v1/subscriptions/{created['subscription_no']}"
    problem(client.get(path, headers=auth(channel_key("counter", "SH-HP-0001"))), 403)
    for headers in (hotline, member_headers(member), auth(staff_token("marketer"))):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.json
        assert body["subscription_no"] == created["subscription_no"]
        assert body["status"] == "active"
        assert body["title_name"] == "解放日报"
        assert body["total_fen"] == 4200
        assert "balance" not in body
    problem(client.get(path, headers=member_headers(other_member)), 403)
    problem(client.get(path), 401)
    problem(client.get("/api/v1/subscriptions/SB0000", headers=hotline), 404)


# -- cancel ----------------------------------------------------------------------------------


def cancel(client, headers, subscription_no, **body):
    return client.post(
        f"/api/v1/subscriptions/{subscription_no}/cancel", json=body, headers=headers
    )


def test_cancel_before_the_start_refunds_everything_and_every_point(client, member, hotline):
    created = subscribe(client, hotline)
    response = client.post(
        f"/api/v1/subscriptions/{created['subscription_no']}/cancel", headers=hotline
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["status"] == "cancelled"
    assert body["refund_fen"] == 4200
    assert body["kept_fen"] == 0
    assert body["points_reversed"] == 42
    assert body["delivered_days"] == 0
    assert body["cancelled_on"] == today().isoformat()
    assert body["balance"]["available"] == 0
    assert points(client, hotline, member) == 0


def test_cancel_mid_term_refunds_the_undelivered_days_and_reverses_their_points(
    client, db, member, hotline, member_headers
):
    created = subscribe(client, hotline, term="annual")  # 47880 fen, 478 points
    start = date.fromisoformat(created["starts_on"])
    end = date.fromisoformat(created["ends_on"])
    days = (end - start).days + 1
    as_of = start + timedelta(days=99)  # 100 days delivered
    undelivered = days - 100
    response = cancel(client, hotline, created["subscription_no"], as_of=as_of.isoformat())
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    refund = 47880 * undelivered // days
    assert (body["delivered_days"], body["undelivered_days"]) == (100, undelivered)
    assert body["refund_fen"] == refund
    assert body["kept_fen"] == 47880 - refund
    assert body["points_reversed"] == 478 * refund // 47880
    assert body["cancelled_on"] == as_of.isoformat()

    entries = ledger(client, hotline, member)
    reversal = entries[0]
    assert reversal["type"] == "reversal"
    assert reversal["points"] == -body["points_reversed"]
    assert sum(entry["points"] for entry in entries) == 478 - body["points_reversed"]
    assert points(client, hotline, member) == 478 - body["points_reversed"]

    row = stored(db, created["subscription_no"])
    assert (row.status, row.refund_fen) == ("cancelled", refund)
    assert row.points_reversed == body["points_reversed"]
    assert row.updated_at >= row.created_at
    shown = client.get(
        f"/api/v1/subscriptions/{created['subscription_no']}", headers=member_headers(member)
    ).json
    assert (shown["status"], shown["refund_fen"]) == ("cancelled", refund)


def test_cancelling_twice_conflicts_and_a_replay_answers_the_first_body(
    client, db, member, hotline
):
    created = subscribe(client, hotline)
    number = created["subscription_no"]
    first = cancel(client, hotline, number, external_id="HL-CANCEL-1")
    assert first.status_code == 200
    before = row_counts(db)
    replay = cancel(client, hotline, number, external_id="HL-CANCEL-1")
    assert (replay.status_code, replay.json) == (200, first.json)
    problem(cancel(client, hotline, number), 409)
    problem(cancel(client, hotline, number, external_id="HL-CANCEL-2"), 409)
    other_day = next_month_start().isoformat()
    problem(cancel(client, hotline, number, external_id="HL-CANCEL-1", as_of=other_day), 409)
    assert row_counts(db) == before


def test_cancel_on_or_after_the_last_day_conflicts(client, db, member, hotline):
    created = subscribe(client, hotline)
    before = row_counts(db)
    for as_of in (created["ends_on"], "2099-01-01"):
        body = problem(cancel(client, hotline, created["subscription_no"], as_of=as_of), 409)
        assert body["type"].endswith("subscription-delivered")
    assert row_counts(db) == before


def test_cancel_as_of_a_past_day_is_refused(client, db, member, hotline):
    created = subscribe(client, hotline)
    before = row_counts(db)
    yesterday = (today() - timedelta(days=1)).isoformat()
    problem(cancel(client, hotline, created["subscription_no"], as_of=yesterday), 422, "as_of")
    problem(cancel(client, hotline, created["subscription_no"], as_of="soon"), 422, "as_of")
    problem(cancel(client, hotline, created["subscription_no"], reason="x"), 422, "reason")
    assert row_counts(db) == before


def test_who_may_cancel(
    client, db, member, other_member, hotline, member_headers, channel_key, auth, staff_token
):
    first = subscribe(client, hotline, external_id="S1")["subscription_no"]
    web = auth(channel_key("web"))
    before = row_counts(db)
    problem(cancel(client, web, first), 403)
    problem(cancel(client, member_headers(other_member), first), 403)
    problem(cancel(client, auth(staff_token("marketer")), first), 403)
    problem(cancel(client, {}, first), 401)
    problem(cancel(client, hotline, "SB0000"), 404)
    assert row_counts(db) == before
    assert cancel(client, member_headers(member), first).status_code == 200
    second = subscribe(client, hotline, external_id="S2")["subscription_no"]
    assert cancel(client, auth(staff_token("finance")), second).status_code == 200


def test_the_member_activity_shows_the_sale_and_the_refund(client, db, member, hotline):
    created = subscribe(client, hotline)
    cancelled = cancel(client, hotline, created["subscription_no"]).json
    member_id = stored(db, created["subscription_no"]).member_id
    with read_session(db.session_factory) as session:
        entries = subscriptions.member_activity(session, member_id)
    assert [entry.kind for entry in entries] == ["subscription", "subscription"]
    refund, sale = entries
    assert (sale.amount_fen, sale.points, sale.channel) == (-4200, 42, "hotline")
    assert "解放日报" in sale.title
    assert (refund.amount_fen, refund.points) == (cancelled["refund_fen"], -42)
    assert refund.status == "cancelled"
    assert refund.occurred_at >= sale.occurred_at
