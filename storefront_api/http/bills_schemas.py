"""Request and response models of billers, bill look-up, bill payments and their reversal."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from storefront_api.bills import ACCOUNT_NO_PATTERN
from storefront_api.http.schemas import (
    Code,
    ExternalId,
    Fen,
    MemberRefIn,
    Open,
    Strict,
    VoucherCode,
)

BillerKind = Literal["water", "electricity", "gas", "broadband", "landline"]
PaymentStatus = Literal["processing", "paid", "declined", "unknown", "failed", "reversed"]
# The pattern is documented here and enforced by the use case, which names the field.
AccountNo = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(description="8 to 16 digits", json_schema_extra={"pattern": ACCOUNT_NO_PATTERN}),
]


class BillerOut(Open):
    code: str
    name: str
    name_en: str
    kind: BillerKind


class BillerList(Open):
    items: list[BillerOut]


class BillQueryIn(Strict):
    biller_code: Code
    account_no: AccountNo


class BillOut(Open):
    bill_id: str
    biller_code: str
    biller_name: str
    kind: BillerKind
    account_no: str
    period: str = Field(description="the month billed, YYYY-MM")
    amount_due_fen: int
    customer_name: str = Field(description="masked: 张*, 王*明")


class BillPaymentIn(Strict):
    external_id: ExternalId
    bill_id: Code
    amount_fen: Fen = Field(description="must equal the bill's amount due")
    member: MemberRefIn | None = Field(
        default=None, description="who earns the points; a member token pays only for themself"
    )
    bill_credit_code: VoucherCode | None = Field(
        default=None,
        description=(
            "one of the member's bill credits to pay towards this bill; without it the "
            "member's usable credit for this kind of bill that runs out soonest is applied"
        ),
    )


class BillPaymentOut(Open):
    payment_no: str
    status: PaymentStatus
    bill_id: str
    biller_code: str
    biller_name: str
    account_no: str
    period: str
    amount_fen: int
    member_no: str | None
    points: int = Field(description="points earned; 0 until the biller confirms the payment")
    points_reversed: int
    channel: str
    institution_code: str
    external_id: str
    biller_ref: str | None
    decline_reason: str | None
    created_at: str
    paid_at: str | None
    credit_fen: int = Field(description="what the member's bill credit paid of amount_fen")
    collected_fen: int = Field(description="what the member paid: amount_fen - credit_fen")
    reversed_at: str | None


class BillReversalIn(Strict):
    external_id: ExternalId
