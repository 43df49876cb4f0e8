"""Unit tests for earning-rule evaluation: rule choice, rounding, tiers and campaigns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from points_engine.domain.earning import (
    BP,
    AccrualContext,
    Campaign,
    EarningRule,
    Evaluation,
    Line,
    NoEarningRule,
    best_rule,
    evaluate,
    in_holdout,
)

DAY = date(2024, 9, 10)


def rule(
    code: str,
    *,
    business_type: str = "goods",
    channel: str | None = None,
    category: str | None = None,
    points: int = 1,
    per_fen: int = 100,
    fixed_points: int = 0,
    pending_days: int = 0,
) -> EarningRule:
    return EarningRule(
        code,
        business_type,
        channel,
        category,
        points,
        per_fen,
        fixed_points,
        pending_days,
        f"{code} description",
    )


GOODS = rule("BASE-GOODS")
GOODS_WEB = rule("BASE-GOODS-WEB", channel="web", pending_days=7)
JEWELRY = rule("BASE-GOODS-JEWELRY", category="jewelry", per_fen=200)
JEWELRY_WEB = rule("BASE-GOODS-JEWELRY-WEB", channel="web", category="jewelry", per_fen=200)
MAILING = rule("BASE-MAILING", business_type="mailing", fixed_points=10)
RULES = (GOODS, GOODS_WEB, JEWELRY, JEWELRY_WEB, MAILING)


def campaign(code: str = "MIDAUTUMN", **changes: object) -> Campaign:
    base = Campaign(
        code=code,
        starts_on=date(2024, 9, 1),
        ends_on=date(2024, 9, 30),
        multiplier_bp=20_000,
        bonus_points=0,
        per_member_cap=None,
        budget_remaining=1_000_000,
        holdout_pct=0,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def line(amount_fen: int, category: str | None = None, sku: str = "SKU-1") -> Line:
    return Line(sku=sku, category=category, quantity=1, amount_fen=amount_fen)


def context(
    *lines: Line,
    business_type: str = "goods",
    channel: str = "counter",
    tier: str = "regular",
    multiplier_bp: int = BP,
    member_id: int = 1,
    day: date = DAY,
) -> AccrualContext:
    return AccrualContext(
        member_id=member_id,
        tier=tier,
        tier_multiplier_bp=multiplier_bp,
        business_type=business_type,
        channel=channel,
        occurred_on=day,
        lines=list(lines),
    )


def run(
    ctx: AccrualContext,
    campaigns: Sequence[Campaign] = (),
    awarded: dict[str, int] | None = None,
    rules: Sequence[EarningRule] = RULES,
) -> Evaluation:
    return evaluate(ctx, rules, campaigns, awarded or {})


def campaign_items(evaluation: Evaluation) -> list[dict[str, object]]:
    return [item.as_dict() for item in evaluation.breakdown if item.kind == "campaign"]


# -- rule choice -------------------------------------------------------------------


def test_the_most_specific_rule_wins() -> None:
    assert best_rule(RULES, "goods", "counter", None) is GOODS
    assert best_rule(RULES, "goods", "web", None) is GOODS_WEB
    assert best_rule(RULES, "goods", "counter", "jewelry") is JEWELRY
    assert best_rule(RULES, "goods", "web", "jewelry") is JEWELRY_WEB
    assert best_rule(RULES, "goods", "web", "food") is GOODS_WEB


def test_a_channel_rule_outranks_a_category_rule() -> None:
    by_channel = rule("B-CHANNEL", channel="app", per_fen=50)
    by_category = rule("A-CATEGORY", category="food", per_fen=300)
    chosen = best_rule([by_category, by_channel, GOODS], "goods", "app", "food")
    assert chosen is by_channel


def test_equal_specificity_is_decided_by_code() -> None:
    first = rule("RULE-A", channel="app")
    second = rule("RULE-B", channel="app")
    assert best_rule([second, first], "goods", "app", None) is second
    assert best_rule([first, second], "goods", "app", None) is second


def test_rules_of_another_business_type_or_channel_never_match() -> None:
    with pytest.raises(NoEarningRule):
        best_rule(RULES, "philately", "counter", None)
    only_web = rule("ONLY-WEB", channel="web")
    with pytest.raises(NoEarningRule):
        best_rule([only_web], "goods", "counter", None)
    only_food = rule("ONLY-FOOD", category="food")
    with pytest.raises(NoEarningRule):
        best_rule([only_food], "goods", "counter", None)
    with pytest.raises(NoEarningRule):
        evaluate(context(line(1000), business_type="service"), RULES, (), {})


# -- base points and rounding -----------------------------------------------------


def test_base_points_floor_per_rule_group_not_per_line() -> None:
    # Three 1.50-yuan lines under one rule: floor(450 / 100) = 4, not 3 x floor(1.5) = 3.
    evaluation = run(context(line(150), line(150), line(150)))
    assert evaluation.base_points == 4
    assert [item.as_dict() for item in evaluation.breakdown] == [
        {"rule": "BASE-GOODS", "kind": "base", "points": 4, "detail": "BASE-GOODS description"}
    ]


def test_each_rule_group_floors_separately() -> None:
    # goods: floor(250 / 100) = 2; jewelry at half rate: floor(350 / 200) = 1.
    evaluation = run(context(line(250), line(350, "jewelry")))
    assert evaluation.base_points == 3
    assert {(i.rule, i.points) for i in evaluation.breakdown} == {
        ("BASE-GOODS", 2),
        ("BASE-GOODS-JEWELRY", 1),
    }
    assert evaluation.total == 3


def test_amounts_below_the_rate_earn_nothing() -> None:
    evaluation = run(context(line(99)))
    assert evaluation.total == 0
    assert evaluation.campaign_awards == ()


@given(st.lists(st.integers(min_value=1, max_value=10_000_000), min_size=1, max_size=8))
def test_base_points_never_exceed_the_exact_amount(amounts: list[int]) -> None:
    evaluation = run(context(*(line(a) for a in amounts)))
    assert evaluation.base_points == sum(amounts) // 100
    assert evaluation.base_points * 100 <= sum(amounts)


def test_fixed_points_are_added_once_per_accrual() -> None:
    evaluation = run(context(line(250), line(380), business_type="mailing"))
    # floor(630 / 100) = 6 plus 10 fixed, however many lines.
    assert evaluation.base_points == 16
    fixed = [item for item in evaluation.breakdown if item.kind == "fixed"]
    assert [(f.rule, f.points) for f in fixed] == [("BASE-MAILING", 10)]


def test_fixed_points_count_once_even_when_several_rules_carry_them() -> None:
    parcel = rule("P-PARCEL", business_type="mailing", fixed_points=10)
    express = rule("P-EXPRESS", business_type="mailing", category="express", fixed_points=15)
    evaluation = run(
        context(line(100), line(100, "express"), business_type="mailing"),
        rules=[parcel, express],
    )
    assert evaluation.base_points == 1 + 1 + 15


def test_no_fixed_item_in_the_breakdown_when_no_rule_has_fixed_points() -> None:
    evaluation = run(context(line(1000)))
    assert all(item.kind != "fixed" for item in evaluation.breakdown)


def test_pending_days_are_the_longest_of_the_rules_used() -> None:
    assert run(context(line(1000))).pending_days == 0
    assert run(context(line(1000), channel="web")).pending_days == 7
    slow = rule("SLOW-FOOD", channel="app", category="food", pending_days=14)
    fast = rule("FAST", channel="app", pending_days=3)
    mixed = run(context(line(100), line(100, "food"), channel="app"), rules=[slow, fast])
    assert mixed.pending_days == 14


# -- tier multiplier --------------------------------------------------------------


def test_tier_multiplier_adds_floored_bonus_on_base_including_fixed_points() -> None:
    # gold x1.25 on (floor(1990 / 100) + 10) = 29: bonus floor(29 * 0.25) = 7.
    evaluation = run(
        context(line(1990), business_type="mailing", tier="gold", multiplier_bp=12_500)
    )
    assert evaluation.base_points == 29
    assert evaluation.tier_points == 7
    assert evaluation.issuance_points == 36
    tier_items = [item.as_dict() for item in evaluation.breakdown if item.kind == "tier"]
    assert tier_items == [
        {"rule": "tier:gold", "kind": "tier", "points": 7, "detail": "tier multiplier x1.25"}
    ]


def test_regular_tier_adds_no_tier_item() -> None:
    evaluation = run(context(line(5000)))
    assert evaluation.tier_points == 0
    assert all(item.kind != "tier" for item in evaluation.breakdown)


@given(
    amount=st.integers(min_value=1, max_value=10_000_000),
    multiplier_bp=st.integers(min_value=BP, max_value=5 * BP),
)
def test_tier_points_never_exceed_the_exact_multiple(amount: int, multiplier_bp: int) -> None:
    evaluation = run(context(line(amount), multiplier_bp=multiplier_bp, tier="x"))
    base = amount // 100
    assert evaluation.tier_points * BP <= base * (multiplier_bp - BP)
    assert (evaluation.tier_points + 1) * BP > base * (multiplier_bp - BP)


# -- campaigns ----------------------------------------------------------------------


def test_multiplier_campaign_doubles_the_base() -> None:
    evaluation = run(context(line(12_345)), [campaign()])
    assert evaluation.base_points == 123
    assert [(a.campaign_code, a.points) for a in evaluation.campaign_awards] == [("MIDAUTUMN", 123)]
    assert evaluation.total == 246
    assert campaign_items(evaluation) == [
        {
            "rule": "campaign:MIDAUTUMN",
            "kind": "campaign",
            "points": 123,
            "detail": "campaign multiplier x2",
        }
    ]


def test_multiplier_campaign_ignores_tier_bonus_and_fixed_points() -> None:
    evaluation = run(
        context(line(1000), business_type="mailing", tier="gold", multiplier_bp=12_500),
        [campaign(multiplier_bp=15_000)],
    )
    # base 10 + 10 fixed = 20, tier floor(20 * 0.25) = 5; campaign on 10 eligible: 5.
    assert (evaluation.base_points, evaluation.tier_points) == (20, 5)
    assert evaluation.campaign_awards[0].points == 5


def test_bonus_campaign_gives_its_fixed_points() -> None:
    evaluation = run(context(line(100)), [campaign(multiplier_bp=BP, bonus_points=88)])
    assert evaluation.campaign_awards[0].points == 88
    assert campaign_items(evaluation)[0]["detail"] == "bonus 88 points"
    assert evaluation.total == 1 + 88


@pytest.mark.parametrize(
    ("day", "runs"),
    [
        (date(2024, 8, 31), False),
        (date(2024, 9, 1), True),
        (date(2024, 9, 30), True),
        (date(2024, 10, 1), False),
    ],
)
def test_campaign_runs_only_inside_its_window(day: date, runs: bool) -> None:
    evaluation = run(context(line(1000), day=day), [campaign()])
    assert bool(evaluation.campaign_awards) is runs
    assert bool(campaign_items(evaluation)) is runs


@pytest.mark.parametrize(
    ("target", "ctx_changes", "awards"),
    [
        ({"channels": frozenset({"web"})}, {"channel": "counter"}, False),
        ({"channels": frozenset({"web"})}, {"channel": "web"}, True),
        ({"tiers": frozenset({"gold"})}, {"tier": "regular"}, False),
        ({"tiers": frozenset({"gold"})}, {"tier": "gold"}, True),
        ({"business_types": frozenset({"mailing"})}, {}, False),
        ({"business_types": frozenset({"goods"})}, {}, True),
    ],
)
def test_campaign_targets_channels_tiers_and_business_types(
    target: dict[str, frozenset[str]], ctx_changes: dict[str, str], awards: bool
) -> None:
    evaluation = run(context(line(1000), **ctx_changes), [campaign(**target)])  # type: ignore[arg-type]
    assert bool(evaluation.campaign_awards) is awards


def test_campaign_multiplier_applies_only_to_eligible_lines() -> None:
    mooncakes = campaign(categories=frozenset({"food"}))
    evaluation = run(context(line(3000, "food"), line(5000, "home")), [mooncakes])
    assert evaluation.base_points == 80
    assert evaluation.campaign_awards[0].points == 30


def test_campaign_by_sku_picks_lines_whatever_their_category() -> None:
    crab = campaign(skus=frozenset({"CRAB-BOX"}))
    evaluation = run(context(line(2000, "food", sku="CRAB-BOX"), line(7000, "food")), [crab])
    assert evaluation.campaign_awards[0].points == 20


def test_campaign_with_no_eligible_line_says_nothing() -> None:
    mooncakes = campaign(categories=frozenset({"food"}))
    evaluation = run(context(line(3000, "home")), [mooncakes])
    assert evaluation.campaign_awards == ()
    assert campaign_items(evaluation) == []


def test_campaign_multiplier_floors_per_rule_group_of_eligible_lines() -> None:
    # food under BASE-GOODS: floor(150 / 100) = 1; jewelry floor(390 / 200) = 1; x1.5 -> 1.
    gifts = campaign(multiplier_bp=15_000, categories=frozenset({"food", "jewelry"}))
    evaluation = run(context(line(150, "food"), line(390, "jewelry"), line(5000)), [gifts])
    assert evaluation.campaign_awards[0].points == 1


def test_several_campaigns_are_evaluated_in_code_order() -> None:
    double = campaign("B-DOUBLE")
    bonus = campaign("A-BONUS", multiplier_bp=BP, bonus_points=5)
    evaluation = run(context(line(1000)), [double, bonus])
    assert [(a.campaign_code, a.points) for a in evaluation.campaign_awards] == [
        ("A-BONUS", 5),
        ("B-DOUBLE", 10),
    ]
    assert evaluation.total == 10 + 5 + 10


# -- holdout -----------------------------------------------------------------------


def test_holdout_assignment_is_deterministic_and_roughly_proportional() -> None:
    first = [in_holdout("MIDAUTUMN", member_id, 20) for member_id in range(2000)]
    again = [in_holdout("MIDAUTUMN", member_id, 20) for member_id in range(2000)]
    assert first == again
    assert 300 <= sum(first) <= 500
    assert not any(in_holdout("MIDAUTUMN", member_id, 0) for member_id in range(500))
    assert all(in_holdout("MIDAUTUMN", member_id, 100) for member_id in range(500))


def test_holdout_groups_differ_between_campaigns() -> None:
    one = [in_holdout("SPRING", member_id, 50) for member_id in range(400)]
    other = [in_holdout("AUTUMN", member_id, 50) for member_id in range(400)]
    assert one != other


def test_a_member_in_the_holdout_gets_nothing_and_is_told_why() -> None:
    held = next(m for m in range(1, 1000) if in_holdout("MIDAUTUMN", m, 30))
    free = next(m for m in range(1, 1000) if not in_holdout("MIDAUTUMN", m, 30))
    spec = campaign(holdout_pct=30)
    held_eval = run(context(line(1000), member_id=held), [spec])
    free_eval = run(context(line(1000), member_id=free), [spec])
    assert held_eval.campaign_awards == ()
    assert campaign_items(held_eval) == [
        {
            "rule": "campaign:MIDAUTUMN",
            "kind": "campaign",
            "points": 0,
            "detail": "holdout group",
            "limited_by": "holdout",
        }
    ]
    assert free_eval.campaign_awards[0].points == 10


# -- caps and budgets --------------------------------------------------------------


def test_per_member_cap_cuts_the_award_to_what_is_left() -> None:
    capped = campaign(per_member_cap=50)
    first = run(context(line(4000)), [capped], {"MIDAUTUMN": 0})
    assert first.campaign_awards[0].points == 40
    assert "limited_by" not in campaign_items(first)[0]
    second = run(context(line(4000)), [capped], {"MIDAUTUMN": 40})
    assert second.campaign_awards[0].points == 10
    assert campaign_items(second)[0]["limited_by"] == "member_cap"
    third = run(context(line(4000)), [capped], {"MIDAUTUMN": 50})
    assert third.campaign_awards == ()
    assert campaign_items(third)[0]["points"] == 0
    assert campaign_items(third)[0]["limited_by"] == "member_cap"


def test_a_partly_spent_budget_pays_what_is_left() -> None:
    evaluation = run(context(line(4000)), [campaign(budget_remaining=15)])
    assert evaluation.campaign_awards[0].points == 15
    item = campaign_items(evaluation)[0]
    assert item["limited_by"] == "budget"
    assert item["detail"] == "campaign multiplier x2"


def test_a_spent_budget_pays_nothing_and_says_so() -> None:
    evaluation = run(context(line(4000)), [campaign(budget_remaining=0)])
    assert evaluation.campaign_awards == ()
    assert evaluation.total == 40
    assert campaign_items(evaluation) == [
        {
            "rule": "campaign:MIDAUTUMN",
            "kind": "campaign",
            "points": 0,
            "detail": "campaign budget spent: no more points from this campaign",
            "limited_by": "budget_exhausted",
        }
    ]


def test_budget_limit_applies_after_the_member_cap() -> None:
    evaluation = run(
        context(line(10_000)), [campaign(per_member_cap=60, budget_remaining=30)], {"MIDAUTUMN": 0}
    )
    assert evaluation.campaign_awards[0].points == 30
    assert campaign_items(evaluation)[0]["limited_by"] == "budget"


def test_bonus_campaign_is_cut_by_the_budget_too() -> None:
    evaluation = run(
        context(line(100)), [campaign(multiplier_bp=BP, bonus_points=100, budget_remaining=7)]
    )
    assert evaluation.campaign_awards[0].points == 7


@given(
    amounts=st.lists(st.integers(min_value=1, max_value=1_000_000), min_size=1, max_size=5),
    multiplier_bp=st.integers(min_value=BP + 1, max_value=4 * BP),
    cap=st.none() | st.integers(min_value=1, max_value=5_000),
    awarded=st.integers(min_value=0, max_value=6_000),
    budget=st.integers(min_value=0, max_value=5_000),
)
def test_campaign_award_never_exceeds_cap_budget_or_multiple(
    amounts: list[int], multiplier_bp: int, cap: int | None, awarded: int, budget: int
) -> None:
    spec = campaign(multiplier_bp=multiplier_bp, per_member_cap=cap, budget_remaining=budget)
    evaluation = run(context(*(line(a) for a in amounts)), [spec], {"MIDAUTUMN": awarded})
    got = sum(a.points for a in evaluation.campaign_awards)
    wanted = (sum(amounts) // 100) * (multiplier_bp - BP) // BP
    left_for_member = wanted if cap is None else max(cap - awarded, 0)
    assert got == min(wanted, left_for_member, budget)
    assert evaluation.total == evaluation.issuance_points + got
