"""Commands, results and ports of the ledger's use cases (frozen dataclasses, Protocols)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from common.codes import COMPANY_CODE
from common.errors import (
    DomainError,
)
from common.unit_of_work import UnitOfWork
from points_engine.domain import earning

# Hand-made credits are booked as issued by the company itself, not by an outlet.
ADJUSTING_INSTITUTION = COMPANY_CODE


# -- ports and commands -----------------------------------------------------------


@dataclass(frozen=True)
class MemberRef:
    member_no: str | None = None
    phone: str | None = None
    card_no: str | None = None


@dataclass(frozen=True)
class MemberInfo:
    member_id: int
    member_no: str
    tier: str


MemberScore = earning.MemberScore


class MemberScores(Protocol):
    """The member hub's insight scores as campaign targets read them, inside the caller's
    session (the ledger must not import crm: the composition root hands the adapter in)."""

    def segment_codes(self, uow: UnitOfWork) -> frozenset[str]:
        """The codes of the segments members can be scored into."""
        ...

    def latest_scores(self, uow: UnitOfWork, member_ids: Sequence[int]) -> dict[int, MemberScore]:
        """Each member's scores in the latest insight run, in one query; members that run
        did not score (or no run at all) are left out."""
        ...


class MemberDirectory(MemberScores, Protocol):
    """Resolves a member reference (following merges) inside the caller's session, and
    reads the members' scores for score-based campaign targets."""

    def resolve(self, uow: UnitOfWork, ref: MemberRef, field: str) -> MemberInfo: ...

    def resolve_many(
        self, uow: UnitOfWork, refs: Sequence[MemberRef], field: str
    ) -> list[MemberInfo | DomainError]:
        """`resolve` for many references in a few queries; a failure is returned, not raised."""
        ...

    def by_id(self, uow: UnitOfWork, member_id: int) -> MemberInfo: ...

    def tiers_of(self, uow: UnitOfWork, member_ids: Sequence[int]) -> dict[int, str]:
        """The stored tier of each of these member ids (as recorded, merges not followed)."""
        ...

    def note_earned(self, uow: UnitOfWork, member_ids: Sequence[int]) -> None:
        """These members just earned points (in `uow`, not yet committed): a tier they now
        reach is theirs at once."""
        ...


@dataclass(frozen=True)
class AccrualLine:
    sku: str
    quantity: int
    amount_fen: int
    category: str | None = None

    def as_dict(self) -> dict[str, Any]:
        # As dataclasses.asdict would give it, without its deep copy (a hot path).
        return {
            "sku": self.sku,
            "quantity": self.quantity,
            "amount_fen": self.amount_fen,
            "category": self.category,
        }


@dataclass(frozen=True)
class AccrualCommand:
    external_id: str
    member: MemberRef
    institution_code: str
    occurred_at: datetime
    business_type: str
    lines: tuple[AccrualLine, ...]
    total_fen: int
    payment_method: str | None = None
    # Commerce orders hold their points pending until fulfilment, whatever the rule's
    # return window; `schedule_release` later moves the date to the real one.
    held_until: date | None = None


@dataclass(frozen=True)
class RefundCommand:
    external_id: str
    original_external_id: str
    amount_fen: int


@dataclass(frozen=True)
class RedemptionCommand:
    external_id: str
    member_no: str
    reward_code: str
    quantity: int = 1


# -- results --------------------------------------------------------------------
# What the ledger's write use cases answer: frozen dataclasses, stored as the
# idempotency record of the write (common.idempotency) and turned into JSON by whoever
# shows them. Fields that may be absent are None.


@dataclass(frozen=True)
class Balance:
    """A member's balance as answers show it: a negative available balance is shown as
    0 available plus the debt owed."""

    available: int
    pending: int
    negative_debt: int | None = None

    @classmethod
    def of(cls, available: int, pending: int) -> Balance:
        return cls(max(available, 0), pending, -available if available < 0 else None)


@dataclass(frozen=True)
class Accrued:
    accrual_id: str
    member_no: str
    points: int
    status: str
    breakdown: list[dict[str, Any]]
    balance: Balance
    available_on: date | None = None


@dataclass(frozen=True)
class BudgetDraw:
    """What an accrual would take from a campaign's budget."""

    campaign_code: str
    points: int
    budget_before: int
    budget_after: int


