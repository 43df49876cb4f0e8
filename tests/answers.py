"""Use cases return typed results; the tests read them as a caller is shown them (JSON)."""

from __future__ import annotations

from typing import Any

from common.idempotency import Written, as_answer


def answered(written: Written[Any]) -> Written[Any]:
    """The write's result in the JSON form the HTTP layer answers with."""
    return Written(as_answer(written.body), written.replayed)
