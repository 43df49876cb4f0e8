"""One line of a member's cross-channel activity timeline, as each commerce flow reports it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class ActivityEntry:
    """`kind` is one of order, points, bill, mail, subscription, redemption, prepaid_card.

    `reference` is the public number of the thing (order_no, payment_no, tracking_no, ...);
    `amount_fen` and `points` are signed from the member's point of view when present.
    """

    occurred_at: datetime
    kind: str
    reference: str
    title: str
    status: str | None = None
    channel: str | None = None
    amount_fen: int | None = None
    points: int | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "occurred_at": self.occurred_at.isoformat(),
            "kind": self.kind,
            "reference": self.reference,
            "title": self.title,
        }
        for name in ("status", "channel", "amount_fen", "points"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body
