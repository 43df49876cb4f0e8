"""Mail over HTTP: counter acceptance with points, tracking events, public tracking."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storefront_api.auth import MemberPrincipal
from storefront_api.http.context import EXTENSION_KEY
from tests.api.support import each_is_problem, problem, row_counts, self_register
from tests.api.test_errors import GARBAGE

SHANGHAI = ZoneInfo("Asia/Shanghai")
NUMBER = "EE123456785CN"
OTHER_NUMBER = "RA473124829GB"
PHONE = "13800005678"


def hours_ago(hours: float) -> str:
    return (datetime.now(SHANGHAI) - timedelta(hours=hours)).replace(microsecond=0).isoformat()


def mailing(external_id="CTR-0001", tracking_no=NUMBER, member=None, **changes):
    body = {
        "external_id": external_id,
        "tracking_no": tracking_no,
        "service": "ems",
        "fee_fen": 2200,
        "accepted_at": hours_ago(5),
    }
    if member is not None:
        body["member"] = member
    body.update(changes)
    return body


def event(status="in_transit", hours=4, location="上海邮区中心局", **changes):
    return {"status": status, "location": location, "occurred_at": hours_ago(hours), **changes}


@pytest.fixture
def counter(channel_key, auth):
    return auth(channel_key("counter", "SH-HP-0001"))


@pytest.fixture
def web(channel_key, auth):
    return auth(channel_key("web"))


@pytest.fixture
def courier(channel_key, auth):
    """Scans on the way are posted by counters and by the distribution (courier) channel."""
    return auth(channel_key("distribution"))


@pytest.fixture
def new_member(app, client, auth):
    """`new_member(phone)` → (member_no, headers with that member's token)."""
    tokens = app.extensions[EXTENSION_KEY].tokens

    def make(phone=PHONE):
        created = self_register(client, {"phone": phone, "name": "李雷"})
        assert created.status_code == 201
        member_no = created.json["member_no"]
        return member_no, auth(tokens.issue(MemberPrincipal(member_no)))

    return make


@pytest.fixture
def accepted(client, counter):
    """An item accepted without a sender; returns its acceptance body."""
    response = client.post("/api/v1/mailings", json=mailing(), headers=counter)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def post_event(client, headers, body, number=NUMBER):
    return client.post(f"/api/v1/mailings/{number}/events", json=body, headers=headers)


def statuses(client):
    """(the item's status, its events' statuses in the order listed) as anyone sees them."""
    body = client.get(f"/api/v1/mailings/{NUMBER}").json
    return body["status"], [e["status"] for e in body["events"]]


# -- acceptance -----------------------------------------------------------------------------


def test_acceptance_earns_the_sender_mailing_points_in_the_ledger(client, counter, new_member):
    member_no, member_headers = new_member()
    response = client.post(
        "/api/v1/mailings", json=mailing(member={"phone": PHONE}), headers=counter
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    body = response.json
    assert body["tracking_no"] == NUMBER
    assert body["service"] == "ems"
    assert body["fee_fen"] == 2200
    assert body["status"] == "accepted"
    assert body["institution_code"] == "SH-HP-0001"
    assert body["member_no"] == member_no
    # BASE-MAILING: 10 points per item plus 1 point per yuan of the fee.
    assert body["points"] == 32
    accrual = body["accrual"]
    assert accrual["points"] == 32
    assert [(b["rule"], b["points"]) for b in accrual["breakdown"]] == [
        ("BASE-MAILING", 22),
        ("BASE-MAILING", 10),
    ]

    points = client.get(f"/api/v1/members/{member_no}/points", headers=member_headers).json
    assert points["available"] == 32
    ledger = client.get(f"/api/v1/members/{member_no}/ledger", headers=member_headers).json
    [entry] = ledger["items"]
    assert entry["type"] == "accrual"
    assert entry["points"] == 32
    assert entry["reference"] == f"accrual:{accrual['accrual_id']}"


def test_acceptance_without_a_sender_earns_nothing(client, db, counter):
    before = row_counts(db)
    response = client.post("/api/v1/mailings", json=mailing(), headers=counter)
    assert response.status_code == 201
    assert response.json["points"] == 0
    assert "member_no" not in response.json
    assert "accrual" not in response.json
    after = row_counts(db)
    assert after["storefront_mailing"] == before["storefront_mailing"] + 1
    assert after["storefront_mail_event"] == before["storefront_mail_event"] + 1
    assert after["points_engine_posting"] == before["points_engine_posting"]


def test_tracking_numbers_are_stored_upper_case(client, counter):
    response = client.post(
        "/api/v1/mailings", json=mailing(tracking_no="ee 123 456 785 cn"), headers=counter
    )
    assert response.status_code == 201
    assert response.json["tracking_no"] == NUMBER
    assert client.get(f"/api/v1/mailings/{NUMBER.lower()}").json["tracking_no"] == NUMBER


def test_replay_answers_200_with_the_first_body_and_writes_nothing(client, db, counter):
    body = mailing(member=None)
    first = client.post("/api/v1/mailings", json=body, headers=counter)
    assert first.status_code == 201
    before = row_counts(db)
    replay = client.post("/api/v1/mailings", json=body, headers=counter)
    assert replay.status_code == 200
    assert replay.json == first.json
    assert row_counts(db) == before


def test_replay_with_points_does_not_earn_twice(client, db, counter, new_member):
    member_no, member_headers = new_member()
    body = mailing(member={"member_no": member_no})
    first = client.post("/api/v1/mailings", json=body, headers=counter)
    before = row_counts(db)
    replay = client.post("/api/v1/mailings", json=body, headers=counter)
    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json == first.json
    assert row_counts(db) == before
    points = client.get(f"/api/v1/members/{member_no}/points", headers=member_headers).json
    assert points["available"] == first.json["points"]


def test_external_id_reused_with_another_payload_is_409(client, db, counter, accepted):
    before = row_counts(db)
    problem(client.post("/api/v1/mailings", json=mailing(fee_fen=900), headers=counter), 409)
    assert row_counts(db) == before


def test_same_tracking_number_under_another_external_id_is_409(client, db, counter, accepted):
    before = row_counts(db)
    response = client.post(
        "/api/v1/mailings", json=mailing(external_id="CTR-0002"), headers=counter
    )
    body = problem(response, 409)
    assert body["type"].endswith("tracking-number-taken")
    assert NUMBER in body["detail"]
    assert row_counts(db) == before


def test_bad_acceptance_input_is_422_naming_the_field_and_writes_nothing(
    client, db, counter, new_member
):
    new_member()
    cases = [
        (mailing(tracking_no="EE123456784CN"), "tracking_no"),  # check digit
        (mailing(tracking_no="LK123456785"), "tracking_no"),  # no country code
        (mailing(tracking_no="E1123456785CN"), "tracking_no"),
        (mailing(tracking_no="EE12345678XCN"), "tracking_no"),
        (mailing(tracking_no=""), "tracking_no"),
        (mailing(tracking_no=1234567890123), "tracking_no"),
        (mailing(service="telegram"), "service"),
        (mailing(fee_fen=0), "fee_fen"),
        (mailing(fee_fen=-100), "fee_fen"),
        (mailing(fee_fen="2200"), "fee_fen"),
        (mailing(accepted_at="2026-11-24T10:15:00"), "accepted_at"),
        (mailing(accepted_at="yesterday"), "accepted_at"),
        (mailing(accepted_at=hours_ago(-2)), "accepted_at"),  # in the future
        (mailing(member={"phone": "13999999999"}), "member.phone"),
        (mailing(member={}), "member"),
        (mailing(external_id=""), "external_id"),
        ({k: v for k, v in mailing().items() if k != "service"}, "service"),
        (mailing(weight_g=20), "weight_g"),
    ]
    before = row_counts(db)
    each_is_problem(cases, lambda body: client.post("/api/v1/mailings", json=body, headers=counter))
    assert row_counts(db) == before


def test_check_digit_refusal_says_what_the_digit_should_be(client, counter):
    response = client.post(
        "/api/v1/mailings", json=mailing(tracking_no="EE123456784CN"), headers=counter
    )
    body = problem(response, 422, "tracking_no")
    assert "check digit 4 is wrong" in body["errors"][0]["message"]
    assert body["type"].endswith("invalid-tracking-number")


def test_several_bad_fields_are_named_together(client, counter):
    response = client.post(
        "/api/v1/mailings",
        json=mailing(tracking_no="EE123456784CN", accepted_at=hours_ago(-3)),
        headers=counter,
    )
    problem(response, 422, "tracking_no", "accepted_at")


def test_only_a_counter_key_may_accept(client, db, channel_key, auth, web, staff_token, new_member):
    _, member_headers = new_member()
    callers = (
        web,
        auth(channel_key("retail", "SH-HP-0001")),
        auth(channel_key("hotline")),
        member_headers,
        auth(staff_token("admin")),
    )
    before = row_counts(db)
    for headers in callers:
        problem(client.post("/api/v1/mailings", json=mailing(), headers=headers), 403)
    problem(client.post("/api/v1/mailings", json=mailing()), 401)
    assert row_counts(db) == before


# -- events ---------------------------------------------------------------------------------


def test_an_item_moves_through_its_events(client, counter, web, accepted, courier):
    first = post_event(client, courier, event("in_transit", 4, "上海邮区中心局"))
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.json["tracking_no"] == NUMBER
    assert first.json["sequence"] == 2
    assert first.json["status"] == "in_transit"
    assert first.json["location"] == "上海邮区中心局"
    for status, hours, location in (
        ("in_transit", 3, "北京邮区中心局"),
        ("out_for_delivery", 2, "北京东城投递部"),
        ("delivered", 1, "北京东城投递部"),
    ):
        response = post_event(client, counter, event(status, hours, location))
        assert response.status_code == 201, response.get_data(as_text=True)
    tracked = client.get(f"/api/v1/mailings/{NUMBER}").json
    assert tracked["status"] == "delivered"
    assert [e["status"] for e in tracked["events"]] == [
        "accepted",
        "in_transit",
        "in_transit",
        "out_for_delivery",
        "delivered",
    ]
    times = [datetime.fromisoformat(e["occurred_at"]) for e in tracked["events"]]
    assert times == sorted(times)
    assert tracked["events"][0]["location"]  # the accepting outlet's name


def test_returned_may_follow_in_transit(client, web, accepted, courier):
    assert post_event(client, courier, event("in_transit", 4)).status_code == 201
    assert post_event(client, courier, event("returned", 3, "上海黄浦支局")).status_code == 201
    assert statuses(client)[0] == "returned"


def test_in_transit_then_delivered_without_out_for_delivery_is_taken(
    client, web, accepted, courier
):
    assert post_event(client, courier, event("in_transit", 4)).status_code == 201
    delivered = post_event(client, courier, event("delivered", 1, "北京东城投递部"))
    assert delivered.status_code == 201, delivered.get_data(as_text=True)
    assert delivered.json["status"] == "delivered"
    assert statuses(client) == ("delivered", ["accepted", "in_transit", "delivered"])


def test_a_late_scan_timed_before_the_delivery_is_stored_and_leaves_it_delivered(
    client, db, web, counter, accepted, courier
):
    assert post_event(client, courier, event("delivered", 1, "北京东城投递部")).status_code == 201
    before = row_counts(db)
    late = post_event(client, counter, event("in_transit", 3, "北京邮区中心局"))
    assert late.status_code == 201, late.get_data(as_text=True)
    assert late.json["status"] == "in_transit"
    assert late.json["sequence"] == 3  # numbered in the order recorded
    after = row_counts(db)
    assert after["storefront_mail_event"] == before["storefront_mail_event"] + 1
    tracked = client.get(f"/api/v1/mailings/{NUMBER}").json
    assert tracked["status"] == "delivered"
    # Listed in the order they happened, not the order they arrived.
    assert [(e["status"], e["sequence"]) for e in tracked["events"]] == [
        ("accepted", 1),
        ("in_transit", 3),
        ("delivered", 2),
    ]
    assert tracked["events"][1]["location"] == "北京邮区中心局"


def test_a_scan_timed_after_the_delivery_becomes_the_status(client, web, accepted, courier):
    for status, hours in (("in_transit", 4), ("delivered", 3), ("returned", 1)):
        assert post_event(client, courier, event(status, hours)).status_code == 201
    assert statuses(client)[0] == "returned"


def test_of_two_scans_at_one_instant_the_one_recorded_last_counts(client, web, accepted, courier):
    at = hours_ago(2)
    for status in ("delivered", "out_for_delivery"):
        assert post_event(client, courier, event(status, occurred_at=at)).status_code == 201
    assert statuses(client) == ("out_for_delivery", ["accepted", "delivered", "out_for_delivery"])


def test_the_sender_and_the_timeline_see_the_status_of_the_latest_event(
    client, counter, web, new_member, courier
):
    member_no, member_headers = new_member()
    client.post("/api/v1/mailings", json=mailing(member={"member_no": member_no}), headers=counter)
    for status, hours in (("delivered", 1), ("in_transit", 4)):
        assert post_event(client, courier, event(status, hours)).status_code == 201
    tracked = client.get(f"/api/v1/mailings/{NUMBER}", headers=member_headers).json
    assert (tracked["status"], tracked["points"]) == ("delivered", 32)
    activity = client.get(f"/api/v1/members/{member_no}/activity", headers=member_headers)
    assert activity.status_code == 200, activity.get_data(as_text=True)
    [entry] = [item for item in activity.json["items"] if item["kind"] == "mail"]
    assert (entry["reference"], entry["status"]) == (NUMBER, "delivered")
    points = client.get(f"/api/v1/members/{member_no}/points", headers=member_headers).json
    assert points["available"] == 32


def test_an_identical_event_is_stored_once(client, db, web, counter, accepted, courier):
    scan = event("in_transit", 4)
    first = post_event(client, courier, scan)
    before = row_counts(db)
    again = post_event(client, counter, scan)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert row_counts(db) == before
    assert len(client.get(f"/api/v1/mailings/{NUMBER}").json["events"]) == 2


def test_a_final_event_sent_twice_is_a_replay_not_a_conflict(client, web, accepted, courier):
    for status, hours in (("in_transit", 4), ("out_for_delivery", 3)):
        post_event(client, courier, event(status, hours))
    delivered = event("delivered", 2)
    assert post_event(client, courier, delivered).status_code == 201
    assert post_event(client, courier, delivered).status_code == 200


def test_event_external_id_replays_and_conflicts(client, db, web, accepted, courier):
    scan = event("in_transit", 4, external_id="SCAN-1")
    first = post_event(client, courier, scan)
    assert first.status_code == 201
    before = row_counts(db)
    replay = post_event(client, courier, scan)
    assert replay.status_code == 200
    assert replay.json == first.json
    problem(post_event(client, courier, event("in_transit", 3, external_id="SCAN-1")), 409)
    assert row_counts(db) == before


def test_a_time_in_the_future_is_422_naming_occurred_at_and_writes_nothing(
    client, db, web, accepted, courier
):
    before = row_counts(db)
    body = problem(post_event(client, courier, event("delivered", -1)), 422, "occurred_at")
    assert body["type"].endswith("invalid-event-time")
    assert "future" in body["errors"][0]["message"]
    assert row_counts(db) == before
    assert statuses(client) == ("accepted", ["accepted"])


def test_a_time_before_the_acceptance_is_422_naming_occurred_at_and_writes_nothing(
    client, db, web, accepted, courier
):
    before = row_counts(db)
    body = problem(post_event(client, courier, event("in_transit", 6)), 422, "occurred_at")
    assert "before the acceptance" in body["errors"][0]["message"]
    assert row_counts(db) == before


def test_events_on_an_unknown_or_invalid_number(client, db, web, accepted, courier):
    before = row_counts(db)
    body = problem(post_event(client, courier, event(), OTHER_NUMBER), 404)
    assert body["type"].endswith("unknown-mailing")
    problem(post_event(client, courier, event(), "EE123456784CN"), 422, "tracking_no")
    problem(post_event(client, courier, event(), "nope"), 422, "tracking_no")
    assert row_counts(db) == before


def test_bad_event_input_is_422_naming_the_field(client, db, web, accepted, courier):
    cases = [
        (event(status="lost"), "status"),
        (event(location=""), "location"),
        (event(location="x" * 201), "location"),
        (event(occurred_at="2026-11-24T10:15:00"), "occurred_at"),
        (event(hours=-1), "occurred_at"),  # an hour ahead
        ({"status": "in_transit", "location": "上海"}, "occurred_at"),
        (event(external_id=""), "external_id"),
        (event(weight_g=1), "weight_g"),
    ]
    before = row_counts(db)
    each_is_problem(cases, lambda body: post_event(client, courier, body))
    assert row_counts(db) == before


def test_only_channels_post_events(client, db, staff_token, auth, new_member, accepted):
    _, member_headers = new_member()
    admin = auth(staff_token("admin"))
    before = row_counts(db)
    problem(post_event(client, member_headers, event()), 403)
    problem(post_event(client, admin, event()), 403)
    problem(post_event(client, {}, event()), 401)
    assert row_counts(db) == before


# -- tracking -------------------------------------------------------------------------------


def test_anyone_with_the_number_tracks_it_without_personal_data(client, counter, web, new_member):
    member_no, _ = new_member()
    client.post("/api/v1/mailings", json=mailing(member={"member_no": member_no}), headers=counter)
    _, stranger = new_member("13800009999")
    for headers in ({}, web, stranger):
        response = client.get(f"/api/v1/mailings/{NUMBER}", headers=headers)
        assert response.status_code == 200
        body = response.json
        assert body["tracking_no"] == NUMBER
        assert body["service"] == "ems"
        assert body["status"] == "accepted"
        assert [e["status"] for e in body["events"]] == ["accepted"]
        assert member_no not in response.get_data(as_text=True)
        assert {"member_no", "fee_fen", "points"}.isdisjoint(body)


def test_the_sender_and_staff_see_who_sent_it(client, counter, staff_token, auth, new_member):
    member_no, member_headers = new_member()
    client.post("/api/v1/mailings", json=mailing(member={"member_no": member_no}), headers=counter)
    for headers in (member_headers, auth(staff_token("marketer"))):
        body = client.get(f"/api/v1/mailings/{NUMBER}", headers=headers).json
        assert body["member_no"] == member_no
        assert body["fee_fen"] == 2200
        assert body["points"] == 32


def test_the_survivor_of_a_merge_is_still_the_sender(
    client, counter, staff_token, auth, new_member
):
    absorbed, _ = new_member()
    survivor, survivor_headers = new_member("13800007777")
    client.post("/api/v1/mailings", json=mailing(member={"member_no": absorbed}), headers=counter)
    merged = client.post(
        "/api/v1/members/merge",
        json={"survivor": survivor, "absorbed": absorbed},
        headers=auth(staff_token("admin")),
    )
    assert merged.status_code == 200, merged.get_data(as_text=True)
    body = client.get(f"/api/v1/mailings/{NUMBER}", headers=survivor_headers).json
    assert body["member_no"] == absorbed


def test_tracking_an_invalid_or_unknown_number(client, accepted):
    problem(client.get("/api/v1/mailings/EE123456784CN"), 422, "tracking_no")
    problem(client.get("/api/v1/mailings/LK123456785"), 422, "tracking_no")
    problem(client.get(f"/api/v1/mailings/{OTHER_NUMBER}"), 404)
    problem(client.get(f"/api/v1/mailings/{NUMBER}", headers={"Authorization": "Bearer x"}), 401)


def test_the_mail_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "security" in paths["/api/v1/mailings"]["post"]
    assert "security" in paths["/api/v1/mailings/{tracking_no}/events"]["post"]
    assert "security" not in paths["/api/v1/mailings/{tracking_no}"]["get"]


@pytest.mark.parametrize("path", ["/api/v1/mailings", f"/api/v1/mailings/{NUMBER}/events"])
def test_garbage_bodies_are_4xx_problems_and_write_nothing(
    client, db, counter, web, new_member, accepted, path
):
    _, member_headers = new_member()
    before = row_counts(db)
    for headers in ({}, counter, web, member_headers):
        for raw in GARBAGE:
            response = client.post(path, data=raw, content_type="application/json", headers=headers)
            problem(response)
    assert row_counts(db) == before
