"""Public numbers of records (accruals, redemptions, bill payments, exchange lines, ...):
a two-letter kind and 20 random hex digits, unguessable and never reused."""

from __future__ import annotations

import uuid


def public_no(prefix: str) -> str:
    return prefix + uuid.uuid4().hex[:20].upper()
