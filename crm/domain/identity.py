"""Member identity rules: mainland mobile numbers, identifier types and formats, member numbers."""

from __future__ import annotations

import re
import secrets

from common.errors import Invalid

_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_SEPARATORS = re.compile(r"[\s\-()]")

IDENTIFIER_FORMATS: dict[str, re.Pattern[str]] = {
    "phone": _MOBILE,
    "card_no": re.compile(r"^[0-9]{16,19}$"),
    "wechat_openid": re.compile(r"^[A-Za-z0-9_-]{16,64}$"),
    "alipay_uid": re.compile(r"^2088[0-9]{12}$"),
    "partner_airline": re.compile(r"^[A-Z0-9]{6,20}$"),
    "partner_bank": re.compile(r"^[A-Z0-9]{6,24}$"),
    "partner_insurer": re.compile(r"^[A-Z0-9]{6,24}$"),
}
LINKABLE_TYPES = tuple(t for t in IDENTIFIER_FORMATS if t != "phone")


def normalise_phone(raw: str, field: str = "phone") -> str:
    """Return the 11-digit mainland mobile number; accepts +86 / 0086 / 86 prefixes and separators.

    Raises Invalid naming `field` for anything that is not a mainland mobile number.
    """
    digits = _SEPARATORS.sub("", raw.strip())
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix) :]
            break
    if not _MOBILE.match(digits):
        raise Invalid.field(field, "must be a mainland China mobile number (11 digits, 13x-19x)")
    return digits


def normalise_identifier(kind: str, value: str, field: str = "value") -> str:
    """Validate an identifier's format for its type and return its stored form."""
    if kind not in IDENTIFIER_FORMATS:
        raise Invalid.field("type", f"must be one of {', '.join(IDENTIFIER_FORMATS)}")
    if kind == "phone":
        return normalise_phone(value, field)
    stored = value.strip()
    if not IDENTIFIER_FORMATS[kind].match(stored):
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
