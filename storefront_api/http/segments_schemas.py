"""Request and response models of the segment and member-score endpoints."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from storefront_api.http.schemas import INTEGRAL, Cursor, Open, Strict

Risk = Annotated[
    float,
    Field(ge=0, le=1, allow_inf_nan=False, description="churn risk, 0 to 1 (inclusive)"),
]


class RiskRange(Strict):
    model_config = ConfigDict(strict=False, extra="forbid")
    min_churn_risk: Risk | None = None
    max_churn_risk: Risk | None = None


class SegmentMembersQuery(RiskRange):
    limit: Annotated[int, Field(ge=1, le=500), INTEGRAL] = 50
    cursor: Cursor | None = None


class SegmentOut(Open):
    code: str
    name: str
    name_en: str
    priority: int
    rule: dict[str, list[int | None]]
    description: str
    member_count: int


class SegmentList(Open):
    as_of: str | None
    model_version: str | None
    items: list[SegmentOut]


class SegmentMemberOut(Open):
    member_no: str
    phone: str
    name: str
    r: int
    f: int
    m: int
    churn_risk: float
    alive: float | None = Field(description="probability the member is still a customer")
    expected_purchases: float | None = Field(
        description="repeat purchases expected in the next 52 weeks (BG/NBD)"
    )
    expected_value_fen: int | None = Field(
        description="what those purchases are expected to be worth (Gamma-Gamma spend), fen"
    )


class SegmentMemberPage(Open):
    segment_code: str
    items: list[SegmentMemberOut]
    next_cursor: str | None


class SegmentRef(Open):
    code: str
    name: str
    name_en: str


class Rfm(Open):
    r: int
    f: int
    m: int


class MemberScoresOut(Open):
    member_no: str
    as_of: str
    model_version: str
    segment: SegmentRef
    rfm: Rfm
    churn_risk: float
    alive: float | None = Field(description="probability the member is still a customer")
    expected_purchases: float | None = Field(
        description="repeat purchases expected in the next 52 weeks (BG/NBD)"
    )
    expected_value_fen: int | None = Field(
        description="what those purchases are expected to be worth (Gamma-Gamma spend), fen"
    )
