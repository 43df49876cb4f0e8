"""Loads ledger reference data: earning rules, tier multipliers, rewards, system accounts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from common.unit_of_work import UnitOfWork
from points_engine.adapters import orm
from points_engine.adapters.book import LedgerBook
from points_engine.domain.accounts import (
    ORDER_POINTS_REWARD,
    AccountKind,
    issuance_account_code,
    reward_account,
)


@dataclass(frozen=True)
class RuleData:
    code: str
    business_type: str
    channel: str | None
    category: str | None
    points: int
    per_fen: int
    fixed_points: int
    pending_days: int
    description: str
    description_en: str


@dataclass(frozen=True)
class RewardData:
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


def load_ledger_reference(
    uow: UnitOfWork,
    rules: Iterable[RuleData],
    tier_multipliers: Iterable[tuple[str, int]],
    rewards: Iterable[RewardData],
    institution_codes: Iterable[str],
) -> None:
    """Insert what is missing; rows an admin has since changed are left as they are."""
    session = uow.session
    for rule in rules:
        if session.get(orm.EarningRule, rule.code) is None:
            session.add(orm.EarningRule(**rule.__dict__, active=True))
    for tier, multiplier_bp in tier_multipliers:
        if session.get(orm.TierMultiplier, tier) is None:
            session.add(orm.TierMultiplier(tier=tier, multiplier_bp=multiplier_bp))
    book = LedgerBook(session)
    for reward in rewards:
        if session.get(orm.Reward, reward.code) is None:
            session.add(orm.Reward(**reward.__dict__, active=True))
        book.system_account(*reward_account(reward.code, reward.kind))
    for code in institution_codes:
        book.system_account(issuance_account_code(code), AccountKind.ISSUANCE, code)
    if session.get(orm.Reward, ORDER_POINTS_REWARD) is None:
        # Not a catalogue reward: inactive, so it is neither listed nor redeemable on
        # its own; order payments with points are redemptions of it (see pay_with_points).
        session.add(
            orm.Reward(
                code=ORDER_POINTS_REWARD,
                name="订单积分抵现",
                name_en="Points towards an order",
                kind="voucher",
                points_cost=1,
                cash_fen=0,
                stock=None,
                active=False,
            )
        )
    book.system_account(*reward_account(ORDER_POINTS_REWARD, "voucher"))
    book.expiry_account()
    book.adjustment_account()
