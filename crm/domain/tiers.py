"""The 自邮一族 club's tier rules: which tier a member's trailing year earns, and what a
review does with it (upgrades happen at once, downgrades only after a grace period)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class TierRule:
    code: str
    rank: int
    min_points_12m: int
    # Spend that earns the tier on its own (None: points only).
    min_spend_fen_12m: int | None = None


@dataclass(frozen=True)
class Standing:
    """What a member's trailing year holds: qualifying points and money spent."""

    qualifying_points: int = 0
    spend_fen: int = 0


def tier_for(points_12m: int, tiers: Sequence[TierRule], spend_fen_12m: int = 0) -> str:
    """The highest tier the trailing year reaches by qualifying points or by spend."""
    eligible = [
        t
        for t in tiers
        if points_12m >= t.min_points_12m
        or (t.min_spend_fen_12m is not None and spend_fen_12m >= t.min_spend_fen_12m)
    ]
    if not eligible:
        return min(tiers, key=lambda t: t.rank).code
    return max(eligible, key=lambda t: t.rank).code


@dataclass(frozen=True)
class Decision:
    """A member's tier after a review or an upgrade check, and why it changed (None: it
    did not). `grace_until` is the last day a member who fell short keeps the tier."""

    tier: str
    grace_until: date | None
    reason: str | None  # upgrade, downgrade


def upgrade(current: str, earned: str, ranks: dict[str, int]) -> Decision | None:
    """At once, whenever the member earns more: a higher tier, and any grace ends."""
    if ranks[earned] > ranks[current]:
        return Decision(earned, None, "upgrade")
    return None


def review(
    current: str,
    earned: str,
    grace_until: date | None,
    as_of: date,
    grace_days: int,
    ranks: dict[str, int],
) -> Decision:
    """The periodic review. Earned more: upgrade. Earned the same: keep it, grace over.
    Fell short: keep the tier for `grace_days` from the first review that saw it, then
    step down to what the year earns (more than one step if it earns less)."""
    if ranks[earned] > ranks[current]:
        return Decision(earned, None, "upgrade")
    if ranks[earned] == ranks[current]:
        return Decision(current, None, None)
    if grace_until is None:
        return Decision(current, as_of + timedelta(days=grace_days - 1), None)
    if as_of > grace_until:
        return Decision(earned, None, "downgrade")
    return Decision(current, grace_until, None)


def next_tier(
    current: str, standing: Standing, tiers: Sequence[TierRule]
) -> tuple[TierRule, int, int | None] | None:
    """The tier above the member's, and the qualifying points (and spend, if the tier
    has a spend path) still needed for it; None at the top."""
    rank = next(t.rank for t in tiers if t.code == current)
    above = sorted((t for t in tiers if t.rank > rank), key=lambda t: t.rank)
    if not above:
        return None
    tier = above[0]
    spend_needed = (
        None
        if tier.min_spend_fen_12m is None
        else max(tier.min_spend_fen_12m - standing.spend_fen, 0)
    )
    return tier, max(tier.min_points_12m - standing.qualifying_points, 0), spend_needed
