"""Lot arithmetic: FIFO-by-expiry consumption and proportional reversal, in whole points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class LotBalance:
    lot_id: int
    remaining: int
    expires_on: date


@dataclass(frozen=True)
class Take:
    lot_id: int
    points: int


def fifo_order(lots: Sequence[LotBalance]) -> list[LotBalance]:
    """Lots that expire first are spent first; ties by age (lower id first)."""
    return sorted(lots, key=lambda lot: (lot.expires_on, lot.lot_id))


def plan_consumption(lots: Sequence[LotBalance], points: int) -> tuple[list[Take], int]:
    """Take `points` from lots FIFO by expiry; returns the takes and what could not be covered."""
    if points < 0:
        raise ValueError("points must not be negative")
    takes: list[Take] = []
    left = points
    for lot in fifo_order(lots):
        if left == 0:
            break
        taken = min(lot.remaining, left)
        if taken > 0:
            takes.append(Take(lot.lot_id, taken))
            left -= taken
    return takes, left


def cumulative_reversal(
    earned: int, total_fen: int, refunded_before_fen: int, refund_fen: int
) -> int:
    """Points to reverse for one refund of an accrual.

    Computed on the cumulative refunded amount, floor(earned * refunded / total),
    minus what earlier refunds already reversed, so partial refunds never drift and a
    full refund reverses exactly what was earned.
    """
    if not 0 < refund_fen <= total_fen - refunded_before_fen:
        raise ValueError("refund outside the refundable amount")
    before = earned * refunded_before_fen // total_fen
    after = earned * (refunded_before_fen + refund_fen) // total_fen
    return after - before


def split_proportionally(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder); parts sum to `total`."""
    weight_sum = sum(weights)
    if weight_sum <= 0:
        return [0 for _ in weights]
    exact = [total * w for w in weights]
    parts = [e // weight_sum for e in exact]
    remainders = sorted(range(len(weights)), key=lambda i: (-(exact[i] % weight_sum), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts
