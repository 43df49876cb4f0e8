"""Bill payment rules: the Biller port, payment statuses and how a biller's answer resolves them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Protocol

from common.errors import Conflict, Invalid, NotFound, RuleViolation

BILLER_KINDS = ("water", "electricity", "gas", "broadband", "landline")
ACCOUNT_NO_PATTERN = r"^[0-9]{8,16}$"
_ACCOUNT_NO = re.compile(ACCOUNT_NO_PATTERN)

# A member paying for themself does so in the China Post app; their payments and
# points are booked to that channel.
MEMBER_CHANNEL = "app"
# A payment is `processing` while its request waits for the biller. Past this age the
# request is taken to have died mid-call, and the payment is resolved like `unknown`;
# it is far longer than any biller call may take, so a live call is never second-guessed.
PROCESSING_GRACE = timedelta(minutes=5)


class PaymentStatus(StrEnum):
    PROCESSING = "processing"
    PAID = "paid"
    DECLINED = "declined"
    UNKNOWN = "unknown"
    FAILED = "failed"
    REVERSED = "reversed"


# A bill with one of these payments is paid, or may be: paying it again could charge twice.
LIVE_STATUSES = (PaymentStatus.PROCESSING, PaymentStatus.UNKNOWN, PaymentStatus.PAID)
FINAL_STATUSES = (PaymentStatus.DECLINED, PaymentStatus.FAILED, PaymentStatus.REVERSED)


class BillerStatus(StrEnum):
    """What the biller says it holds for a payment reference."""

    PAID = "paid"
    NOT_FOUND = "not_found"
    REVERSED = "reversed"


# -- the biller port ----------------------------------------------------------------


@dataclass(frozen=True)
class BillerInfo:
    code: str
    name: str
    kind: str
    adapter: str


@dataclass(frozen=True)
class Bill:
    """A bill as the biller states it; `customer_name` comes masked (张*明)."""

    biller_code: str
    account_no: str
    period: str
    amount_due_fen: int
    customer_name: str


@dataclass(frozen=True)
class BillerReceipt:
    payment_ref: str
    biller_ref: str
    paid_at: datetime


class BillerDeclined(Exception):
    """The biller refused: nothing was taken."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BillerTimeout(Exception):
    """No answer: the biller may or may not have taken the payment."""


class Biller(Protocol):
    """One biller (one biller code) as an adapter sees it.

    `payment_ref` is our payment number; `reverse` of an already reversed payment
    succeeds without doing anything, so a reversal may always be retried.
    """

    def query_bill(self, account_no: str) -> Bill | None: ...

    def pay(self, bill: Bill, amount_fen: int, payment_ref: str) -> BillerReceipt:
        """Raises BillerDeclined or BillerTimeout."""
        ...

    def reverse(self, payment_ref: str) -> None:
        """Raises BillerDeclined (no such payment) or BillerTimeout."""
        ...

    def status(self, payment_ref: str) -> BillerStatus: ...


BillerFor = Callable[[BillerInfo], Biller]


# -- who pays -----------------------------------------------------------------------


@dataclass(frozen=True)
class Payer:
    """A channel key (with its outlet, if bound to one) or a member paying for themself."""

    channel: str
    institution_code: str | None = None
    member_no: str | None = None

    @classmethod
    def member(cls, member_no: str) -> Payer:
        return cls(MEMBER_CHANNEL, None, member_no)

    @property
    def is_member(self) -> bool:
        return self.member_no is not None

    @property
    def scope(self) -> str:
        """Idempotency scope: a member's external ids are theirs alone, a channel's shared."""
        return f"member:{self.member_no}" if self.member_no else f"channel:{self.channel}"


# -- errors -------------------------------------------------------------------------


class UnknownBiller(Invalid):
    code = "unknown-biller"
    title = "Unknown biller"


class NoBillDue(NotFound):
    code = "no-bill-due"
    title = "No bill due"


class AmountNotDue(Invalid):
    code = "amount-not-due"
    title = "Amount is not the bill's amount due"


