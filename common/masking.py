"""Masked forms of personal data, and who sees it unmasked: 138****1234, 张*."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """A mobile number keeps its first three and last four digits (138****1234).

    Longer numbers show the same seven characters with four stars for the rest, so the
    length is hidden too. Shorter ones (landlines, partial numbers) keep at most their
    last four characters and never more than half of them.
    """
    if len(phone) >= 11:
        return f"{phone[:3]}****{phone[-4:]}"
    shown = min(4, len(phone) // 2)
    return "*" * (len(phone) - shown) + phone[len(phone) - shown :]


def mask_name(name: str) -> str:
    """Keep the first character and one star (张*), whatever the name's length.

    One star for every length keeps the number of characters hidden too; a name of
    one character shows nothing.
    """
    stripped = name.strip()
    if len(stripped) <= 1:
        return "*" if stripped else ""
    return f"{stripped[0]}*"


# Finance reconciles against named customers and admins support them; marketers work
# with segments and channels with the person in front of them, and neither needs a
# full phone number or name from us.
ROLES_SEEING_PERSONAL_DATA = frozenset({"finance", "admin"})


def sees_personal_data(role: str | None) -> bool:
    """Whether a staff role sees phone numbers, names and birthdays unmasked."""
    return role in ROLES_SEEING_PERSONAL_DATA
