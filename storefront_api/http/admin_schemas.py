"""Request and response models of the administration endpoints (staff, keys, audit log)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from common.codes import ChannelCode, StaffRole
from common.patterns import NO_NUL
from storefront_api.http.schemas import INTEGRAL, Open, Strict

Role = StaffRole
Username = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.-]{2,63}$")]


class StaffIn(Strict):
    username: Username
    role: Role


class StaffPatchIn(Strict):
    active: bool


class StaffOut(Open):
    username: str
    role: str
    active: bool
    created_at: str


class StaffCreatedOut(StaffOut):
    password: str


class StaffList(Open):
    items: list[StaffOut]


class PasswordOut(Open):
    username: str
    password: str


class KeyIn(Strict):
    channel: ChannelCode
    institution_code: (
        Annotated[
            str,
            StringConstraints(min_length=1, max_length=32, pattern=NO_NUL),
            Field(
                description="needed for counter and retail keys (an outlet, kiosk or store), "
                "else inconsistent-fields"
            ),
        ]
        | None
    ) = None
    label: Annotated[str, StringConstraints(max_length=120, pattern=NO_NUL)] = ""


class RotateIn(Strict):
    overlap_hours: Annotated[int, Field(ge=0, le=720), INTEGRAL] = 24


class KeyOut(Open):
    key_id: str
    channel: str
    institution_code: str | None
    label: str
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    replaced_by: str | None


class KeyCreatedOut(Open):
    key_id: str
    api_key: str


class KeyList(Open):
    items: list[KeyOut]


class AuditQuery(Strict):
    model_config = ConfigDict(strict=False, extra="forbid")
    limit: Annotated[int, Field(ge=1, le=500), INTEGRAL] = 50
    cursor: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")] | None = None
    actor: (
        Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=NO_NUL)] | None
    ) = None
    action: (
        Annotated[str, StringConstraints(min_length=1, max_length=80, pattern=NO_NUL)] | None
    ) = None
    target: (
        Annotated[str, StringConstraints(min_length=1, max_length=160, pattern=NO_NUL)] | None
    ) = None


class AuditEventOut(Open):
    id: int
    occurred_at: str
    actor: str
    action: str
    target: str | None
    outcome: str
    client_address: str | None
    detail: dict[str, Any] | None


class AuditPage(Open):
    items: list[AuditEventOut]
    next_cursor: str | None
