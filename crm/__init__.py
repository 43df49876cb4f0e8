"""Public facade of the member hub: members, identifiers, merge, tiers, authentication."""

from crm import queries
from crm.domain.errors import (
    AlreadyMerged,
    BadCredentials,
    IdentifierTaken,
    UnknownMember,
    UnknownMemberReference,
)
from crm.domain.identity import LINKABLE_TYPES, normalise_phone
from crm.services import (
    CrmMemberDirectory,
    RegisterCommand,
    TierData,
    authenticate_member,
    link_identifier,
    load_tiers,
    merge_members,
    register_member,
    register_members,
    resolve_member_no,
    review_tiers,
    update_member,
)

__all__ = [
    "LINKABLE_TYPES",
    "AlreadyMerged",
    "BadCredentials",
    "CrmMemberDirectory",
    "IdentifierTaken",
    "RegisterCommand",
    "TierData",
    "UnknownMember",
    "UnknownMemberReference",
    "authenticate_member",
    "link_identifier",
    "load_tiers",
    "merge_members",
    "normalise_phone",
    "queries",
    "register_member",
    "register_members",
    "resolve_member_no",
    "review_tiers",
    "update_member",
]
