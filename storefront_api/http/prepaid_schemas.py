"""Request and response models of the prepaid-card endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from storefront_api.http.schemas import Code, ExternalId, Fen, MemberRefIn, Open, Strict, Text200

CardStatus = Literal["active", "frozen"]
EntryKind = Literal["issue", "top_up", "charge", "refund"]


class CardIssueIn(Strict):
    external_id: ExternalId
    member: MemberRefIn | None = None
    amount_fen: Fen
    institution_code: Code | None = Field(
        default=None, description="the selling institution (staff name it; keys have one)"
    )


class CardOut(Open):
    card_no: str
    pin: str | None = Field(
        default=None, description="only in the answer that issued the card; shown once"
    )
    balance_fen: int
    status: CardStatus
    member_no: str | None = None
    institution_code: str
    issued_at: str


class CardStatusIn(Strict):
    status: CardStatus


class TopUpIn(Strict):
    external_id: ExternalId
    amount_fen: Fen


class TopUpOut(Open):
    top_up_no: str
    card_no: str
    amount_fen: int
    balance_fen: int


CardPin = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class CardChargeIn(Strict):
    external_id: ExternalId
    amount_fen: Fen
    pin: CardPin = Field(description="the card's 6-digit PIN, which its holder keeps")
    description: Text200 | None = None


class CardChargeOut(Open):
    charge_no: str
    card_no: str
    amount_fen: int
    balance_fen: int
    description: str | None = None


class CardRefundIn(Strict):
    external_id: ExternalId
    amount_fen: Fen


class CardRefundOut(Open):
    refund_no: str
    charge_no: str
    card_no: str
    amount_fen: int
    refundable_fen: int
    balance_fen: int


class CardTransaction(Open):
    entry_no: str
    kind: EntryKind
    amount_fen: int
    balance_after: int
    channel: str
    reference: str
    created_at: str
    charge_no: str | None = None
    description: str | None = None


class CardTransactionPage(Open):
    items: list[CardTransaction]
    next_cursor: str | None
