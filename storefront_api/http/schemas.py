"""Request and response models of the HTTP contract; the OpenAPI schemas come from here."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from common.codes import COMPANY_CODE, BillerKind, BusinessType, CategoryCode, RewardKind
from common.patterns import (
    CURSOR,
    IDENTIFIER_PATTERNS,
    MEMBER_NO,
    NO_NUL,
    NOT_BLANK,
    PHONE,
    padded,
)


def strip(value: str) -> str:
    return value.strip()


# Text the server keeps without its surrounding white space. The length and the pattern
# (not blank, no NUL) apply to the text as sent, so the document states exactly what is
# accepted; the stored value is stripped.
ExternalId = Annotated[
    str, StringConstraints(min_length=1, max_length=120, pattern=NOT_BLANK), AfterValidator(strip)
]
Code = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=NOT_BLANK), AfterValidator(strip)
]
Short = Code
Name = Code
Text200 = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK), AfterValidator(strip)
]
Text32 = Annotated[
    str, StringConstraints(min_length=1, max_length=32, pattern=NOT_BLANK), AfterValidator(strip)
]
# Text kept as sent: any characters but NUL.
Password = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=NO_NUL)]
OptionalText200 = Annotated[str, StringConstraints(max_length=200, pattern=NO_NUL)]
Cursor = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=CURSOR),
    Field(description="next_cursor of the previous page, as it came"),
]
Phone = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=PHONE),
    Field(
        description="a mainland China mobile number (11 digits, 13x-19x), optionally "
        "after +86, 0086 or 86, with spaces, '-', '(' or ')' anywhere",
        examples=["13800001234", "+86 138-0000-1234"],
    ),
]
MemberNo = Annotated[
    str,
    StringConstraints(pattern=MEMBER_NO),
    Field(description="the 12-digit member number", examples=["812345678904"]),
]
MemberCardNo = Annotated[
    str,
    StringConstraints(pattern=padded(IDENTIFIER_PATTERNS["card_no"])),
    AfterValidator(strip),
    Field(description="the member's loyalty card number, 16 to 19 digits"),
]


def _integral(value: Any) -> Any:
    # JSON has one kind of number: to JSON Schema, 250.0 is the integer 250.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# For an integer of a request (last in its Annotated, after the bounds, so that they show in
# the JSON schema): strict, but a JSON number with no fraction counts.
INTEGRAL = BeforeValidator(_integral)
Fen = Annotated[
    int, Field(gt=0, le=10**12, description="amount in fen (1 yuan = 100 fen)"), INTEGRAL
]
Category = CategoryCode


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
    password: Password


class StaffTokenIn(Strict):
    username: Short
    password: Password


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
    phone: Phone
    name: Name
    password: (
        Annotated[str, StringConstraints(min_length=8, max_length=128, pattern=NO_NUL)] | None
    ) = None
    card_no: MemberCardNo | None = None
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


WechatOpenid = Annotated[
    str,
    StringConstraints(pattern=padded(IDENTIFIER_PATTERNS["wechat_openid"])),
    AfterValidator(strip),
]
AlipayUid = Annotated[
    str, StringConstraints(pattern=padded(IDENTIFIER_PATTERNS["alipay_uid"])), AfterValidator(strip)
]
AirlineId = Annotated[
    str,
    StringConstraints(pattern=padded(IDENTIFIER_PATTERNS["partner_airline"])),
    AfterValidator(strip),
]
BankId = Annotated[
    str,
    StringConstraints(pattern=padded(IDENTIFIER_PATTERNS["partner_bank"])),
    AfterValidator(strip),
]
InsurerId = Annotated[
    str,
    StringConstraints(pattern=padded(IDENTIFIER_PATTERNS["partner_insurer"])),
    AfterValidator(strip),
]


class LookupQuery(Strict):
    """Exactly one identifier: any type a member can be found by."""

    # The OpenAPI document states the query as one object parameter of this name
    # (style form, explode: `?phone=...`), which is how "exactly one" can be said there.
    query_parameter: ClassVar[str] = "identifier"
    model_config = ConfigDict(
        strict=False, extra="forbid", json_schema_extra={"minProperties": 1, "maxProperties": 1}
    )
    phone: Phone | None = None
    card_no: MemberCardNo | None = None
    wechat_openid: WechatOpenid | None = None
    alipay_uid: AlipayUid | None = None
    partner_airline: AirlineId | None = None
    partner_bank: BankId | None = None
    partner_insurer: InsurerId | None = None

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


# `value`'s format follows `type`: said in the schema as one `oneOf` branch per type.
_VALUE_BY_TYPE: JsonDict = {
    "oneOf": [
        {
            "properties": {
                "type": {"const": kind},
                "value": {"pattern": padded(IDENTIFIER_PATTERNS[kind])},
            }
        }
        for kind in get_args(IdentifierType)
    ]
}


class IdentifierValueIn(Strict):
    """An identifier to link: its type and its value in that type's format."""

    model_config = ConfigDict(json_schema_extra=_VALUE_BY_TYPE)
    type: IdentifierType
    value: Annotated[
        str,
        StringConstraints(min_length=1, max_length=80),
        Field(
            description="card_no: 16-19 digits; wechat_openid: 16-64 of A-Z a-z 0-9 _ -; "
            "alipay_uid: 2088 and 12 digits; partner ids: 6-20 (airline) or 6-24 "
            "upper-case letters and digits; white space around it is dropped"
        ),
    ]

    @field_validator("value")
    @classmethod
    def _format_of_type(cls, value: str, info: ValidationInfo) -> str:
        kind = info.data.get("type")
        if kind in IDENTIFIER_PATTERNS and not re.fullmatch(
            IDENTIFIER_PATTERNS[kind], value.strip()
        ):
            raise ValueError(f"not a valid {kind}")
        return value.strip()


