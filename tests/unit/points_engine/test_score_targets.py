"""Campaign targets on segments and score ranges: validation, matching and overlap."""

from __future__ import annotations

from datetime import date

import pytest

from common.errors import Invalid
from points_engine import CampaignCommand, ScoreBounds
from points_engine.domain import earning
from points_engine.domain.earning import MemberScore, Range, risk_bp_range
from points_engine.services.campaigns import target_of, targets_meet, validate_score_targets

DAY = date(2026, 9, 15)
RULE = earning.EarningRule("BASE-GOODS", "goods", None, None, 1, 100, 0, 0, "1 per yuan")


def campaign(**target: object) -> earning.Campaign:
    return earning.Campaign(
        code="C",
        starts_on=DAY,
        ends_on=DAY,
        multiplier_bp=10_000,
        bonus_points=50,
        per_member_cap=None,
        budget_remaining=1_000,
        holdout_pct=0,
        **target,  # type: ignore[arg-type]
    )


def context(score: MemberScore | None) -> earning.AccrualContext:
    return earning.AccrualContext(
        member_id=7,
        tier="basic",
        tier_multiplier_bp=10_000,
        business_type="goods",
        channel="counter",
        occurred_on=DAY,
        lines=[earning.Line("SKU", "food", 1, 10_000)],
        score=score,
    )


def bonus(spec: earning.Campaign, score: MemberScore | None) -> int:
    evaluation = earning.evaluate(context(score), [RULE], [spec], {})
    return sum(award.points for award in evaluation.campaign_awards)


AT_RISK = MemberScore("at_risk", 7_000, 50_000)
CHAMPION = MemberScore("champions", 1_000, None)


def test_a_campaign_without_score_targets_needs_no_scores_and_awards_anyone():
    spec = campaign()
    assert not spec.needs_scores
    assert bonus(spec, None) == 50
    assert bonus(spec, AT_RISK) == 50


def test_segments_award_only_members_scored_into_them():
    spec = campaign(segments=frozenset({"at_risk", "lost"}))
    assert spec.needs_scores
    assert bonus(spec, AT_RISK) == 50
    assert bonus(spec, CHAMPION) == 0
    assert bonus(spec, None) == 0  # no score: no match


def test_churn_risk_bounds_are_inclusive_basis_points():
    spec = campaign(churn_risk_bp=risk_bp_range(0.6, None))
    assert bonus(spec, MemberScore("x", 6_000, None)) == 50
    assert bonus(spec, MemberScore("x", 5_999, None)) == 0
    assert bonus(spec, None) == 0
    capped = campaign(churn_risk_bp=risk_bp_range(None, 0.2))
    assert bonus(capped, MemberScore("x", 2_000, None)) == 50
    assert bonus(capped, MemberScore("x", 2_001, None)) == 0


def test_expected_value_needs_a_value_in_range():
    spec = campaign(expected_value_fen=Range(10_000, 60_000))
    assert bonus(spec, AT_RISK) == 50
    assert bonus(spec, MemberScore("at_risk", 7_000, 60_001)) == 0
    assert bonus(spec, MemberScore("at_risk", 7_000, 9_999)) == 0
    assert bonus(spec, CHAMPION) == 0  # no purchase yet: no expected value


def test_all_score_targets_must_hold_together():
    spec = campaign(
        segments=frozenset({"at_risk"}),
        churn_risk_bp=risk_bp_range(0.5, 1.0),
        expected_value_fen=Range(0, None),
    )
    assert bonus(spec, AT_RISK) == 50
    assert bonus(spec, MemberScore("at_risk", 4_999, 50_000)) == 0
    assert bonus(spec, MemberScore("lost", 7_000, 50_000)) == 0


def test_risk_bounds_round_inwards():
    assert risk_bp_range(0.60001, 0.33333) == Range(6001, 3333)
    assert risk_bp_range(0.6, 1.0) == Range(6000, 10_000)
    assert risk_bp_range(None, None) == Range(None, None)


def command(**fields: object) -> CampaignCommand:
    base: dict[str, object] = {
        "code": "C",
        "name": "c",
        "name_en": "c",
        "starts_on": DAY,
        "ends_on": DAY,
        "budget_points": 100,
        "bonus_points": 10,
    }
    return CampaignCommand(**{**base, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"churn_risk": ScoreBounds(-0.1, 0.5)}, "churn_risk.min"),
        ({"churn_risk": ScoreBounds(0.1, 1.5)}, "churn_risk.max"),
        ({"churn_risk": ScoreBounds(0.7, 0.6)}, "churn_risk.min"),
        ({"churn_risk": ScoreBounds(float("nan"), None)}, "churn_risk.min"),
        ({"churn_risk": ScoreBounds(None, None)}, "churn_risk"),
        ({"churn_risk": ScoreBounds(0.60001, 0.60009)}, "churn_risk.max"),
        ({"expected_value_fen": ScoreBounds(-1, None)}, "expected_value_fen.min"),
        ({"expected_value_fen": ScoreBounds(None, 10.5)}, "expected_value_fen.max"),
        ({"expected_value_fen": ScoreBounds(500, 400)}, "expected_value_fen.min"),
        ({"expected_value_fen": ScoreBounds(None, None)}, "expected_value_fen"),
    ],
)
def test_bad_score_ranges_name_the_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as raised:
        validate_score_targets(command(**fields))
    assert [error.field for error in raised.value.errors] == [field]


def test_good_score_ranges_pass_and_are_stored_with_open_ends_as_null():
    good = command(
        segments=("at_risk",),
        churn_risk=ScoreBounds(0.6, None),
        expected_value_fen=ScoreBounds(0, 100_000),
    )
    validate_score_targets(good)
    target = target_of(good)
    assert target["segments"] == ["at_risk"]
    assert target["churn_risk"] == {"min": 0.6, "max": None}
    assert target["expected_value_fen"] == {"min": 0, "max": 100_000}
    assert "churn_risk" not in target_of(command())


def stored(**fields: object) -> dict[str, object]:
    return target_of(command(**fields))


def test_disjoint_segments_or_score_ranges_do_not_overlap():
    assert not targets_meet(stored(segments=("at_risk",)), stored(segments=("champions",)))
    assert targets_meet(stored(segments=("at_risk",)), stored(segments=("at_risk", "lost")))
    assert targets_meet(stored(segments=("at_risk",)), stored())  # no segments: all
    low, high = ScoreBounds(0, 0.3), ScoreBounds(0.6, 1)
    assert not targets_meet(stored(churn_risk=low), stored(churn_risk=high))
    assert targets_meet(stored(churn_risk=ScoreBounds(0.3, 0.6)), stored(churn_risk=high))
    assert targets_meet(stored(churn_risk=low), stored())  # no range: any score
    small, big = ScoreBounds(0, 9_999), ScoreBounds(10_000, None)
    assert not targets_meet(stored(expected_value_fen=small), stored(expected_value_fen=big))
    assert targets_meet(
        stored(expected_value_fen=ScoreBounds(5_000, 10_000)), stored(expected_value_fen=big)
    )
    # The list targets still count: same segment but other categories do not meet.
    assert not targets_meet(
        stored(segments=("at_risk",), categories=("food",)),
        stored(segments=("at_risk",), categories=("home",)),
    )
