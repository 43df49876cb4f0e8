"""Member hub use cases: register, link identifiers, consent, merge, authenticate, tier review."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import points_engine
from common.clock import as_utc, utcnow
from common.errors import Conflict, DomainError, InconsistentFields, Invalid, NotFound
from common.public_ids import public_no
from common.unit_of_work import UnitOfWork
from crm import club, verification
from crm.adapters.orm import Identifier, Member, MergeRecord
from crm.adapters.passwords import hash_password, verify_password
from crm.domain.errors import (
    AlreadyMerged,
    BadCredentials,
    IdentifierTaken,
    UnknownMember,
    UnknownMemberReference,
    VerificationCodeRefused,
)
from crm.domain.identity import new_member_no, normalise_identifier, normalise_phone
from crm.insights import queries as insight_queries

DEFAULT_TIER = "regular"
# Rows per bulk statement: well under SQLite's limit on bound parameters.
_BULK_ROWS = 1000


SELF_REGISTRATION = "self"


@dataclass(frozen=True)
class CodeProof:
    """A one-time code the person received on their phone, and the key its HMAC uses."""

    code: str | None
    secret: str


@dataclass(frozen=True)
class RegisterCommand:
    phone: str
    name: str
    password: str | None = None
    card_no: str | None = None
    birthday: date | None = None
    marketing_consent: bool = False
    channel: str | None = None
    institution_code: str | None = None


def profile(member: Member) -> dict[str, Any]:
    return {
        "member_no": member.member_no,
        "name": member.name,
        "phone": member.phone,
        "tier": member.tier,
        "status": member.status,
        "birthday": member.birthday.isoformat() if member.birthday else None,
        "marketing_consent": member.marketing_consent,
        "sms_consent": member.sms_consent,
        "data_sharing_consent": member.data_sharing_consent,
        "registered_channel": member.registered_channel,
        "created_at": as_utc(member.created_at).isoformat(),
    }


def check_registration(command: RegisterCommand) -> tuple[str, str, str | None]:
    """The phone, name and card number as stored. Raises Invalid naming the field."""
    phone = normalise_phone(command.phone)
    name = command.name.strip()
    if not name:
        raise Invalid.field("name", "must not be blank")
    card_no = (
        normalise_identifier("card_no", command.card_no, "card_no") if command.card_no else None
    )
    return phone, name, card_no


def register_member(
    uow: UnitOfWork, command: RegisterCommand, *, proof: CodeProof | None = None
) -> dict[str, Any]:
    """Create a member with a points account.

    Self-registration (channel "self") needs `proof`: the one-time code sent to the
    phone being registered; a channel that registers someone vouches for them.
    Raises Invalid, IdentifierTaken (phone or card).
    """
    phone, name, card_no = check_registration(command)
    session = uow.session
    _ensure_free(uow, "phone", phone, "phone")
    if card_no:
        _ensure_free(uow, "card_no", card_no, "card_no")
    # The code is checked once the input is known good, so a typo elsewhere does not
    # use up the person's code.
    if command.channel == SELF_REGISTRATION:
        if proof is None:
            raise VerificationCodeRefused.field(
                "verification_code", "self-registration needs a one-time code"
            )
        verification.use_code(uow, proof.secret, phone, "register", "", proof.code)
    now = utcnow()
    member = Member(
        member_no=_unused_member_no(uow),
        phone=phone,
        name=name,
        password_hash=hash_password(command.password) if command.password else None,
        birthday=command.birthday,
        tier=DEFAULT_TIER,
        status="active",
        marketing_consent=command.marketing_consent,
        sms_consent=False,
        data_sharing_consent=False,
        registered_channel=command.channel,
        registered_institution=command.institution_code,
        created_at=now,
    )
    session.add(member)
    session.flush()
    identifiers = [("phone", phone)] + ([("card_no", card_no)] if card_no else [])
    for kind, value in identifiers:
        session.add(Identifier(member_id=member.id, type=kind, value=value, linked_at=now))
    try:
        # Flush the identifiers here, before anything else flushes them outside this guard.
        session.flush()
    except IntegrityError as error:
        # Two registrations of one phone at once: the unique index decides.
        raise IdentifierTaken(
            "phone or card already registered", Invalid.field("phone", "already registered").errors
        ) from error
    points_engine.open_member_accounts(uow, member.id)
    body = profile(member)
    return body


def register_members(
    uow: UnitOfWork,
    commands: Sequence[RegisterCommand],
    *,
    registered_at: Sequence[datetime] | None = None,
) -> list[points_engine.MemberInfo]:
    """Register many members at once (an import, the demo), each with a points account.

    The rules of `register_member`, checked for the whole batch before anything is
    written, in a few statements instead of a few per member. Member i is created at
    `registered_at[i]` (default: now). Returns each member's id, number and tier, in
    order. Only registrations some channel vouches for: self-registration proves the
    phone one member at a time (`register_member`). Raises Invalid naming the item
    (`[3].phone`), IdentifierTaken (a phone or card already registered, or given
    twice). Does not commit.
    """
    moments = list(registered_at) if registered_at is not None else [utcnow()] * len(commands)
    if len(moments) != len(commands):
        raise ValueError("one registration time per command")
    phones: list[str] = []
    cards: list[str | None] = []
    for index, command in enumerate(commands):
        if command.channel == SELF_REGISTRATION:
            raise Invalid.field(f"[{index}].channel", "self-registration proves a phone one by one")
        phones.append(normalise_phone(command.phone, f"[{index}].phone"))
        if not command.name.strip():
            raise Invalid.field(f"[{index}].name", "must not be blank")
        card = command.card_no
        cards.append(normalise_identifier("card_no", card, f"[{index}].card_no") if card else None)
    session = uow.session
    _ensure_all_free(uow, "phone", list(enumerate(phones)))
    _ensure_all_free(uow, "card_no", [(i, card) for i, card in enumerate(cards) if card])
    numbers = _unused_member_nos(uow, len(commands))
    rows = [
        {
            "member_no": number,
            "phone": phone,
            "name": command.name.strip(),
            "password_hash": hash_password(command.password) if command.password else None,
            "birthday": command.birthday,
            "tier": DEFAULT_TIER,
            "status": "active",
            "marketing_consent": command.marketing_consent,
            "sms_consent": False,
            "data_sharing_consent": False,
            "registered_channel": command.channel,
            "registered_institution": command.institution_code,
            "created_at": as_utc(moment),
            "updated_at": as_utc(moment),
        }
        for command, number, phone, moment in zip(commands, numbers, phones, moments, strict=True)
    ]
    ids: list[int] = []
    for start in range(0, len(rows), _BULK_ROWS):
        ids += session.scalars(
            insert(Member).returning(Member.id, sort_by_parameter_order=True),
            rows[start : start + _BULK_ROWS],
        ).all()
    identifiers = [
        {"member_id": member_id, "type": kind, "value": value, "linked_at": as_utc(moment)}
        for member_id, phone, card, moment in zip(ids, phones, cards, moments, strict=True)
        for kind, value in (("phone", phone), ("card_no", card))
        if value is not None
    ]
    for start in range(0, len(identifiers), _BULK_ROWS):
        session.execute(insert(Identifier), identifiers[start : start + _BULK_ROWS])
    points_engine.open_accounts_for_members(uow, ids)
    return [
        points_engine.MemberInfo(member_id, number, DEFAULT_TIER)
        for member_id, number in zip(ids, numbers, strict=True)
    ]


def _ensure_all_free(uow: UnitOfWork, kind: str, values: Sequence[tuple[int, str]]) -> None:
    """(index in the batch, value) pairs: none given twice, none registered already."""
    first: dict[str, int] = {}
    for index, value in values:
        if value in first:
            raise IdentifierTaken(
                f"{kind} {value} is given twice",
                Invalid.field(f"[{index}].{kind}", "given twice").errors,
            )
        first[value] = index
    wanted = list(first)
    for start in range(0, len(wanted), _BULK_ROWS):
        taken = uow.session.scalar(
            select(Identifier.value).where(
                Identifier.type == kind, Identifier.value.in_(wanted[start : start + _BULK_ROWS])
            )
        )
        if taken is not None:
            raise IdentifierTaken(
                f"{kind} already belongs to a member",
                Invalid.field(f"[{first[taken]}].{kind}", "already registered").errors,
            )


def _unused_member_nos(uow: UnitOfWork, count: int) -> list[str]:
    numbers: list[str] = []
    while len(numbers) < count:
        wanted = {new_member_no() for _ in range(min(count - len(numbers), _BULK_ROWS))}
        taken = set(
            uow.session.scalars(select(Member.member_no).where(Member.member_no.in_(wanted)))
        )
        numbers += sorted(wanted - taken - set(numbers))
    return numbers[:count]


def _ensure_free(uow: UnitOfWork, kind: str, value: str, field: str) -> None:
    taken = uow.session.scalar(
        select(Identifier.id).where(Identifier.type == kind, Identifier.value == value)
    )
    if taken is not None:
        raise IdentifierTaken(
            f"{kind} already belongs to a member", Invalid.field(field, "already registered").errors
        )


def _unused_member_no(uow: UnitOfWork) -> str:
    while True:
        candidate = new_member_no()
        if uow.session.scalar(select(Member.id).where(Member.member_no == candidate)) is None:
            return candidate


def identifier_subject(kind: str, value: str) -> str:
    """What a code to link an identifier is bound to (the identifier as it will be stored)."""
    return f"{kind}:{normalise_identifier(kind, value)}"


def link_identifier(
    uow: UnitOfWork,
    member_no: str,
    kind: str,
    value: str,
    *,
    proof: CodeProof | None = None,
) -> dict[str, Any]:
    """Link a card, WeChat or partner id.

    With `proof`, the member links it themself: the one-time code sent to their phone
    for exactly this identifier must match (a channel that links it vouches instead).
    Raises Invalid, UnknownMember, IdentifierTaken.
    """
    stored = normalise_identifier(kind, value)
    member = resolve_member_no(uow, member_no)
    if proof is not None:
        subject = identifier_subject(kind, value)
        verification.use_code(
            uow, proof.secret, member.phone, "link_identifier", subject, proof.code
        )
    existing = uow.session.scalars(
        select(Identifier).where(Identifier.type == kind, Identifier.value == stored)
    ).one_or_none()
    if existing is not None:
        if existing.member_id == member.id:
            return {"member_no": member.member_no, "type": kind, "value": stored}
        raise IdentifierTaken(
            f"{kind} already belongs to another member",
            Invalid.field("value", "already linked to another member").errors,
        )
    uow.session.add(Identifier(member_id=member.id, type=kind, value=stored, linked_at=utcnow()))
    try:
        uow.session.flush()
    except IntegrityError as error:
        raise IdentifierTaken(
            f"{kind} already belongs to another member",
            Invalid.field("value", "already linked to another member").errors,
        ) from error
    return {"member_no": member.member_no, "type": kind, "value": stored}


def update_member(uow: UnitOfWork, member_no: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change name, birthday or consent flags. Raises UnknownMember, Invalid."""
    member = resolve_member_no(uow, member_no)
    allowed = {"name", "birthday", "marketing_consent", "sms_consent", "data_sharing_consent"}
    for key, value in changes.items():
        if key not in allowed:
            raise Invalid.field(key, "cannot be changed here")
        if value is None and key != "birthday":
            raise Invalid.field(key, "must not be null (only birthday can be cleared)")
        if key == "name" and not str(value).strip():
            raise Invalid.field("name", "must not be blank")
        setattr(member, key, value.strip() if key == "name" else value)
    uow.session.flush()
    body = profile(member)
    return body


