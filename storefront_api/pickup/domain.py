"""Pickup codes: how they are made, stored and checked."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

CODE_DIGITS = 8


def new_pickup_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """Eight random digits from the OS's CSPRNG: not sequential, not derived from the order.

    With wrong guesses throttled to a handful per outlet per window, and a code only
    valid at its own outlet, 10^8 codes make guessing a live one hopeless; leading
    zeros are kept.
    """
    return f"{randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_pickup_code(code: str, secret: str) -> str:
    """Keyed hash stored instead of the code (a leaked table does not give codes away)."""
    return hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest()


def looks_like_pickup_code(code: str) -> bool:
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()