class UnknownBill(Invalid):
    code = "unknown-bill"
    title = "Unknown bill"


class UnknownPayment(NotFound):
    code = "unknown-bill-payment"
    title = "Unknown bill payment"


class BillAlreadyPaid(Conflict):
    code = "bill-already-paid"
    title = "Bill already paid"


class PaymentUnresolved(Conflict):
    code = "bill-payment-unresolved"
    title = "An earlier payment of this bill is not resolved yet"


class PaymentDeclined(RuleViolation):
    code = "biller-declined"
    title = "The biller declined the payment"


class PaymentFailed(RuleViolation):
    code = "bill-payment-failed"
    title = "The biller never received the payment"


class NotReversible(Conflict):
    code = "not-reversible"
    title = "Payment cannot be reversed"


class ReversalWindowClosed(RuleViolation):
    code = "reversal-window-closed"
    title = "Reversal only on the business day of payment"


class BillerUnavailable(Conflict):
    code = "biller-timeout"
    title = "The biller did not answer"


# -- rules --------------------------------------------------------------------------


def is_account_no(account_no: str) -> bool:
    """Account numbers are 8 to 16 ASCII digits."""
    return _ACCOUNT_NO.fullmatch(account_no) is not None


def check_account_no(account_no: str) -> None:
    """Raises Invalid naming `account_no` unless it is 8 to 16 ASCII digits."""
    if not is_account_no(account_no):
        raise Invalid.field("account_no", "must be 8 to 16 digits (0-9)")


def check_amount(amount_fen: int, amount_due_fen: int) -> None:
    """A bill is paid whole: neither part of it (billers here take no part payments) nor more.

    Raises Invalid naming `amount_fen`.
    """
    if amount_fen != amount_due_fen:
        raise AmountNotDue.field("amount_fen", f"must equal the amount due, {amount_due_fen} fen")


def needs_biller_answer(status: PaymentStatus, created_at: datetime, now: datetime) -> bool:
    """Whether a status check should ask the biller about a payment in this state.

    A paid payment is asked too: a reversal interrupted after the biller reversed it
    shows up as `reversed` there. Final states are never asked again.
    """
    if status is PaymentStatus.PROCESSING:
        return now - created_at >= PROCESSING_GRACE
    return status in (PaymentStatus.UNKNOWN, PaymentStatus.PAID)


def resolution(ours: PaymentStatus, theirs: BillerStatus) -> PaymentStatus:
    """Our status once the biller said `theirs`; final states never change.

    A payment whose outcome we did not know becomes whatever the biller holds (nothing
    held: failed). A paid payment follows a reversal the biller made; if the biller
    has no record of a payment it gave us a receipt for, we keep our receipt.
    """
    if ours in FINAL_STATUSES:
        return ours
    if theirs is BillerStatus.REVERSED:
        return PaymentStatus.REVERSED
    if theirs is BillerStatus.PAID:
        return PaymentStatus.PAID
    return PaymentStatus.PAID if ours is PaymentStatus.PAID else PaymentStatus.FAILED


def check_reversible(status: PaymentStatus, paid_on: date | None, today: date) -> None:
    """Only a paid payment, and only on the business day it was paid (冲正 is same-day).

    Raises NotReversible (409) for any other status, ReversalWindowClosed (422) later on.
    """
    if status is PaymentStatus.REVERSED:
        raise NotReversible("the payment is already reversed")
    if status in (PaymentStatus.UNKNOWN, PaymentStatus.PROCESSING):
        raise NotReversible(
            f"the payment is {status.value}: check its status first, then reverse it if paid"
        )
    if status is not PaymentStatus.PAID or paid_on is None:
        raise NotReversible(f"the payment is {status.value}: nothing was taken to give back")
    if paid_on != today:
        raise ReversalWindowClosed(
            f"a payment can be reversed only on the business day it was paid ({paid_on}); "
            "after that the biller refunds it on request"
        )
