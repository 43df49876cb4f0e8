"""Pickup facade: codes for orders collected at an outlet, and the wrong-code throttle."""

from storefront_api.pickup.domain import (
    Throttle,
    hash_pickup_code,
    looks_like_pickup_code,
    new_pickup_code,
)
from storefront_api.pickup.services import (
    CodeMatch,
    PickupCodeExpired,
    PickupCodeUsed,
    UnknownPickupCode,
    WrongOutlet,
    check_code,
    issue_code,
    mark_used,
    pickup_code_of,
    record_failure,
)

__all__ = [
    "CodeMatch",
    "PickupCodeExpired",
    "PickupCodeUsed",
    "Throttle",
    "UnknownPickupCode",
    "WrongOutlet",
    "check_code",
    "hash_pickup_code",
    "issue_code",
    "looks_like_pickup_code",
    "mark_used",
    "new_pickup_code",
    "pickup_code_of",
    "record_failure",
]
