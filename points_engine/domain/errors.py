"""Errors the points ledger raises."""

from __future__ import annotations

from common.errors import Conflict, Invalid, NotFound, RuleViolation


class InsufficientPoints(RuleViolation):
    code = "insufficient-points"
    title = "Not enough available points"


class PointsDebtOutstanding(RuleViolation):
    code = "points-debt-outstanding"
    title = "Negative points balance blocks redemption"


class OutOfStock(Conflict):
    code = "out-of-stock"
    title = "Reward out of stock"


class AlreadyCancelled(Conflict):
    code = "already-cancelled"
    title = "Redemption already cancelled"


class RefundExceedsOriginal(Invalid):
    code = "refund-exceeds-original"
    title = "Refund exceeds the original amount"


class UnknownAccrual(Invalid):
    code = "unknown-accrual"
    title = "Original accrual not found"


class UnknownReward(Invalid):
    code = "unknown-reward"
    title = "Unknown reward"


class NoEarningRuleFor(Invalid):
    """No earning rule covers this business type, channel and category (rules are data)."""

    code = "no-earning-rule"
    title = "No earning rule covers this purchase"


class UnknownCampaign(NotFound):
    code = "unknown-campaign"
    title = "Unknown campaign"


class DayAlreadyBegun(Invalid):
    """A change must take effect on a day that has not begun yet (Asia/Shanghai)."""

    code = "day-already-begun"
    title = "That day has already begun"
