"""Bill payment use cases: look a bill up, pay it, settle an unanswered payment, reverse it.

A biller is never called inside one of our transactions: a slow biller would hold our
locks, and what we asked it to take must be on record before we ask. So the use cases
that talk to a biller take a `uow_factory` and run in steps, each step one unit of work
that commits itself: record the intent, call the biller, record its answer. Whatever
happens between the steps, the payment row says what we know, and an `unknown` (or a
long-stuck `processing`) payment is settled by asking the biller for its status, never
by paying again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

import crm
import points_engine
from common import idempotency
from common.clock import as_utc, business_date, to_utc, utcnow
from common.codes import COMPANY_CODE
from common.db import is_postgres
from common.errors import InconsistentFields, Invalid
from common.idempotency import Written
from common.public_ids import public_no
from common.unit_of_work import UnitOfWork
from storefront_api import vouchers
from storefront_api.bills import orm
from storefront_api.bills.domain import (
    LIVE_STATUSES,
    Bill,
    BillAlreadyPaid,
    BillerDeclined,
    BillerFor,
    BillerInfo,
    BillerReceipt,
    BillerStatus,
    BillerTimeout,
    BillerUnavailable,
    NoBillDue,
    Payer,
    PaymentDeclined,
    PaymentFailed,
    PaymentStatus,
    PaymentUnresolved,
    UnknownBill,
    UnknownBiller,
    UnknownPayment,
    check_account_no,
    check_amount,
    check_reversible,
    needs_biller_answer,
    resolution,
)
from storefront_api.bills.queries import BillView, Receipt, bill_view, find_payment, receipt
from storefront_api.bills.reference import BILLERS, BillerSeed

log = logging.getLogger(__name__)

UowFactory = Callable[[], UnitOfWork]
# Points of payments taken by an unbound key or by a member in the app are issued by
# the company itself.
COMPANY_INSTITUTION = COMPANY_CODE
BUSINESS_TYPE = "bill_payment"


@dataclass(frozen=True)
class PaymentCommand:
    external_id: str
    bill_id: str
    amount_fen: int
    member: points_engine.MemberRef | None = None
    bill_credit_code: str | None = None


@dataclass(frozen=True)
class _Opened:
    """A payment on record as `processing`, about to be sent to the biller."""

    payment_no: str
    bill: Bill
    biller: BillerInfo


BillerAnswer = BillerReceipt | BillerDeclined | BillerTimeout


def _accrual_id(payment_no: str) -> str:
    """The ledger external id of a payment's points, in its channel's id space."""
    return f"bill:{payment_no}"


# -- reference data -----------------------------------------------------------------


def load_billers(uow: UnitOfWork, seeds: tuple[BillerSeed, ...] = BILLERS) -> int:
    """Add the billers not yet known (existing ones are left as an admin may have set them)."""
    session = uow.session
    known = set(session.scalars(select(orm.Biller.code)))
    now = utcnow()
    added = 0
    for seed in seeds:
        if seed.code in known:
            continue
        session.add(
            orm.Biller(
                code=seed.code,
                name=seed.name,
                name_en=seed.name_en,
                kind=seed.kind,
                adapter=seed.adapter,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
        added += 1
    return added


def _biller_info(row: orm.Biller) -> BillerInfo:
    return BillerInfo(code=row.code, name=row.name, kind=row.kind, adapter=row.adapter)


def _active_biller(session: Session, code: str, field: str = "biller_code") -> orm.Biller:
    row = session.scalars(select(orm.Biller).where(orm.Biller.code == code)).one_or_none()
    if row is None or not row.active:
        raise UnknownBiller(
            f"unknown biller {code!r}", Invalid.field(field, "unknown biller").errors
        )
    return row


def _any_biller(session: Session, code: str) -> BillerInfo:
    """A payment's biller, even one no longer active: its payments must still resolve."""
    row = session.scalars(select(orm.Biller).where(orm.Biller.code == code)).one()
    return _biller_info(row)


# -- looking a bill up --------------------------------------------------------------


def query_bill(
    uow_factory: UowFactory, biller_for: BillerFor, biller_code: str, account_no: str
) -> BillView:
    """Ask the biller what is due on an account and keep it as a bill that can be paid.

    Raises Invalid (malformed account number), UnknownBiller, NoBillDue (nothing due,
    including a bill already paid in full), BillerUnavailable.
    """
    check_account_no(account_no)
    with uow_factory() as uow:
        biller = _biller_info(_active_biller(uow.session, biller_code))
    try:
        bill = biller_for(biller).query_bill(account_no)
    except BillerTimeout as error:
        raise BillerUnavailable(f"{biller.code} did not answer; try again") from error
    if bill is None:
        raise NoBillDue(f"{biller.code} has no bill due on account {account_no}")
    with uow_factory() as uow:
        view = record_bill(uow, bill)
        uow.commit()
    return view


