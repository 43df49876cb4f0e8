"""Request and response models of daily clearing (finance) and channel control totals."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from common.patterns import NO_NUL
from storefront_api.http.schemas import INTEGRAL, ExternalId, Open, Strict, Text32

Level = Literal["company", "district", "outlet"]
ReportName = Literal["lines", "positions", "transfers", "liability", "mismatches"]


class ClearingRunIn(Strict):
    business_date: date = Field(
        description="the Asia/Shanghai business day to clear, from 2000-01-01 (else "
        "date-before-records) up to today (else date-in-the-future)"
    )
    close: bool = Field(default=False, description="lock the day once cleared")
    reason: (
        Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=NO_NUL)] | None
    ) = Field(
        default=None,
        description="why finance closes the day although control totals disagree "
        "(required then, else clearing-unexplained-mismatches)",
    )


class ClearingRunOut(Open):
    business_date: date
    status: Literal["open", "closed"]
    changed: bool = Field(description="false when the day was closed and nothing changed")
    movements: int
    late: int = Field(description="late events of closed days taken on adjustment lines")
    lines: int
    message: str


class ReportQuery(Strict):
    level: Level = Field(default="outlet", description="institution level of lines/positions")


class ClearingLineOut(Open):
    institution_code: str
    channel: str
    business_type: str
    original_date: date | None = Field(
        description="set on adjustment lines: the closed day the late events belong to"
    )
    sales: int
    gross_fen: int
    refunds: int
    refunds_fen: int
    net_fen: int
    points_issued: int
    points_reversed: int
    points_redeemed: int
    points_expired: int
    points_adjusted: int


class PositionOut(Open):
    institution_code: str
    money_fen: int = Field(description="+ receives remittances, - remits its net takings")
    points_cost_fen: int = Field(description="+ owed for rewards given, - owes for its points")
    net_fen: int
    net_yuan: str


class TransferOut(Open):
    payer: str
    payee: str
    amount_fen: int
    amount_yuan: str


class LiabilityOut(Open):
    institution_code: str
    points: int
    fen: int
    yuan: str


class MismatchOut(Open):
    status: Literal["mismatch", "not reported"]
    channel: str
    institution_code: str
    reported_sales: int | None
    reported_fen: int | None
    cleared_sales: int
    cleared_fen: int
    missing: list[str] = Field(description="the channel's ids the platform never received")
    extra: list[str] = Field(description="ids the platform cleared that the channel did not list")


class ClearingDayOut(Open):
    business_date: date
    status: Literal["open", "closed"]
    runs: int
    run_at: str
    run_by: str
    closed_at: str | None
    closed_by: str | None
    close_reason: str | None
    fen_per_point: int
    level: Level
    balanced: bool = Field(description="the net positions sum to zero")
    totals: dict[str, int]
    lines: list[ClearingLineOut]
    positions: list[PositionOut]
    transfers: list[TransferOut]
    liability: list[LiabilityOut] = Field(description="points outstanding now, by institution")
    mismatches: list[MismatchOut]


class ControlTotalIn(Strict):
    business_date: date = Field(
        description="from 2000-01-01 (else date-before-records) up to today (else "
        "date-in-the-future)"
    )
    institution_code: Text32
    sales: Annotated[int, Field(ge=0, le=10_000_000), INTEGRAL]
    amount_fen: Annotated[int, Field(ge=0, le=10**14), INTEGRAL]
    transaction_ids: Annotated[list[ExternalId], Field(max_length=100_000)] | None = Field(
        default=None,
        description="the channel's external ids of the day's sales; with them, mismatches "
        "name the missing and extra transactions",
    )


class ControlTotalOut(Open):
    business_date: date
    channel: str
    institution_code: str
    sales: int
    amount_fen: int
    transaction_ids: int = Field(description="how many transaction ids were recorded")
