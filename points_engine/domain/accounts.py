"""Ledger account kinds and how their codes are formed."""

from __future__ import annotations

from enum import StrEnum


class AccountKind(StrEnum):
    MEMBER = "member"
    MEMBER_PENDING = "member_pending"
    ISSUANCE = "issuance"
    CAMPAIGN_BUDGET = "campaign_budget"
    REDEMPTION = "redemption"
    EXPIRY = "expiry"
    ADJUSTMENT = "adjustment"
    PARTNER = "partner"


# Member-side and budget accounts carry a stored running balance (read-then-written
# under a row lock). Issuance, redemption and expiry accounts are touched by almost
# every posting; storing their balance would turn each into one hot row that all
# concurrent accruals queue on, so their balance is the sum of their postings.
BALANCE_TRACKED = frozenset(
    {AccountKind.MEMBER, AccountKind.MEMBER_PENDING, AccountKind.CAMPAIGN_BUDGET}
)


class PostingType(StrEnum):
    ACCRUAL = "accrual"
    RELEASE = "release"
    REVERSAL = "reversal"
    REDEMPTION = "redemption"
    REDEMPTION_CANCEL = "redemption_cancel"
    EXPIRY = "expiry"
    MERGE = "merge"
    ADJUSTMENT = "adjustment"
    BUDGET = "budget"
    PARTNER_IN = "partner_in"  # points a member bought in from a partner's programme


class LotStatus(StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"
    EXPIRED = "expired"
    REVERSED = "reversed"


def member_account_code(member_id: int) -> str:
    return f"member:{member_id}"


def pending_account_code(member_id: int) -> str:
    return f"member_pending:{member_id}"


def issuance_account_code(institution_code: str) -> str:
    return f"issuance:{institution_code}"


def campaign_account_code(campaign_code: str) -> str:
    return f"campaign:{campaign_code}"


def redemption_account_code(reward_code: str) -> str:
    return f"redemption:{reward_code}"


def reward_account(reward_code: str, reward_kind: str) -> tuple[str, AccountKind]:
    """Where redeemed points go: points exchanged into a partner's currency (airline
    miles) go to that partner's account, which finance settles with the partner; every
    other reward has its own redemption account."""
    if reward_kind == "partner_miles":
        return f"partner:{reward_code}", AccountKind.PARTNER
    return redemption_account_code(reward_code), AccountKind.REDEMPTION


# The hidden reward that order payments with points redeem (points_cash orders).
ORDER_POINTS_REWARD = "ORDER-POINTS"

EXPIRY_ACCOUNT_CODE = "expiry"
ADJUSTMENT_ACCOUNT_CODE = "adjustment"
