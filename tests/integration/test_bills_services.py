"""Bill payment on a real database: requests that die mid-call, the job, races, the timeline."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import crm
import points_engine
from common.clock import today, utcnow
from common.db import read_session
from common.errors import DomainError
from common.idempotency import as_answer
from storefront_api import bills
from storefront_api.bills import services
from storefront_api.bills.domain import PROCESSING_GRACE
from storefront_api.bills.orm import Biller, SandboxBillerPayment
from tests.api.test_bills import RecordingBillers

DIRECTORY = crm.CrmMemberDirectory()
COUNTER = bills.Payer("counter", "SH-HP-0001")
WATER = "SH-WATER-CTWS"


@pytest.fixture
def billers(db):
    return RecordingBillers(db.session_factory)


@pytest.fixture
def member(uow):
    with uow() as unit:
        member_no = crm.register_member(unit, crm.RegisterCommand("13900000021", "韩梅梅"))[
            "member_no"
        ]
    with uow() as unit:
        return member_no, crm.queries.active_member_id(unit.session, member_no)


def look_up(uow, billers, account_no):
    return as_answer(bills.query_bill(uow, billers, WATER, account_no))


def command(bill, external_id="C-1", member_no=None):
    return bills.PaymentCommand(
        external_id=external_id,
        bill_id=bill["bill_id"],
        amount_fen=bill["amount_due_fen"],
        member=points_engine.MemberRef(member_no=member_no) if member_no else None,
    )


def receipt(db, payment_no):
    with read_session(db.session_factory) as session:
        return as_answer(bills.payment_receipt(session, payment_no))


def available(db, member_no):
    with read_session(db.session_factory) as session:
        member_id = crm.queries.active_member_id(session, member_no)
        return points_engine.queries.points_summary(session, member_id, today())["available"]


def sandbox_rows(db, payment_no):
    with read_session(db.session_factory) as session:
        return session.scalar(
            select(func.count()).where(SandboxBillerPayment.payment_ref == payment_no)
        )


def open_only(uow, bill, member_no=None, external_id="C-1"):
    """Step one of a payment, as a request that dies before it calls the biller leaves it."""
    with uow() as unit:
        opened = services.open_payment(
            unit, DIRECTORY, COUNTER, command(bill, external_id, member_no)
        )
    assert not isinstance(opened, points_engine.Written)
    return opened.payment_no


def test_a_replay_while_the_first_request_waits_answers_processing_without_paying(db, uow, billers):
    bill = look_up(uow, billers, "21000001")
    payment_no = open_only(uow, bill)
    written = bills.pay_bill(uow, billers, DIRECTORY, COUNTER, command(bill))
    assert written.replayed
    assert written.body.payment_no == payment_no
    assert written.body.status == "processing"
    assert billers.count("pay") == 0
    # A status check leaves a payment whose own call may still be running alone.
    body = bills.check_payment_status(uow, billers, DIRECTORY, payment_no, None)
    assert body.status == "processing"
    assert billers.count("status") == 0


def test_the_job_fails_a_dead_request_the_biller_never_saw(db, uow, billers):
    bill = look_up(uow, billers, "21000002")
    payment_no = open_only(uow, bill)
    assert bills.resolve_unknown_payments(uow, billers, DIRECTORY) == 0
    later = utcnow() + PROCESSING_GRACE + timedelta(seconds=1)
    assert bills.resolve_unknown_payments(uow, billers, DIRECTORY, now=later) == 1
    assert receipt(db, payment_no)["status"] == "failed"
    with pytest.raises(bills.PaymentFailed):
        bills.pay_bill(uow, billers, DIRECTORY, COUNTER, command(bill))
    # Nothing was taken, so the bill can be paid under a new id.
    paid = bills.pay_bill(uow, billers, DIRECTORY, COUNTER, command(bill, "C-2"))
    assert paid.body.status == "paid"
    assert billers.count("pay") == 1


def test_the_job_finds_a_dead_request_the_biller_took_and_awards_its_points(
    db, uow, billers, member
):
    member_no, _ = member
    bill = look_up(uow, billers, "21000003")
    payment_no = open_only(uow, bill, member_no)
    # The biller got the money; our process died before it could record the answer.
    info = bills.BillerInfo(WATER, "水务", "water", "sandbox")
    billers(info).pay(
        bills.Bill(WATER, "21000003", bill["period"], bill["amount_due_fen"], "x"),
        bill["amount_due_fen"],
        payment_no,
    )
    later = utcnow() + PROCESSING_GRACE + timedelta(minutes=1)
    assert bills.resolve_unknown_payments(uow, billers, DIRECTORY, now=later) == 1
    body = receipt(db, payment_no)
    assert body["status"] == "paid"
    assert body["points"] == bill["amount_due_fen"] // 200
    assert available(db, member_no) == body["points"]
    assert sandbox_rows(db, payment_no) == 1


def test_the_job_settles_timeouts_and_leaves_settled_payments_alone(db, uow, billers, member):
    member_no, _ = member
    unknown = bills.pay_bill(
        uow,
        billers,
        DIRECTORY,
        COUNTER,
        command(look_up(uow, billers, "21009992"), "C-1", member_no),
    )
    assert unknown.body.status == "unknown"
    paid = bills.pay_bill(
        uow, billers, DIRECTORY, COUNTER, command(look_up(uow, billers, "21000004"), "C-2")
    )
    assert paid.body.status == "paid"
    assert bills.resolve_unknown_payments(uow, billers) == 1
    assert receipt(db, unknown.body.payment_no)["status"] == "paid"
    assert available(db, member_no) == receipt(db, unknown.body.payment_no)["points"] > 0
    assert bills.resolve_unknown_payments(uow, billers) == 0
    assert billers.count("status") == 1


def test_a_reversal_interrupted_after_the_biller_made_it_is_completed_by_a_status_check(
    db, uow, billers, member
):
    member_no, _ = member
    paid = bills.pay_bill(
        uow,
        billers,
        DIRECTORY,
        COUNTER,
        command(look_up(uow, billers, "21000005"), "C-1", member_no),
    ).body
    paid = as_answer(paid)
    assert available(db, member_no) == paid["points"] > 0
    info = bills.BillerInfo(WATER, "水务", "water", "sandbox")
    billers(info).reverse(paid["payment_no"])
    body = as_answer(bills.check_payment_status(uow, billers, DIRECTORY, paid["payment_no"], None))
    assert body["status"] == "reversed"
    assert body["points_reversed"] == paid["points"]
    assert available(db, member_no) == 0


def test_the_timeline_shows_payments_and_reversals_with_signed_amounts(db, uow, billers, member):
    member_no, member_id = member
    paid = bills.pay_bill(
        uow,
        billers,
        DIRECTORY,
        COUNTER,
        command(look_up(uow, billers, "21000006"), "C-1", member_no),
    ).body
    bills.reverse_payment(uow, billers, COUNTER, "R-1", paid.payment_no)
    with pytest.raises(bills.PaymentDeclined):
        bills.pay_bill(
            uow,
            billers,
            DIRECTORY,
            COUNTER,
            command(look_up(uow, billers, "21009991"), "C-2", member_no),
        )
    bills.pay_bill(  # another member's payment stays out of this timeline
        uow, billers, DIRECTORY, COUNTER, command(look_up(uow, billers, "21000007"), "C-3")
    )
    with read_session(db.session_factory) as session:
        entries = bills.member_activity(session, member_id)
    assert {entry.kind for entry in entries} == {"bill"}
    assert [entry.occurred_at for entry in entries] == sorted(
        (entry.occurred_at for entry in entries), reverse=True
    )
    by_status = {entry.status: entry for entry in entries}
    assert set(by_status) == {"reversed", "reversal", "declined"}
    assert by_status["reversed"].amount_fen == -paid.amount_fen
    assert by_status["reversed"].points == paid.points
    assert by_status["reversal"].amount_fen == paid.amount_fen
    assert by_status["reversal"].points == -paid.points
    assert by_status["declined"].amount_fen == 0
    assert by_status["reversed"].reference == paid.payment_no
    assert "上海城投水务" in by_status["reversed"].title


def test_loading_billers_twice_adds_them_once(uow):
    with uow() as unit:
        assert bills.load_billers(unit) == 0  # init-db loaded them already
    with uow() as unit:
        assert unit.session.scalar(select(func.count()).select_from(Biller)) == 5


@pytest.mark.parametrize("same_external_id", [True, False])
def test_two_requests_paying_one_bill_at_once_charge_it_once(db, uow, billers, same_external_id):
    bill = look_up(uow, billers, "21000008")
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def attempt(index: int) -> None:
        external_id = "C-1" if same_external_id else f"C-{index}"
        barrier.wait()
        try:
            written = bills.pay_bill(uow, billers, DIRECTORY, COUNTER, command(bill, external_id))
            outcomes.append(written.body.status)
        except DomainError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=attempt, args=(index,)) for index in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert billers.count("pay") == 1
    assert "paid" in outcomes
    expected_other = (
        {"paid", "processing"}
        if same_external_id
        else {"bill-already-paid", "bill-payment-unresolved"}
    )
    assert set(outcomes) - {"paid"} <= expected_other
    with read_session(db.session_factory) as session:
        taken = session.scalar(
            select(func.count()).where(SandboxBillerPayment.account_no == "21000008")
        )
    assert taken == 1
