"""Member identity rules: mainland mobile numbers, identifier types and formats, member numbers."""

from __future__ import annotations

import re
import secrets

from common.errors import Invalid
from common.patterns import IDENTIFIER_PATTERNS, PHONE, PHONE_WORDS

# The same patterns the OpenAPI document states, so the two cannot disagree.
_PHONE = re.compile(PHONE)
_NOT_DIGITS = re.compile(r"[^0-9]")

IDENTIFIER_FORMATS: dict[str, re.Pattern[str]] = {
    kind: re.compile(pattern) for kind, pattern in IDENTIFIER_PATTERNS.items()
}
LINKABLE_TYPES = tuple(t for t in IDENTIFIER_FORMATS if t != "phone")


def normalise_phone(raw: str, field: str = "phone") -> str:
    """Return the 11-digit mainland mobile number; accepts +86 / 0086 / 86 prefixes and separators.

    Raises Invalid naming `field` for anything that is not a mainland mobile number.
    """
    if not _PHONE.fullmatch(raw):
        raise Invalid.field(field, PHONE_WORDS)
    # Separators, '+' and the country code go; the mobile number is the last 11 digits.
    return _NOT_DIGITS.sub("", raw)[-11:]


def normalise_identifier(kind: str, value: str, field: str = "value") -> str:
    """Validate an identifier's format for its type and return its stored form."""
    if kind not in IDENTIFIER_FORMATS:
        raise Invalid.field("type", f"must be one of {', '.join(IDENTIFIER_FORMATS)}")
    if kind == "phone":
        return normalise_phone(value, field)
    stored = value.strip()
    if not IDENTIFIER_FORMATS[kind].fullmatch(stored):
        raise Invalid.field(field, f"not a valid {kind}")
    return stored


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def new_member_no() -> str:
    """A random 12-digit member number with a Luhn check digit: not guessable from others."""
    body = "8" + "".join(secrets.choice("0123456789") for _ in range(10))
    return body + luhn_check_digit(body)


def is_member_no(value: str) -> bool:
    return len(value) == 12 and value.isdigit() and luhn_check_digit(value[:-1]) == value[-1]