def merge_members(uow: UnitOfWork, survivor_no: str, absorbed_no: str) -> dict[str, Any]:
    """Fold the absorbed member into the survivor.

    Identifiers, points (lots keep their expiry) and history move to the survivor; the
    absorbed record stays as `merged` and resolves to the survivor from then on.
    Raises UnknownMember, AlreadyMerged, Invalid (same member twice).
    """
    session = uow.session
    if survivor_no == absorbed_no:
        raise InconsistentFields.field("absorbed", "must differ from survivor")
    ids = {}
    for field, number in (("survivor", survivor_no), ("absorbed", absorbed_no)):
        member_id = session.scalar(select(Member.id).where(Member.member_no == number))
        if member_id is None:
            raise UnknownMember(
                f"unknown member {number!r}", Invalid.field(field, "unknown member").errors
            )
        ids[field] = member_id
    # Lock both member rows in id order, then re-read their status: a concurrent
    # merge of either has committed by the time we hold the locks.
    locked = {
        m.id: m
        for m in session.scalars(
            select(Member)
            .where(Member.id.in_(ids.values()))
            .order_by(Member.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    survivor, absorbed = locked[ids["survivor"]], locked[ids["absorbed"]]
    for field, member in (("survivor", survivor), ("absorbed", absorbed)):
        if member.status != "active":
            raise AlreadyMerged(
                f"member {member.member_no} is already merged",
                Invalid.field(field, "already merged into another member").errors,
            )
    points = points_engine.merge_member_accounts(uow, absorbed.id, survivor.id)
    identifier_ids = list(
        session.scalars(select(Identifier.id).where(Identifier.member_id == absorbed.id))
    )
    record = MergeRecord(
        merge_no=public_no("MG"),
        survivor_id=survivor.id,
        absorbed_id=absorbed.id,
        identifier_ids=identifier_ids,
        survivor_marketing_consent=survivor.marketing_consent,
        points_txn_id=points.txn_id,
        merged_at=utcnow(),
    )
    session.add(record)
    session.execute(
        update(Identifier).where(Identifier.member_id == absorbed.id).values(member_id=survivor.id)
    )
    absorbed.status = "merged"
    absorbed.merged_into_id = survivor.id
    absorbed.merged_at = utcnow()
    survivor.marketing_consent = survivor.marketing_consent or absorbed.marketing_consent
    session.flush()
    club.upgrade_members(uow, [survivor.id])  # the absorbed member's year counts now
    body = {
        "merge_no": record.merge_no,
        "survivor": profile(survivor),
        "absorbed": {"member_no": absorbed.member_no, "status": absorbed.status},
        "points_moved": points.points_moved,
    }
    return body


def unmerge_members(uow: UnitOfWork, merge_no: str, *, by: str) -> dict[str, Any]:
    """Undo a wrong merge from its record: the absorbed member is active again with the
    identifiers, lots, campaign totals and debt the merge moved; its orders and history,
    which stayed on its own record, are its own again.

    Points of its lots that the survivor used meanwhile are not made good: the answer
    names them. A marketing consent the merge switched on for the survivor is switched
    off again. Raises NotFound, Conflict (undone already; the survivor merged since).
    """
    session = uow.session
    record = session.scalars(
        select(MergeRecord).where(MergeRecord.merge_no == merge_no).with_for_update()
    ).one_or_none()
    if record is None:
        raise NotFound(f"unknown merge {merge_no!r}")
    if record.undone_at is not None:
        raise Conflict(f"merge {merge_no} was undone at {as_utc(record.undone_at).isoformat()}")
    locked = {
        m.id: m
        for m in session.scalars(
            select(Member)
            .where(Member.id.in_([record.survivor_id, record.absorbed_id]))
            .order_by(Member.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    survivor, restored = locked[record.survivor_id], locked[record.absorbed_id]
    if survivor.status != "active":
        raise Conflict(
            f"member {survivor.member_no} has been merged into another member since: "
            "undo that merge first"
        )
    points = points_engine.unmerge_member_accounts(uow, record.points_txn_id)
    still_held = list(
        session.scalars(
            select(Identifier.id).where(
                Identifier.id.in_(record.identifier_ids), Identifier.member_id == survivor.id
            )
        )
    )
    session.execute(
        update(Identifier).where(Identifier.id.in_(still_held)).values(member_id=restored.id)
    )
    moved_back = len(still_held)
    restored.status = "active"
    restored.merged_into_id = None
    restored.merged_at = None
    if not record.survivor_marketing_consent and restored.marketing_consent:
        survivor.marketing_consent = False
    record.undone_at = utcnow()
    record.undone_by = by
    session.flush()
    club.upgrade_members(uow, [restored.id])
    return {
        "merge_no": record.merge_no,
        "restored": profile(restored),
        "survivor": profile(survivor),
        "identifiers_returned": moved_back,
        "identifiers_kept": len(record.identifier_ids) - moved_back,
        "points_returned": points.points_returned,
        "pending_points_returned": points.pending_returned,
        "debt_returned": points.debt_returned,
        "spent_by_survivor": {
            "points": points.used_by_survivor,
            "redemptions": [
                {"redemption_id": number, "points": spent} for number, spent in points.redemptions
            ],
        },
        "balance": asdict(points.balance),
        "survivor_balance": asdict(points.survivor_balance),
    }


def authenticate_member(session: Session, phone: str, password: str) -> points_engine.MemberInfo:
    """Check phone + password in a read session (Argon2 is slow: no write lock is held).

    Raises BadCredentials (never says which part was wrong, and takes as long either way).
    """
    try:
        normalised = normalise_phone(phone)
    except Invalid:
        normalised = None
    member = (
        session.scalars(
            select(Member).where(Member.phone == normalised, Member.status == "active")
        ).first()
        if normalised is not None
        else None
    )
    if not verify_password(member.password_hash if member else None, password) or member is None:
        raise BadCredentials("wrong phone or password")
    return points_engine.MemberInfo(member.id, member.member_no, member.tier)


# -- identity resolution ------------------------------------------------------------


def resolve_member_no(uow: UnitOfWork, member_no: str) -> Member:
    """The active member a number stands for, following merges. Raises UnknownMember."""
    member = uow.session.scalars(select(Member).where(Member.member_no == member_no)).one_or_none()
    if member is None:
        raise UnknownMember(f"unknown member {member_no!r}")
    return follow_merges(uow, member)


def follow_merges(uow: UnitOfWork, member: Member) -> Member:
    for _hop in range(64):
        if member.status != "merged" or member.merged_into_id is None:
            return member
        survivor = uow.session.get(Member, member.merged_into_id)
        assert survivor is not None
        member = survivor
    raise Conflict("merge chain too long")


def _reference_key(ref: points_engine.MemberRef, field: str) -> tuple[str, str]:
    """(kind, stored value) of a member reference. Raises Invalid naming the field."""
    if ref.member_no is not None:
        return ("member_no", ref.member_no)
    kind, raw = ("phone", ref.phone) if ref.phone is not None else ("card_no", ref.card_no)
    if raw is None:
        raise Invalid.field(field, "name the member by member_no, phone or card_no")
    return (kind, normalise_identifier(kind, raw, f"{field}.{kind}"))


def _unknown_reference(kind: str, field: str) -> UnknownMemberReference:
    """`member.card_no` inside a member object; a bare `member_no` field names itself."""
    name = field if kind == "member_no" and field != "member" else f"{field}.{kind}"
    return UnknownMemberReference("unknown member", Invalid.field(name, "unknown member").errors)


class CrmMemberDirectory:
    """The member hub's answer to the ledger's MemberDirectory port."""

    def resolve(
        self, uow: UnitOfWork, ref: points_engine.MemberRef, field: str
    ) -> points_engine.MemberInfo:
        session = uow.session
        kind, value = _reference_key(ref, field)
        member: Member | None = None
        if kind == "member_no":
            member = session.scalars(select(Member).where(Member.member_no == value)).one_or_none()
        else:
            member_id = session.scalar(
                select(Identifier.member_id).where(
                    Identifier.type == kind, Identifier.value == value
                )
            )
            member = session.get(Member, member_id) if member_id is not None else None
        if member is None:
            raise _unknown_reference(kind, field)
        member = follow_merges(uow, member)
        return points_engine.MemberInfo(member.id, member.member_no, member.tier)

    def resolve_many(
        self, uow: UnitOfWork, refs: Sequence[points_engine.MemberRef], field: str
    ) -> list[points_engine.MemberInfo | DomainError]:
        """One query per kind of reference plus one for the members, then merges followed."""
        session = uow.session
        keys: list[tuple[str, str] | DomainError] = []
        for ref in refs:
            try:
                keys.append(_reference_key(ref, field))
            except DomainError as error:
                keys.append(error)
        wanted: dict[str, set[str]] = {}
        for key in keys:
            if not isinstance(key, DomainError):
                wanted.setdefault(key[0], set()).add(key[1])
        member_ids: dict[tuple[str, str], int] = {}
        if "member_no" in wanted:
            for number, member_id in session.execute(
                select(Member.member_no, Member.id).where(Member.member_no.in_(wanted["member_no"]))
            ):
                member_ids[("member_no", number)] = member_id
        for kind in ("phone", "card_no"):
            if kind in wanted:
                for value, member_id in session.execute(
                    select(Identifier.value, Identifier.member_id).where(
                        Identifier.type == kind, Identifier.value.in_(wanted[kind])
                    )
                ):
                    member_ids[(kind, value)] = member_id
        loaded = {
            member.id: member
            for member in session.scalars(
                select(Member).where(Member.id.in_(set(member_ids.values())))
            )
        }
        results: list[points_engine.MemberInfo | DomainError] = []
        for key in keys:
            if isinstance(key, DomainError):
                results.append(key)
            elif key not in member_ids:
                results.append(_unknown_reference(key[0], field))
            else:
                member = follow_merges(uow, loaded[member_ids[key]])
                results.append(points_engine.MemberInfo(member.id, member.member_no, member.tier))
        return results

    def by_id(self, uow: UnitOfWork, member_id: int) -> points_engine.MemberInfo:
        member = uow.session.get(Member, member_id)
        if member is None:
            raise UnknownMember(f"unknown member id {member_id}")
        return points_engine.MemberInfo(member.id, member.member_no, member.tier)

    def tiers_of(self, uow: UnitOfWork, member_ids: Sequence[int]) -> dict[int, str]:
        """One query for the whole chunk; ids that name no member are left out."""
        if not member_ids:
            return {}
        rows = uow.session.execute(
            select(Member.id, Member.tier).where(Member.id.in_(set(member_ids)))
        )
        return {int(member_id): tier for member_id, tier in rows}

    def note_earned(self, uow: UnitOfWork, member_ids: Sequence[int]) -> None:
        club.upgrade_members(uow, member_ids)

    def segment_codes(self, uow: UnitOfWork) -> frozenset[str]:
        return insight_queries.segment_codes(uow.session)

    def latest_scores(
        self, uow: UnitOfWork, member_ids: Sequence[int]
    ) -> dict[int, points_engine.MemberScore]:
        """One query: the latest run's scores of these members (merges not followed: an
        accrual asks for the member the points go to)."""
        return {
            member_id: points_engine.MemberScore(segment, risk_bp, value_fen)
            for member_id, (segment, risk_bp, value_fen) in insight_queries.scores_of(
                uow.session, member_ids
            ).items()
        }
