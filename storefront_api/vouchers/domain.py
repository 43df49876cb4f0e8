"""Voucher rules: codes, terms, and what a voucher takes off a purchase."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from common.errors import Conflict, Invalid

# Crockford's base32: no I, L, O or U, so a code read aloud or typed from a receipt is
# not misread; 16 characters carry 80 random bits.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s-]+")


class VoucherStatus(StrEnum):
    ISSUED = "issued"  # the member holds it; usable within its dates
    USED = "used"  # taken off an order or a counter sale
    VOID = "void"  # its redemption was cancelled


class UseStatus(StrEnum):
    APPLIED = "applied"
    RETURNED = "returned"  # the order was cancelled or the till voided the sale


class VoucherNotUsable(Invalid):
    """Unknown, another member's, outside its dates or below its minimum spend. An unknown
    code and another member's answer alike, so a code cannot be probed."""

    code = "voucher-not-usable"
    title = "The voucher cannot be used here"


class VoucherAlreadyUsed(Conflict):
    code = "voucher-already-used"
    title = "The voucher has been used"


@dataclass(frozen=True)
class VoucherTerms:
    """What a voucher or bill-credit reward gives: its value, the least spend it needs,
    for how many days it is valid, on which business type (None: any) and, for a bill
    credit, which kind of bill (None: any)."""

    value_fen: int
    min_spend_fen: int
    valid_days: int
    applies_to: str | None
    biller_kind: str | None = None

    def valid_until(self, issued_on: date) -> date:
        return issued_on + timedelta(days=self.valid_days - 1)


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(code: str) -> str:
    """The stored form of a code as a person may type it: any case, with spaces or
    hyphens between the groups, O for 0 and I or L for 1."""
    return _SEPARATORS.sub("", code).upper().translate(_READ_AS)


def shown(code: str) -> str:
    """The code in groups of four, as printed."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def amount_off(value_fen: int, min_spend_fen: int, eligible_fen: int, field: str) -> int:
    """What a voucher takes off `eligible_fen` (the spend it applies to): its value, at
    most the whole eligible spend. Raises VoucherNotUsable below the minimum spend."""
    if eligible_fen <= 0 or eligible_fen < min_spend_fen:
        raise VoucherNotUsable.field(
            field, f"needs a spend of at least {max(min_spend_fen, 1)} fen it applies to"
        )
    return min(value_fen, eligible_fen)
