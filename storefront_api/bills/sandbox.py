"""The built-in sandbox biller: bills derived from the account number, faults from its last digits.

Any account number of 8 to 16 digits has a bill due for the previous calendar month,
its amount derived from a hash of the biller code and account number, except numbers
ending 0000 (no bill), 9991 (payments declined), 9992 (payments taken but the answer
lost: a timeout) and 9993 (every answer comes `slow_seconds` late, 3 s by default).
What it received lives in its own table, so every server process sees the same biller.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from common import clock
from common.db import read_session
from common.masking import mask_name
from common.unit_of_work import UnitOfWork
from storefront_api.bills.domain import (
    Bill,
    Biller,
    BillerDeclined,
    BillerFor,
    BillerInfo,
    BillerReceipt,
    BillerStatus,
    BillerTimeout,
    is_account_no,
)
from storefront_api.bills.orm import SandboxBillerPayment

ADAPTER = "sandbox"
DEFAULT_SLOW_SECONDS = 3.0


class Fault(StrEnum):
    NO_BILL = "no_bill"
    DECLINE = "decline"
    TIMEOUT = "timeout"
    SLOW = "slow"


FAULTS_BY_SUFFIX = {
    "0000": Fault.NO_BILL,
    "9991": Fault.DECLINE,
    "9992": Fault.TIMEOUT,
    "9993": Fault.SLOW,
}

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙朱马胡郭林何高沈"
_GIVEN_NAMES = (
    "伟",
    "芳",
    "敏",
    "静",
    "磊",
    "军",
    "洋",
    "艳",
    "杰",
    "涛",
    "明",
    "超",
    "秀英",
    "建国",
    "美玲",
    "志强",
    "海燕",
    "晓东",
    "佳怡",
    "子涵",
)
_BROADBAND_PLANS_FEN = (9_900, 12_900, 15_900, 19_900, 29_900)


def fault_for(account_no: str) -> Fault | None:
    return FAULTS_BY_SUFFIX.get(account_no[-4:])


def billing_period(today: date) -> str:
    """Bills are for the previous calendar month: on 2026-11-25 the bill is for 2026-10."""
    last_month = today.replace(day=1) - timedelta(days=1)
    return f"{last_month.year:04d}-{last_month.month:02d}"


def _digest(biller_code: str, account_no: str) -> bytes:
    return hashlib.sha256(f"{biller_code}:{account_no}".encode()).digest()


def bill_amount_fen(kind: str, biller_code: str, account_no: str) -> int:
    """The monthly bill of one account: a household's typical use at a first-tier price."""
    digest = _digest(biller_code, account_no)
    use = int.from_bytes(digest[:4], "big")
    if kind == "water":
        return (5 + use % 31) * 500 + use % 97  # 5-35 m³
    if kind == "electricity":
        return (80 + use % 621) * 617 // 10  # 80-700 kWh at 0.617 yuan
    if kind == "gas":
        return (10 + use % 71) * 300  # 10-80 m³ at 3 yuan
    if kind == "broadband":
        return _BROADBAND_PLANS_FEN[use % len(_BROADBAND_PLANS_FEN)]
    if kind == "landline":
        return 2_000 + use % 6_001  # line rent plus calls
    raise ValueError(f"the sandbox has no bills of kind {kind!r}")


def customer_name(biller_code: str, account_no: str) -> str:
    digest = _digest(biller_code, account_no)
    return _SURNAMES[digest[4] % len(_SURNAMES)] + _GIVEN_NAMES[digest[5] % len(_GIVEN_NAMES)]


def bill_for(biller: BillerInfo, account_no: str, today: date) -> Bill | None:
    """The bill as first issued, before any payment; None for malformed or 0000 numbers."""
    if not is_account_no(account_no) or fault_for(account_no) is Fault.NO_BILL:
        return None
    return Bill(
        biller_code=biller.code,
        account_no=account_no,
        period=billing_period(today),
        amount_due_fen=bill_amount_fen(biller.kind, biller.code, account_no),
        customer_name=mask_name(customer_name(biller.code, account_no)),
    )