class IdentifierIn(IdentifierValueIn):
    verification_code: VerificationCode | None = Field(
        default=None,
        description="needed when the member links it themself; a channel key vouches instead",
    )


class IdentifierOut(Open):
    member_no: str
    type: str
    value: str


class MergeIn(Strict):
    """Two different members: `absorbed` equal to `survivor` is refused as
    inconsistent-fields."""

    survivor: MemberNo
    absorbed: MemberNo


class AdjustmentIn(Strict):
    external_id: ExternalId
    points: Annotated[
        int,
        Field(
            ge=-1_000_000,
            le=1_000_000,
            description="signed; not 0",
            json_schema_extra={"not": {"const": 0}},
        ),
        INTEGRAL,
    ]
    reason: Text200

    @field_validator("points")
    @classmethod
    def _not_zero(cls, points: int) -> int:
        if points == 0:
            raise ValueError("must not be 0")
        return points


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


class TierOut(Open):
    code: str
    name: str
    name_en: str
    rank: int
    min_points_12m: int
    min_spend_fen_12m: int | None
    birthday_bonus_points: int
    free_delivery: bool
    multiplier_bp: int
    grace_days: int
    campaign_bonus_qualifies: bool


class TierList(Open):
    items: list[TierOut]


class NextTier(Open):
    tier: str
    points_needed: int
    spend_fen_needed: int | None


class TierChangeOut(Open):
    from_tier: str | None
    to_tier: str
    reason: Literal["upgrade", "downgrade"]
    effective_on: date
    qualifying_points_12m: int
    spend_fen_12m: int


class TierStatusOut(Open):
    member_no: str
    tier: str
    tier_since: date | None
    grace_until: date | None = Field(
        description="set while the trailing year falls short: the last day the tier is kept"
    )
    qualifying_points_12m: int = Field(
        description="points of the trailing 365 days that count for tiers (campaign bonuses "
        "and points bought from partners do not)"
    )
    spend_fen_12m: int
    next_tier: NextTier | None
    history: list[TierChangeOut]


