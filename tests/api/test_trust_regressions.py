"""One regression test per finding of the security review that the access policy fixed.

Each test replays what was tried and fails on the code before the fix. The dashboards'
findings are in tests/integration/test_dashboard_gate.py, the protocol edges on the
real server in tests/e2e/test_http_edges.py, mail scans in tests/api/test_mail.py.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from common.audit import AuditEvent
from common.sms import last_code_sent
from common.unit_of_work import transaction
from storefront_api.auth import MemberPrincipal, create_staff_user, set_staff_active
from storefront_api.http.context import EXTENSION_KEY
from tests.api.support import problem, row_counts, self_register, sent_code

SHANGHAI = ZoneInfo("Asia/Shanghai")
API = "/api/v1"
OUTLET_A, OUTLET_B = "SH-HP-0001", "SH-HP-0002"
_ids = itertools.count(1)


def uid(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


@pytest.fixture
def keys(channel_key, auth):
    return {
        name: auth(channel_key(*spec))
        for name, spec in {
            "web": ("web",),
            "app": ("app",),
            "partner": ("partner",),
            "hotline": ("hotline",),
            "distribution": ("distribution",),
            "counter_a": ("counter", OUTLET_A),
            "counter_b": ("counter", OUTLET_B),
        }.items()
    }


@pytest.fixture
def member(client):
    created = self_register(
        client, {"phone": "13800000001", "name": "王小邮", "password": "pw-12345678"}
    )
    assert created.status_code == 201, created.json
    return created.json["member_no"]


@pytest.fixture
def member_headers(app, auth, member):
    return auth(app.extensions[EXTENSION_KEY].tokens.issue(MemberPrincipal(member)))


def order(client, headers, member_no, fulfillment=None, method="online"):
    body = {
        "external_id": uid("ORD"),
        "member_no": member_no,
        "lines": [{"sku": "MA-PJL-MOONCAKE-01", "quantity": 1}],
        "fulfillment": fulfillment or {"type": "pickup", "outlet_code": OUTLET_A},
        "payment": {"method": method},
    }
    response = client.post(f"{API}/orders", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def pay(client, headers, placed):
    body = {
        "external_id": uid("PAY"),
        "amount_fen": placed["payable_fen"],
        "method": "online",
        "transaction_ref": "WX-1",
    }
    return client.post(f"{API}/orders/{placed['order_no']}/payments", json=body, headers=headers)


def accrue(
    client, headers, member_no, institution=OUTLET_A, external_id=None, amount=10_000, when=None
):
    body = {
        "external_id": external_id or uid("ACC"),
        "member": {"member_no": member_no},
        "institution_code": institution,
        "occurred_at": (when or datetime.now(SHANGHAI) - timedelta(minutes=5)).isoformat(),
        "business_type": "goods",
        "lines": [{"sku": "S", "category": "food", "amount_fen": amount}],
        "total_fen": amount,
    }
    return client.post(f"{API}/accruals", json=body, headers=headers)


# -- high: any channel key acted on any order ----------------------------------------------


def test_other_channels_neither_pay_cancel_ship_deliver_nor_reissue_an_order(
    client, db, keys, member
):
    app_order = order(client, keys["app"], member)
    web_order = order(client, keys["web"], member)
    cod = order(
        client, keys["web"], member, {"type": "delivery", "address": "上海市黄浦区1号"}, "cod"
    )
    before = row_counts(db)
    problem(pay(client, keys["partner"], app_order), 403)
    problem(
        client.post(f"{API}/orders/{web_order['order_no']}/cancel", headers=keys["counter_b"]), 403
    )
    for action in ("shipments", "delivery"):
        problem(
            client.post(f"{API}/orders/{cod['order_no']}/{action}", headers=keys["partner"]), 403
        )
    paid = pay(client, keys["web"], web_order)
    assert paid.status_code == 201
    before = row_counts(db)
    for stranger in ("hotline", "counter_b", "partner"):
        problem(
            client.post(
                f"{API}/orders/{web_order['order_no']}/pickup-code", headers=keys[stranger]
            ),
            403,
        )
    assert row_counts(db) == before


def test_the_courier_channel_ships_and_delivers_but_takes_no_pickup_order(client, keys, member):
    cod = order(
        client, keys["web"], member, {"type": "delivery", "address": "上海市黄浦区1号"}, "cod"
    )
    shipped = client.post(f"{API}/orders/{cod['order_no']}/shipments", headers=keys["distribution"])
    assert shipped.status_code == 200, shipped.json
    delivered = client.post(
        f"{API}/orders/{cod['order_no']}/delivery", headers=keys["distribution"]
    )
    assert delivered.status_code == 200, delivered.json
    pickup = order(client, keys["web"], member)
    problem(
        client.post(f"{API}/orders/{pickup['order_no']}/shipments", headers=keys["distribution"]),
        403,
    )


# -- high: a clerk handed over any order at their outlet without the member's code ---------


def test_a_reissued_code_goes_to_the_members_phone_never_to_the_channel(client, app, keys, member):
    placed = order(client, keys["counter_a"], member)
    assert pay(client, keys["counter_a"], placed).status_code == 201
    reissued = client.post(
        f"{API}/orders/{placed['order_no']}/pickup-code", headers=keys["counter_a"]
    )
    assert reissued.status_code == 200, reissued.json
    assert "pickup_code" not in reissued.json
    outbox = app.extensions[EXTENSION_KEY].settings.sms_outbox
    code = last_code_sent(outbox, "13800000001")
    assert code is not None and len(code) == 8
    # The clerk cannot guess it either: the member's code is what collects the order.
    verified = client.post(
        f"{API}/pickups/verify",
        json={"outlet_code": OUTLET_A, "pickup_code": code},
        headers=keys["counter_a"],
    )
    assert verified.status_code == 200


def test_the_member_who_reissues_sees_the_code(client, keys, member, member_headers):
    placed = order(client, keys["web"], member)
    assert pay(client, keys["web"], placed).status_code == 201
    reissued = client.post(f"{API}/orders/{placed['order_no']}/pickup-code", headers=member_headers)
    assert reissued.status_code == 200 and len(reissued.json["pickup_code"]) == 8


# -- high: any staff role returned and refunded orders -------------------------------------


def test_only_finance_takes_an_order_back_by_hand(client, db, keys, member, auth, staff_token):
    placed = order(client, keys["web"], member)
    assert pay(client, keys["web"], placed).status_code == 201
    code = pay
    code = client.post(f"{API}/orders/{placed['order_no']}/pickup-code", headers=keys["web"])
    assert code.status_code == 200
    before = row_counts(db)
    problem(
        client.post(
            f"{API}/orders/{placed['order_no']}/returns", headers=auth(staff_token("marketer"))
        ),
        403,
    )
    assert row_counts(db) == before


# -- medium: refunds crossed outlets; any channel cancelled any redemption -------------------


def test_another_outlet_refunds_neither_a_purchase_nor_a_card_charge(client, db, keys, member):
    assert accrue(client, keys["counter_a"], member, external_id="POS-A-1").status_code == 201
    card = client.post(
        f"{API}/prepaid-cards",
        json={"external_id": uid("C"), "amount_fen": 1_000},
        headers=keys["counter_a"],
    ).json
    charge = client.post(
        f"{API}/prepaid-cards/{card['card_no']}/charges",
        json={"external_id": uid("CH"), "amount_fen": 500, "pin": card["pin"]},
        headers=keys["counter_a"],
    ).json
    before = row_counts(db)
    refund = {"external_id": uid("RF"), "original_external_id": "POS-A-1", "amount_fen": 100}
    problem(client.post(f"{API}/refunds", json=refund, headers=keys["counter_b"]), 403)
    card_refund = client.post(
        f"{API}/prepaid-cards/{card['card_no']}/charges/{charge['charge_no']}/refunds",
        json={"external_id": uid("PRF"), "amount_fen": 100},
        headers=keys["counter_b"],
    )
    problem(card_refund, 403)
    assert row_counts(db) == before
    assert client.post(f"{API}/refunds", json=refund, headers=keys["counter_a"]).status_code == 201


def test_a_partner_key_cannot_cancel_a_members_redemption(
    client, db, keys, member, member_headers, auth, staff_token
):
    assert accrue(client, keys["counter_a"], member).status_code == 201
    client.post(
        f"{API}/rewards",
        json={
            "code": "RG-1",
            "name": "券",
            "kind": "voucher",
            "points_cost": 10,
            "value_fen": 1000,
            "valid_days": 30,
        },
        headers=auth(staff_token("admin")),
    )
    redeemed = client.post(
        f"{API}/redemptions",
        json={"external_id": uid("RD"), "member_no": member, "reward_code": "RG-1"},
        headers=member_headers,
    ).json
    before = row_counts(db)
    problem(
        client.post(
            f"{API}/redemptions/{redeemed['redemption_id']}/cancel", headers=keys["partner"]
        ),
        403,
    )
    assert row_counts(db) == before


# -- medium: masking was a dashboard decoration ----------------------------------------------


def test_personal_data_in_answers_is_masked_by_role(
    client, keys, member, member_headers, auth, staff_token
):
    client.patch(f"{API}/members/{member}", json={"birthday": "1990-05-17"}, headers=member_headers)
    seen = {
        who: client.get(f"{API}/members/{member}", headers=headers).json
        for who, headers in (
            ("member", member_headers),
            ("marketer", auth(staff_token("marketer"))),
            ("finance", auth(staff_token("finance"))),
            ("counter", keys["counter_a"]),
        )
    }
    assert (seen["member"]["phone"], seen["member"]["name"]) == ("13800000001", "王小邮")
    assert (seen["finance"]["phone"], seen["finance"]["birthday"]) == ("13800000001", "1990-05-17")
    for masked in ("marketer", "counter"):
        body = seen[masked]
        assert body["phone"] == "138****0001" and body["name"] == "王*" and body["birthday"] is None
        assert "13800000001" not in json.dumps(body)


def test_nobody_but_the_member_patches_consent(client, db, keys, member, auth, staff_token):
    before = row_counts(db)
    for headers in (
        keys["web"],
        keys["counter_a"],
        auth(staff_token("admin")),
        auth(staff_token("marketer")),
    ):
        problem(
            client.patch(
                f"{API}/members/{member}", json={"marketing_consent": True}, headers=headers
            ),
            403,
        )
    assert row_counts(db) == before


# -- medium: no login throttling; account existence leaked by timing -----------------------


def test_wrong_staff_passwords_are_throttled_even_before_the_right_one(client, db):
    with transaction(db.session_factory) as uow:
        password = create_staff_user(uow, "guessed", "admin")
    for _ in range(5):
        problem(
            client.post(f"{API}/auth/staff-token", json={"username": "guessed", "password": "x"}),
            401,
        )
    blocked = client.post(
        f"{API}/auth/staff-token", json={"username": "guessed", "password": password}
    )
    problem(blocked, 429)
    assert int(blocked.headers["Retry-After"]) > 0
    with db.engine.connect() as connection:
        outcomes = [
            row.outcome
            for row in connection.execute(
                select(AuditEvent.outcome)
                .where(AuditEvent.action == "login.staff")
                .order_by(AuditEvent.id)
            )
        ]
    assert outcomes == ["failed"] * 5 + ["throttled"]


def test_an_unknown_account_costs_the_same_argon2_work_as_a_known_one(client, db, monkeypatch):
    from storefront_api.auth import services

    verified: list[str] = []
    real = services._hasher

    class Counting:
        def verify(self, stored: str, password: str) -> bool:
            verified.append(stored)
            return real.verify(stored, password)

        def hash(self, password: str) -> str:
            return real.hash(password)

    monkeypatch.setattr(services, "_hasher", Counting())
    with transaction(db.session_factory) as uow:
        create_staff_user(uow, "known-one", "admin")
    for username in ("known-one", "nobody-at-all"):
        problem(
            client.post(
                f"{API}/auth/staff-token", json={"username": username, "password": "wrong"}
            ),
            401,
        )
    assert len(verified) == 2 and all(hash_.startswith("$argon2") for hash_ in verified)


# -- medium: identities claimed without proof ------------------------------------------------


def test_self_registration_needs_the_code_sent_to_the_phone(client, db):
    before = row_counts(db)
    problem(
        client.post(f"{API}/members", json={"phone": "13800000077", "name": "冒"}),
        422,
        "verification_code",
    )
    wrong = {"phone": "13800000077", "name": "冒", "verification_code": "000000"}
    problem(client.post(f"{API}/members", json=wrong), 422, "verification_code")
    assert row_counts(db) == before
    code = sent_code(client, "13800000077")
    proved = client.post(f"{API}/members", json={**wrong, "verification_code": code})
    assert proved.status_code == 201, proved.json


def test_a_member_binds_a_card_only_with_the_code_sent_to_their_phone(
    client, app, db, member, member_headers
):
    card = {"type": "card_no", "value": "6221880000005678"}
    before = row_counts(db)
    problem(
        client.post(f"{API}/members/{member}/identifiers", json=card, headers=member_headers),
        422,
        "verification_code",
    )
    assert row_counts(db) == before
    asked = client.post(
        f"{API}/members/{member}/verification-codes",
        json={"identifier": card},
        headers=member_headers,
    )
    assert asked.status_code == 202 and asked.json["sent_to"] == "138****0001"
    code = last_code_sent(app.extensions[EXTENSION_KEY].settings.sms_outbox, "13800000001")
    # The code proves this card only.
    other = {"type": "card_no", "value": "6221880000009999", "verification_code": code}
    problem(
        client.post(f"{API}/members/{member}/identifiers", json=other, headers=member_headers), 422
    )
    bound = client.post(
        f"{API}/members/{member}/identifiers",
        json={**card, "verification_code": code},
        headers=member_headers,
    )
    assert bound.status_code == 201, bound.json


# -- medium: 500s that logged personal data; any date accepted ---------------------------------


def test_null_fields_and_extreme_dates_are_422_not_500(client, db, keys, member, member_headers):
    before = row_counts(db)
    for field in ("name", "marketing_consent", "sms_consent"):
        problem(
            client.patch(f"{API}/members/{member}", json={field: None}, headers=member_headers),
            422,
            field,
        )
    for when in (
        "0001-01-01T00:00:00+08:00",
        "9999-12-31T23:59:59-08:00",
        "1970-01-01T08:00:00+08:00",
        "2030-01-01T00:00:00+08:00",
    ):
        body = {
            "external_id": uid("ACC"),
            "member": {"member_no": member},
            "institution_code": OUTLET_A,
            "occurred_at": when,
            "business_type": "goods",
            "lines": [{"sku": "S", "category": "food", "amount_fen": 100}],
            "total_fen": 100,
        }
        answer = problem(
            client.post(f"{API}/accruals", json=body, headers=keys["counter_a"]), 422, "occurred_at"
        )
        assert answer["type"].endswith("event-time-out-of-range")
    assert row_counts(db) == before


def test_an_event_a_few_seconds_ahead_of_our_clock_is_taken(client, keys, member):
    soon = datetime.now(UTC) + timedelta(seconds=30)
    assert accrue(client, keys["counter_a"], member, when=soon).status_code == 201


# -- low: sessions outlived accounts -----------------------------------------------------------


def test_a_disabled_or_logged_out_staff_token_is_refused_at_once(client, db, auth):
    with transaction(db.session_factory) as uow:
        password = create_staff_user(uow, "leaver", "finance")
    login = client.post(
        f"{API}/auth/staff-token", json={"username": "leaver", "password": password}
    )
    token = auth(login.json["access_token"])
    assert client.get(f"{API}/campaigns", headers=token).status_code == 200
    with transaction(db.session_factory) as uow:
        set_staff_active(uow, "leaver", False)
    problem(client.get(f"{API}/campaigns", headers=token), 401)
    with transaction(db.session_factory) as uow:
        set_staff_active(uow, "leaver", True)
    problem(client.get(f"{API}/campaigns", headers=token), 401)  # disabling ended the session
    again = auth(
        client.post(
            f"{API}/auth/staff-token", json={"username": "leaver", "password": password}
        ).json["access_token"]
    )
    assert client.post(f"{API}/auth/logout", headers=again).status_code == 204
    problem(client.get(f"{API}/campaigns", headers=again), 401)


def test_a_rotated_key_works_until_its_overlap_ends(client, auth, staff_token, monkeypatch):
    admin = auth(staff_token("admin"))
    created = client.post(f"{API}/channel-keys", json={"channel": "web"}, headers=admin).json
    old = auth(created["api_key"])
    rotated = client.post(
        f"{API}/channel-keys/{created['key_id']}/rotation", json={"overlap_hours": 1}, headers=admin
    )
    assert rotated.status_code == 201
    new = auth(rotated.json["api_key"])
    for headers in (old, new):
        assert (
            client.get(f"{API}/members/lookup?phone=13800000001", headers=headers).status_code
            == 404
        )
    later = datetime.now(UTC) + timedelta(hours=2)
    monkeypatch.setattr("storefront_api.auth.services.utcnow", lambda: later)
    problem(client.get(f"{API}/members/lookup?phone=13800000001", headers=old), 401)
    assert client.get(f"{API}/members/lookup?phone=13800000001", headers=new).status_code == 404


# -- low: protocol edges -----------------------------------------------------------------------


def test_duplicate_keys_are_refused_not_read_as_the_last_one(client, db, member, auth, staff_token):
    finance = auth(staff_token("finance"))
    raw = '{"external_id": "ADJ-DUP", "points": 1, "points": 999, "reason": "x"}'
    before = row_counts(db)
    answer = client.post(
        f"{API}/members/{member}/adjustments",
        data=raw,
        headers={**finance, "Content-Type": "application/json"},
    )
    assert problem(answer, 400, "points")["type"].endswith("duplicate-key")
    assert row_counts(db) == before


def test_the_role_is_checked_before_the_body_is_read(client, member, auth, staff_token):
    marketer = auth(staff_token("marketer"))
    problem(
        client.post(
            f"{API}/members/{member}/adjustments", json={"nonsense": True}, headers=marketer
        ),
        403,
    )


# -- low: prepaid cards charged by number alone, from any channel ------------------------------


def test_a_card_number_alone_charges_nothing(client, db, keys):
    card = client.post(
        f"{API}/prepaid-cards",
        json={"external_id": uid("C"), "amount_fen": 1_000},
        headers=keys["counter_a"],
    ).json
    before = row_counts(db)
    by_partner = client.post(
        f"{API}/prepaid-cards/{card['card_no']}/charges",
        json={"external_id": uid("CH"), "amount_fen": 100, "pin": card["pin"]},
        headers=keys["partner"],
    )
    problem(by_partner, 403)
    no_pin = client.post(
        f"{API}/prepaid-cards/{card['card_no']}/charges",
        json={"external_id": uid("CH"), "amount_fen": 100},
        headers=keys["web"],
    )
    problem(no_pin, 422, "pin")
    assert row_counts(db) == before


def test_an_order_paid_by_card_needs_the_pin_unless_the_holder_pays(
    client, keys, member, member_headers
):
    card = client.post(
        f"{API}/prepaid-cards",
        json={"external_id": uid("C"), "amount_fen": 100_000, "member": {"member_no": member}},
        headers=keys["counter_a"],
    ).json
    body = {
        "external_id": uid("ORD"),
        "member_no": member,
        "lines": [{"sku": "MA-PJL-MOONCAKE-01", "quantity": 1}],
        "fulfillment": {"type": "pickup", "outlet_code": OUTLET_A},
        "payment": {"method": "prepaid_card", "card_no": card["card_no"]},
    }
    problem(client.post(f"{API}/orders", json=body, headers=keys["web"]), 422, "payment.card_pin")
    by_holder = client.post(
        f"{API}/orders", json={**body, "external_id": uid("ORD")}, headers=member_headers
    )
    assert by_holder.status_code == 201, by_holder.json
    with_pin = {
        **body,
        "external_id": uid("ORD"),
        "payment": {**body["payment"], "card_pin": card["pin"]},
    }
    assert client.post(f"{API}/orders", json=with_pin, headers=keys["web"]).status_code == 201


# -- the audit log ---------------------------------------------------------------------------


def test_staff_actions_and_money_movements_by_key_are_audited_append_only(
    client, db, keys, member, auth, staff_token
):
    finance = auth(staff_token("finance"))
    adjusted = client.post(
        f"{API}/members/{member}/adjustments",
        json={"external_id": "ADJ-1", "points": 50, "reason": "goodwill"},
        headers=finance,
    )
    assert adjusted.status_code == 201
    assert accrue(client, keys["counter_a"], member, external_id="POS-AUD-1").status_code == 201
    problem(client.get(f"{API}/audit-events", headers=finance), 403)
    events = client.get(f"{API}/audit-events?limit=10", headers=auth(staff_token("admin"))).json[
        "items"
    ]
    by_action = {event["action"]: event for event in events}
    assert by_action["members.adjust"]["actor"] == "staff:finance-api-test"
    assert by_action["members.adjust"]["target"] == member
    accrual = by_action["accruals.accrue"]
    assert accrual["actor"].startswith("channel:counter:") and accrual["target"] == "POS-AUD-1"
    assert accrual["detail"]["institution_code"] == OUTLET_A
    # Nothing rewrites history: the database itself refuses.
    with db.engine.connect() as connection, pytest.raises(Exception, match="append-only"):
        connection.execute(AuditEvent.__table__.update().values(actor="someone-else"))
    with db.engine.connect() as connection, pytest.raises(Exception, match="append-only"):
        connection.execute(AuditEvent.__table__.delete())
