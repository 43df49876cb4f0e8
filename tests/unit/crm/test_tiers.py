"""Unit tests for tier review: the highest tier whose trailing-year threshold is reached."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.domain.tiers import TierRule, tier_for
from memberhub.reference_data import TIERS

RULES = [TierRule(t.code, t.rank, t.min_points_12m) for t in TIERS]


@pytest.mark.parametrize(
    ("points", "tier"),
    [
        (0, "regular"),
        (1_999, "regular"),
        (2_000, "silver"),
        (7_999, "silver"),
        (8_000, "gold"),
        (29_999, "gold"),
        (30_000, "diamond"),
        (10_000_000, "diamond"),
    ],
)
def test_thresholds_are_inclusive(points: int, tier: str) -> None:
    assert tier_for(points, RULES) == tier


def test_negative_net_points_fall_back_to_the_lowest_tier() -> None:
    # Refunds can push a member's net year below zero.
    assert tier_for(-500, RULES) == "regular"


def test_the_order_the_tiers_are_given_in_does_not_matter() -> None:
    shuffled = list(RULES)
    random.Random(7).shuffle(shuffled)
    for points in (0, 2_500, 9_000, 45_000):
        assert tier_for(points, shuffled) == tier_for(points, RULES)


def test_rank_decides_not_threshold_order() -> None:
    # A higher-ranked tier with a lower threshold still wins once reached.
    odd = [TierRule("basic", 0, 0), TierRule("vip", 5, 100), TierRule("plus", 2, 500)]
    assert tier_for(600, odd) == "vip"
    assert tier_for(99, odd) == "basic"


def test_without_a_zero_threshold_the_lowest_rank_is_the_floor() -> None:
    rules = [TierRule("bronze", 1, 100), TierRule("silver", 2, 1_000)]
    assert tier_for(0, rules) == "bronze"
    assert tier_for(100, rules) == "bronze"
    assert tier_for(1_000, rules) == "silver"


@given(st.integers(min_value=-(10**6), max_value=10**8), st.integers(min_value=0, max_value=10**6))
def test_earning_more_never_lowers_the_tier(points: int, more: int) -> None:
    rank = {rule.code: rule.rank for rule in RULES}
    assert rank[tier_for(points + more, RULES)] >= rank[tier_for(points, RULES)]


@given(st.integers(min_value=0, max_value=10**8))
def test_the_tier_reached_is_the_highest_whose_threshold_is_met(points: int) -> None:
    tier = next(r for r in RULES if r.code == tier_for(points, RULES))
    assert tier.min_points_12m <= points
    assert all(r.min_points_12m > points for r in RULES if r.rank > tier.rank)
