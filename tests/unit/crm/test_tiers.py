"""Unit tests for the club's tier rules: the highest tier a trailing year reaches by points or
spend; upgrades at once; downgrades at a review once the grace has run out."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.domain.tiers import Decision, Standing, TierRule, next_tier, review, tier_for, upgrade
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


# -- spend, upgrades and the review's grace ---------------------------------------------

CLUB = [TierRule(t.code, t.rank, t.min_points_12m, t.min_spend_fen_12m) for t in TIERS]
RANKS = {rule.code: rule.rank for rule in CLUB}
REVIEWED = date(2026, 7, 1)


def test_spend_earns_a_tier_on_its_own() -> None:
    # Bill payments earn few points per yuan: 3,000 yuan in a year still make silver.
    assert tier_for(1_500, CLUB, spend_fen_12m=299_999) == "regular"
    assert tier_for(1_500, CLUB, spend_fen_12m=300_000) == "silver"
    assert tier_for(8_000, CLUB, spend_fen_12m=300_000) == "gold"
    assert tier_for(0, CLUB, spend_fen_12m=4_500_000) == "diamond"


def test_an_upgrade_is_at_once_and_never_a_step_down() -> None:
    assert upgrade("silver", "gold", RANKS) == Decision("gold", None, "upgrade")
    assert upgrade("gold", "gold", RANKS) is None
    assert upgrade("gold", "silver", RANKS) is None


def test_a_short_year_keeps_the_tier_through_the_grace_then_steps_down() -> None:
    first = review("gold", "regular", None, REVIEWED, 90, RANKS)
    assert first == Decision("gold", REVIEWED + timedelta(days=89), None)
    last_day = review("gold", "regular", first.grace_until, first.grace_until, 90, RANKS)
    assert last_day == first  # the grace has not yet run out on its last day
    after = review(
        "gold", "silver", first.grace_until, first.grace_until + timedelta(days=1), 90, RANKS
    )
    assert after == Decision("silver", None, "downgrade")


def test_earning_the_tier_again_ends_the_grace() -> None:
    grace = REVIEWED + timedelta(days=30)
    assert review("gold", "gold", grace, REVIEWED, 90, RANKS) == Decision("gold", None, None)
    assert review("gold", "diamond", grace, REVIEWED, 90, RANKS) == Decision(
        "diamond", None, "upgrade"
    )


@given(
    st.sampled_from(sorted(RANKS)),
    st.sampled_from(sorted(RANKS)),
    st.one_of(st.none(), st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(min_value=1, max_value=400),
)
def test_a_review_never_lands_below_what_the_year_earns(
    current: str, earned: str, grace: date | None, on: date, days: int
) -> None:
    decision = review(current, earned, grace, on, days, RANKS)
    assert RANKS[decision.tier] >= RANKS[earned]
    assert decision.tier in (current, earned)
    if decision.reason == "downgrade":
        assert grace is not None and on > grace


def test_the_next_tier_says_what_is_still_needed() -> None:
    needed = next_tier("silver", Standing(5_000, 1_000_000), CLUB)
    assert needed is not None
    assert (needed[0].code, needed[1], needed[2]) == ("gold", 3_000, 200_000)
    assert next_tier("diamond", Standing(), CLUB) is None
