"""Who is calling: bearer credentials turned into a principal, checked on every request.

What a principal may do is not decided here but in policy.py, enforced by routing.py.
Views read the caller with `caller()` / `channel_caller()` to know on whose behalf they
act (idempotency scope, the actor in a history), never to decide access.
"""

from __future__ import annotations

from flask import g, request

from common.db import read_session
from common.errors import Unauthorized
from storefront_api.auth import (
    CHANNEL_KEY_PREFIX,
    ChannelPrincipal,
    MemberPrincipal,
    Principal,
    StaffPrincipal,
    remembered_api_key,
    staff_of_session,
)
from storefront_api.http.context import api_context


def current_principal() -> Principal | None:
    """The authenticated caller, or None when no Authorization header was sent.

    A header that is present but wrong is a 401 even on endpoints open to anyone. A
    staff token is only as good as its session: logged out, disabled or reset
    accounts are refused at once, and the role is the account's current one.
    """
    if "principal" in g:
        principal: Principal | None = g.principal
        return principal
    header = request.headers.get("Authorization")
    principal = None
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        token = token.strip()
        context = api_context()
        if token.startswith(CHANNEL_KEY_PREFIX + "_"):
            principal = remembered_api_key(context.session_factory, token)
        else:
            principal = context.tokens.read(token)
            if isinstance(principal, StaffPrincipal):
                with read_session(context.session_factory) as session:
                    principal = staff_of_session(session, principal.session_sha256)
        if principal is None:
            raise Unauthorized("the token is invalid, expired or revoked")
    g.principal = principal
    return principal


def caller() -> Principal:
    """The caller of an operation whose rule admits no anonymous callers."""
    principal = current_principal()
    if principal is None:  # pragma: no cover - the policy refused it already
        raise Unauthorized("this endpoint needs 'Authorization: Bearer <token>'")
    return principal


def channel_caller() -> ChannelPrincipal:
    """The channel key calling an operation whose rule admits only channels."""
    principal = caller()
    assert isinstance(principal, ChannelPrincipal), "the policy admits only channel keys here"
    return principal


def staff_caller() -> StaffPrincipal:
    principal = caller()
    assert isinstance(principal, StaffPrincipal), "the policy admits only staff here"
    return principal


def member_caller() -> MemberPrincipal | None:
    principal = current_principal()
    return principal if isinstance(principal, MemberPrincipal) else None


def client_address() -> str | None:
    return request.remote_addr


def actor(principal: Principal | None) -> str:
    """How the audit log and histories name a caller."""
    if isinstance(principal, ChannelPrincipal):
        return f"channel:{principal.channel}:{principal.key_id}"
    if isinstance(principal, MemberPrincipal):
        return f"member:{principal.member_no}"
    if isinstance(principal, StaffPrincipal):
        return f"staff:{principal.username}"
    return "anonymous"
