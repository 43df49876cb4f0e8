"""The reference codes the whole platform shares, defined once.

The database's reference tables (loaded by `memberhub init-db`) carry the names of these
codes in Chinese and English; the codes themselves are part of the API contract, so the
request schemas, the access policy and the use cases all take them from here.
"""

from __future__ import annotations

from typing import Literal, get_args

# The operator's company: the root of the institution tree, the institution of what
# is sold or adjusted centrally rather than at an outlet.
COMPANY_CODE = "SH"

ChannelCode = Literal["web", "app", "counter", "retail", "hotline", "distribution", "partner"]
CHANNELS: tuple[str, ...] = get_args(ChannelCode)
# Keys of these channels belong to one outlet or store.
OUTLET_BOUND_CHANNELS = ("counter", "retail")

BusinessType = Literal["goods", "bill_payment", "mailing", "subscription", "philately", "service"]
BUSINESS_TYPES: tuple[str, ...] = get_args(BusinessType)

CategoryCode = Literal[
    "home",
    "baby",
    "digital",
    "beauty",
    "sports",
    "jewelry",
    "food",
    "farm",
    "stamps",
    "press",
    "other",
]
CATEGORIES: tuple[str, ...] = get_args(CategoryCode)

# The order line that carries a delivered order's delivery fee; no product may take it.
DELIVERY_FEE_SKU = "DELIVERY"

RewardKind = Literal["goods", "voucher", "bill_credit", "partner_miles"]
REWARD_KINDS: tuple[str, ...] = get_args(RewardKind)
BillerKind = Literal["water", "electricity", "gas", "broadband", "landline"]
BILLER_KINDS: tuple[str, ...] = get_args(BillerKind)

# Rewards worth an amount of money to the member: a voucher off a purchase, a credit on a bill.
VALUE_KINDS: tuple[str, ...] = ("voucher", "bill_credit")

StaffRole = Literal["marketer", "finance", "admin"]
STAFF_ROLES: tuple[str, ...] = get_args(StaffRole)
