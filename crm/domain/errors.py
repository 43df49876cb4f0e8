"""Errors the member hub raises."""

from __future__ import annotations

from common.errors import Conflict, Invalid, NotFound, Unauthorized


class UnknownMember(NotFound):
    code = "unknown-member"
    title = "Unknown member"


class UnknownMemberReference(Invalid):
    code = "unknown-member"
    title = "Unknown member"


class VerificationCodeRefused(Invalid):
    """The one-time code is missing, wrong, used or expired: only the SMS it came by can
    tell, not the schema."""

    code = "verification-code"
    title = "One-time code missing, wrong or expired"


class IdentifierTaken(Conflict):
    code = "identifier-taken"
    title = "Identifier already belongs to another member"


class AlreadyMerged(Conflict):
    code = "already-merged"
    title = "Member already merged"


class BadCredentials(Unauthorized):
    code = "bad-credentials"
    title = "Wrong phone or password"
