"""Bearer authentication and the access rules of each caller kind (401 vs 403)."""

from __future__ import annotations

from flask import g, request

from common.errors import Forbidden, Unauthorized
from storefront_api.auth import (
    CHANNEL_KEY_PREFIX,
    ChannelPrincipal,
    MemberPrincipal,
    Principal,
    StaffPrincipal,
    remembered_api_key,
)
from storefront_api.http.context import api_context


def current_principal() -> Principal | None:
    """The authenticated caller, or None when no Authorization header was sent.

    A header that is present but wrong is a 401 even on endpoints open to anyone.
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
        if principal is None:
            raise Unauthorized("the token is invalid, expired or revoked")
    g.principal = principal
    return principal


def require_principal() -> Principal:
    principal = current_principal()
    if principal is None:
        raise Unauthorized("this endpoint needs 'Authorization: Bearer <token>'")
    return principal


def require_channel() -> ChannelPrincipal:
    principal = require_principal()
    if not isinstance(principal, ChannelPrincipal):
        raise Forbidden("only a channel API key may do this")
    return principal


def require_staff(*roles: str) -> StaffPrincipal:
    """Staff with one of `roles`; admin may do everything staff may do."""
    principal = require_principal()
    if not isinstance(principal, StaffPrincipal):
        raise Forbidden("only staff may do this")
    if roles and principal.role not in roles and principal.role != "admin":
        raise Forbidden(f"needs role {' or '.join(roles)}")
    return principal


def require_channel_or_staff() -> Principal:
    principal = require_principal()
    if isinstance(principal, MemberPrincipal):
        raise Forbidden("only a channel or staff may do this")
    return principal


def require_member_access(member_no: str, *, channel: bool = True, staff: bool = True) -> Principal:
    """The member themself, or (when allowed) any channel or staff user."""
    principal = require_principal()
    if isinstance(principal, MemberPrincipal):
        if principal.member_no != member_no:
            raise Forbidden("a member may see and act only on themself")
        return principal
    if isinstance(principal, ChannelPrincipal) and channel:
        return principal
    if isinstance(principal, StaffPrincipal) and staff:
        return principal
    raise Forbidden("not allowed for this caller")


def require_institution(principal: ChannelPrincipal, institution_code: str) -> None:
    """A key bound to an outlet or store may act only for that institution."""
    if principal.institution_code is not None and principal.institution_code != institution_code:
        raise Forbidden(
            f"this key belongs to {principal.institution_code} "
            f"and may not act for {institution_code}"
        )
