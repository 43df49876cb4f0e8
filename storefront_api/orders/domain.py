"""Order rules: the one state machine, payment methods and the points-and-cash split."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from common.codes import BusinessType, CategoryCode
from common.errors import Conflict, Invalid

BP = 10_000


class OrderStatus(StrEnum):
    CREATED = "created"
    PAID = "paid"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKED_UP = "picked_up"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    EXPIRED = "expired"


class OrderEvent(StrEnum):
    PAY = "pay"
    AWAIT_PICKUP = "await_pickup"
    PICK_UP = "pick_up"
    SHIP = "ship"
    DELIVER = "deliver"
    CANCEL = "cancel"
    EXPIRE = "expire"
    RETURN = "return"


S, E = OrderStatus, OrderEvent

# Cash-on-delivery orders skip `paid`: they wait at the counter or go out unpaid, and
# the money is collected at pickup or delivery.
TRANSITIONS: dict[tuple[OrderStatus, OrderEvent], OrderStatus] = {
    (S.CREATED, E.PAY): S.PAID,
    (S.CREATED, E.AWAIT_PICKUP): S.READY_FOR_PICKUP,
    (S.CREATED, E.SHIP): S.SHIPPED,
    (S.CREATED, E.CANCEL): S.CANCELLED,
    (S.CREATED, E.EXPIRE): S.EXPIRED,
    (S.PAID, E.AWAIT_PICKUP): S.READY_FOR_PICKUP,
    (S.PAID, E.SHIP): S.SHIPPED,
    (S.PAID, E.CANCEL): S.CANCELLED,
    (S.READY_FOR_PICKUP, E.PICK_UP): S.PICKED_UP,
    (S.READY_FOR_PICKUP, E.CANCEL): S.CANCELLED,
    (S.READY_FOR_PICKUP, E.EXPIRE): S.EXPIRED,
    (S.SHIPPED, E.DELIVER): S.DELIVERED,
    (S.PICKED_UP, E.RETURN): S.REFUNDED,
    (S.DELIVERED, E.RETURN): S.REFUNDED,
}

FINAL = frozenset({S.CANCELLED, S.REFUNDED, S.EXPIRED})


class PointsNotAccepted(Invalid):
    """The points offered do not fit this order: not a whole number of fen at the
    configured rate, or more than the share of the total points may pay."""

    code = "points-not-accepted"
    title = "These points cannot pay for this order"


class PaymentMismatch(Invalid):
    """A payment that does not fit the order: another method than the order's, or an
    amount that is not the amount payable."""

    code = "payment-mismatch"
    title = "Payment does not match the order"


class IllegalTransition(Conflict):
    code = "illegal-transition"
    title = "Not allowed in the order's current status"


def next_status(current: OrderStatus, event: OrderEvent) -> OrderStatus:
    """The status after `event`; raises IllegalTransition (409) when it may not happen now."""
    try:
        return TRANSITIONS[(current, event)]
    except KeyError:
        raise IllegalTransition(
            f"cannot {event.value.replace('_', ' ')} an order that is {current.value}"
        ) from None


class PaymentMethod(StrEnum):
    ONLINE = "online"
    COD = "cod"
    PREPAID_CARD = "prepaid_card"
    POINTS_CASH = "points_cash"


ORDER_CHANNELS = ("web", "app", "counter", "hotline", "distribution")


@dataclass(frozen=True)
class PointsCashSplit:
    points_used: int
    offset_fen: int
    cash_fen: int


# A delivered order's fee is a line of its own (sku common.codes.DELIVERY_FEE_SKU): paid,
# refunded, earned on and cleared like the goods, as the parcel delivery (寄递) it is.
DELIVERY_NAME = "配送费"
DELIVERY_CATEGORY: CategoryCode = "other"
DELIVERY_BUSINESS_TYPE: BusinessType = "mailing"


@dataclass(frozen=True)
class OrderPolicy:
    """Configurable order rules: points value, their maximum share, pickup and return windows."""

    points_per_yuan: int = 100
    max_points_share_bp: int = 5_000
    pickup_days: int = 7
    delivery_return_days: int = 7
    unpaid_days: int = 1
    # What a delivered order adds for its delivery, unless the member's tier delivers free.
    delivery_fee_fen: int = 1_000

    def split_points_cash(self, total_fen: int, points: int, field: str) -> PointsCashSplit:
        """Split an order total into a points part and a cash part.

        `points` must buy a whole number of fen (with 100 points per yuan any number
        does) and may cover at most `max_points_share_bp` of the total, rounded down to
        the fen. Raises Invalid naming `field`. points_used + cash always covers the
        total exactly: offset_fen + cash_fen == total_fen.
        """
        if points <= 0:
            raise Invalid.field(field, "must be greater than 0 for points_cash")
        if (points * 100) % self.points_per_yuan:
            step = self.points_per_yuan // _gcd(self.points_per_yuan, 100)
            raise PointsNotAccepted.field(field, f"must be a multiple of {step} points")
        offset = points * 100 // self.points_per_yuan
        cap = total_fen * self.max_points_share_bp // BP
        if offset > cap:
            most = cap * self.points_per_yuan // 100
            raise PointsNotAccepted.field(
                field,
                f"points may pay at most {self.max_points_share_bp / 100:g}% of the order "
                f"({cap} fen, {most} points)",
            )
        return PointsCashSplit(points_used=points, offset_fen=offset, cash_fen=total_fen - offset)


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def allocate(total: int, weights: list[int]) -> list[int]:
    """Share `total` over `weights` in proportion, in whole units, losing nothing.

    Largest remainder: each part is rounded down, then the units left go one each to
    the largest remainders (earliest first on ties). sum(result) == total.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("total and weights must not be negative")
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    parts = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts
