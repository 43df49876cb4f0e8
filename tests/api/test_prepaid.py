"""Prepaid cards over HTTP: issue, top up, charge, refund, freeze, balance and transactions."""

from __future__ import annotations

import itertools

import pytest

from common.unit_of_work import transaction
from storefront_api import prepaid
from storefront_api.auth import MemberPrincipal
from storefront_api.http.context import EXTENSION_KEY
from storefront_api.prepaid import domain as prepaid_domain
from storefront_api.prepaid.domain import new_card_no
from tests.api.support import each_is_problem, problem, row_counts, self_register

API = "/api/v1/prepaid-cards"
OUTLET = "SH-HP-0001"
_ids = itertools.count(1)
# The PIN each card was issued with, as its holder would keep it.
PINS: dict[str, str] = {}


def next_id(prefix="EXT"):
    return f"{prefix}-{next(_ids)}"


def wrong_check_digit(card_no):
    return card_no[:-1] + str((int(card_no[-1]) + 1) % 10)


@pytest.fixture
def counter(channel_key, auth):
    return auth(channel_key("counter", OUTLET))


@pytest.fixture
def web(channel_key, auth):
    return auth(channel_key("web"))


@pytest.fixture
def new_member(app, client, auth):
    """`new_member("13900000001")` → (member_no, headers with that member's token)."""
    tokens = app.extensions[EXTENSION_KEY].tokens

    def make(phone):
        created = self_register(client, {"phone": phone, "name": "储值"})
        assert created.status_code == 201, created.json
        member_no = created.json["member_no"]
        return member_no, auth(tokens.issue(MemberPrincipal(member_no)))

    return make


