"""Request and response models of partner exchange."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from common.patterns import IDENTIFIER_PATTERNS, padded
from storefront_api.http.schemas import INTEGRAL, Code, ExternalId, MemberNo, Open, Strict

PartnerMemberNo = Annotated[
    str,
    StringConstraints(pattern=padded(IDENTIFIER_PATTERNS["partner_airline"])),
    Field(description="the member's number in the partner's programme (6-20 A-Z, 0-9)"),
]


class ExchangeOutIn(Strict):
    external_id: ExternalId
    member_no: MemberNo
    partner_code: Code
    points: Annotated[int, Field(gt=0, le=10_000_000), INTEGRAL]
    partner_member_no: PartnerMemberNo


class ExchangeInIn(Strict):
    external_id: ExternalId
    member_no: MemberNo
    partner_code: Code
    partner_points: Annotated[int, Field(gt=0, le=10**9), INTEGRAL]
    partner_member_no: PartnerMemberNo


class ExchangeIn(Open):
    exchange_no: str
    direction: Literal["out", "in"]
    partner_code: str
    partner_member_no: str
    points: int
    partner_units: int
    status: Literal["pending", "sent", "settled", "rejected", "completed"]
    business_date: date
    member_no: str | None = None
    available: int | None = Field(default=None, description="available points after it")
    reject_reason: str | None = None


class PartnerOut(Open):
    code: str
    name: str
    name_en: str
    kind: str
    unit_name: str
    out: dict[str, int] | None
    # "in" is a keyword: the field is read and written by its alias.
    in_: dict[str, int] | None = Field(alias="in")


class PartnerList(Open):
    items: list[PartnerOut]
