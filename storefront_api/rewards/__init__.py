"""Rewards facade: a redemption and what it delivers to the member."""

from storefront_api.rewards.delivery import Delivered, cancel, redeem

__all__ = ["Delivered", "cancel", "redeem"]
