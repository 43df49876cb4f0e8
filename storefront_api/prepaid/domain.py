"""Prepaid-card rules: card numbers with a Luhn check digit, balance arithmetic, errors."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from enum import StrEnum

from common.errors import Conflict, FieldError, Invalid, NotFound, RuleViolation

CARD_NO_LENGTH = 19
# The operator's issuer prefix; the 12 digits after it are drawn at random, so card
# numbers are neither sequential nor guessable from one another.
ISSUER_PREFIX = "958800"
RANDOM_DIGITS = CARD_NO_LENGTH - len(ISSUER_PREFIX) - 1

# PBOC rules on prepaid cards (支付机构预付卡业务管理办法, art. 17): a card registered
# to a named holder holds at most 5,000 yuan, an anonymous one at most 1,000 yuan.
NAMED_CARD_LIMIT_FEN = 500_000
ANONYMOUS_CARD_LIMIT_FEN = 100_000

# Where money can be paid in for a card: staffed counters, shops and the online channels.
CARD_SELLING_CHANNELS = ("counter", "retail", "web", "app")
STAFF_CHANNEL = "staff"


class CardStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"


class EntryKind(StrEnum):
    ISSUE = "issue"
    TOP_UP = "top_up"
    CHARGE = "charge"
    REFUND = "refund"


class AccountKind(StrEnum):
    CARD = "card"
    CASH = "cash"
    SALES = "sales"


# Public numbers of entries start with these letters, so a number names its kind.
ENTRY_PREFIX = {
    EntryKind.ISSUE: "PI",
    EntryKind.TOP_UP: "PT",
    EntryKind.CHARGE: "PC",
    EntryKind.REFUND: "PR",
}
# Sign of an entry as the card sees it: money in for issue, top-up and refund.
CARD_SIGN = {EntryKind.ISSUE: 1, EntryKind.TOP_UP: 1, EntryKind.CHARGE: -1, EntryKind.REFUND: 1}


PIN_DIGITS = 6


def new_pin(draw: Callable[[int], int] = secrets.randbelow) -> str:
    return f"{draw(10**PIN_DIGITS):0{PIN_DIGITS}d}"


def hash_pin(card_no: str, pin: str, secret: str) -> str:
    """Keyed hash bound to the card: a leaked table gives away no PIN, and one card's
    hash says nothing about another card with the same PIN."""
    return hmac.new(secret.encode(), f"{card_no}|{pin}".encode(), hashlib.sha256).hexdigest()


def pin_matches(stored: str | None, card_no: str, pin: str | None, secret: str) -> bool:
    if stored is None or pin is None:
        return False
    return hmac.compare_digest(stored, hash_pin(card_no, pin, secret))


class WrongPin(Invalid):
    code = "wrong-card-pin"
    title = "Wrong or missing card PIN"


def card_account_code(card_no: str) -> str:
    return f"card:{card_no}"


def cash_account_code(institution_code: str) -> str:
    """Where the money paid in at an institution (issue, top-up) is owed from."""
    return f"cash:{institution_code}"


def sales_account_code(channel: str) -> str:
    """Where the money spent by card through a channel went."""
    return f"sales:{channel}"


# -- errors ------------------------------------------------------------------------


class MalformedCardNo(Invalid):
    code = "invalid-card-no"
    title = "Not a prepaid card number"


class CardNotFound(Invalid):
    """A card named in a request body (e.g. an order's payment) that does not exist."""

    code = "card-not-found"
    title = "No such prepaid card"


class UnknownCard(NotFound):
    """A card named in the path that does not exist."""

    code = "unknown-card"
    title = "No such prepaid card"


class CardNotActive(RuleViolation):
    code = "card-not-active"
    title = "The prepaid card is frozen"


class InsufficientBalance(RuleViolation):
    code = "insufficient-balance"
    title = "Not enough money on the prepaid card"


class BalanceLimitExceeded(RuleViolation):
    code = "balance-limit-exceeded"
    title = "The prepaid card cannot hold that much"


class UnknownCharge(NotFound):
    code = "unknown-charge"
    title = "No such charge on this card"


class RefundExceedsCharge(RuleViolation):
    code = "refund-exceeds-charge"
    title = "Refund exceeds what is left of the charge"


class ChargeNotRefundableHere(Conflict):
    code = "charge-not-refundable-here"
    title = "Refund this charge where it was made"


class DuplicateChargeReference(Conflict):
    code = "duplicate-charge-reference"
    title = "A card charge with this reference exists"


def _field(field: str, message: str) -> list[FieldError]:
    return [FieldError(field, message)]


# -- card numbers ------------------------------------------------------------------


def luhn_check_digit(payload: str) -> str:
    """The digit that makes `payload` + digit pass the Luhn (mod 10) check."""
    total = 0
    # Counting from the right of the full number, the check digit is position 1, so
    # the payload's rightmost digit is doubled.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def passes_luhn(number: str) -> bool:
    if len(number) < 2 or not (number.isascii() and number.isdigit()):
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def check_card_no(value: str, field: str = "card_no") -> str:
    """`value` if it is a 19-digit card number with a valid check digit; else MalformedCardNo."""
    if len(value) != CARD_NO_LENGTH or not passes_luhn(value):
        raise MalformedCardNo(
            f"{field}: not a prepaid card number",
            _field(field, f"must be {CARD_NO_LENGTH} digits ending in a valid Luhn check digit"),
        )
    return value


def new_card_no(draw: Callable[[int], int] = secrets.randbelow) -> str:
    """A fresh card number: issuer prefix, random digits from `draw(n) in [0, n)`, check digit."""
    payload = ISSUER_PREFIX + f"{draw(10**RANDOM_DIGITS):0{RANDOM_DIGITS}d}"
    return payload + luhn_check_digit(payload)


# -- balances ----------------------------------------------------------------------


def balance_limit(named: bool) -> int:
    return NAMED_CARD_LIMIT_FEN if named else ANONYMOUS_CARD_LIMIT_FEN


def check_amount(amount_fen: int, field: str = "amount_fen") -> int:
    if amount_fen <= 0:
        raise Invalid.field(field, "must be greater than 0")
    return amount_fen


def credited(balance_fen: int, amount_fen: int, limit_fen: int) -> int:
    """The balance after paying `amount_fen` in (issue, top-up) under the card's limit.

    Raises BalanceLimitExceeded (naming amount_fen) when the card would hold more
    than `limit_fen`.
    """
    check_amount(amount_fen)
    room = max(limit_fen - balance_fen, 0)
    if amount_fen > room:
        raise BalanceLimitExceeded(
            f"the card holds {balance_fen} fen of at most {limit_fen}: "
            f"{amount_fen} fen more do not fit",
            _field("amount_fen", f"at most {room} fen can be paid in"),
        )
    return balance_fen + amount_fen


def debited(balance_fen: int, amount_fen: int, field: str = "amount_fen") -> int:
    """The balance after spending `amount_fen`; never below zero.

    Raises InsufficientBalance (code insufficient-balance, naming `field`).
    """
    check_amount(amount_fen, field)
    if amount_fen > balance_fen:
        raise InsufficientBalance(
            f"{amount_fen} fen needed, {balance_fen} fen on the card",
            _field(field, f"{amount_fen} fen needed, {balance_fen} fen on the card"),
        )
    return balance_fen - amount_fen


def refundable(charged_fen: int, refunded_fen: int) -> int:
    return charged_fen - refunded_fen


def check_refund(charged_fen: int, refunded_fen: int, amount_fen: int) -> None:
    """A refund takes back at most what is left of the charge; raises RefundExceedsCharge."""
    check_amount(amount_fen)
    left = refundable(charged_fen, refunded_fen)
    if amount_fen > left:
        raise RefundExceedsCharge(
            f"refund of {amount_fen} fen exceeds the {left} fen left of the charge",
            _field("amount_fen", f"at most {left} fen can still be refunded"),
        )
