"""Pickup facade: codes for orders collected at an outlet, and the wrong-code throttle."""

from storefront_api.pickup.domain import (
    hash_pickup_code,
    looks_like_pickup_code,
    new_pickup_code,
)
from storefront_api.pickup.services import (
    WRONG_CODE_LIMIT,
    CodeMatch,
    PickupCodeExpired,
    PickupCodeUsed,
    UnknownPickupCode,
    check_code,
    count_attempt,
    give_back_attempt,
    issue_code,
    mark_used,
    pickup_code_of,
)

__all__ = [
    "WRONG_CODE_LIMIT",
    "CodeMatch",
    "PickupCodeExpired",
    "PickupCodeUsed",
    "UnknownPickupCode",
    "check_code",
    "count_attempt",
    "give_back_attempt",
    "hash_pickup_code",
    "issue_code",
    "looks_like_pickup_code",
    "mark_used",
    "new_pickup_code",
    "pickup_code_of",
]