class SandboxBiller:
    """The Biller port for one sandbox biller code."""

    def __init__(
        self,
        biller: BillerInfo,
        session_factory: sessionmaker[Session],
        *,
        slow_seconds: float = DEFAULT_SLOW_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        today: Callable[[], date] = clock.today,
    ) -> None:
        self.biller = biller
        self._sessions = session_factory
        self._slow_seconds = slow_seconds
        self._sleep = sleep
        self._today = today

    def _answer_late(self, account_no: str) -> None:
        if fault_for(account_no) is Fault.SLOW:
            self._sleep(self._slow_seconds)

    def _paid_fen(self, session: Session, account_no: str, period: str) -> int:
        paid = session.scalar(
            select(func.coalesce(func.sum(SandboxBillerPayment.amount_fen), 0)).where(
                SandboxBillerPayment.biller_code == self.biller.code,
                SandboxBillerPayment.account_no == account_no,
                SandboxBillerPayment.period == period,
                SandboxBillerPayment.status == BillerStatus.PAID.value,
            )
        )
        return int(paid or 0)

    def query_bill(self, account_no: str) -> Bill | None:
        """What is still due: a bill paid in full is no longer due (None)."""
        self._answer_late(account_no)
        bill = bill_for(self.biller, account_no, self._today())
        if bill is None:
            return None
        with read_session(self._sessions) as session:
            due = bill.amount_due_fen - self._paid_fen(session, account_no, bill.period)
        if due <= 0:
            return None
        return Bill(bill.biller_code, account_no, bill.period, due, bill.customer_name)

    def pay(self, bill: Bill, amount_fen: int, payment_ref: str) -> BillerReceipt:
        fault = fault_for(bill.account_no)
        if fault is Fault.DECLINE:
            raise BillerDeclined("the biller refused the payment: account frozen (账户冻结)")
        self._answer_late(bill.account_no)
        issued = bill_for(self.biller, bill.account_no, self._today())
        if issued is None:
            raise BillerDeclined("no such account")
        now = clock.utcnow()
        with UnitOfWork(self._sessions) as uow:
            due = issued.amount_due_fen - self._paid_fen(uow.session, bill.account_no, bill.period)
            if amount_fen > due:
                raise BillerDeclined(f"only {max(due, 0)} fen is due for {bill.period}")
            biller_ref = "SBX" + secrets.token_hex(8).upper()
            uow.session.add(
                SandboxBillerPayment(
                    biller_ref=biller_ref,
                    payment_ref=payment_ref,
                    biller_code=self.biller.code,
                    account_no=bill.account_no,
                    period=bill.period,
                    amount_fen=amount_fen,
                    status=BillerStatus.PAID.value,
                    created_at=now,
                    updated_at=now,
                )
            )
            uow.commit()
        if fault is Fault.TIMEOUT:
            # The money is booked; only the answer is lost on the way back.
            raise BillerTimeout(f"no answer from {self.biller.code}")
        return BillerReceipt(payment_ref=payment_ref, biller_ref=biller_ref, paid_at=now)

    def reverse(self, payment_ref: str) -> None:
        with UnitOfWork(self._sessions) as uow:
            found = uow.session.scalar(
                select(func.count()).where(SandboxBillerPayment.payment_ref == payment_ref)
            )
            if not found:
                raise BillerDeclined(f"no payment {payment_ref!r} to reverse")
            uow.session.execute(
                update(SandboxBillerPayment)
                .where(
                    SandboxBillerPayment.payment_ref == payment_ref,
                    SandboxBillerPayment.status == BillerStatus.PAID.value,
                )
                .values(status=BillerStatus.REVERSED.value, updated_at=clock.utcnow())
            )
            uow.commit()

    def status(self, payment_ref: str) -> BillerStatus:
        with read_session(self._sessions) as session:
            statuses = set(
                session.scalars(
                    select(SandboxBillerPayment.status).where(
                        SandboxBillerPayment.payment_ref == payment_ref
                    )
                )
            )
        if not statuses:
            return BillerStatus.NOT_FOUND
        if BillerStatus.PAID.value in statuses:
            return BillerStatus.PAID
        return BillerStatus.REVERSED


def sandbox_billers(
    session_factory: sessionmaker[Session],
    *,
    slow_seconds: float = DEFAULT_SLOW_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    today: Callable[[], date] = clock.today,
) -> BillerFor:
    """A `biller_for` that serves every biller whose adapter is the sandbox."""

    def biller_for(biller: BillerInfo) -> Biller:
        if biller.adapter != ADAPTER:
            raise LookupError(f"no adapter {biller.adapter!r} for biller {biller.code}")
        return SandboxBiller(
            biller, session_factory, slow_seconds=slow_seconds, sleep=sleep, today=today
        )

    return biller_for
