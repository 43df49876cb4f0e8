"""Pickup codes: how they are made, stored and checked, and the wrong-code throttle."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

CODE_DIGITS = 8


def new_pickup_code(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """Eight random digits from the OS's CSPRNG: not sequential, not derived from the order.

    With wrong guesses throttled to a handful per key per window, 10^8 codes make
    guessing a live one hopeless; leading zeros are kept.
    """
    return f"{randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_pickup_code(code: str, secret: str) -> str:
    """Keyed hash stored instead of the code (a leaked table does not give codes away)."""
    return hmac.new(secret.encode(), code.encode(), hashlib.sha256).hexdigest()


def looks_like_pickup_code(code: str) -> bool:
    return len(code) == CODE_DIGITS and code.isascii() and code.isdigit()


@dataclass(frozen=True)
class Throttle:
    """At most `max_failures` wrong codes per key in a sliding `window`."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=10)

    def retry_after(self, failures: list[datetime], now: datetime) -> int | None:
        """Seconds until the key may try again, or None when it may try now."""
        recent = sorted(t for t in failures if t > now - self.window)
        if len(recent) < self.max_failures:
            return None
        # The key is free again once enough of its recent failures leave the window.
        frees_at = recent[len(recent) - self.max_failures] + self.window
        return max(1, int((frees_at - now).total_seconds() + 0.999))