@dataclass(frozen=True)
class AccrualPreview:
    """What `accrue_points` would answer for the same command, and the budgets it would
    draw; nothing is written."""

    member_no: str
    points: int
    status: str
    breakdown: list[dict[str, Any]]
    balance: Balance
    budgets: list[BudgetDraw]
    available_on: date | None = None


@dataclass(frozen=True)
class Refunded:
    refund_id: str
    accrual_id: str
    points_reversed: int
    balance: Balance


@dataclass(frozen=True)
class Adjusted:
    member_no: str
    points: int
    reason: str
    balance: Balance


@dataclass(frozen=True)
class Redeemed:
    redemption_id: str
    member_no: str
    reward_code: str
    quantity: int
    points_spent: int
    cash_fen: int
    status: str
    balance: Balance


@dataclass(frozen=True)
class RedemptionCancelled:
    redemption_id: str
    member_no: str
    status: str
    points_returned: int
    points_expired: int
    balance: Balance


@dataclass(frozen=True)
class RewardView:
    code: str
    name: str
    name_en: str
    kind: str
    points_cost: int
    cash_fen: int
    stock: int | None
    value_fen: int | None = None
    min_spend_fen: int = 0
    valid_days: int | None = None
    applies_to: str | None = None
    biller_kind: str | None = None


@dataclass(frozen=True)
class CampaignView:
    code: str
    name: str
    name_en: str
    starts_on: date
    ends_on: date
    target: dict[str, Any]
    multiplier_bp: int
    bonus_points: int
    per_member_cap: int | None
    budget_points: int
    budget_remaining: int
    holdout_pct: int
    status: str = "active"
    # Other campaigns whose window and target overlap this one's (said when saving it).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScoreBounds:
    """Inclusive bounds of a score target; None leaves that end open. Churn risk is a
    share (0..1), expected value whole fen."""

    min: float | None = None
    max: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return {"min": self.min, "max": self.max}


@dataclass(frozen=True)
class CampaignChanges:
    """What to change in a campaign that has not started; None leaves a field as it is
    (`per_member_cap` is removed with `remove_cap`)."""

    name: str | None = None
    name_en: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    budget_points: int | None = None
    multiplier_bp: int | None = None
    bonus_points: int | None = None
    per_member_cap: int | None = None
    remove_cap: bool = False
    holdout_pct: int | None = None
    business_types: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    skus: tuple[str, ...] | None = None
    tiers: tuple[str, ...] | None = None
    segments: tuple[str, ...] | None = None
    churn_risk: ScoreBounds | None = None
    remove_churn_risk: bool = False
    expected_value_fen: ScoreBounds | None = None
    remove_expected_value_fen: bool = False


@dataclass(frozen=True)
class RuleVersionCommand:
    """A base rule as it should read from `effective_from` on; `active` False withdraws it."""

    code: str
    effective_from: date
    business_type: str
    points: int
    per_fen: int
    description: str
    description_en: str = ""
    channel: str | None = None
    category: str | None = None
    fixed_points: int = 0
    pending_days: int = 0
    active: bool = True


@dataclass(frozen=True)
class RuleVersionView:
    code: str
    effective_from: date | None  # None: the rule as loaded at setup, before any version
    business_type: str
    channel: str | None
    category: str | None
    points: int
    per_fen: int
    fixed_points: int
    pending_days: int
    description: str
    description_en: str
    active: bool
    created_by: str | None = None


@dataclass(frozen=True)
class AdjustmentCommand:
    external_id: str
    member_no: str
    points: int
    reason: str


@dataclass(frozen=True)
class CampaignCommand:
    code: str
    name: str
    name_en: str
    starts_on: date
    ends_on: date
    budget_points: int
    multiplier_bp: int = earning.BP
    bonus_points: int = 0
    per_member_cap: int | None = None
    holdout_pct: int = 0
    business_types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    funded_by: str = COMPANY_CODE
    # Score targets (the member's latest insight scores); see earning.Campaign.
    segments: tuple[str, ...] = ()
    churn_risk: ScoreBounds | None = None
    expected_value_fen: ScoreBounds | None = None


@dataclass(frozen=True)
class JobReport:
    released_lots: int = 0
    released_points: int = 0
    expired_lots: int = 0
    expired_points: int = 0
