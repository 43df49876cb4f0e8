"""POST /auth/member-token and /auth/staff-token."""

from __future__ import annotations

from flask import Blueprint, Response

import crm
from common.db import read_session
from common.unit_of_work import UnitOfWork
from storefront_api.auth import MemberPrincipal, StaffPrincipal, authenticate_staff
from storefront_api.http.context import api_context
from storefront_api.http.routing import json_response, route
from storefront_api.http.schemas import MemberTokenIn, StaffTokenIn, TokenOut

blueprint = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def _token(principal: MemberPrincipal | StaffPrincipal) -> Response:
    context = api_context()
    token = context.tokens.issue(principal)
    return json_response(
        {"access_token": token, "token_type": "Bearer", "expires_in": context.tokens.ttl_seconds}
    )


@route(
    blueprint,
    "/member-token",
    "POST",
    summary="Member login with phone and password",
    body=MemberTokenIn,
    responses={200: TokenOut},
    errors=(401, 422),
)
def member_token(body: MemberTokenIn) -> Response:
    with UnitOfWork(api_context().session_factory) as uow:
        member = crm.authenticate_member(uow, body.phone, body.password)
    return _token(MemberPrincipal(member.member_no))


@route(
    blueprint,
    "/staff-token",
    "POST",
    summary="Staff login (marketer, finance, admin)",
    body=StaffTokenIn,
    responses={200: TokenOut},
    errors=(401, 422),
)
def staff_token(body: StaffTokenIn) -> Response:
    with read_session(api_context().session_factory) as session:
        staff = authenticate_staff(session, body.username, body.password)
    return _token(staff)
