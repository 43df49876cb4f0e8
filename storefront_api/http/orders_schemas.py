"""Request and response models of the catalogue, order and pickup endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from storefront_api.http.schemas import (
    BusinessType,
    Category,
    Code,
    ExternalId,
    Fen,
    Name,
    Open,
    Short,
    Strict,
)

Quantity = Annotated[int, Field(gt=0, le=10_000)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class ProductIn(Strict):
    sku: Code
    name: Name
    name_en: Name | None = None
    category: Category
    price_fen: Fen
    brand: Short | None = None
    business_type: BusinessType
    stock: Annotated[int, Field(ge=0, le=10**9)] | None = None
    per_member_limit: Annotated[int, Field(gt=0, le=10_000)] | None = None
    festival: Literal["spring", "dragon_boat", "summer", "mid_autumn", "hairy_crab"] | None = None


class ProductPatchIn(Strict):
    price_fen: Fen | None = None
    stock: Annotated[int, Field(ge=0, le=10**9)] | None = None
    per_member_limit: Annotated[int, Field(gt=0, le=10_000)] | None = None
    active: bool | None = None


class ProductOut(Open):
    sku: str
    name: str
    category: str
    price_fen: int
    brand: str | None
    business_type: str
    stock: int | None
    per_member_limit: int | None


class ProductQuery(Strict):
    model_config = ConfigDict(strict=False, extra="forbid")
    category: Category | None = None
    business_type: BusinessType | None = None
    festival: Short | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class ProductPage(Open):
    items: list[ProductOut]
    next_cursor: str | None


class OrderLineIn(Strict):
    sku: Code
    quantity: Quantity


class PickupFulfilment(Strict):
    type: Literal["pickup"]
    outlet_code: Code


class DeliveryFulfilment(Strict):
    type: Literal["delivery"]
    address: Annotated[str, StringConstraints(min_length=5, max_length=300, strip_whitespace=True)]


class OrderPaymentIn(Strict):
    method: Literal["online", "cod", "prepaid_card", "points_cash"]
    points: Annotated[int, Field(gt=0, le=10**9)] | None = None
    card_no: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    card_pin: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = Field(
        default=None,
        description=(
            "the card's PIN: needed unless the member pays with a card registered to them"
        ),
    )


class OrderIn(Strict):
    external_id: ExternalId
    member_no: Short
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=100)]
    fulfillment: Annotated[PickupFulfilment | DeliveryFulfilment, Field(discriminator="type")]
    payment: OrderPaymentIn


class OrderOut(Open):
    order_no: str
    status: str
    payable_fen: int
    points_used: int
    total_fen: int
    pickup_code: str | None = None
    history: list[dict[str, Any]] | None = None


class PaymentIn(Strict):
    external_id: ExternalId
    amount_fen: Fen
    method: Literal["online", "cod", "prepaid_card", "points_cash"]
    transaction_ref: Annotated[str, StringConstraints(min_length=1, max_length=120)]


class PickupVerifyIn(Strict):
    outlet_code: Code
    pickup_code: Annotated[str, StringConstraints(min_length=1, max_length=32)]


class ReasonIn(Strict):
    reason: Reason | None = None


class OrderPage(Open):
    items: list[OrderOut]
    next_cursor: str | None
