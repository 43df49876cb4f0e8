"""Who is calling: channel API keys, staff users, signed access tokens."""

from storefront_api.auth.services import (
    CHANNEL_KEY_PREFIX,
    ROLES,
    ChannelPrincipal,
    MemberPrincipal,
    Principal,
    StaffPrincipal,
    TokenIssuer,
    authenticate_api_key,
    authenticate_staff,
    create_api_key,
    create_staff_user,
    remembered_api_key,
    revoke_api_key,
)

__all__ = [
    "CHANNEL_KEY_PREFIX",
    "ROLES",
    "ChannelPrincipal",
    "MemberPrincipal",
    "Principal",
    "StaffPrincipal",
    "TokenIssuer",
    "authenticate_api_key",
    "authenticate_staff",
    "create_api_key",
    "create_staff_user",
    "remembered_api_key",
    "revoke_api_key",
]
