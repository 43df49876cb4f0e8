"""Read side of the member hub: profiles and lookups by identifier."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from common.clock import as_utc
from common.errors import DomainError
from common.ownership import Owner
from crm.adapters.orm import Identifier, Member, MergeRecord, Tier
from crm.domain.errors import UnknownMember
from crm.domain.identity import normalise_identifier
from crm.services import profile


def member_profile(session: Session, member_no: str) -> dict[str, Any]:
    """The member's own record; a merged one says so and names its survivor."""
    member = session.scalars(select(Member).where(Member.member_no == member_no)).one_or_none()
    if member is None:
        raise UnknownMember(f"unknown member {member_no!r}")
    body = profile(member)
    if member.merged_into_id is not None:
        body["merged_into"] = session.scalar(
            select(Member.member_no).where(Member.id == member.merged_into_id)
        )
    body["identifiers"] = [
        {"type": kind, "value": value}
        for kind, value in session.execute(
            select(Identifier.type, Identifier.value)
            .where(Identifier.member_id == member.id)
            .order_by(Identifier.id)
        )
    ]
    return body


def lookup(session: Session, kind: str, value: str) -> dict[str, Any]:
    stored = normalise_identifier(kind, value, kind)
    member_id = session.scalar(
        select(Identifier.member_id).where(Identifier.type == kind, Identifier.value == stored)
    )
    if member_id is None:
        raise UnknownMember(f"no member with this {kind}")
    member_no = session.scalar(select(Member.member_no).where(Member.id == member_id))
    assert member_no is not None
    return member_profile(session, member_no)


def active_member_id(session: Session, member_no: str) -> int:
    """The id a member number resolves to (the survivor for a merged member)."""
    member = session.scalars(select(Member).where(Member.member_no == member_no)).one_or_none()
    if member is None:
        raise UnknownMember(f"unknown member {member_no!r}")
    while member.status == "merged" and member.merged_into_id is not None:
        survivor = session.get(Member, member.merged_into_id)
        assert survivor is not None
        member = survivor
    return member.id


def member_tier(session: Session, member_id: int) -> str:
    tier = session.scalar(select(Member.tier).where(Member.id == member_id))
    if tier is None:
        raise UnknownMember(f"unknown member id {member_id}")
    return tier


def tiers(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "code": t.code,
            "name": t.name,
            "name_en": t.name_en,
            "rank": t.rank,
            "min_points_12m": t.min_points_12m,
            "free_delivery": t.free_delivery,
        }
        for t in session.scalars(select(Tier).order_by(Tier.rank))
    ]


def member_numbers(session: Session, limit: int) -> list[str]:
    return list(
        session.scalars(
            select(Member.member_no)
            .where(Member.status == "active")
            .order_by(Member.id)
            .limit(limit)
        )
    )


def member_no_of(session: Session, member_id: int) -> str:
    member_no = session.scalar(select(Member.member_no).where(Member.id == member_id))
    if member_no is None:
        raise UnknownMember(f"unknown member id {member_id}")
    return member_no


def member_ids_merged_into(session: Session, member_id: int) -> list[int]:
    """The member's id and the ids of every member merged into it, directly or in a chain.

    Records of other packages keep the member id they were written with; reading them
    for a survivor means reading them for all of these ids.
    """
    return [member_id, *absorbed_into(session, [member_id])]


def absorbed_into(session: Session, member_ids: Sequence[int]) -> dict[int, int]:
    """{absorbed id: the member it was merged into} for every member merged into these,
    directly or in a chain, nearest first (one query when there are none)."""
    found: dict[int, int] = {}
    frontier = set(member_ids)
    while frontier:
        rows = session.execute(
            select(Member.id, Member.merged_into_id)
            .where(Member.merged_into_id.in_(frontier))
            .order_by(Member.id)
        ).all()
        frontier = {int(member_id) for member_id, _ in rows} - set(found)
        found.update({int(member_id): int(into) for member_id, into in rows if into is not None})
    return found


def phone_of(session: Session, member_id: int) -> str:
    """Where messages for this member go (the survivor's phone for a merged member)."""
    member = session.get(Member, member_id)
    if member is None:
        raise UnknownMember(f"unknown member id {member_id}")
    while member.status == "merged" and member.merged_into_id is not None:
        survivor = session.get(Member, member.merged_into_id)
        assert survivor is not None
        member = survivor
    return member.phone


def member_owner(session: Session, member_no: str) -> Owner | None:
    """The member a member number names, as the access policy sees it (None: unknown)."""
    member_id = session.scalar(select(Member.id).where(Member.member_no == member_no))
    return None if member_id is None else Owner(member_id=int(member_id))


def member_owner_by_reference(
    session: Session, member_no: str | None, phone: str | None, card_no: str | None
) -> Owner | None:
    """The member a channel-style reference names (one of number, phone or card)."""
    if member_no is not None:
        return member_owner(session, member_no)
    kind, value = ("phone", phone) if phone is not None else ("card_no", card_no)
    if value is None:
        return None
    try:
        stored = normalise_identifier(kind, value, kind)
    except DomainError:
        return None
    member_id = session.scalar(
        select(Identifier.member_id).where(Identifier.type == kind, Identifier.value == stored)
    )
    return None if member_id is None else Owner(member_id=int(member_id))


def same_member(session: Session, member_no: str, member_id: int) -> bool:
    """Whether `member_id` is this member or was merged into them (or they into it)."""
    try:
        mine = active_member_id(session, member_no)
    except UnknownMember:
        return False
    return member_id in member_ids_merged_into(session, mine)


def members_registered_before(session: Session, moment: datetime) -> list[int]:
    """Ids of the members registered before `moment` who are still members of their own
    (a member merged into another counts as the survivor)."""
    return [
        int(member_id)
        for member_id in session.scalars(
            select(Member.id)
            .where(Member.created_at < moment, Member.status != "merged")
            .order_by(Member.id)
        )
    ]


def merges_of(session: Session, member_no: str) -> list[dict[str, Any]]:
    """The merges a member took part in, survivor or absorbed, newest first, with their
    numbers (what undoing one needs). Raises UnknownMember."""
    member_id = session.scalar(select(Member.id).where(Member.member_no == member_no))
    if member_id is None:
        raise UnknownMember(f"unknown member {member_no!r}")
    survivor, absorbed = aliased(Member), aliased(Member)
    rows = session.execute(
        select(MergeRecord, survivor.member_no, absorbed.member_no)
        .join(survivor, survivor.id == MergeRecord.survivor_id)
        .join(absorbed, absorbed.id == MergeRecord.absorbed_id)
        .where(or_(MergeRecord.survivor_id == member_id, MergeRecord.absorbed_id == member_id))
        .order_by(MergeRecord.merged_at.desc(), MergeRecord.id.desc())
    ).all()
    return [
        {
            "merge_no": record.merge_no,
            "survivor": survivor_no,
            "absorbed": absorbed_no,
            "merged_at": as_utc(record.merged_at).isoformat(),
            "undone_at": as_utc(record.undone_at).isoformat() if record.undone_at else None,
            "undone_by": record.undone_by,
        }
        for record, survivor_no, absorbed_no in rows
    ]
