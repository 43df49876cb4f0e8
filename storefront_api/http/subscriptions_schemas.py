"""Request and response models of press titles and newspaper subscriptions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from common.patterns import NOT_BLANK
from storefront_api.http.schemas import (
    Balance,
    Code,
    ExternalId,
    MemberRefIn,
    Open,
    Strict,
    Text32,
    strip,
)

Address = Annotated[
    str, StringConstraints(min_length=1, max_length=300, pattern=NOT_BLANK), AfterValidator(strip)
]
PaymentMethod = Text32
SubscriptionTerm = Literal["monthly", "quarterly", "annual"]


class PressTitleOut(Open):
    code: str
    name: str
    name_en: str
    publisher: str
    frequency: str
    monthly_price_fen: int


class PressTitleList(Open):
    items: list[PressTitleOut]


class SubscriptionDeliveryIn(Strict):
    """`{type: "address", address}` or `{type: "outlet", outlet_code}` (a post office);
    the other field left out (else inconsistent-fields)."""

    type: Literal["address", "outlet"]
    address: Address | None = None
    outlet_code: Code | None = None


class SubscriptionIn(Strict):
    external_id: ExternalId
    member: MemberRefIn
    title_code: Code
    term: SubscriptionTerm
    start_date: date = Field(
        description="the first day of a month, not before today (else date-in-the-past)",
        json_schema_extra={"pattern": "-01$"},
    )
    delivery: SubscriptionDeliveryIn
    payment_method: PaymentMethod


class SubscriptionDeliveryOut(Open):
    type: Literal["address", "outlet"]
    address: str | None = None
    outlet_code: str | None = None


class SubscriptionOut(Open):
    subscription_no: str
    status: Literal["active", "cancelled"]
    member_no: str
    channel: str
    title_code: str
    term: SubscriptionTerm
    total_fen: int
    starts_on: date
    ends_on: date = Field(description="the last day delivered")
    delivery: SubscriptionDeliveryOut
    points: int
    cancelled_on: date | None = None
    refund_fen: int | None = None
    points_reversed: int | None = None


class SubscriptionCreatedOut(SubscriptionOut):
    balance: Balance


class SubscriptionCancelIn(Strict):
    external_id: ExternalId | None = None
    as_of: date | None = Field(
        default=None, description="the last day delivered; today when left out, never earlier"
    )


class SubscriptionCancelOut(SubscriptionOut):
    delivered_days: int
    undelivered_days: int
    kept_fen: int = Field(description="total_fen - refund_fen: the price of the delivered days")
    balance: Balance | None = Field(default=None, description="absent when nothing was refunded")
