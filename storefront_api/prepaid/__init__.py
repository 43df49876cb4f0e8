"""Public facade of prepaid (stored-value) cards: use cases, queries, errors, invariants."""

from storefront_api.prepaid import queries
from storefront_api.prepaid.domain import (
    CARD_SELLING_CHANNELS,
    STAFF_CHANNEL,
    BalanceLimitExceeded,
    CardNotActive,
    CardNotFound,
    ChargeNotRefundableHere,
    DuplicateChargeReference,
    InsufficientBalance,
    MalformedCardNo,
    RefundExceedsCharge,
    UnknownCard,
    UnknownCharge,
)
from storefront_api.prepaid.queries import card_balance, member_activity
from storefront_api.prepaid.services import (
    IssueCommand,
    PaymentCommand,
    PaymentRefundCommand,
    TopUpCommand,
    charge_card,
    issue_card,
    refund_card_charge,
    refund_card_payment,
    set_card_status,
    take_card_payment,
    top_up_card,
)
from storefront_api.prepaid.verification import find_breaches

__all__ = [
    "CARD_SELLING_CHANNELS",
    "STAFF_CHANNEL",
    "BalanceLimitExceeded",
    "CardNotActive",
    "CardNotFound",
    "ChargeNotRefundableHere",
    "DuplicateChargeReference",
    "InsufficientBalance",
    "IssueCommand",
    "MalformedCardNo",
    "PaymentCommand",
    "PaymentRefundCommand",
    "RefundExceedsCharge",
    "TopUpCommand",
    "UnknownCard",
    "UnknownCharge",
    "card_balance",
    "charge_card",
    "find_breaches",
    "issue_card",
    "member_activity",
    "queries",
    "refund_card_charge",
    "refund_card_payment",
    "set_card_status",
    "take_card_payment",
    "top_up_card",
]
