"""Request and response models of the catalogue, order and pickup endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from common.codes import BusinessType
from common.patterns import NO_NUL, WHITESPACE
from storefront_api.http.schemas import (
    INTEGRAL,
    Category,
    Code,
    Cursor,
    ExternalId,
    Fen,
    MemberNo,
    Name,
    Open,
    Short,
    Strict,
    Text200,
    VoucherCode,
    strip,
)

Quantity = Annotated[int, Field(gt=0, le=10_000), INTEGRAL]
Reason = Text200
# At least 5 characters between the first and the last that are not white space, no NUL.
ADDRESS = rf"^[^\x00]*[^\x00{WHITESPACE}][^\x00]{{3,}}[^\x00{WHITESPACE}][^\x00]*$"
PrepaidCardNo = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9]{19}$"),
    Field(
        description="a prepaid card number: 19 digits, the last a Luhn check digit "
        "(a wrong one is answered invalid-card-no)"
    ),
]


MemberPrices = Annotated[
    dict[Code, Fen],
    Field(
        max_length=10,
        description=(
            "the club's member prices, by tier code: a member pays the lowest of the list "
            "price and the prices of their tier and the tiers below it; each must be below "
            "the list price. On a change, the mapping replaces the old one ({} removes them)."
        ),
    ),
]


class ProductIn(Strict):
    sku: Code
    name: Name
    name_en: Name | None = None
    category: Category
    price_fen: Fen
    brand: Short | None = None
    business_type: BusinessType
    stock: Annotated[int, Field(ge=0, le=10**9), INTEGRAL] | None = None
    per_member_limit: Annotated[int, Field(gt=0, le=10_000), INTEGRAL] | None = None
    festival: Literal["spring", "dragon_boat", "summer", "mid_autumn", "hairy_crab"] | None = None
    member_prices: MemberPrices | None = None


class ProductPatchIn(Strict):
    price_fen: Fen | None = None
    stock: Annotated[int, Field(ge=0, le=10**9), INTEGRAL] | None = None
    per_member_limit: Annotated[int, Field(gt=0, le=10_000), INTEGRAL] | None = None
    active: bool | None = None
    member_prices: MemberPrices | None = None


class ProductOut(Open):
    sku: str
    name: str
    category: str
    price_fen: int
    brand: str | None
    business_type: str
    stock: int | None
    per_member_limit: int | None
    member_prices: dict[str, int]


class ProductQuery(Strict):
    model_config = ConfigDict(strict=False, extra="forbid")
    category: Category | None = None
    business_type: BusinessType | None = None
    festival: Short | None = None
    limit: Annotated[int, Field(ge=1, le=500), INTEGRAL] = 50
    cursor: Cursor | None = None


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
    address: Annotated[
        str,
        StringConstraints(min_length=5, max_length=300, pattern=ADDRESS),
        AfterValidator(strip),
        Field(description="at least 5 characters without the white space around them"),
    ]


class OrderPaymentIn(Strict):
    """`points` with points_cash only (and then needed); `card_no` and `card_pin` with
    prepaid_card only (card_no then needed). Otherwise inconsistent-fields."""

    method: Literal["online", "cod", "prepaid_card", "points_cash"]
    points: Annotated[int, Field(gt=0, le=10**9), INTEGRAL] | None = None
    card_no: PrepaidCardNo | None = None
    card_pin: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = Field(
        default=None,
        description=(
            "the card's PIN: needed unless the member pays with a card registered to them"
        ),
    )
    voucher_code: VoucherCode | None = Field(
        default=None,
        description=(
            "one of the member's vouchers, taken off the lines it applies to before points "
            "and money; given back if the order is cancelled, expires or is returned"
        ),
    )


class OrderIn(Strict):
    external_id: ExternalId
    member_no: MemberNo
    lines: Annotated[
        list[OrderLineIn],
        Field(
            min_length=1,
            max_length=100,
            description="one line per SKU (a SKU twice is inconsistent-fields)",
        ),
    ]
    fulfillment: Annotated[PickupFulfilment | DeliveryFulfilment, Field(discriminator="type")]
    payment: OrderPaymentIn


class OrderOut(Open):
    order_no: str
    status: str
    payable_fen: int
    points_used: int
    total_fen: int
    delivery_fee_fen: int = Field(
        description="a delivered order's delivery fee (a line of its own, sku DELIVERY); "
        "0 for a pickup or a member whose tier has free delivery"
    )
    pickup_code: str | None = None
    history: list[dict[str, Any]] | None = None


class PaymentIn(Strict):
    """An online payment; cash on delivery is collected at pickup or delivery, and prepaid
    cards are charged when the order is placed."""

    external_id: ExternalId
    amount_fen: Annotated[
        int, Field(gt=0, le=10**12, description="exactly the amount payable"), INTEGRAL
    ]
    method: Literal["online"]
    transaction_ref: Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=NO_NUL)]


class PickupVerifyIn(Strict):
    outlet_code: Code
    pickup_code: Annotated[
        str, StringConstraints(pattern=r"^[0-9]{8}$"), Field(description="the 8-digit code")
    ]


class ReasonIn(Strict):
    reason: Reason | None = None


class OrderPage(Open):
    items: list[OrderOut]
    next_cursor: str | None
