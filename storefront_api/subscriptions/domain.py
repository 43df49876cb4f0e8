"""Newspaper subscription rules: terms, start dates, prices and the pro-rata refund on cancel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from common.errors import Conflict, Invalid, NotFound


class Term(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"


TERM_MONTHS: dict[Term, int] = {Term.MONTHLY: 1, Term.QUARTERLY: 3, Term.ANNUAL: 12}

# An annual subscription is 5% off twelve months, the discount rounded down to the
# fen so that the member never pays a fraction and the operator never gives one.
ANNUAL_DISCOUNT_BP = 500
BP = 10_000


class DeliveryKind(StrEnum):
    ADDRESS = "address"
    OUTLET = "outlet"


class Status(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class UnknownPressTitle(Invalid):
    code = "unknown-press-title"
    title = "Unknown newspaper or magazine"


class StartInThePast(Invalid):
    """A start date or as-of date before today's business date: it depends on the day."""

    code = "date-in-the-past"
    title = "Date already past"


class UnknownSubscription(NotFound):
    code = "unknown-subscription"
    title = "Unknown subscription"


class SubscriptionAlreadyCancelled(Conflict):
    code = "subscription-cancelled"
    title = "Subscription already cancelled"


class SubscriptionFullyDelivered(Conflict):
    code = "subscription-delivered"
    title = "Nothing of the subscription is left to deliver"


def parse_term(value: str) -> Term:
    try:
        return Term(value)
    except ValueError:
        raise Invalid.field("term", f"must be one of {', '.join(t.value for t in Term)}") from None


def add_months(day: date, months: int) -> date:
    """The same day `months` later; only defined here for the first day of a month."""
    if day.day != 1:
        raise ValueError("subscriptions run from the first day of a month")
    index = day.month - 1 + months
    return date(day.year + index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """The delivery days of a subscription, both ends included."""

    starts_on: date
    ends_on: date

    @classmethod
    def of(cls, starts_on: date, term: Term) -> Period:
        return cls(starts_on, add_months(starts_on, TERM_MONTHS[term]) - timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


def start_date_errors(starts_on: date, today: date) -> list[Invalid]:
    """A subscription starts on the first day of a month that has not begun yet, or today
    when today is the first (business dates, Asia/Shanghai)."""
    errors: list[Invalid] = []
    if starts_on.day != 1:
        errors.append(Invalid.field("start_date", "must be the first day of a month"))
    if starts_on < today:
        errors.append(
            StartInThePast.field("start_date", f"must not be before today ({today.isoformat()})")
        )
    return errors


def price_fen(monthly_price_fen: int, term: Term) -> int:
    """The price of one term: the monthly price times its months, annual 5% off (floored)."""
    if monthly_price_fen <= 0:
        raise ValueError("a monthly price is a positive number of fen")
    gross = monthly_price_fen * TERM_MONTHS[term]
    if term is Term.ANNUAL:
        return gross - gross * ANNUAL_DISCOUNT_BP // BP
    return gross


@dataclass(frozen=True)
class CancellationQuote:
    """How a cancellation splits what was paid: `refund_fen + kept_fen == total_fen`."""

    delivered_days: int
    undelivered_days: int
    refund_fen: int
    kept_fen: int


def quote_cancellation(period: Period, total_fen: int, cancelled_on: date) -> CancellationQuote:
    """Split the price between the days delivered and the days that will not be.

    The cancellation day itself is still delivered; undelivered are the days from the
    day after `cancelled_on` (or from the start, if it has not begun) to the end. The
    refund is the price times undelivered days over all days, rounded DOWN to the fen,
    so the member is never refunded for a day they received; the operator keeps the
    rest, which is the price of the delivered days rounded up. A cancellation before
    the start refunds everything. Raises SubscriptionFullyDelivered when nothing is
    left to deliver (cancelled on or after the last day).
    """
    if total_fen <= 0:
        raise ValueError("a subscription's price is a positive number of fen")
    if cancelled_on >= period.ends_on:
        raise SubscriptionFullyDelivered(
            f"the subscription ends on {period.ends_on.isoformat()}; "
            f"as of {cancelled_on.isoformat()} nothing is left to deliver or refund"
        )
    delivered = min(max((cancelled_on - period.starts_on).days + 1, 0), period.days)
    undelivered = period.days - delivered
    refund = total_fen * undelivered // period.days
    return CancellationQuote(delivered, undelivered, refund, total_fen - refund)


def delivered_charge_fen(period: Period, total_fen: int, delivered_days: int) -> int:
    """The price of `delivered_days`, rounded UP to the fen: what a cancellation keeps."""
    return -(-total_fen * delivered_days // period.days)
