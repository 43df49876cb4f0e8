"""Request and response models of the mail endpoints: acceptance, tracking events, tracking."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints

from common.patterns import TRACKING_NO
from storefront_api.http.schemas import (
    AccrualOut,
    ExternalId,
    Fen,
    MemberRefIn,
    Open,
    Strict,
    Text200,
)

MailService = Literal["letter", "registered", "parcel", "ems"]
MailStatusName = Literal["accepted", "in_transit", "out_for_delivery", "delivered", "returned"]
TrackingNo = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=TRACKING_NO),
    Field(
        description="UPU S10 number, check digit included, e.g. EE123456785CN (letters in "
        "any case, white space anywhere); a wrong check digit is invalid-tracking-number"
    ),
]


class MailingIn(Strict):
    external_id: ExternalId
    tracking_no: TrackingNo
    member: MemberRefIn | None = None
    service: MailService
    fee_fen: Fen
    accepted_at: AwareDatetime


class MailingOut(Open):
    tracking_no: str
    service: MailService
    fee_fen: int
    status: Literal["accepted"]
    accepted_at: datetime
    institution_code: str
    points: int
    member_no: str | None = None
    accrual: AccrualOut | None = None


class MailEventIn(Strict):
    """`external_id` is optional: an identical event (status, location, time) is stored once."""

    status: MailStatusName
    location: Text200
    occurred_at: AwareDatetime
    external_id: ExternalId | None = None


class MailEventOut(Open):
    tracking_no: str
    sequence: int
    status: MailStatusName
    location: str
    occurred_at: datetime


class MailTrackingEvent(Open):
    sequence: int
    status: MailStatusName
    location: str
    occurred_at: datetime


class MailTrackingOut(Open):
    """`status` is the latest event's by `occurred_at` (of equal times, the last recorded).

    `member_no`, `fee_fen` and `points` are shown only to the sender and to staff.
    """

    tracking_no: str
    service: MailService
    status: MailStatusName
    accepted_at: datetime
    institution_code: str
    events: list[MailTrackingEvent]
    member_no: str | None = None
    fee_fen: int | None = None
    points: int | None = None
