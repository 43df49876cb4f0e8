"""Tier review: the highest tier whose threshold the member's trailing-year points reach."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class TierRule:
    code: str
    rank: int
    min_points_12m: int


def tier_for(points_12m: int, tiers: Sequence[TierRule]) -> str:
    """Tiers are re-earned every year: a member drops back when the trailing year falls short."""
    eligible = [t for t in tiers if points_12m >= t.min_points_12m]
    if not eligible:
        return min(tiers, key=lambda t: t.rank).code
    return max(eligible, key=lambda t: t.rank).code