def record_bill(uow: UnitOfWork, bill: Bill) -> BillView:
    """Keep the bill a biller stated; one row per biller, account and period, updated in place."""
    session = uow.session
    now = utcnow()
    insert = pg_insert if is_postgres(session) else sqlite_insert
    # Two callers querying the same new bill at once must not both insert it.
    session.execute(
        insert(orm.Bill)
        .values(
            bill_no=public_no("BL"),
            biller_code=bill.biller_code,
            account_no=bill.account_no,
            period=bill.period,
            amount_due_fen=bill.amount_due_fen,
            customer_name=bill.customer_name,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["biller_code", "account_no", "period"])
    )
    row = session.scalars(
        select(orm.Bill)
        .where(
            orm.Bill.biller_code == bill.biller_code,
            orm.Bill.account_no == bill.account_no,
            orm.Bill.period == bill.period,
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if (row.amount_due_fen, row.customer_name) != (bill.amount_due_fen, bill.customer_name):
        row.amount_due_fen = bill.amount_due_fen
        row.customer_name = bill.customer_name
        row.updated_at = now
    biller = session.scalars(select(orm.Biller).where(orm.Biller.code == bill.biller_code)).one()
    return bill_view(row, biller)


# -- paying -------------------------------------------------------------------------


def pay_bill(
    uow_factory: UowFactory,
    biller_for: BillerFor,
    directory: points_engine.MemberDirectory,
    payer: Payer,
    command: PaymentCommand,
    *,
    now: datetime | None = None,
) -> Written[Receipt]:
    """Pay a bill once, whatever the retries; idempotent per payer scope + external_id.

    `now` (default the clock) dates the payment and its points, so history can be generated.

    The answer's body is the receipt: `paid` (points earned when a member is named),
    or `unknown` when the biller did not answer (no points until a status check finds
    it paid), or `processing` for a replay while the first request still waits. A
    replay never calls the biller again and shows the payment as it is now.
    Raises PaymentDeclined (the decline is recorded and replays raise it again),
    PaymentFailed (an unknown payment the biller turned out never to have received),
    Invalid (unknown bill, unknown member, amount not the amount due),
    BillAlreadyPaid, PaymentUnresolved, Conflict.
    """
    with uow_factory() as uow:
        opened = open_payment(uow, directory, payer, command, now=now)
        uow.commit()
    if isinstance(opened, Written):
        return _as_answer(opened)
    answer: BillerAnswer
    try:
        answer = biller_for(opened.biller).pay(opened.bill, command.amount_fen, opened.payment_no)
    except (BillerDeclined, BillerTimeout) as error:
        answer = error
    except Exception:
        # Whatever broke, the biller may have taken the money: treat it as no answer.
        log.exception("biller %s failed on payment %s", opened.biller.code, opened.payment_no)
        answer = BillerTimeout(f"{opened.biller.code} failed")
    with uow_factory() as uow:
        settled = settle_payment(uow, directory, opened.payment_no, answer, now=now)
        uow.commit()
    return _as_answer(Written(settled))


def _as_answer(written: Written[Receipt]) -> Written[Receipt]:
    status = written.body.status
    payment_no = written.body.payment_no
    if status == PaymentStatus.DECLINED:
        raise PaymentDeclined(
            f"the biller declined payment {payment_no}: {written.body.decline_reason}"
        )
    if status == PaymentStatus.FAILED:
        raise PaymentFailed(
            f"payment {payment_no} never reached the biller; nothing was taken, pay again"
        )
    return written


def open_payment(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    payer: Payer,
    command: PaymentCommand,
    *,
    now: datetime | None = None,
) -> _Opened | Written[Receipt]:
    """Put the payment on record as `processing` (step one of `pay_bill`), or answer a
    replay with the payment as it is now.

    The bill is locked so that two payments of it cannot both start. Everything that
    can refuse the payment is checked here, before the biller is asked.
    """
    session = uow.session

    def effect() -> _Opened | Receipt:
        return _open(uow, directory, payer, command, now)

    def replay(record: dict[str, Any]) -> _Opened | Receipt:
        payment = find_payment(session, str(record["payment_no"]))
        assert payment is not None
        return receipt(session, payment)

    def stored(opened: _Opened | Receipt) -> dict[str, str]:
        return {"payment_no": opened.payment_no}

    key = idempotency.Key(payer.scope, "bill-payment", command.external_id)
    written = idempotency.once(session, key, command, effect, replay=replay, stored=stored)
    if isinstance(written.body, Receipt):
        return Written(written.body, replayed=True)
    return written.body


def _open(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    payer: Payer,
    command: PaymentCommand,
    now: datetime | None,
) -> _Opened:
    session = uow.session
    bill = session.scalars(
        select(orm.Bill)
        .where(orm.Bill.bill_no == command.bill_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if bill is None:
        raise UnknownBill(
            f"unknown bill {command.bill_id!r}",
            Invalid.field("bill_id", "unknown bill; look it up with /bills/query first").errors,
        )
    biller = _biller_info(_active_biller(session, bill.biller_code, "bill_id"))
    member = _paying_member(uow, directory, payer, command.member)
    check_amount(command.amount_fen, bill.amount_due_fen)
    live = session.scalars(
        select(orm.BillPayment)
        .where(
            orm.BillPayment.bill_id == bill.id,
            orm.BillPayment.status.in_([status.value for status in LIVE_STATUSES]),
        )
        .order_by(orm.BillPayment.id)
        .limit(1)
    ).first()
    if live is not None and live.status == PaymentStatus.PAID:
        raise BillAlreadyPaid(f"bill {bill.bill_no} is already paid by {live.payment_no}")
    if live is not None:
        raise PaymentUnresolved(
            f"payment {live.payment_no} of bill {bill.bill_no} is {live.status}; "
            "check its status before paying again"
        )
    now = to_utc(now) if now is not None else utcnow()
    payment = orm.BillPayment(
        payment_no=public_no("BP"),
        bill_id=bill.id,
        biller_code=bill.biller_code,
        account_no=bill.account_no,
        period=bill.period,
        amount_fen=command.amount_fen,
        status=PaymentStatus.PROCESSING.value,
        scope=payer.scope,
        external_id=command.external_id,
        channel=payer.channel,
        institution_code=payer.institution_code or COMPANY_INSTITUTION,
        paid_by_member=payer.is_member,
        member_id=None if member is None else member.member_id,
        member_no=None if member is None else member.member_no,
        points=0,
        points_reversed=0,
        created_at=now,
        updated_at=now,
    )
    session.add(payment)
    session.flush()
    if member is not None:
        credit = vouchers.take_bill_credit(
            session,
            code=command.bill_credit_code,
            member_id=member.member_id,
            channel=payer.channel,
            institution_code=payer.institution_code,
            payment_no=payment.payment_no,
            biller_kind=biller.kind,
            amount_fen=command.amount_fen,
            now=now,
            field="bill_credit_code",
        )
        payment.credit_fen = credit.applied_fen if credit is not None else 0
    elif command.bill_credit_code is not None:
        raise InconsistentFields.field(
            "bill_credit_code", "a bill credit is the member's: name the member"
        )
    return _Opened(
        payment.payment_no,
        Bill(
            bill.biller_code, bill.account_no, bill.period, bill.amount_due_fen, bill.customer_name
        ),
        biller,
    )


def _paying_member(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    payer: Payer,
    named: points_engine.MemberRef | None,
) -> points_engine.MemberInfo | None:
    """The member who earns the points: the one named, or the member paying themself
    (the access policy lets a member name nobody but themself)."""
    if payer.member_no is None:
        return None if named is None else directory.resolve(uow, named, "member")
    return directory.resolve(uow, points_engine.MemberRef(member_no=payer.member_no), "member")


def settle_payment(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    payment_no: str,
    answer: BillerAnswer,
    *,
    now: datetime | None = None,
) -> Receipt:
    """Record the biller's answer to a `processing` payment (step three of `pay_bill`).

    A payment settled meanwhile (a status check after a very long call) is left as it is.
    """
    session = uow.session
    payment = _locked_payment(session, payment_no)
    if payment.status == PaymentStatus.PROCESSING:
        if isinstance(answer, BillerReceipt):
            payment.biller_ref = answer.biller_ref
            _mark_paid(uow, directory, payment, answer.paid_at)
        elif isinstance(answer, BillerDeclined):
            payment.status = PaymentStatus.DECLINED.value
            payment.decline_reason = answer.reason[:200]
            _give_back_credit(session, payment, to_utc(now) if now is not None else utcnow())
        else:
            payment.status = PaymentStatus.UNKNOWN.value
        payment.updated_at = to_utc(now) if now is not None else utcnow()
    session.flush()
    return receipt(session, payment)


def _locked_payment(session: Session, payment_no: str) -> orm.BillPayment:
    payment = session.scalars(
        select(orm.BillPayment)
        .where(orm.BillPayment.payment_no == payment_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if payment is None:
        raise UnknownPayment(f"no bill payment {payment_no!r}")
    return payment


def _mark_paid(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    payment: orm.BillPayment,
    paid_at: datetime,
) -> None:
    """Paid, with the member's points earned as of when they paid (not when we learnt it),
    on what they paid themself (a bill credit earns nothing)."""
    payment.status = PaymentStatus.PAID.value
    payment.paid_at = paid_at
    collected = payment.amount_fen - payment.credit_fen
    if payment.member_no is None or collected == 0:
        return
    written = points_engine.accrue_points(
        uow,
        directory,
        payment.channel,
        points_engine.AccrualCommand(
            external_id=_accrual_id(payment.payment_no),
            member=points_engine.MemberRef(member_no=payment.member_no),
            institution_code=payment.institution_code,
            occurred_at=as_utc(payment.created_at),
            business_type=BUSINESS_TYPE,
            lines=(
                points_engine.AccrualLine(
                    sku=payment.biller_code, quantity=1, amount_fen=collected
                ),
            ),
            total_fen=collected,
        ),
    )
    payment.points = written.body.points
    payment.accrual_no = written.body.accrual_id


def _reverse_points(uow: UnitOfWork, payment: orm.BillPayment) -> None:
    if payment.accrual_no is None:
        return
    written = points_engine.refund_purchase(
        uow,
        payment.channel,
        points_engine.RefundCommand(
            external_id=f"bill-reversal:{payment.payment_no}",
            original_external_id=_accrual_id(payment.payment_no),
            amount_fen=payment.amount_fen - payment.credit_fen,
        ),
    )
    payment.points_reversed = written.body.points_reversed


def _give_back_credit(session: Session, payment: orm.BillPayment, now: datetime) -> None:
    """Declined, never received or reversed: the member's bill credit is theirs again."""
    if payment.credit_fen:
        vouchers.give_back_for_bill(session, payment.payment_no, now)


# -- resolving what the biller did not answer ---------------------------------------


def check_payment_status(
    uow_factory: UowFactory,
    biller_for: BillerFor,
    directory: points_engine.MemberDirectory,
    payment_no: str,
    now: datetime | None = None,
) -> Receipt:
    """Ask the biller about a payment and settle it: `unknown` becomes paid (points now),
    failed or reversed; a paid one follows a reversal the biller made. A payment whose
    own request is still waiting for the biller, or a final one, is answered as it is.

    Raises UnknownPayment, BillerUnavailable.
    """
    now = now or utcnow()
    with uow_factory() as uow:
        session = uow.session
        payment = find_payment(session, payment_no)
        if payment is None:
            raise UnknownPayment(f"no bill payment {payment_no!r}")
        if not needs_biller_answer(PaymentStatus(payment.status), as_utc(payment.created_at), now):
            return receipt(session, payment)
        biller = _any_biller(session, payment.biller_code)
    try:
        theirs = biller_for(biller).status(payment_no)
    except (BillerTimeout, BillerDeclined) as error:
        raise BillerUnavailable(f"{biller.code} did not answer; try again") from error
    with uow_factory() as uow:
        resolved = resolve_payment(uow, directory, payment_no, theirs, now)
        uow.commit()
    return resolved


def resolve_payment(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    payment_no: str,
    theirs: BillerStatus,
    now: datetime,
) -> Receipt:
    """Apply the biller's status to a payment, re-read under its lock (see domain.resolution)."""
    session = uow.session
    payment = _locked_payment(session, payment_no)
    ours = PaymentStatus(payment.status)
    settled = ours
    # The payment's own request may have recorded the biller's answer since we asked.
    if needs_biller_answer(ours, as_utc(payment.created_at), now):
        settled = resolution(ours, theirs)
    if settled is not ours:
        if settled is PaymentStatus.PAID:
            _mark_paid(uow, directory, payment, as_utc(payment.created_at))
        elif settled is PaymentStatus.REVERSED:
            if ours is PaymentStatus.PAID:
                _reverse_points(uow, payment)
            else:
                # Taken and given back by the biller before we ever heard of it.
                payment.paid_at = as_utc(payment.created_at)
            payment.status = settled.value
            payment.reversed_at = now
            _give_back_credit(session, payment, now)
        else:
            payment.status = settled.value
            if settled is PaymentStatus.FAILED:
                _give_back_credit(session, payment, now)
        payment.updated_at = now
        session.flush()
    return receipt(session, payment)


def resolve_unknown_payments(
    uow_factory: UowFactory,
    biller_for: BillerFor,
    directory: points_engine.MemberDirectory | None = None,
    now: datetime | None = None,
) -> int:
    """Ask the billers about every unanswered payment, oldest first; returns how many settled.

    For `jobs run-due`. A biller that does not answer now is asked again on the next run.
    """
    directory = directory or crm.CrmMemberDirectory()
    now = now or utcnow()
    with uow_factory() as uow:
        session = uow.session
        waiting = session.execute(
            select(
                orm.BillPayment.payment_no,
                orm.BillPayment.status,
                orm.BillPayment.created_at,
                orm.BillPayment.biller_code,
            )
            .where(
                orm.BillPayment.status.in_(
                    [PaymentStatus.UNKNOWN.value, PaymentStatus.PROCESSING.value]
                )
            )
            .order_by(orm.BillPayment.created_at, orm.BillPayment.id)
        ).all()
        billers = {code: _any_biller(session, code) for code in {row[3] for row in waiting}}
    settled = 0
    for payment_no, status, created_at, biller_code in waiting:
        if not needs_biller_answer(PaymentStatus(status), as_utc(created_at), now):
            continue
        try:
            theirs = biller_for(billers[biller_code]).status(payment_no)
        except (BillerTimeout, BillerDeclined):
            continue
        except Exception:
            # One broken biller adapter must not stop the job for every other payment.
            log.exception("biller %s failed on status of %s", biller_code, payment_no)
            continue
        with uow_factory() as uow:
            resolved = resolve_payment(uow, directory, payment_no, theirs, now)
            uow.commit()
        if resolved.status not in (PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING):
            settled += 1
    return settled


# -- reversal (冲正) ------------------------------------------------------------------


def reverse_payment(
    uow_factory: UowFactory,
    biller_for: BillerFor,
    payer: Payer,
    external_id: str,
    payment_no: str,
    now: datetime | None = None,
) -> Written[Receipt]:
    """Reverse a paid payment on its business day: the biller gives the money back and the
    member's points are reversed. Who may reverse it is the access policy's to say.

    Idempotent per channel + external_id; a failed or interrupted reversal may simply be
    sent again, since reversing at the biller twice does nothing more. Raises
    UnknownPayment, NotReversible, ReversalWindowClosed, PaymentDeclined
    (the biller refused), BillerUnavailable, Conflict.
    """
    now = now or utcnow()
    key = idempotency.Key(payer.scope, "bill-reversal", external_id)
    with uow_factory() as uow:
        # A look before asking the biller; the reversal itself is written once, below.
        answered = idempotency.earlier(uow.session, key, {"payment_no": payment_no}, Receipt)
        if answered is not None:
            return answered
        payment = _reversible_payment(uow.session, payment_no, payer, now)
        biller = _any_biller(uow.session, payment.biller_code)
    try:
        biller_for(biller).reverse(payment_no)
    except BillerDeclined as error:
        raise PaymentDeclined(
            f"the biller refused to reverse payment {payment_no}: {error.reason}"
        ) from error
    except BillerTimeout as error:
        raise BillerUnavailable(
            f"{biller.code} did not answer; the reversal may or may not have been made: "
            "send it again"
        ) from error
    with uow_factory() as uow:
        recorded = record_reversal(uow, payer, external_id, payment_no, now)
        uow.commit()
    return recorded


def record_reversal(
    uow: UnitOfWork, payer: Payer, external_id: str, payment_no: str, now: datetime
) -> Written[Receipt]:
    """Record a reversal the biller made: status `reversed`, the member's points reversed."""
    session = uow.session

    def effect() -> Receipt:
        payment = _reversible_payment(session, payment_no, payer, now, lock=True)
        _reverse_points(uow, payment)
        payment.status = PaymentStatus.REVERSED.value
        payment.reversed_at = now
        payment.reversal_external_id = external_id
        payment.updated_at = now
        _give_back_credit(session, payment, now)
        session.flush()
        return receipt(session, payment)

    key = idempotency.Key(payer.scope, "bill-reversal", external_id)
    return idempotency.once(session, key, {"payment_no": payment_no}, effect, kind=Receipt)


def _reversible_payment(
    session: Session, payment_no: str, payer: Payer, now: datetime, *, lock: bool = False
) -> orm.BillPayment:
    payment = _locked_payment(session, payment_no) if lock else find_payment(session, payment_no)
    if payment is None:
        raise UnknownPayment(f"no bill payment {payment_no!r}")
    paid_on = None if payment.paid_at is None else business_date(payment.paid_at)
    check_reversible(PaymentStatus(payment.status), paid_on, business_date(now))
    return payment
