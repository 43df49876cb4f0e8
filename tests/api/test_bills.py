"""Bill payment over HTTP: billers, look-up, paying once whatever the retries, faults, reversal."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from common.clock import today
from storefront_api import bills
from storefront_api.auth import MemberPrincipal
from storefront_api.bills.orm import BillPayment, SandboxBillerPayment
from storefront_api.bills.sandbox import billing_period
from storefront_api.http.bills import BILLERS_EXTENSION
from storefront_api.http.context import EXTENSION_KEY
from tests.api.support import each_is_problem, problem, row_counts, self_register

CARD = "6221880000004321"
PHONE = "13800004321"
GAS = "SH-GAS"
ACCOUNT = "3100123456"
DECLINING = "3100129991"
TIMING_OUT = "3100129992"
SLOW = "3100129993"
NO_BILL = "3100120000"


class RecordingBiller:
    """Passes every call on to a sandbox biller and writes it down."""

    def __init__(self, biller, calls):
        self._biller = biller
        self._calls = calls

    def query_bill(self, account_no):
        self._calls.append(("query_bill", account_no))
        return self._biller.query_bill(account_no)

    def pay(self, bill, amount_fen, payment_ref):
        self._calls.append(("pay", payment_ref))
        return self._biller.pay(bill, amount_fen, payment_ref)

    def reverse(self, payment_ref):
        self._calls.append(("reverse", payment_ref))
        return self._biller.reverse(payment_ref)

    def status(self, payment_ref):
        self._calls.append(("status", payment_ref))
        return self._biller.status(payment_ref)


class RecordingBillers:
    """A `biller_for` over the sandbox (slow answers 0.05 s late) that records each call."""

    def __init__(self, session_factory):
        self.calls = []
        self.sleeps = []
        self._sandbox = bills.sandbox_billers(session_factory, slow_seconds=0.05, sleep=self._sleep)

    def _sleep(self, seconds):
        self.sleeps.append(seconds)
        time.sleep(seconds)

    def __call__(self, biller):
        return RecordingBiller(self._sandbox(biller), self.calls)

    def count(self, method, argument=None):
        return sum(1 for name, arg in self.calls if name == method and argument in (None, arg))


@pytest.fixture(autouse=True)
def billers(app, db):
    recording = RecordingBillers(db.session_factory)
    app.extensions[BILLERS_EXTENSION] = recording
    return recording


@pytest.fixture
def counter(channel_key, auth):
    return auth(channel_key("counter", "SH-HP-0001"))


@pytest.fixture
def member(client):
    response = self_register(client, {"phone": PHONE, "name": "韩梅梅", "card_no": CARD})
    assert response.status_code == 201, response.json
    return response.json["member_no"]


@pytest.fixture
def member_auth(app, auth):
    tokens = app.extensions[EXTENSION_KEY].tokens
    return lambda member_no: auth(tokens.issue(MemberPrincipal(member_no)))


def query(client, headers, account_no=ACCOUNT, biller=GAS):
    return client.post(
        "/api/v1/bills/query",
        json={"biller_code": biller, "account_no": account_no},
        headers=headers,
    )


def looked_up(client, headers, account_no=ACCOUNT, biller=GAS):
    response = query(client, headers, account_no, biller)
    assert response.status_code == 200, response.json
    return response.json


def payment(bill, external_id="CTR-BILL-0001", amount=None, member=None):
    body = {
        "external_id": external_id,
        "bill_id": bill["bill_id"],
        "amount_fen": bill["amount_due_fen"] if amount is None else amount,
    }
    if member is not None:
        body["member"] = member
    return body


def pay(client, headers, bill, **changes):
    return client.post("/api/v1/bill-payments", json=payment(bill, **changes), headers=headers)


def available(client, headers, member_no):
    return client.get(f"/api/v1/members/{member_no}/points", headers=headers).json["available"]


def sandbox_rows(db, payment_no):
    with db.engine.connect() as connection:
        return connection.execute(
            select(func.count()).where(SandboxBillerPayment.payment_ref == payment_no)
        ).scalar_one()


def status_check(client, headers, payment_no):
    return client.post(f"/api/v1/bill-payments/{payment_no}/status-check", headers=headers)


def reversal(client, headers, payment_no, external_id="CTR-REV-0001"):
    return client.post(
        f"/api/v1/bill-payments/{payment_no}/reversal",
        json={"external_id": external_id},
        headers=headers,
    )


# -- billers and look-up ------------------------------------------------------------


def test_anyone_lists_one_biller_per_kind(client):
    response = client.get("/api/v1/billers")
    assert response.status_code == 200
    items = response.json["items"]
    assert [item["kind"] for item in items] == [
        "water",
        "electricity",
        "gas",
        "broadband",
        "landline",
    ]
    power = next(item for item in items if item["kind"] == "electricity")
    assert power == {
        "code": "SH-POWER-SGCC",
        "name": "国网上海市电力公司",
        "name_en": "State Grid Shanghai Municipal Electric Power Company",
        "kind": "electricity",
    }


def test_a_query_answers_the_same_bill_each_time(client, counter, member, member_auth, billers):
    first = looked_up(client, counter)
    assert first["biller_code"] == GAS
    assert first["kind"] == "gas"
    assert first["account_no"] == ACCOUNT
    assert 3_000 <= first["amount_due_fen"] <= 24_000
    assert first["period"] == billing_period(today())
    assert "*" in first["customer_name"]
    again = looked_up(client, member_auth(member))
    assert again == first
    assert billers.count("query_bill", ACCOUNT) == 2


def test_an_account_with_nothing_due_is_a_404_and_writes_nothing(db, client, counter):
    before = row_counts(db)
    body = problem(query(client, counter, NO_BILL), 404)
    assert body["type"].endswith("/no-bill-due")
    assert row_counts(db) == before


def test_bad_queries_are_refused_naming_the_field_and_write_nothing(db, client, counter, billers):
    before = row_counts(db)

    def send(case):
        return client.post("/api/v1/bills/query", json=case, headers=counter)

    good = {"biller_code": GAS, "account_no": ACCOUNT}
    each_is_problem(
        [
            ({**good, "biller_code": "SH-NOPE"}, "biller_code"),
            ({**good, "account_no": "3100123"}, "account_no"),
            ({**good, "account_no": "31001234567890123"}, "account_no"),
            ({**good, "account_no": "3100abcd"}, "account_no"),
            ({**good, "account_no": "3100 1234"}, "account_no"),
            ({**good, "account_no": "３１００１２３４５６"}, "account_no"),
            ({**good, "account_no": ""}, "account_no"),
            ({**good, "account_no": 3100123456}, "account_no"),
            ({"biller_code": GAS}, "account_no"),
            ({**good, "extra": 1}, "extra"),
        ],
        send,
    )
    assert row_counts(db) == before
    assert billers.calls == []


def test_only_channels_and_members_look_bills_up(client, staff_token, auth):
    problem(query(client, {}), 401)
    problem(query(client, auth(staff_token("admin"))), 403)


# -- paying -------------------------------------------------------------------------


def test_a_counter_pays_a_bill_and_the_member_earns_points(db, client, counter, member, billers):
    bill = looked_up(client, counter)
    before = available(client, counter, member)
    response = pay(client, counter, bill, member={"card_no": CARD})
    assert response.status_code == 201, response.json
    receipt = response.json
    assert receipt["status"] == "paid"
    assert receipt["bill_id"] == bill["bill_id"]
    assert receipt["amount_fen"] == bill["amount_due_fen"]
    assert receipt["member_no"] == member
    assert receipt["institution_code"] == "SH-HP-0001"
    assert receipt["biller_ref"]
    assert receipt["points"] == bill["amount_due_fen"] // 200
    assert available(client, counter, member) == before + receipt["points"]
    assert sandbox_rows(db, receipt["payment_no"]) == 1
    shown = client.get(f"/api/v1/bill-payments/{receipt['payment_no']}", headers=counter)
    assert shown.status_code == 200
    assert shown.json == receipt
    # Paid in full, the bill is no longer due.
    assert problem(query(client, counter), 404)["type"].endswith("/no-bill-due")


def test_an_anonymous_payment_earns_nothing(client, counter):
    bill = looked_up(client, counter)
    response = pay(client, counter, bill)
    assert response.status_code == 201
    assert response.json["points"] == 0
    assert response.json["member_no"] is None


def test_a_replay_answers_the_first_receipt_and_never_pays_again(
    db, client, counter, member, billers
):
    bill = looked_up(client, counter)
    first = pay(client, counter, bill, member={"card_no": CARD})
    assert first.status_code == 201
    points = available(client, counter, member)
    before = row_counts(db)
    again = pay(client, counter, bill, member={"card_no": CARD})
    assert again.status_code == 200
    assert again.json == first.json
    assert row_counts(db) == before
    assert available(client, counter, member) == points
    assert billers.count("pay") == 1
    changed = pay(client, counter, bill, member={"phone": PHONE})
    problem(changed, 409)
    assert row_counts(db) == before


def test_the_same_bill_is_not_paid_twice_under_another_external_id(db, client, counter, billers):
    bill = looked_up(client, counter)
    assert pay(client, counter, bill).status_code == 201
    before = row_counts(db)
    body = problem(pay(client, counter, bill, external_id="CTR-BILL-0002"), 409)
    assert body["type"].endswith("/bill-already-paid")
    assert row_counts(db) == before
    assert billers.count("pay") == 1


def test_bad_payments_are_refused_naming_the_field_and_write_nothing(
    db, client, counter, member, billers
):
    bill = looked_up(client, counter)
    before = row_counts(db)
    due = bill["amount_due_fen"]

    def send(case):
        return client.post("/api/v1/bill-payments", json=case, headers=counter)

    good = payment(bill, member={"card_no": CARD})
    each_is_problem(
        [
            ({**good, "amount_fen": 0}, "amount_fen"),
            ({**good, "amount_fen": -100}, "amount_fen"),
            ({**good, "amount_fen": due + 1}, "amount_fen"),
            ({**good, "amount_fen": due - 1}, "amount_fen"),
            ({**good, "amount_fen": str(due)}, "amount_fen"),
            ({**good, "bill_id": "BL00000000000000000000"}, "bill_id"),
            ({**good, "member": {"phone": "13999999999"}}, "member.phone"),
            ({**good, "member": {"card_no": "0000"}}, "member.card_no"),
            ({**good, "member": {"phone": PHONE, "card_no": CARD}}, "member"),
            ({**good, "external_id": ""}, "external_id"),
            ({key: value for key, value in good.items() if key != "external_id"}, "external_id"),
            ({key: value for key, value in good.items() if key != "bill_id"}, "bill_id"),
        ],
        send,
    )
    assert row_counts(db) == before
    assert billers.count("pay") == 0


def test_a_declined_payment_is_recorded_and_replays_the_same_answer(
    db, client, counter, member, billers
):
    bill = looked_up(client, counter, DECLINING)
    response = pay(client, counter, bill, member={"card_no": CARD})
    body = problem(response, 422)
    assert body["type"].endswith("/biller-declined")
    with db.engine.connect() as connection:
        recorded = connection.execute(
            select(BillPayment.payment_no, BillPayment.status, BillPayment.points)
        ).all()
    assert [(status, points) for _, status, points in recorded] == [("declined", 0)]
    assert recorded[0][0] in body["detail"]
    assert sandbox_rows(db, recorded[0][0]) == 0
    before = row_counts(db)
    again = pay(client, counter, bill, member={"card_no": CARD})
    assert problem(again, 422) == body
    assert row_counts(db) == before
    assert billers.count("pay") == 1


def test_a_timeout_leaves_the_payment_unknown_until_a_status_check_finds_it_paid(
    db, client, counter, member, billers
):
    bill = looked_up(client, counter, TIMING_OUT)
    before = available(client, counter, member)
    response = pay(client, counter, bill, member={"card_no": CARD})
    assert response.status_code == 202, response.json
    receipt = response.json
    payment_no = receipt["payment_no"]
    assert receipt["status"] == "unknown"
    assert receipt["points"] == 0
    assert available(client, counter, member) == before

    shown = client.get(f"/api/v1/bill-payments/{payment_no}", headers=counter)
    assert shown.json["status"] == "unknown"
    replay = pay(client, counter, bill, member={"card_no": CARD})
    assert replay.status_code == 202
    assert replay.json["payment_no"] == payment_no
    other = problem(pay(client, counter, bill, external_id="CTR-BILL-0002"), 409)
    assert other["type"].endswith("/bill-payment-unresolved")

    checked = status_check(client, counter, payment_no)
    assert checked.status_code == 200, checked.json
    assert checked.json["status"] == "paid"
    assert checked.json["points"] == bill["amount_due_fen"] // 200
    assert available(client, counter, member) == before + checked.json["points"]
    settled = pay(client, counter, bill, member={"card_no": CARD})
    assert settled.status_code == 200
    assert settled.json == checked.json
    assert status_check(client, counter, payment_no).json == checked.json
    assert available(client, counter, member) == before + checked.json["points"]

    # However often it was retried, the biller was asked to pay once and took it once.
    assert billers.count("pay") == 1
    assert sandbox_rows(db, payment_no) == 1


def test_a_slow_biller_is_waited_for(client, counter, billers):
    bill = looked_up(client, counter, SLOW)
    response = pay(client, counter, bill)
    assert response.status_code == 201
    assert response.json["status"] == "paid"
    assert billers.sleeps == [0.05, 0.05]  # the query, then the payment


def test_a_member_pays_for_themself_only(client, counter, member, member_auth, billers):
    headers = member_auth(member)
    bill = looked_up(client, headers)
    before = available(client, headers, member)
    other = self_register(client, {"phone": "13800009999", "name": "李雷"})
    problem(pay(client, headers, bill, member={"member_no": other.json["member_no"]}), 403)
    response = pay(client, headers, bill, external_id="APP-1")
    assert response.status_code == 201, response.json
    assert response.json["member_no"] == member
    assert response.json["channel"] == "app"
    assert available(client, headers, member) == before + response.json["points"]
    payment_no = response.json["payment_no"]
    assert client.get(f"/api/v1/bill-payments/{payment_no}", headers=headers).status_code == 200
    stranger = member_auth(other.json["member_no"])
    problem(client.get(f"/api/v1/bill-payments/{payment_no}", headers=stranger), 403)
    problem(status_check(client, stranger, payment_no), 403)
    # A member's external ids are their own: a channel using the same id is another payment.
    assert billers.count("pay") == 1


def test_staff_read_payments_but_do_not_pay(client, counter, staff_token, auth):
    bill = looked_up(client, counter)
    paid = pay(client, counter, bill).json
    staff = auth(staff_token("finance"))
    shown = client.get(f"/api/v1/bill-payments/{paid['payment_no']}", headers=staff)
    assert shown.status_code == 200
    problem(pay(client, staff, bill, external_id="STAFF-1"), 403)
    problem(client.get("/api/v1/bill-payments/BPNOSUCHPAYMENT", headers=staff), 404)
    problem(status_check(client, staff, "BPNOSUCHPAYMENT"), 404)


# -- reversal (冲正) ------------------------------------------------------------------


def test_a_same_day_reversal_gives_the_money_and_the_points_back(
    db, client, counter, member, billers
):
    bill = looked_up(client, counter)
    before = available(client, counter, member)
    paid = pay(client, counter, bill, member={"card_no": CARD}).json
    response = reversal(client, counter, paid["payment_no"])
    assert response.status_code == 200, response.json
    assert response.json["status"] == "reversed"
    assert response.json["points_reversed"] == paid["points"]
    assert response.json["reversed_at"]
    assert available(client, counter, member) == before
    with db.engine.connect() as connection:
        assert (
            connection.execute(
                select(SandboxBillerPayment.status).where(
                    SandboxBillerPayment.payment_ref == paid["payment_no"]
                )
            ).scalar_one()
            == "reversed"
        )
    # The bill is due again and can be paid anew.
    assert looked_up(client, counter)["bill_id"] == bill["bill_id"]
    counts = row_counts(db)
    again = reversal(client, counter, paid["payment_no"])
    assert again.status_code == 200
    assert again.json == response.json
    assert row_counts(db) == counts
    assert billers.count("reverse") == 1
    problem(reversal(client, counter, paid["payment_no"], "CTR-REV-0002"), 409)
    repaid = pay(client, counter, bill, external_id="CTR-BILL-0002", member={"card_no": CARD})
    assert repaid.status_code == 201


def test_only_the_channel_and_outlet_that_took_a_payment_reverse_it(
    db, client, counter, channel_key, auth, member, member_auth
):
    paid = pay(client, counter, looked_up(client, counter)).json
    others = (auth(channel_key("web")), auth(channel_key("counter", "SH-HP-0002")))
    before = row_counts(db)
    for headers in others:
        problem(reversal(client, headers, paid["payment_no"]), 403)
    problem(reversal(client, member_auth(member), paid["payment_no"]), 403)
    problem(reversal(client, counter, "BPNOSUCHPAYMENT"), 404)
    assert row_counts(db) == before


def test_a_reversal_on_a_later_day_is_refused(db, client, counter, member, billers):
    paid = pay(client, counter, looked_up(client, counter), member={"card_no": CARD}).json
    yesterday = datetime.fromisoformat(paid["paid_at"]) - timedelta(days=1)
    with db.engine.begin() as connection:
        connection.execute(
            update(BillPayment)
            .where(BillPayment.payment_no == paid["payment_no"])
            .values(paid_at=yesterday)
        )
    before = row_counts(db)
    body = problem(reversal(client, counter, paid["payment_no"]), 422)
    assert body["type"].endswith("/reversal-window-closed")
    assert row_counts(db) == before
    assert billers.count("reverse") == 0


def test_what_was_not_paid_cannot_be_reversed(db, client, counter, billers):
    problem(pay(client, counter, looked_up(client, counter, DECLINING)), 422)
    unknown = pay(client, counter, looked_up(client, counter, TIMING_OUT), external_id="T-1").json
    with db.engine.connect() as connection:
        declined = connection.execute(
            select(BillPayment.payment_no).where(BillPayment.status == "declined")
        ).scalar_one()
    before = row_counts(db)
    for payment_no in (declined, unknown["payment_no"]):
        body = problem(reversal(client, counter, payment_no), 409)
        assert body["type"].endswith("/not-reversible")
    assert row_counts(db) == before
    assert billers.count("reverse") == 0
    problem(reversal(client, counter, unknown["payment_no"], ""), 422, "external_id")