@pytest.fixture
def card(client, counter):
    """`card(amount_fen)` → card_no of a new anonymous card issued at the counter."""

    def make(amount_fen=1_000, headers=None, **extra):
        response = client.post(
            API,
            json={"external_id": next_id("ISSUE"), "amount_fen": amount_fen, **extra},
            headers=headers or counter,
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        PINS[response.json["card_no"]] = response.json["pin"]
        return response.json["card_no"]

    return make


def charge(client, headers, card_no, amount_fen, external_id=None, **extra):
    body = {"external_id": external_id or next_id("CH"), "amount_fen": amount_fen, **extra}
    body.setdefault("pin", PINS.get(card_no, "000000"))
    return client.post(f"{API}/{card_no}/charges", json=body, headers=headers)


def balance(client, headers, card_no):
    response = client.get(f"{API}/{card_no}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["balance_fen"]


# -- issue ------------------------------------------------------------------------------


def test_counter_issues_an_anonymous_card_at_its_outlet(client, counter):
    response = client.post(
        API, json={"external_id": "ISSUE-1", "amount_fen": 5_000}, headers=counter
    )

    assert response.status_code == 201, response.json
    body = response.json
    assert set(body) == {"card_no", "balance_fen", "status", "institution_code", "issued_at", "pin"}
    assert len(body.pop("pin")) == 6
    assert (body["balance_fen"], body["status"], body["institution_code"]) == (
        5_000,
        "active",
        OUTLET,
    )
    assert len(body["card_no"]) == 19 and prepaid_domain.passes_luhn(body["card_no"])
    assert client.get(f"{API}/{body['card_no']}", headers=counter).json == body


def test_web_issues_a_card_registered_to_a_member(client, web, new_member):
    member_no, _ = new_member("13900000101")

    response = client.post(
        API,
        json={"external_id": "ISSUE-W", "amount_fen": 300_000, "member": {"phone": "13900000101"}},
        headers=web,
    )

    assert response.status_code == 201, response.json
    assert response.json["member_no"] == member_no
    # An online key is bound to no outlet: the money is booked at the company.
    assert response.json["institution_code"] == "SH"


def test_staff_finance_issues_cards_other_staff_and_channels_may_not(
    client, staff_token, auth, channel_key, new_member
):
    finance = auth(staff_token("finance"))
    response = client.post(
        API,
        json={"external_id": "ISSUE-S", "amount_fen": 100, "institution_code": "SH-HP"},
        headers=finance,
    )
    assert response.status_code == 201, response.json
    assert response.json["institution_code"] == "SH-HP"

    _, member = new_member("13900000102")
    refused = [
        auth(staff_token("marketer")),
        auth(channel_key("hotline")),
        auth(channel_key("partner")),
        member,
    ]
    for headers in refused:
        problem(client.post(API, json={"external_id": "X", "amount_fen": 1}, headers=headers), 403)
    problem(client.post(API, json={"external_id": "X", "amount_fen": 1}), 401)


def test_issue_replay_answers_the_first_card_and_a_changed_payload_conflicts(db, client, counter):
    body = {"external_id": "ISSUE-R", "amount_fen": 2_000}
    first = client.post(API, json=body, headers=counter)
    assert first.status_code == 201
    before = row_counts(db)

    again = client.post(API, json=body, headers=counter)
    changed = client.post(API, json={**body, "amount_fen": 2_001}, headers=counter)

    # The PIN is shown once: the replay answers the same card without it.
    assert again.status_code == 200
    assert again.json == {k: v for k, v in first.json.items() if k != "pin"}
    problem(changed, 409)
    assert row_counts(db) == before


def test_bad_issues_are_refused_naming_the_field_and_write_nothing(db, client, counter, web):
    before = row_counts(db)
    ok = {"external_id": "ISSUE-BAD", "amount_fen": 1_000}
    cases = [
        ({**ok, "amount_fen": 0}, "amount_fen"),
        ({**ok, "amount_fen": -100}, "amount_fen"),
        ({**ok, "amount_fen": "100"}, "amount_fen"),
        ({**ok, "amount_fen": 1.5}, "amount_fen"),
        ({"amount_fen": 100}, "external_id"),
        ({**ok, "member": {"member_no": "M404"}}, "member.member_no"),
        ({**ok, "member": {}}, "member"),
        ({**ok, "colour": "red"}, "colour"),
        # An anonymous card holds at most 1,000 yuan.
        ({**ok, "amount_fen": 100_001}, "amount_fen"),
    ]
    each_is_problem(cases, lambda body: client.post(API, json=body, headers=counter))
    problem(
        client.post(API, json={**ok, "institution_code": "NOPE"}, headers=web),
        422,
        "institution_code",
    )
    problem(client.post(API, json={**ok, "institution_code": "SH-HP-0002"}, headers=counter), 403)
    problem(client.post(API, data="{", headers=counter, content_type="application/json"), 400)
    limit = client.post(API, json={**ok, "amount_fen": 100_001}, headers=counter)
    assert problem(limit, 422)["type"].endswith("balance-limit-exceeded")
    assert row_counts(db) == before


# -- top-ups ----------------------------------------------------------------------------


def test_top_up_adds_to_the_balance_and_replays(db, client, counter, web, card):
    card_no = card(1_000)
    body = {"external_id": "TOP-1", "amount_fen": 2_500}

    first = client.post(f"{API}/{card_no}/top-ups", json=body, headers=web)
    again = client.post(f"{API}/{card_no}/top-ups", json=body, headers=web)

    assert first.status_code == 201, first.json
    assert first.json["balance_fen"] == 3_500 and first.json["top_up_no"].startswith("PT")
    assert again.status_code == 200 and again.json == first.json
    before = row_counts(db)
    problem(
        client.post(f"{API}/{card_no}/top-ups", json={**body, "amount_fen": 1}, headers=web), 409
    )
    assert row_counts(db) == before
    assert balance(client, counter, card_no) == 3_500


def test_bad_top_ups_are_refused_and_write_nothing(db, client, counter, auth, channel_key, card):
    card_no = card(99_000)
    hotline = auth(channel_key("hotline"))
    before = row_counts(db)
    url = f"{API}/{card_no}/top-ups"
    cases = [
        ({"external_id": "T", "amount_fen": 0}, "amount_fen"),
        ({"external_id": "T", "amount_fen": -1}, "amount_fen"),
        ({"amount_fen": 1}, "external_id"),
        ({"external_id": "T", "amount_fen": 1_001}, "amount_fen"),  # over the 1,000-yuan limit
    ]
    each_is_problem(cases, lambda body: client.post(url, json=body, headers=counter))
    good = {"external_id": "T", "amount_fen": 100}
    problem(
        client.post(f"{API}/{wrong_check_digit(card_no)}/top-ups", json=good, headers=counter),
        422,
        "card_no",
    )
    problem(client.post(f"{API}/12345/top-ups", json=good, headers=counter), 422, "card_no")
    problem(client.post(f"{API}/{new_card_no()}/top-ups", json=good, headers=counter), 404)
    problem(client.post(url, json=good, headers=hotline), 403)
    assert row_counts(db) == before


# -- charges ----------------------------------------------------------------------------


def test_charge_spends_from_the_card_until_it_is_empty(db, client, counter, card):
    card_no = card(1_000)

    first = charge(client, counter, card_no, 600, description="邮票年册")
    second = charge(client, counter, card_no, 400)
    before = row_counts(db)
    third = charge(client, counter, card_no, 1)

    assert first.status_code == 201, first.json
    assert first.json["charge_no"].startswith("PC") and first.json["balance_fen"] == 400
    assert first.json["description"] == "邮票年册"
    assert second.status_code == 201 and second.json["balance_fen"] == 0
    body = problem(third, 422, "amount_fen")
    assert body["type"].endswith("insufficient-balance")
    assert row_counts(db) == before


def test_charge_replay_and_conflict(db, client, counter, card):
    card_no = card(1_000)
    first = charge(client, counter, card_no, 300, external_id="POS-7")
    before = row_counts(db)

    again = charge(client, counter, card_no, 300, external_id="POS-7")
    conflict = charge(client, counter, card_no, 301, external_id="POS-7")
    other_card = charge(client, counter, card(1_000), 300, external_id="POS-7")

    assert again.status_code == 200 and again.json == first.json
    problem(conflict, 409)
    problem(other_card, 409)
    assert balance(client, counter, card_no) == 700
    # The other card was issued meanwhile; nothing else was written.
    after = row_counts(db)
    assert after["storefront_prepaid_card"] == before["storefront_prepaid_card"] + 1
    assert after["storefront_prepaid_entry"] == before["storefront_prepaid_entry"] + 1


def test_bad_charges_are_refused_and_write_nothing(db, client, counter, card):
    card_no = card(1_000)
    pin = PINS[card_no]
    before = row_counts(db)
    cases = [
        ({"external_id": "C", "amount_fen": 0, "pin": pin}, "amount_fen"),
        ({"external_id": "C", "amount_fen": -5, "pin": pin}, "amount_fen"),
        ({"external_id": "C", "amount_fen": 1_001, "pin": pin}, "amount_fen"),
        ({"external_id": "C", "amount_fen": True, "pin": pin}, "amount_fen"),
        ({"external_id": "", "amount_fen": 1, "pin": pin}, "external_id"),
        ({"external_id": "C", "amount_fen": 1, "description": "", "pin": pin}, "description"),
        ({"external_id": "C", "amount_fen": 1}, "pin"),
        ({"external_id": "C", "amount_fen": 1, "pin": "12345"}, "pin"),
        ({"external_id": "C", "amount_fen": 1, "pin": "１２３４５６"}, "pin"),
    ]
    each_is_problem(
        cases, lambda body: client.post(f"{API}/{card_no}/charges", json=body, headers=counter)
    )
    problem(charge(client, counter, wrong_check_digit(card_no), 1), 422, "card_no")
    problem(charge(client, counter, "6" * 19, 1), 422, "card_no")
    problem(charge(client, counter, new_card_no(), 1), 404)
    problem(
        client.post(f"{API}/{card_no}/charges", json={"external_id": "C", "amount_fen": 1}), 401
    )
    assert row_counts(db) == before


def test_a_card_is_charged_only_with_its_pin_and_guessing_is_throttled(db, client, counter, card):
    card_no = card(1_000)
    right = PINS[card_no]
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    before = row_counts(db)
    for attempt in range(5):
        problem(
            charge(client, counter, card_no, 100, external_id=f"G{attempt}", pin=wrong), 422, "pin"
        )
    throttled = charge(client, counter, card_no, 100, external_id="G5", pin=right)
    problem(throttled, 429)
    assert int(throttled.headers["Retry-After"]) > 0
    assert row_counts(db) == before
    assert balance(client, counter, card_no) == 1_000


def test_a_right_pin_does_not_use_up_the_allowance(client, counter, card):
    card_no = card(1_000)
    for attempt in range(8):
        assert charge(client, counter, card_no, 10, external_id=f"OK{attempt}").status_code == 201


# -- refunds ----------------------------------------------------------------------------


def refund(client, headers, card_no, charge_no, amount_fen, external_id=None):
    return client.post(
        f"{API}/{card_no}/charges/{charge_no}/refunds",
        json={"external_id": external_id or next_id("RF"), "amount_fen": amount_fen},
        headers=headers,
    )


def test_partial_refunds_up_to_the_charge(db, client, counter, card):
    card_no = card(1_000)
    charge_no = charge(client, counter, card_no, 800).json["charge_no"]

    first = refund(client, counter, card_no, charge_no, 300, external_id="RF-A")
    replay = refund(client, counter, card_no, charge_no, 300, external_id="RF-A")
    second = refund(client, counter, card_no, charge_no, 500)
    before = row_counts(db)
    over = refund(client, counter, card_no, charge_no, 1)

    assert first.status_code == 201, first.json
    assert (first.json["refundable_fen"], first.json["balance_fen"]) == (500, 500)
    assert first.json["refund_no"].startswith("PR") and first.json["charge_no"] == charge_no
    assert replay.status_code == 200 and replay.json == first.json
    assert (second.json["refundable_fen"], second.json["balance_fen"]) == (0, 1_000)
    assert problem(over, 422, "amount_fen")["type"].endswith("refund-exceeds-charge")
    assert row_counts(db) == before


def test_bad_refunds_are_refused_and_write_nothing(
    db, client, counter, web, channel_key, auth, card
):
    card_no, other_card = card(1_000), card(1_000)
    charge_no = charge(client, counter, card_no, 500).json["charge_no"]
    refund(client, counter, card_no, charge_no, 100, external_id="RF-SEEN")
    other_outlet = auth(channel_key("counter", "SH-HP-0002"))
    before = row_counts(db)

    problem(refund(client, counter, card_no, charge_no, 401), 422, "amount_fen")
    problem(refund(client, counter, card_no, charge_no, 0), 422, "amount_fen")
    problem(refund(client, counter, card_no, charge_no, -1), 422, "amount_fen")
    problem(refund(client, counter, card_no, charge_no, 50, external_id="RF-SEEN"), 409)
    problem(refund(client, counter, card_no, "PC0000", 1), 404)
    problem(refund(client, counter, other_card, charge_no, 1), 404)
    problem(refund(client, counter, wrong_check_digit(card_no), charge_no, 1), 422, "card_no")
    problem(refund(client, counter, new_card_no(), charge_no, 1), 404)
    # Only the channel and outlet that took the payment give it back.
    problem(refund(client, web, card_no, charge_no, 1), 403)
    problem(refund(client, other_outlet, card_no, charge_no, 1), 403)
    assert row_counts(db) == before


def test_a_charge_made_by_an_order_is_not_refunded_over_this_endpoint(
    db, client, channel_key, auth, card
):
    card_no = card(1_000)
    app = auth(channel_key("app"))
    with transaction(db.session_factory) as uow:
        charge_no = prepaid.charge_card(
            uow, card_no=card_no, amount_fen=200, reference="order:OR-TEST-1", channel="app"
        )
        uow.commit()
    before = row_counts(db)

    body = problem(refund(client, app, card_no, charge_no, 100), 409)

    assert body["type"].endswith("charge-not-refundable-here")
    assert row_counts(db) == before


# -- status -----------------------------------------------------------------------------


def test_a_frozen_card_takes_no_money_but_gets_refunds(client, counter, staff_token, auth, card):
    card_no = card(1_000)
    charge_no = charge(client, counter, card_no, 400).json["charge_no"]
    finance = auth(staff_token("finance"))

    frozen = client.patch(f"{API}/{card_no}", json={"status": "frozen"}, headers=finance)

    assert frozen.status_code == 200 and frozen.json["status"] == "frozen"
    assert problem(charge(client, counter, card_no, 1), 422)["type"].endswith("card-not-active")
    top_up = client.post(
        f"{API}/{card_no}/top-ups", json={"external_id": "T-F", "amount_fen": 1}, headers=counter
    )
    assert problem(top_up, 422)["type"].endswith("card-not-active")
    assert refund(client, counter, card_no, charge_no, 400).json["balance_fen"] == 1_000
    thawed = client.patch(f"{API}/{card_no}", json={"status": "active"}, headers=finance)
    assert thawed.json["status"] == "active"
    assert charge(client, counter, card_no, 1).status_code == 201


def test_only_finance_changes_a_status_and_only_to_a_known_one(
    client, staff_token, auth, counter, card
):
    card_no = card(100)
    url = f"{API}/{card_no}"
    problem(
        client.patch(url, json={"status": "frozen"}, headers=auth(staff_token("marketer"))), 403
    )
    problem(client.patch(url, json={"status": "frozen"}, headers=counter), 403)
    finance = auth(staff_token("finance"))
    problem(client.patch(url, json={"status": "lost"}, headers=finance), 422, "status")
    problem(client.patch(f"{API}/{new_card_no()}", json={"status": "frozen"}, headers=finance), 404)


# -- reading ----------------------------------------------------------------------------


def test_the_holder_channels_and_staff_read_a_card_other_members_may_not(
    client, web, counter, new_member, staff_token, auth, card
):
    member_no, holder = new_member("13900000103")
    _, stranger = new_member("13900000104")
    card_no = card(1_000, headers=web, member={"member_no": member_no})

    for headers in (holder, counter, web, auth(staff_token("marketer"))):
        response = client.get(f"{API}/{card_no}", headers=headers)
        assert response.status_code == 200, response.json
        assert (response.json["member_no"], response.json["balance_fen"]) == (member_no, 1_000)
    problem(client.get(f"{API}/{card_no}", headers=stranger), 403)
    problem(client.get(f"{API}/{card_no}/transactions", headers=stranger), 403)
    problem(client.get(f"{API}/{card(100)}", headers=holder), 403)
    problem(client.get(f"{API}/{card_no}"), 401)
    problem(client.get(f"{API}/{wrong_check_digit(card_no)}", headers=counter), 422, "card_no")
    problem(client.get(f"{API}/{new_card_no()}", headers=counter), 404)


def test_transactions_newest_first_in_cursor_pages(client, counter, web, card):
    card_no = card(1_000)
    client.post(
        f"{API}/{card_no}/top-ups", json={"external_id": "T-P", "amount_fen": 500}, headers=web
    )
    charge_no = charge(client, counter, card_no, 700, description="礼盒").json["charge_no"]
    refund(client, counter, card_no, charge_no, 200)

    first = client.get(f"{API}/{card_no}/transactions?limit=3", headers=counter)
    assert first.status_code == 200, first.json
    items = first.json["items"]
    assert [(i["kind"], i["amount_fen"], i["balance_after"]) for i in items] == [
        ("refund", 200, 1_000),
        ("charge", -700, 800),
        ("top_up", 500, 1_500),
    ]
    assert items[0]["charge_no"] == charge_no and items[1]["description"] == "礼盒"
    assert (items[1]["channel"], items[2]["channel"]) == ("counter", "web")
    rest = client.get(
        f"{API}/{card_no}/transactions?limit=3&cursor={first.json['next_cursor']}", headers=counter
    )
    assert [(i["kind"], i["amount_fen"]) for i in rest.json["items"]] == [("issue", 1_000)]
    assert rest.json["next_cursor"] is None
    problem(client.get(f"{API}/{card_no}/transactions?cursor=%%%", headers=counter), 422, "cursor")
    problem(client.get(f"{API}/{card_no}/transactions?limit=0", headers=counter), 422, "limit")
