"""Member endpoints over HTTP: register, profile, lookup, consent, identifiers, merge, points."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from storefront_api.auth import MemberPrincipal
from storefront_api.http.context import EXTENSION_KEY
from tests.api.support import each_is_problem, problem, row_counts, self_register, sent_code

SHANGHAI = ZoneInfo("Asia/Shanghai")
CARD = "6221880000001234"


def register(client, phone, headers=None, **extra):
    body = {"phone": phone, "name": "王芳", **extra}
    if headers is None:
        response = self_register(client, body)
    else:
        response = client.post("/api/v1/members", json=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


def occurred(hours_ago=1):
    return datetime.now(SHANGHAI) - timedelta(hours=hours_ago)


def accrue(client, headers, member, external_id, amount_fen, when=None):
    when = when or occurred()
    response = client.post(
        "/api/v1/accruals",
        json={
            "external_id": external_id,
            "member": member,
            "institution_code": "SH-HP-0001",
            "occurred_at": when.isoformat(),
            "business_type": "goods",
            "lines": [{"sku": "SKU-1", "category": "home", "amount_fen": amount_fen}],
            "total_fen": amount_fen,
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json


# -- registration ---------------------------------------------------------------------


def test_self_registration_returns_the_member_with_tier(client, auth, staff_token):
    body = register(
        client,
        "+86 139-0000-0001",
        card_no=CARD,
        birthday="1990-05-17",
        marketing_consent=True,
        password="long-enough-pw",
    )
    assert len(body["member_no"]) == 12 and body["member_no"].isdigit()
    assert body["phone"] == "13900000001"
    assert body["tier"] == "regular"
    assert body["status"] == "active"
    assert body["birthday"] == "1990-05-17"
    assert body["marketing_consent"] is True
    assert body["registered_channel"] == "self"
    assert "password" not in body and "password_hash" not in body
    token = staff_token("admin")
    profile = client.get(f"/api/v1/members/{body['member_no']}", headers=auth(token))
    assert profile.status_code == 200
    assert {"type": "card_no", "value": CARD} in profile.json["identifiers"]
    assert profile.json["phone"] == "13900000001"


def test_channel_registration_sees_a_masked_phone(client, channel_key, auth, staff_token):
    key = channel_key("counter", "SH-HP-0001")
    body = register(client, "13900000001", headers=auth(key))
    assert body["phone"] == "139****0001"
    assert body["registered_channel"] == "counter"
    fetched = client.get(f"/api/v1/members/{body['member_no']}", headers=auth(key))
    assert fetched.json["phone"] == "139****0001"
    staff = client.get(f"/api/v1/members/{body['member_no']}", headers=auth(staff_token("admin")))
    assert staff.json["phone"] == "13900000001"


def test_bad_registrations_are_422_and_write_nothing(client, db):
    cases = [
        ({"phone": "12345", "name": "王芳"}, "phone"),
        ({"phone": "23900000001", "name": "王芳"}, "phone"),
        ({"phone": 13900000001, "name": "王芳"}, "phone"),
        ({"name": "王芳"}, "phone"),
        ({"phone": "13900000001"}, "name"),
        ({"phone": "13900000001", "name": "   "}, "name"),
        ({"phone": "13900000001", "name": "名" * 65}, "name"),
        ({"phone": "1" * 65, "name": "王芳"}, "phone"),
        ({"phone": "13900000001", "name": "王芳", "password": "short"}, "password"),
        ({"phone": "13900000001", "name": "王芳", "card_no": "12ab"}, "card_no"),
        ({"phone": "13900000001", "name": "王芳", "birthday": "1990-13-01"}, "birthday"),
        ({"phone": "13900000001", "name": "王芳", "marketing_consent": "yes"}, "marketing_consent"),
        ({"phone": "13900000001", "name": "王芳", "tier": "gold"}, "tier"),
    ]
    before = row_counts(db)
    each_is_problem(cases, lambda body: client.post("/api/v1/members", json=body))
    assert row_counts(db) == before


def test_duplicate_phone_is_409_in_any_spelling(client, db):
    register(client, "13900000001", card_no=CARD)
    before = row_counts(db)
    for phone in ("13900000001", "+8613900000001", "139 0000 0001"):
        problem(self_register(client, {"phone": phone, "name": "李雷"}), 409, "phone")
    assert row_counts(db) == before


def test_card_already_registered_is_409(client, db):
    register(client, "13900000001", card_no=CARD)
    code = sent_code(client, "13900000002")
    before = row_counts(db)
    response = client.post(
        "/api/v1/members",
        json={"phone": "13900000002", "name": "李雷", "card_no": CARD, "verification_code": code},
    )
    problem(response, 409, "card_no")
    assert row_counts(db) == before


# -- profile and lookup ---------------------------------------------------------------


def test_unknown_member_is_404(client, channel_key, auth):
    key = channel_key("web")
    for path in ("", "/points", "/ledger"):
        problem(client.get(f"/api/v1/members/800000000000{path}", headers=auth(key)), 404)


def test_lookup_by_phone_and_card(client, channel_key, auth, staff_token):
    member_no = register(client, "13900000001", card_no=CARD)["member_no"]
    key = channel_key("web")
    by_phone = client.get("/api/v1/members/lookup?phone=%2B8613900000001", headers=auth(key))
    assert by_phone.status_code == 200
    assert by_phone.json["member_no"] == member_no
    assert by_phone.json["phone"] == "139****0001"
    by_card = client.get(
        f"/api/v1/members/lookup?card_no={CARD}", headers=auth(staff_token("admin"))
    )
    assert by_card.status_code == 200
    assert by_card.json["member_no"] == member_no
    assert by_card.json["phone"] == "13900000001"


def test_lookup_without_a_match_is_404(client, channel_key, auth):
    register(client, "13900000001", card_no=CARD)
    key = channel_key("web")
    problem(client.get("/api/v1/members/lookup?phone=13900000002", headers=auth(key)), 404)
    problem(client.get("/api/v1/members/lookup?card_no=6221880000009999", headers=auth(key)), 404)


def test_lookup_needs_exactly_one_known_key(client, channel_key, auth):
    key = channel_key("web")
    for query in ("", "?phone=13900000001&card_no=6221880000001234", "?email=a@b.cn", "?phone="):
        problem(client.get(f"/api/v1/members/lookup{query}", headers=auth(key)), 422)


def test_lookup_with_malformed_phone_names_the_field(client, channel_key, auth):
    key = channel_key("web")
    problem(client.get("/api/v1/members/lookup?phone=12", headers=auth(key)), 422, "phone")


# -- PATCH ------------------------------------------------------------------------------


def test_member_changes_consent_and_name(client, app, auth):
    member_no = register(client, "13900000001")["member_no"]
    token = app.extensions[EXTENSION_KEY].tokens.issue(MemberPrincipal(member_no))
    response = client.patch(
        f"/api/v1/members/{member_no}",
        json={"marketing_consent": True, "sms_consent": True, "name": " 王小芳 "},
        headers=auth(token),
    )
    assert response.status_code == 200
    assert response.json["marketing_consent"] is True
    assert response.json["sms_consent"] is True
    assert response.json["data_sharing_consent"] is False
    assert response.json["name"] == "王小芳"
    again = client.get(f"/api/v1/members/{member_no}", headers=auth(token)).json
    assert (again["marketing_consent"], again["sms_consent"], again["name"]) == (
        True,
        True,
        "王小芳",
    )
    withdraw = client.patch(
        f"/api/v1/members/{member_no}", json={"marketing_consent": False}, headers=auth(token)
    )
    assert withdraw.json["marketing_consent"] is False
    assert withdraw.json["sms_consent"] is True


def test_bad_patches_are_422_and_change_nothing(client, db, app, auth):
    cases = [
        ({"marketing_consent": "true"}, "marketing_consent"),
        ({"sms_consent": 1}, "sms_consent"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"data_sharing_consent": None}, "data_sharing_consent"),
        ({"phone": "13900000002"}, "phone"),
        ({"tier": "diamond"}, "tier"),
        ({"birthday": "17/05/1990"}, "birthday"),
    ]
    member_no = register(client, "13900000001")["member_no"]
    key = app.extensions[EXTENSION_KEY].tokens.issue(MemberPrincipal(member_no))
    before = client.get(f"/api/v1/members/{member_no}", headers=auth(key)).json
    counts = row_counts(db)
    each_is_problem(
        cases,
        lambda body: client.patch(f"/api/v1/members/{member_no}", json=body, headers=auth(key)),
    )
    assert client.get(f"/api/v1/members/{member_no}", headers=auth(key)).json == before
    assert row_counts(db) == counts


def test_patch_of_unknown_member_is_404(client, app, auth):
    token = app.extensions[EXTENSION_KEY].tokens.issue(MemberPrincipal("800000000001"))
    response = client.patch(
        "/api/v1/members/800000000000", json={"marketing_consent": True}, headers=auth(token)
    )
    problem(response, 404)


def test_nobody_but_the_member_changes_their_profile(client, app, auth, channel_key, staff_token):
    member_no = register(client, "13900000001")["member_no"]
    other = register(client, "13900000002")["member_no"]
    tokens = app.extensions[EXTENSION_KEY].tokens
    strangers = [
        auth(channel_key("web")),
        auth(channel_key("counter", "SH-HP-0001")),
        auth(tokens.issue(MemberPrincipal(other))),
        *(auth(staff_token(role)) for role in ("marketer", "finance", "admin")),
    ]
    for headers in strangers:
        response = client.patch(
            f"/api/v1/members/{member_no}", json={"marketing_consent": True}, headers=headers
        )
        problem(response, 403)
    own = auth(tokens.issue(MemberPrincipal(member_no)))
    assert (
        client.get(f"/api/v1/members/{member_no}", headers=own).json["marketing_consent"] is False
    )


# -- identifiers -------------------------------------------------------------------------


def test_member_links_a_card_and_can_be_found_by_it(client, channel_key, auth):
    key = channel_key("app")
    member_no = register(client, "13900000001")["member_no"]
    response = client.post(
        f"/api/v1/members/{member_no}/identifiers",
        json={"type": "card_no", "value": f" {CARD} "},
        headers=auth(key),
    )
    assert response.status_code == 201
    assert response.json == {"member_no": member_no, "type": "card_no", "value": CARD}
    found = client.get(f"/api/v1/members/lookup?card_no={CARD}", headers=auth(key))
    assert found.json["member_no"] == member_no
    again = client.post(
        f"/api/v1/members/{member_no}/identifiers",
        json={"type": "card_no", "value": CARD},
        headers=auth(key),
    )
    assert again.status_code == 201


def test_identifier_taken_by_another_member_is_409(client, db, channel_key, auth):
    key = channel_key("app")
    register(client, "13900000001", card_no=CARD)
    other = register(client, "13900000002")["member_no"]
    before = row_counts(db)
    response = client.post(
        f"/api/v1/members/{other}/identifiers",
        json={"type": "card_no", "value": CARD},
        headers=auth(key),
    )
    problem(response, 409, "value")
    assert row_counts(db) == before


def test_bad_identifiers_are_422(client, db, channel_key, auth):
    cases = [
        ({"type": "card_no", "value": "12"}, "value"),
        ({"type": "phone", "value": "13900000003"}, "type"),
        ({"type": "email", "value": "a@b.cn"}, "type"),
        ({"type": "wechat_openid", "value": "x" * 81}, "value"),
        ({"type": "wechat_openid"}, "value"),
        ({"type": "alipay_uid", "value": 2088000000000000}, "value"),
    ]
    key = channel_key("app")
    member_no = register(client, "13900000001")["member_no"]
    before = row_counts(db)
    url = f"/api/v1/members/{member_no}/identifiers"
    each_is_problem(cases, lambda body: client.post(url, json=body, headers=auth(key)))
    assert row_counts(db) == before


def test_linking_to_unknown_member_is_404(client, channel_key, auth):
    response = client.post(
        "/api/v1/members/800000000000/identifiers",
        json={"type": "card_no", "value": CARD},
        headers=auth(channel_key("app")),
    )
    problem(response, 404)


# -- merge ---------------------------------------------------------------------------------


def test_admin_merge_moves_identifiers_and_points(client, channel_key, staff_token, auth):
    key = channel_key("counter", "SH-HP-0001")
    admin = auth(staff_token("admin"))
    survivor = register(client, "13900000001")["member_no"]
    absorbed = register(client, "13900000002", card_no=CARD)["member_no"]
    when = occurred()
    accrue(client, auth(key), {"member_no": survivor}, "POS-S-1", 10000, when)
    accrue(client, auth(key), {"card_no": CARD}, "POS-A-1", 30000, when)

    response = client.post(
        "/api/v1/members/merge", json={"survivor": survivor, "absorbed": absorbed}, headers=admin
    )
    assert response.status_code == 200, response.json
    assert response.json["survivor"]["member_no"] == survivor
    assert response.json["absorbed"] == {"member_no": absorbed, "status": "merged"}
    assert response.json["points_moved"] == 300

    gone = client.get(f"/api/v1/members/{absorbed}", headers=admin).json
    assert gone["status"] == "merged"
    assert gone["merged_into"] == survivor
    kept = client.get(f"/api/v1/members/{survivor}", headers=admin).json
    assert kept["status"] == "active"
    assert {"type": "card_no", "value": CARD} in kept["identifiers"]
    assert {"type": "phone", "value": "13900000002"} in kept["identifiers"]
    assert (
        client.get(f"/api/v1/members/lookup?card_no={CARD}", headers=admin).json["member_no"]
        == survivor
    )

    points = client.get(f"/api/v1/members/{survivor}/points", headers=admin).json
    assert points["available"] == 400
    expires = date(when.date().year + 1, 12, 31).isoformat()
    assert points["expiring"][0]["expires_on"] == expires
    assert sum(item["points"] for item in points["expiring"]) == 400
    merge_entries = [
        e
        for e in client.get(f"/api/v1/members/{survivor}/ledger", headers=admin).json["items"]
        if e["type"] == "merge"
    ]
    assert merge_entries

    # Writes that name the absorbed member land on the survivor.
    late = accrue(client, auth(key), {"member_no": absorbed}, "POS-A-2", 5000)
    assert late["member_no"] == survivor
    assert late["balance"]["available"] == 450
    via_absorbed = client.get(f"/api/v1/members/{absorbed}/points", headers=admin).json
    assert via_absorbed["member_no"] == survivor
    assert via_absorbed["available"] == 450
    by_card = accrue(client, auth(key), {"card_no": CARD}, "POS-A-3", 1000)
    assert by_card["member_no"] == survivor


def test_merge_errors(client, db, staff_token, auth):
    admin = auth(staff_token("admin"))
    first = register(client, "13900000001")["member_no"]
    second = register(client, "13900000002")["member_no"]
    before = row_counts(db)
    problem(
        client.post(
            "/api/v1/members/merge", json={"survivor": first, "absorbed": first}, headers=admin
        ),
        422,
        "absorbed",
    )
    problem(
        client.post(
            "/api/v1/members/merge",
            json={"survivor": first, "absorbed": "800000000000"},
            headers=admin,
        ),
        404,
        "absorbed",
    )
    problem(
        client.post("/api/v1/members/merge", json={"survivor": first}, headers=admin),
        422,
        "absorbed",
    )
    assert row_counts(db) == before
    ok = client.post(
        "/api/v1/members/merge", json={"survivor": first, "absorbed": second}, headers=admin
    )
    assert ok.status_code == 200
    after = row_counts(db)
    problem(
        client.post(
            "/api/v1/members/merge", json={"survivor": first, "absorbed": second}, headers=admin
        ),
        409,
        "absorbed",
    )
    problem(
        client.post(
            "/api/v1/members/merge", json={"survivor": second, "absorbed": first}, headers=admin
        ),
        409,
        "survivor",
    )
    assert row_counts(db) == after


# -- points and ledger -----------------------------------------------------------------


def test_points_shows_available_pending_expiring_and_tier(client, channel_key, auth):
    counter = auth(channel_key("counter", "SH-HP-0001"))
    web = auth(channel_key("web"))
    member_no = register(client, "13900000001")["member_no"]
    when = occurred()
    accrue(client, counter, {"member_no": member_no}, "POS-1", 25800, when)
    accrue(client, web, {"member_no": member_no}, "WEB-1", 10000, when)
    response = client.get(f"/api/v1/members/{member_no}/points", headers=counter)
    assert response.status_code == 200
    body = response.json
    assert body["member_no"] == member_no
    assert body["available"] == 258
    assert body["pending"] == 100
    assert body["negative_debt"] == 0
    assert body["tier"] == "regular"
    assert [(e["points"], e["expires_on"]) for e in body["expiring"]] == [
        (258, date(when.date().year + 1, 12, 31).isoformat())
    ]


def test_ledger_pages_newest_first(client, channel_key, auth):
    key = auth(channel_key("counter", "SH-HP-0001"))
    member_no = register(client, "13900000001")["member_no"]
    for index in range(5):
        accrue(client, key, {"member_no": member_no}, f"POS-{index}", 100 * (index + 1))
    seen = []
    cursor = None
    pages = 0
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(f"/api/v1/members/{member_no}/ledger{query}", headers=key)
        assert page.status_code == 200
        assert len(page.json["items"]) <= 2
        seen.extend(page.json["items"])
        pages += 1
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert [e["points"] for e in seen] == [5, 4, 3, 2, 1]
    assert [e["balance_after"] for e in seen] == [15, 10, 6, 3, 1]
    assert {e["type"] for e in seen} == {"accrual"}
    assert all(e["reference"].startswith("accrual:") for e in seen)
    assert all(datetime.fromisoformat(e["occurred_at"]).tzinfo is not None for e in seen)
    assert all(e["breakdown"][0]["rule"] == "BASE-GOODS" for e in seen)
    whole = client.get(f"/api/v1/members/{member_no}/ledger", headers=key).json
    assert whole["next_cursor"] is None
    assert whole["items"] == seen


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def test_bad_ledger_paging_is_422(client, channel_key, auth):
    cases = [
        ("?cursor=" + _cursor("abc"), "cursor"),
        ("?cursor=" + _cursor("-1"), "cursor"),
        ("?cursor=" + _cursor("9" * 25), "cursor"),
        ("?cursor=" + _cursor("²"), "cursor"),
        ("?cursor=%25%25%25", "cursor"),
        ("?cursor=" + "A" * 201, "cursor"),
        ("?limit=0", "limit"),
        ("?limit=501", "limit"),
        ("?limit=ten", "limit"),
        ("?page=2", "page"),
    ]
    key = auth(channel_key("web"))
    member_no = register(client, "13900000001")["member_no"]
    url = f"/api/v1/members/{member_no}/ledger"
    each_is_problem(cases, lambda query: client.get(url + query, headers=key))


def test_lookup_by_a_linked_partner_id(client, channel_key, auth):
    key = auth(channel_key("partner"))
    created = self_register(client, {"phone": "13900000077", "name": "孙八"})
    member_no = created.json["member_no"]
    linked = client.post(
        f"/api/v1/members/{member_no}/identifiers",
        json={"type": "partner_airline", "value": "MU12345678"},
        headers=key,
    )
    assert linked.status_code == 201, linked.json
    found = client.get("/api/v1/members/lookup?partner_airline=MU12345678", headers=key)
    assert found.status_code == 200 and found.json["member_no"] == member_no
    missing = client.get("/api/v1/members/lookup?partner_bank=ABC123456", headers=key)
    assert missing.status_code == 404
