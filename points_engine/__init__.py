"""Public facade of the points ledger: use cases, commands, results, errors and read queries."""

from common.codes import BUSINESS_TYPES, REWARD_KINDS
from common.idempotency import Written
from points_engine import queries
from points_engine.commands import (
    AccrualCommand,
    AccrualLine,
    AccrualPreview,
    Accrued,
    Adjusted,
    AdjustmentCommand,
    Balance,
    BudgetDraw,
    CampaignCommand,
    CampaignView,
    JobReport,
    MemberDirectory,
    MemberInfo,
    MemberRef,
    Redeemed,
    RedemptionCancelled,
    RedemptionCommand,
    RefundCommand,
    Refunded,
    RewardView,
)
from points_engine.domain.earning import in_holdout
from points_engine.domain.errors import (
    AlreadyCancelled,
    InsufficientPoints,
    OutOfStock,
    PointsDebtOutstanding,
    RefundExceedsOriginal,
    UnknownAccrual,
    UnknownCampaign,
    UnknownReward,
)
from points_engine.reference import RewardData, RuleData, load_ledger_reference
from points_engine.services.accounts import (
    merge_member_accounts,
    open_accounts_for_members,
    open_member_accounts,
)
from points_engine.services.accrual import accrue_many, accrue_points, preview_accrual
from points_engine.services.adjustment import adjust_points
from points_engine.services.campaigns import campaign_view, create_campaign
from points_engine.services.jobs import (
    accounts_with_expiring_lots,
    due_pending_lots,
    expire_due_lots,
    release_due_pending,
    schedule_release,
)
from points_engine.services.redemption import (
    add_reward,
    cancel_redemption,
    pay_with_points,
    redeem_reward,
    reward_view,
)
from points_engine.services.refund import refund_purchase
from points_engine.simulation import history_window, simulate_campaign, stored_campaign
from points_engine.verification import Breach, find_breaches

__all__ = [
    "BUSINESS_TYPES",
    "REWARD_KINDS",
    "AccrualCommand",
    "AccrualLine",
    "AccrualPreview",
    "Accrued",
    "Adjusted",
    "AdjustmentCommand",
    "AlreadyCancelled",
    "Balance",
    "Breach",
    "BudgetDraw",
    "CampaignCommand",
    "CampaignView",
    "InsufficientPoints",
    "JobReport",
    "MemberDirectory",
    "MemberInfo",
    "MemberRef",
    "OutOfStock",
    "PointsDebtOutstanding",
    "Redeemed",
    "RedemptionCancelled",
    "RedemptionCommand",
    "RefundCommand",
    "RefundExceedsOriginal",
    "Refunded",
    "RewardData",
    "RewardView",
    "RuleData",
    "UnknownAccrual",
    "UnknownCampaign",
    "UnknownReward",
    "Written",
    "accounts_with_expiring_lots",
    "accrue_many",
    "accrue_points",
    "add_reward",
    "adjust_points",
    "campaign_view",
    "cancel_redemption",
    "create_campaign",
    "due_pending_lots",
    "expire_due_lots",
    "find_breaches",
    "history_window",
    "in_holdout",
    "load_ledger_reference",
    "merge_member_accounts",
    "open_accounts_for_members",
    "open_member_accounts",
    "pay_with_points",
    "preview_accrual",
    "queries",
    "redeem_reward",
    "refund_purchase",
    "release_due_pending",
    "reward_view",
    "schedule_release",
    "simulate_campaign",
    "stored_campaign",
]
