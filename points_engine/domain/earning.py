"""Earning-rule evaluation: base rules, tier multiplier and campaigns, in whole points.

Rounding: lines are grouped by the base rule that matches them and each group earns
floor(sum of amount_fen * points / per_fen); fixed points are added once per accrual.
The tier bonus is floor(base * (multiplier_bp - 10000) / 10000). A multiplier campaign
earns floor(eligible base * (multiplier_bp - 10000) / 10000), a bonus campaign its
fixed points; either is then cut to the member's remaining cap and to the campaign's
remaining budget. Every step floors, so no fractional point is ever produced and the
member is never credited more than the rules allow.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

BP = 10_000


@dataclass(frozen=True)
class Line:
    sku: str
    category: str | None
    quantity: int
    amount_fen: int


@dataclass(frozen=True)
class EarningRule:
    code: str
    business_type: str
    channel: str | None
    category: str | None
    points: int
    per_fen: int
    fixed_points: int
    pending_days: int
    description: str

    def specificity(self) -> int:
        return (2 if self.channel is not None else 0) + (1 if self.category is not None else 0)

    def matches(self, business_type: str, channel: str, category: str | None) -> bool:
        return (
            self.business_type == business_type
            and self.channel in (None, channel)
            and self.category in (None, category)
        )


@dataclass(frozen=True)
class MemberScore:
    """A member's scores in the latest insight run, as campaign targets read them:
    segment code, churn risk in basis points (0..10,000) and expected value in fen
    (None for a member who has not bought yet)."""

    segment_code: str
    churn_risk_bp: int
    expected_value_fen: int | None


@dataclass(frozen=True)
class Range:
    """Inclusive integer bounds; None leaves that end open."""

    low: int | None = None
    high: int | None = None

    def holds(self, value: int) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def meets(self, other: Range) -> bool:
        """Whether some value lies in both ranges."""
        lows = [v for v in (self.low, other.low) if v is not None]
        highs = [v for v in (self.high, other.high) if v is not None]
        return not lows or not highs or max(lows) <= min(highs)


def risk_bp_range(low: float | None, high: float | None) -> Range:
    """Churn-risk bounds (0..1) in basis points, rounded inwards: a minimum of 0.6 keeps
    6000 and above, a maximum of 0.33333 keeps 3333 and below (as the segment member
    filters round them)."""
    return Range(
        None if low is None else math.ceil(round(low * BP, 6)),
        None if high is None else math.floor(round(high * BP, 6)),
    )


class CampaignStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"  # awards nothing until resumed; the budget stays in its account
    STOPPED = "stopped"  # for good; what the budget had left went back to the funder


@dataclass(frozen=True)
class Campaign:
    code: str
    starts_on: date
    ends_on: date
    multiplier_bp: int
    bonus_points: int
    per_member_cap: int | None
    budget_remaining: int
    holdout_pct: int
    business_types: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    # Score targets, read from the member's scores in the latest insight run: a member
    # without scores (or, for expected value, without a first purchase) does not match.
    segments: frozenset[str] = frozenset()
    churn_risk_bp: Range | None = None
    expected_value_fen: Range | None = None

    @property
    def needs_scores(self) -> bool:
        return (
            bool(self.segments)
            or self.churn_risk_bp is not None
            or (self.expected_value_fen is not None)
        )

    def is_running(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    def targets(
        self, business_type: str, channel: str, tier: str, score: MemberScore | None = None
    ) -> bool:
        return (
            (not self.business_types or business_type in self.business_types)
            and (not self.channels or channel in self.channels)
            and (not self.tiers or tier in self.tiers)
            and self.scores_match(score)
        )

    def scores_match(self, score: MemberScore | None) -> bool:
        if not self.needs_scores:
            return True
        if score is None:
            return False
        if self.segments and score.segment_code not in self.segments:
            return False
        if self.churn_risk_bp is not None and not self.churn_risk_bp.holds(score.churn_risk_bp):
            return False
        if self.expected_value_fen is None:
            return True
        value = score.expected_value_fen
        return value is not None and self.expected_value_fen.holds(value)

    def line_eligible(self, line: Line) -> bool:
        if not self.categories and not self.skus:
            return True
        return line.category in self.categories or line.sku in self.skus


@dataclass(frozen=True)
class BreakdownItem:
    rule: str
    kind: str
    points: int
    detail: str
    limited_by: str | None = None

    def as_dict(self) -> dict[str, object]:
        item: dict[str, object] = {
            "rule": self.rule,
            "kind": self.kind,
            "points": self.points,
            "detail": self.detail,
        }
        if self.limited_by is not None:
            item["limited_by"] = self.limited_by
        return item


@dataclass(frozen=True)
class AccrualContext:
    member_id: int
    tier: str
    tier_multiplier_bp: int
    business_type: str
    channel: str
    occurred_on: date
    lines: Sequence[Line]
    # The member's latest scores; looked up only when a running campaign targets them.
    score: MemberScore | None = None


@dataclass(frozen=True)
class CampaignAward:
    campaign_code: str
    points: int


@dataclass(frozen=True)
class Evaluation:
    base_points: int
    tier_points: int
    campaign_awards: tuple[CampaignAward, ...]
    pending_days: int
    breakdown: tuple[BreakdownItem, ...] = field(default=())

    @property
    def issuance_points(self) -> int:
        return self.base_points + self.tier_points

    @property
    def total(self) -> int:
        return self.issuance_points + sum(award.points for award in self.campaign_awards)


@dataclass(frozen=True)
class RuleVersion:
    """A rule as it reads from `effective_from` on; `rule` None withdraws the code."""

    code: str
    effective_from: date
    rule: EarningRule | None


@dataclass(frozen=True)
class RuleBook:
    """The base earning rules and their dated versions: which rules were in force on a day.

    An accrual is earned under the rules in force on its business day, so a change
    scheduled for tomorrow leaves today's (and yesterday's) purchases as they were.
    """

    base: tuple[EarningRule, ...]
    versions: tuple[RuleVersion, ...] = ()
    _by_day: dict[date, tuple[EarningRule, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def in_force(self, day: date) -> tuple[EarningRule, ...]:
        found = self._by_day.get(day)
        if found is None:
            rules: dict[str, EarningRule | None] = {rule.code: rule for rule in self.base}
            for version in sorted(self.versions, key=lambda v: v.effective_from):
                if version.effective_from <= day:
                    rules[version.code] = version.rule
            found = tuple(rule for _, rule in sorted(rules.items()) if rule is not None)
            self._by_day[day] = found
        return found


class NoEarningRule(Exception):
    """No base rule covers this business type and channel."""


def in_holdout(campaign_code: str, member_id: int, holdout_pct: int) -> bool:
    """Stable random assignment: the same member is always in or out of a campaign's holdout."""
    digest = hashlib.sha256(f"{campaign_code}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < holdout_pct


def best_rule(
    rules: Sequence[EarningRule], business_type: str, channel: str, category: str | None
) -> EarningRule:
    candidates = [r for r in rules if r.matches(business_type, channel, category)]
    if not candidates:
        raise NoEarningRule(f"no earning rule for {business_type}/{channel}/{category}")
    return max(candidates, key=lambda r: (r.specificity(), r.code))


def evaluate(
    context: AccrualContext,
    rules: Sequence[EarningRule],
    campaigns: Sequence[Campaign],
    awarded_so_far: dict[str, int],
) -> Evaluation:
    """Points an accrual earns and why.

    `awarded_so_far` maps a campaign code to what this member already got from it.
    """
    breakdown: list[BreakdownItem] = []
    amount_by_rule: dict[str, int] = {}
    rule_by_code: dict[str, EarningRule] = {}
    line_rules: list[EarningRule] = []
    for line in context.lines:
        rule = best_rule(rules, context.business_type, context.channel, line.category)
        rule_by_code[rule.code] = rule
        amount_by_rule[rule.code] = amount_by_rule.get(rule.code, 0) + line.amount_fen
        line_rules.append(rule)

    base = 0
    for code, amount in sorted(amount_by_rule.items()):
        rule = rule_by_code[code]
        points = amount * rule.points // rule.per_fen
        base += points
        breakdown.append(BreakdownItem(code, "base", points, rule.description))
    fixed_rule = max(rule_by_code.values(), key=lambda r: (r.fixed_points, r.code))
    if fixed_rule.fixed_points:
        base += fixed_rule.fixed_points
        breakdown.append(
            BreakdownItem(
                fixed_rule.code, "fixed", fixed_rule.fixed_points, "fixed points per item"
            )
        )

    tier_points = base * (context.tier_multiplier_bp - BP) // BP
    if tier_points:
        breakdown.append(
            BreakdownItem(
                f"tier:{context.tier}",
                "tier",
                tier_points,
                f"tier multiplier x{context.tier_multiplier_bp / BP:g}",
            )
        )

    awards: list[CampaignAward] = []
    for campaign in sorted(campaigns, key=lambda c: c.code):
        if not campaign.is_running(context.occurred_on) or not campaign.targets(
            context.business_type, context.channel, context.tier, context.score
        ):
            continue
        eligible = [
            (line, rule)
            for line, rule in zip(context.lines, line_rules, strict=True)
            if campaign.line_eligible(line)
        ]
        if not eligible:
            continue
        item = _campaign_item(context, campaign, eligible, awarded_so_far.get(campaign.code, 0))
        breakdown.append(item)
        if item.points:
            awards.append(CampaignAward(campaign.code, item.points))

    pending_days = max(rule.pending_days for rule in rule_by_code.values())
    return Evaluation(base, tier_points, tuple(awards), pending_days, tuple(breakdown))


def _campaign_item(
    context: AccrualContext,
    campaign: Campaign,
    eligible: list[tuple[Line, EarningRule]],
    awarded: int,
) -> BreakdownItem:
    rule_name = f"campaign:{campaign.code}"
    if in_holdout(campaign.code, context.member_id, campaign.holdout_pct):
        return BreakdownItem(rule_name, "campaign", 0, "holdout group", "holdout")
    if campaign.bonus_points:
        wanted = campaign.bonus_points
        detail = f"bonus {campaign.bonus_points} points"
    else:
        amount_by_rule: dict[EarningRule, int] = {}
        for line, rule in eligible:
            amount_by_rule[rule] = amount_by_rule.get(rule, 0) + line.amount_fen
        eligible_base = sum(a * r.points // r.per_fen for r, a in amount_by_rule.items())
        wanted = eligible_base * (campaign.multiplier_bp - BP) // BP
        detail = f"campaign multiplier x{campaign.multiplier_bp / BP:g}"
    points = wanted
    limited_by: str | None = None
    if campaign.per_member_cap is not None and points > campaign.per_member_cap - awarded:
        points = max(campaign.per_member_cap - awarded, 0)
        limited_by = "member_cap"
    if points > campaign.budget_remaining:
        points = campaign.budget_remaining
        limited_by = "budget_exhausted" if points == 0 else "budget"
    if limited_by == "budget_exhausted":
        detail = "campaign budget spent: no more points from this campaign"
    return BreakdownItem(rule_name, "campaign", points, detail, limited_by)
