"""Request and response schemas of redemptions: what a reward needs to be delivered."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from storefront_api.http.orders_schemas import DeliveryFulfilment, PickupFulfilment
from storefront_api.http.partners_schemas import ExchangeIn, PartnerMemberNo
from storefront_api.http.schemas import (
    INTEGRAL,
    Balance,
    Code,
    ExternalId,
    MemberNo,
    Open,
    Strict,
    VoucherOut,
)


class RedemptionIn(Strict):
    external_id: ExternalId
    member_no: MemberNo
    reward_code: Code
    quantity: Annotated[int, Field(gt=0, le=1000), INTEGRAL] = 1
    fulfillment: Annotated[
        PickupFulfilment | DeliveryFulfilment | None,
        Field(
            discriminator="type",
            description="a goods reward (and only one): where to collect or deliver it",
        ),
    ] = None
    cash_payment_method: Literal["online", "cod"] = Field(
        default="online",
        description=(
            "a goods reward with a cash part: paid online (POST /orders/{order_no}/payments) "
            "or on collection; the reward is handed over only once it is paid"
        ),
    )
    partner_member_no: Annotated[
        PartnerMemberNo | None,
        Field(description="a partner reward (and only one): the member's number with it"),
    ] = None


class RedemptionOut(Open):
    redemption_id: str
    points_spent: int
    cash_fen: int
    balance: Balance
    vouchers: list[VoucherOut] = Field(
        default_factory=list,
        description="voucher and bill-credit rewards: one voucher per unit redeemed",
    )
    order: Annotated[
        dict[str, Any] | None,
        Field(description="a goods reward: the order that delivers it (as GET /orders/{order_no})"),
    ] = None
    exchange: Annotated[
        ExchangeIn | None,
        Field(description="a partner reward: the exchange line sent to the partner"),
    ] = None
