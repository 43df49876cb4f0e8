"""Public facade of the member hub: members, identifiers, merge, tiers, authentication."""

from crm import club, queries, verification
from crm.birthdays import BirthdayBonus, birthday_bonuses_due
from crm.club import TierData, load_club, review_tiers, upgrade_members
from crm.domain.errors import (
    AlreadyMerged,
    BadCredentials,
    IdentifierTaken,
    UnknownMember,
    UnknownMemberReference,
)
from crm.domain.identity import LINKABLE_TYPES, normalise_phone
from crm.services import (
    SELF_REGISTRATION,
    CodeProof,
    CrmMemberDirectory,
    RegisterCommand,
    authenticate_member,
    check_registration,
    identifier_subject,
    link_identifier,
    merge_members,
    register_member,
    register_members,
    resolve_member_no,
    unmerge_members,
    update_member,
)

__all__ = [
    "LINKABLE_TYPES",
    "SELF_REGISTRATION",
    "AlreadyMerged",
    "BadCredentials",
    "BirthdayBonus",
    "CodeProof",
    "CrmMemberDirectory",
    "IdentifierTaken",
    "RegisterCommand",
    "TierData",
    "UnknownMember",
    "UnknownMemberReference",
    "authenticate_member",
    "birthday_bonuses_due",
    "check_registration",
    "club",
    "identifier_subject",
    "link_identifier",
    "load_club",
    "merge_members",
    "normalise_phone",
    "queries",
    "register_member",
    "register_members",
    "resolve_member_no",
    "review_tiers",
    "unmerge_members",
    "update_member",
    "upgrade_members",
    "verification",
]
