"""Request and response models of the HTTP contract; the OpenAPI schemas come from here."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=120, strip_whitespace=True)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Short = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
Fen = Annotated[int, Field(gt=0, le=10**12, description="amount in fen (1 yuan = 100 fen)")]
Category = Literal[
    "home",
    "baby",
    "digital",
    "beauty",
    "sports",
    "jewelry",
    "food",
    "farm",
    "stamps",
    "press",
    "other",
]
BusinessType = Literal["goods", "bill_payment", "mailing", "subscription", "philately", "service"]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    @field_validator("*", check_fields=False)
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; without this it is a 500 there and stored on SQLite.
        strings = value if isinstance(value, list) else [value]
        if any(isinstance(item, str) and "\x00" in item for item in strings):
            raise ValueError("must not contain NUL characters")
        return value


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# -- auth ------------------------------------------------------------------------


class MemberTokenIn(Strict):
    phone: Short
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class StaffTokenIn(Strict):
    username: Short
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]


class TokenOut(Open):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


# -- members ---------------------------------------------------------------------


VerificationCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{6}$",
        description="the 6-digit one-time code sent by SMS (POST /verification-codes)",
    ),
]


class MemberIn(Strict):
    phone: Short
    name: Name
    password: Annotated[str, StringConstraints(min_length=8, max_length=128)] | None = None
    card_no: Short | None = None
    birthday: date | None = None
    marketing_consent: bool = False
    verification_code: VerificationCode | None = Field(
        default=None,
        description="needed for self-registration (no credentials); a channel key vouches instead",
    )


class MemberPatch(Strict):
    """Only the fields sent change; birthday may be cleared with null, the others not
    (the schema says so: they are not nullable)."""

    name: Name | SkipJsonSchema[None] = None
    birthday: date | None = None
    marketing_consent: bool | SkipJsonSchema[None] = None
    sms_consent: bool | SkipJsonSchema[None] = None
    data_sharing_consent: bool | SkipJsonSchema[None] = None

    @field_validator("name", "marketing_consent", "sms_consent", "data_sharing_consent")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("must not be null (only birthday can be cleared)")
        return value


class MemberOut(Open):
    member_no: str
    name: str
    phone: str
    tier: str
    status: Literal["active", "merged"]
    merged_into: str | None = None


LOOKUP_KEYS = (
    "phone",
    "card_no",
    "wechat_openid",
    "alipay_uid",
    "partner_airline",
    "partner_bank",
    "partner_insurer",
)


class LookupQuery(Strict):
    """Exactly one identifier: any type a member can be found by."""

    model_config = ConfigDict(strict=False, extra="forbid")
    phone: Short | None = None
    card_no: Short | None = None
    wechat_openid: Short | None = None
    alipay_uid: Short | None = None
    partner_airline: Short | None = None
    partner_bank: Short | None = None
    partner_insurer: Short | None = None

    @model_validator(mode="after")
    def exactly_one(self) -> LookupQuery:
        given = [k for k in LOOKUP_KEYS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(LOOKUP_KEYS)}")
        return self


IdentifierType = Literal[
    "card_no",
    "wechat_openid",
    "alipay_uid",
    "partner_airline",
    "partner_bank",
    "partner_insurer",
]


class IdentifierIn(Strict):
    type: IdentifierType
    value: Annotated[str, StringConstraints(min_length=1, max_length=80, strip_whitespace=True)]
    verification_code: VerificationCode | None = Field(
        default=None,
        description="needed when the member links it themself; a channel key vouches instead",
    )


class IdentifierOut(Open):
    member_no: str
    type: str
    value: str


class MergeIn(Strict):
    survivor: Short
    absorbed: Short


class AdjustmentIn(Strict):
    external_id: ExternalId
    points: Annotated[int, Field(ge=-1_000_000, le=1_000_000, description="signed; not 0")]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class AdjustmentOut(Open):
    member_no: str
    points: int
    reason: str
    balance: Balance


class ExpiringPoints(Open):
    points: int
    expires_on: date


class PointsOut(Open):
    member_no: str
    available: int
    pending: int
    negative_debt: int
    expiring: list[ExpiringPoints]
    tier: str


class PageQuery(Strict):
    model_config = ConfigDict(strict=False, extra="forbid")
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None


class LedgerEntry(Open):
    type: str
    points: int
    balance_after: int | None
    reference: str
    occurred_at: str
    breakdown: Any = None


class LedgerPage(Open):
    items: list[LedgerEntry]
    next_cursor: str | None


# -- accrual ---------------------------------------------------------------------


class MemberRefIn(Strict):
    member_no: Short | None = None
    phone: Short | None = None
    card_no: Short | None = None

    @model_validator(mode="after")
    def exactly_one(self) -> MemberRefIn:
        given = [k for k in ("member_no", "phone", "card_no") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("name the member by exactly one of member_no, phone, card_no")
        return self


class LineIn(Strict):
    sku: Code
    category: Category | None = None
    quantity: Annotated[int, Field(gt=0, le=100_000)] = 1
    amount_fen: Fen


class AccrualIn(Strict):
    external_id: ExternalId
    member: MemberRefIn
    institution_code: Code
    occurred_at: AwareDatetime
    business_type: BusinessType
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=200)]
    total_fen: Fen
    payment_method: (
        Annotated[str, StringConstraints(min_length=1, max_length=32, strip_whitespace=True)] | None
    ) = None

    @field_validator("total_fen")
    @classmethod
    def total_matches_lines(cls, total_fen: int, info: ValidationInfo) -> int:
        # A field validator (lines is validated first) so that the error names total_fen.
        lines = info.data.get("lines")
        if lines is not None and total_fen != sum(line.amount_fen for line in lines):
            raise ValueError("must equal the sum of lines[].amount_fen")
        return total_fen


class BreakdownItem(Open):
    rule: str
    points: int


class Balance(Open):
    available: int
    pending: int
    negative_debt: int | None = None


class AccrualOut(Open):
    accrual_id: str
    member_no: str
    points: int
    status: Literal["available", "pending"]
    available_on: date | None = None
    breakdown: list[BreakdownItem]
    balance: Balance


class AccrualBatchIn(Strict):
    items: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=1000)]


class BatchResult(Open):
    external_id: str | None
    status: int
    body: dict[str, Any]


class AccrualBatchOut(Open):
    results: list[BatchResult]


class RefundIn(Strict):
    external_id: ExternalId
    original_external_id: ExternalId
    amount_fen: Fen


class RefundOut(Open):
    refund_id: str
    points_reversed: int
    balance: Balance


# -- rewards ---------------------------------------------------------------------


RewardKind = Literal["goods", "voucher", "bill_credit", "partner_miles"]


class RewardIn(Strict):
    code: Code
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    name_en: Annotated[str, StringConstraints(max_length=200)] = ""
    kind: RewardKind
    points_cost: Annotated[int, Field(gt=0, le=10**9)]
    cash_fen: Annotated[int, Field(ge=0, le=10**10)] = 0
    stock: Annotated[int, Field(ge=0, le=10**9)] | None = None


class RewardOut(Open):
    code: str
    name: str
    kind: RewardKind
    points_cost: int
    cash_fen: int
    stock: int | None


class RewardList(Open):
    items: list[RewardOut]


class RedemptionIn(Strict):
    external_id: ExternalId
    member_no: Short
    reward_code: Code
    quantity: Annotated[int, Field(gt=0, le=1000)] = 1


class RedemptionOut(Open):
    redemption_id: str
    points_spent: int
    balance: Balance


class RedemptionCancelOut(Open):
    redemption_id: str
    status: Literal["cancelled"]
    points_returned: int
    points_expired: int
    balance: Balance


# -- reference data and campaigns ------------------------------------------------


class InstitutionQuery(Strict):
    model_config = ConfigDict(strict=False, extra="forbid")
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Annotated[str, StringConstraints(max_length=200)] | None = None
    parent_code: Code | None = None


class InstitutionOut(Open):
    code: str
    name: str
    kind: Literal["company", "district", "outlet", "kiosk", "store"]
    parent_code: str | None


class InstitutionPage(Open):
    items: list[InstitutionOut]
    next_cursor: str | None


class CampaignIn(Strict):
    code: Code
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
    name_en: Annotated[str, StringConstraints(max_length=200)] = ""
    starts_on: date
    ends_on: date
    budget_points: Annotated[int, Field(gt=0, le=10**12)]
    multiplier_bp: Annotated[int, Field(ge=10_000, le=100_000)] = 10_000
    bonus_points: Annotated[int, Field(ge=0, le=10**7)] = 0
    per_member_cap: Annotated[int, Field(gt=0, le=10**9)] | None = None
    holdout_pct: Annotated[int, Field(ge=0, le=50)] = 0
    business_types: list[BusinessType] = []
    channels: list[Code] = []
    categories: list[Category] = []
    skus: Annotated[list[Code], Field(max_length=500)] = []
    tiers: list[Code] = []
    funded_by: Code = "SH"


class CampaignOut(Open):
    code: str
    name: str
    starts_on: date
    ends_on: date
    budget_points: int
    budget_remaining: int


class CampaignList(Open):
    items: list[CampaignOut]


class HistoryWindowIn(Strict):
    """The past business days to replay; each defaults to the campaign's own one year earlier."""

    history_from: date | None = None
    history_to: date | None = None


class CampaignSimulationIn(CampaignIn):
    """A proposed campaign (not saved) and the past business days to replay it on."""

    history_from: date | None = None
    history_to: date | None = None


class SimulationPeriod(Open):
    from_: date = Field(alias="from")
    to: date


class CampaignSimulationOut(Open):
    campaign: str
    period: SimulationPeriod
    accruals_examined: int = Field(description="accruals whose business date is in the period")
    eligible_accruals: int = Field(description="accruals the campaign targets, holdout included")
    participants: int = Field(description="members who would have earned campaign points")
    holdout_members: int
    eligible_gmv_fen: int = Field(description="eligible line amounts outside the holdout")
    points_cost: int
    budget_points: int
    budget_left: int
    budget_exhausted_on: date | None = Field(description="business day the budget ran out")
    members_capped: int = Field(description="members the per-member cap cut at least once")


class NamedCode(Open):
    code: str
    name: str
    name_en: str


class NamedCodeList(Open):
    items: list[NamedCode]
