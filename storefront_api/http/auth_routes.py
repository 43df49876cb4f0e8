"""POST /auth/member-token, /auth/staff-token and /auth/logout: throttled, audited logins."""

from __future__ import annotations

import functools
from datetime import timedelta

from flask import Blueprint, Response

import crm
from common.db import read_session
from common.errors import Unauthorized
from common.unit_of_work import UnitOfWork
from storefront_api.auth import (
    LoginAttempt,
    MemberPrincipal,
    count_login_attempt,
    end_staff_session,
    log_in_staff,
    settle_login_attempt,
)
from storefront_api.http.context import api_context
from storefront_api.http.routing import json_response, route
from storefront_api.http.schemas import MemberTokenIn, StaffTokenIn, TokenOut
from storefront_api.http.security import client_address, staff_caller

blueprint = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def _token_body(token: str) -> Response:
    return json_response(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": api_context().tokens.ttl_seconds,
        }
    )


@route(
    blueprint,
    "/member-token",
    "POST",
    summary="Member login with phone and password (5 wrong passwords in 15 minutes: 429)",
    body=MemberTokenIn,
    responses={200: TokenOut},
    errors=(401, 422, 429),
)
def member_token(body: MemberTokenIn) -> Response:
    context = api_context()
    attempt = LoginAttempt("member", body.phone[:64], client_address())
    new_uow = functools.partial(UnitOfWork, context.session_factory)
    count_login_attempt(new_uow, attempt)
    # Argon2 runs in a read session: no write lock is held while it works.
    with read_session(context.session_factory) as session:
        try:
            member = crm.authenticate_member(session, body.phone, body.password)
        except crm.BadCredentials:
            member = None
    with new_uow() as uow:
        settle_login_attempt(uow, attempt, member is not None)
        uow.commit()
    if member is None:
        raise Unauthorized("wrong phone or password")
    return _token_body(context.tokens.issue(MemberPrincipal(member.member_no)))


@route(
    blueprint,
    "/staff-token",
    "POST",
    summary="Staff login (marketer, finance, admin); 5 wrong passwords in 15 minutes: 429",
    body=StaffTokenIn,
    responses={200: TokenOut},
    errors=(401, 422, 429),
)
def staff_token(body: StaffTokenIn) -> Response:
    context = api_context()
    login = log_in_staff(
        context.session_factory,
        body.username,
        body.password,
        client_address=client_address(),
        kind="api",
        ttl=timedelta(seconds=context.tokens.ttl_seconds),
    )
    return _token_body(context.tokens.issue(login.principal))


@route(
    blueprint,
    "/logout",
    "POST",
    summary="End this staff session at once (its token stops working)",
    responses={204: None},
)
def log_out() -> Response:
    staff = staff_caller()
    with UnitOfWork(api_context().session_factory) as uow:
        end_staff_session(uow, staff.session_sha256)
        uow.commit()
    return Response(status=204)