class PageQuery(Strict):
    model_config = ConfigDict(strict=False, extra="forbid")
    limit: Annotated[int, Field(ge=1, le=500), INTEGRAL] = 50
    cursor: Cursor | None = None


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
    """The member, named by exactly one of member_no, phone or card_no."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})
    member_no: MemberNo | SkipJsonSchema[None] = None
    phone: Phone | SkipJsonSchema[None] = None
    card_no: MemberCardNo | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def exactly_one(self) -> MemberRefIn:
        given = [k for k in ("member_no", "phone", "card_no") if k in self.model_fields_set]
        if len(given) != 1 or getattr(self, given[0]) is None:
            raise ValueError("name the member by exactly one of member_no, phone, card_no")
        return self


class LineIn(Strict):
    sku: Code
    category: Category | None = None
    quantity: Annotated[int, Field(gt=0, le=100_000), INTEGRAL] = 1
    amount_fen: Fen


class AccrualIn(Strict):
    external_id: ExternalId
    member: MemberRefIn
    institution_code: Code
    occurred_at: AwareDatetime
    business_type: BusinessType
    lines: Annotated[list[LineIn], Field(min_length=1, max_length=200)]
    total_fen: Annotated[
        int,
        Field(
            gt=0,
            le=10**12,
            description="the sum of lines[].amount_fen (else inconsistent-fields), in fen",
        ),
        INTEGRAL,
    ]
    payment_method: Text32 | None = None


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


class BudgetDraw(Open):
    campaign_code: str
    points: int
    budget_before: int
    budget_after: int


class AccrualPreviewOut(Open):
    member_no: str
    points: int
    status: Literal["available", "pending"]
    available_on: date | None = None
    breakdown: list[BreakdownItem]
    balance: Balance
    budgets: list[BudgetDraw]


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


class RewardIn(Strict):
    code: Code
    name: Text200
    name_en: OptionalText200 = ""
    kind: RewardKind
    points_cost: Annotated[int, Field(gt=0, le=10**9), INTEGRAL]
    cash_fen: Annotated[int, Field(ge=0, le=10**10), INTEGRAL] = 0
    stock: Annotated[int, Field(ge=0, le=10**9), INTEGRAL] | None = None
    value_fen: (
        Annotated[
            int,
            Field(gt=0, le=10**10, description="voucher and bill_credit: what it is worth"),
            INTEGRAL,
        ]
        | None
    ) = None
    min_spend_fen: Annotated[
        int, Field(ge=0, le=10**12, description="voucher: the least spend it needs"), INTEGRAL
    ] = 0
    valid_days: (
        Annotated[
            int,
            Field(gt=0, le=3660, description="voucher and bill_credit: days valid from issue"),
            INTEGRAL,
        ]
        | None
    ) = None
    applies_to: BusinessType | None = None
    biller_kind: Annotated[
        BillerKind | None, Field(description="bill_credit: the kind of bill it pays towards")
    ] = None


class RewardOut(Open):
    code: str
    name: str
    kind: RewardKind
    points_cost: int
    cash_fen: int
    stock: int | None
    value_fen: int | None = None
    valid_days: int | None = None


class VoucherOut(Open):
    code: Annotated[str, Field(description="shown in groups of four; any grouping is accepted")]
    reward_code: str
    value_fen: int
    min_spend_fen: int
    applies_to: BusinessType | None
    biller_kind: BillerKind | None = None
    valid_from: date
    valid_until: date
    status: Literal["issued", "used", "void", "expired"]


class VoucherList(Open):
    items: list[VoucherOut]


VoucherCode = Annotated[
    str,
    StringConstraints(min_length=16, max_length=24, pattern=r"^[0-9A-Za-z -]+$"),
    Field(description="the voucher's code as printed (groups of four, hyphens optional)"),
]


class VoucherUseIn(Strict):
    external_id: ExternalId
    voucher_code: VoucherCode
    member: MemberRefIn
    institution_code: Code
    business_type: BusinessType
    spend_fen: Annotated[
        int, Field(gt=0, le=10**12, description="the sale's amount before the voucher"), INTEGRAL
    ]


class VoucherUseOut(Open):
    use_no: str
    voucher_code: str
    applied_fen: int
    amount_due_fen: int
    status: Literal["applied", "returned"]


class RewardList(Open):
    items: list[RewardOut]


class RedemptionCancelOut(Open):
    redemption_id: str
    status: Literal["cancelled"]
    points_returned: int
    points_expired: int
    balance: Balance


# -- reference data and campaigns ------------------------------------------------


class InstitutionQuery(Strict):
    model_config = ConfigDict(strict=False, extra="forbid")
    limit: Annotated[int, Field(ge=1, le=500), INTEGRAL] = 50
    cursor: Cursor | None = None
    parent_code: Code | None = None


class InstitutionOut(Open):
    code: str
    name: str
    kind: Literal["company", "district", "outlet", "kiosk", "store"]
    parent_code: str | None


class InstitutionPage(Open):
    items: list[InstitutionOut]
    next_cursor: str | None


class ChurnRiskIn(Strict):
    """Churn risk bounds, inclusive, as a share from 0 to 1 (null or absent: open);
    rounded inwards to basis points. At least one of min and max, and min not above max:
    breaking either is inconsistent-fields."""

    min: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None
    max: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] | None = None


class ExpectedValueIn(Strict):
    """Expected value bounds in whole fen, inclusive (null or absent: open). At least one
    of min and max, and min not above max: breaking either is inconsistent-fields."""

    min: Annotated[int, Field(ge=0, le=10**12), INTEGRAL] | None = None
    max: Annotated[int, Field(ge=0, le=10**12), INTEGRAL] | None = None


class CampaignIn(Strict):
    """A campaign multiplies points (multiplier_bp above 10000) or adds bonus_points, one of
    the two; ends_on is not before starts_on. Breaking either is inconsistent-fields."""

    code: Code
    name: Text200
    name_en: OptionalText200 = ""
    starts_on: date
    ends_on: date = Field(description="not before starts_on")
    budget_points: Annotated[int, Field(gt=0, le=10**12), INTEGRAL]
    multiplier_bp: Annotated[
        int,
        Field(ge=10_000, le=100_000, description="above 10000, or bonus_points above 0"),
        INTEGRAL,
    ] = 10_000
    bonus_points: Annotated[
        int, Field(ge=0, le=10**7, description="above 0, or multiplier_bp above 10000"), INTEGRAL
    ] = 0
    per_member_cap: Annotated[int, Field(gt=0, le=10**9), INTEGRAL] | None = None
    holdout_pct: Annotated[int, Field(ge=0, le=50), INTEGRAL] = 0
    business_types: list[BusinessType] = []
    channels: list[Code] = []
    categories: list[Category] = []
    skus: Annotated[list[Code], Field(max_length=500)] = []
    tiers: list[Code] = []
    funded_by: Code = Field(default=COMPANY_CODE, description="an institution code")
    segments: list[Code] = Field(
        default=[], description="segment codes (GET /segments); the member's latest run"
    )
    churn_risk: ChurnRiskIn | None = Field(
        default=None, description="the member's churn risk in the latest run, 0 to 1"
    )
    expected_value_fen: ExpectedValueIn | None = Field(
        default=None, description="the member's expected value in the latest run, in fen"
    )


class CampaignPatchIn(Strict):
    """Only the fields given change; `per_member_cap: null` removes the cap. The result
    must still hold what creation requires (one effect, ends_on not before starts_on)."""

    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra={"minProperties": 1})

    name: Text200 | SkipJsonSchema[None] = None
    name_en: OptionalText200 | SkipJsonSchema[None] = None
    starts_on: date | SkipJsonSchema[None] = Field(default=None, description="not in the past")
    ends_on: date | SkipJsonSchema[None] = None
    budget_points: Annotated[int, Field(gt=0, le=10**12), INTEGRAL] | SkipJsonSchema[None] = None
    multiplier_bp: Annotated[int, Field(ge=10_000, le=100_000), INTEGRAL] | SkipJsonSchema[None] = (
        None
    )
    bonus_points: Annotated[int, Field(ge=0, le=10**7), INTEGRAL] | SkipJsonSchema[None] = None
    per_member_cap: Annotated[int, Field(gt=0, le=10**9), INTEGRAL] | None = None
    holdout_pct: Annotated[int, Field(ge=0, le=50), INTEGRAL] | SkipJsonSchema[None] = None
    business_types: list[BusinessType] = Field(default_factory=list)
    channels: list[Code] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    skus: Annotated[list[Code], Field(max_length=500)] = Field(default_factory=list)
    tiers: list[Code] = Field(default_factory=list)
    segments: list[Code] = Field(default_factory=list)
    churn_risk: ChurnRiskIn | None = Field(default=None, description="null removes it")
    expected_value_fen: ExpectedValueIn | None = Field(default=None, description="null removes it")

    @model_validator(mode="after")
    def something_to_change(self) -> CampaignPatchIn:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self


class RuleVersionIn(Strict):
    """A base earning rule as it should read from `effective_from` (after today) on:
    `points` per `per_fen` fen of each line, plus `fixed_points` per purchase; `active`
    false withdraws the code from that day."""

    code: Code
    effective_from: date = Field(description="after today, Asia/Shanghai")
    business_type: BusinessType
    channel: Code | None = None
    category: Category | None = None
    points: Annotated[int, Field(ge=0, le=10_000), INTEGRAL]
    per_fen: Annotated[int, Field(gt=0, le=10**9), INTEGRAL]
    fixed_points: Annotated[int, Field(ge=0, le=10**6), INTEGRAL] = 0
    pending_days: Annotated[int, Field(ge=0, le=365), INTEGRAL] = 0
    description: Text200
    description_en: OptionalText200 = ""
    active: bool = True


class RuleVersionOut(Open):
    code: str
    effective_from: date | None = Field(description="null: the rule as set up, before any version")
    business_type: str
    channel: str | None
    category: str | None
    points: int
    per_fen: int
    fixed_points: int
    pending_days: int
    description: str
    active: bool


class RuleVersionList(Open):
    items: list[RuleVersionOut]


class CampaignLiftOut(Open):
    """Treated against holdout per eligible member; `conclusion` says it in words."""

    code: str
    measured_from: date
    measured_to: date
    treated_members: int
    holdout_members: int
    gmv_fen: dict[str, Any]
    purchase_rate: dict[str, Any]
    points_cost: int
    points_cost_yuan: float
    incremental_gmv_yuan: float
    roi: float | None
    conclusion: str


class BoundsOut(Open):
    min: float | None
    max: float | None


class CampaignTargetOut(Open):
    """Empty lists and absent ranges mean "all"; score targets read the member's scores
    in the latest insight run, and a member without scores does not match them."""

    business_types: list[str]
    channels: list[str]
    categories: list[str]
    skus: list[str]
    tiers: list[str]
    segments: list[str] = []
    churn_risk: BoundsOut | None = Field(default=None, description="0 to 1, inclusive")
    expected_value_fen: BoundsOut | None = Field(default=None, description="fen, inclusive")


class CampaignOut(Open):
    code: str
    name: str
    name_en: str
    starts_on: date
    ends_on: date
    target: CampaignTargetOut
    multiplier_bp: int
    bonus_points: int
    per_member_cap: int | None
    budget_points: int
    budget_remaining: int
    holdout_pct: int
    status: Literal["active", "paused", "stopped"]
    warnings: list[str] = []


class CampaignStopped(CampaignOut):
    budget_returned: int = Field(description="unspent points returned to the funder")


class CampaignList(Open):
    items: list[CampaignOut]


# A business day of the replayable past: 1970-01-01 to 9998-12-31.
HistoryDay = Annotated[
    date,
    Field(
        description="1970-01-01 to 9998-12-31",
        json_schema_extra={
            "pattern": r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-"
        },
    ),
]


class HistoryWindowIn(Strict):
    """The past business days to replay; each defaults to the campaign's own one year
    earlier. The window ends no earlier than it starts and spans at most 366 days (else
    inconsistent-fields, as when the campaign's own dates give no such window)."""

    history_from: HistoryDay | None = None
    history_to: HistoryDay | None = None


class CampaignSimulationIn(CampaignIn):
    """A proposed campaign (not saved) and the past business days to replay it on; see
    HistoryWindowIn for the window."""

    history_from: HistoryDay | None = None
    history_to: HistoryDay | None = None


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
