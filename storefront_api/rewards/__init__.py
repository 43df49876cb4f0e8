"""Rewards facade: a redemption and what it delivers to the member."""

from storefront_api.rewards.delivery import (
    Delivered,
    Fulfilment,
    Redeemer,
    RedeemRequest,
    RewardUnderway,
    cancel,
    redeem,
)

__all__ = [
    "Delivered",
    "Fulfilment",
    "RedeemRequest",
    "Redeemer",
    "RewardUnderway",
    "cancel",
    "redeem",
]
