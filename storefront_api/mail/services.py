"""Mail use cases: a counter accepts an item (earning the sender points), scans follow."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import points_engine
from common import idempotency
from common.clock import as_utc, to_utc, utcnow
from common.errors import Forbidden, Invalid, combined
from common.idempotency import Written
from common.organisation import get_institution
from common.unit_of_work import UnitOfWork
from storefront_api.mail import domain
from storefront_api.mail.domain import MailStatus
from storefront_api.mail.orm import MailEvent, Mailing

# The ledger accrual of a mailing; the prefix keeps it apart from the counter's own ids.
ACCRUAL_PREFIX = "mail:"


@dataclass(frozen=True)
class AcceptanceCommand:
    external_id: str
    tracking_no: str
    service: str
    fee_fen: int
    accepted_at: datetime
    member: points_engine.MemberRef | None = None


@dataclass(frozen=True)
class EventCommand:
    status: str
    location: str
    occurred_at: datetime
    external_id: str | None = None


def accept_mailing(
    uow: UnitOfWork,
    directory: points_engine.MemberDirectory,
    channel: str,
    institution_code: str | None,
    command: AcceptanceCommand,
) -> Written[dict[str, Any]]:
    """A counter accepts an item at its own outlet; a named sender earns `mailing` points.

    Idempotent per channel + external_id (a replay answers the first body). The
    tracking number is stored upper case. Raises Forbidden (not a counter key),
    Invalid (tracking number, service, fee, time, unknown member), TrackingNumberTaken
    (the number was accepted before under another external_id), Conflict (external_id
    reused with another payload).
    """
    if institution_code is None:
        raise Forbidden("only a key bound to a post office outlet may accept mail")
    now = utcnow()
    command = _checked_acceptance(command, now)
    session = uow.session
    sender = (
        directory.resolve(uow, command.member, "member") if command.member is not None else None
    )

    def effect() -> dict[str, Any]:
        taken = session.scalar(select(Mailing.id).where(Mailing.tracking_no == command.tracking_no))
        if taken is not None:
            raise _taken(command.tracking_no)
        mailing = Mailing(
            tracking_no=command.tracking_no,
            service=command.service,
            fee_fen=command.fee_fen,
            status=MailStatus.ACCEPTED.value,
            channel=channel,
            external_id=command.external_id,
            institution_code=institution_code,
            member_id=sender.member_id if sender is not None else None,
            member_no=sender.member_no if sender is not None else None,
            points=0,
            accepted_at=command.accepted_at,
            last_event_at=command.accepted_at,
            created_at=now,
            updated_at=now,
        )
        session.add(mailing)
        try:
            # The unique index is the real guard: a concurrent acceptance of the same
            # number waits on it and fails here once the first one commits.
            session.flush()
        except IntegrityError as error:
            raise _taken(command.tracking_no) from error
        session.add(
            MailEvent(
                mailing_id=mailing.id,
                sequence=1,
                status=MailStatus.ACCEPTED.value,
                location=get_institution(session, institution_code).name,
                occurred_at=command.accepted_at,
                channel=channel,
                institution_code=institution_code,
                external_id=command.external_id,
                created_at=now,
            )
        )
        accrual: dict[str, Any] | None = None
        if command.member is not None:
            accrued = points_engine.accrue_points(
                uow, directory, channel, _accrual_command(command, institution_code)
            ).body
            mailing.points = accrued.points
            mailing.accrual_no = accrued.accrual_id
            accrual = idempotency.as_answer(accrued)
        return acceptance_body(mailing, accrual)

    key = idempotency.Key(f"channel:{channel}", "mailing", command.external_id)
    return idempotency.once(uow.session, key, command, effect, kind=dict[str, Any])


def _checked_acceptance(command: AcceptanceCommand, now: datetime) -> AcceptanceCommand:
    """The command with its tracking number normalised; every bad field reported at once."""
    errors: list[Invalid] = []
    tracking_no = command.tracking_no
    try:
        tracking_no = domain.normalise_tracking_no(command.tracking_no)
    except Invalid as error:
        errors.append(error)
    try:
        domain.check_service(command.service)
    except Invalid as error:
        errors.append(error)
    if command.fee_fen <= 0:
        errors.append(Invalid.field("fee_fen", "must be greater than 0"))
    try:
        domain.check_not_future(command.accepted_at, now, "accepted_at")
    except Invalid as error:
        errors.append(error)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise combined(errors)
    return replace(command, tracking_no=tracking_no, accepted_at=to_utc(command.accepted_at))


def _taken(tracking_no: str) -> domain.TrackingNumberTaken:
    return domain.TrackingNumberTaken(
        f"tracking number {tracking_no} was already accepted under another external_id"
    )


def _accrual_command(
    command: AcceptanceCommand, institution_code: str
) -> points_engine.AccrualCommand:
    assert command.member is not None
    return points_engine.AccrualCommand(
        external_id=ACCRUAL_PREFIX + command.tracking_no,
        member=command.member,
        institution_code=institution_code,
        occurred_at=command.accepted_at,
        business_type="mailing",
        lines=(
            points_engine.AccrualLine(
                sku=f"MAIL-{command.service.upper()}", quantity=1, amount_fen=command.fee_fen
            ),
        ),
        total_fen=command.fee_fen,
    )


def acceptance_body(mailing: Mailing, accrual: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "tracking_no": mailing.tracking_no,
        "service": mailing.service,
        "fee_fen": mailing.fee_fen,
        "status": mailing.status,
        "accepted_at": as_utc(mailing.accepted_at).isoformat(),
        "institution_code": mailing.institution_code,
        "points": mailing.points,
    }
    if mailing.member_no is not None:
        body["member_no"] = mailing.member_no
    if accrual is not None:
        body["accrual"] = accrual
    return body


def record_event(
    uow: UnitOfWork,
    channel: str,
    institution_code: str | None,
    tracking_no: str,
    command: EventCommand,
) -> Written[dict[str, Any]]:
    """Record one scan of an item as it came; the item's status is its latest event's.

    A scan is a fact about the item, so it is stored whatever its order or the steps it
    skips; the status is then that of the latest event by `occurred_at` (of equal times,
    the one recorded last), so a late scan timed before the latest leaves it unchanged.
    Idempotency, two ways: with an `external_id`, per channel + external_id like every
    channel write (same payload → the first answer, another payload → Conflict); with
    or without one, an event identical to one already recorded for the item (same
    status, location and instant) is not stored again and answers the recorded event
    as a replay. Raises InvalidTrackingNumber, UnknownMailing, EventTimeInvalid (no
    offset, in the future, before the acceptance), Invalid (unknown status).
    """
    number = domain.normalise_tracking_no(tracking_no)
    try:
        status = MailStatus(command.status)
    except ValueError as error:
        names = ", ".join(s.value for s in MailStatus)
        raise Invalid.field("status", f"must be one of {names}") from error
    if command.occurred_at.tzinfo is None:
        raise domain.EventTimeInvalid.field("occurred_at", "must carry a UTC offset")
    occurred_at = to_utc(command.occurred_at)
    if command.external_id is None:
        body, duplicate = _record_event(uow, channel, institution_code, number, command, status)
        return Written(body, replayed=duplicate)
    identical = False

    def effect() -> dict[str, Any]:
        nonlocal identical
        body, identical = _record_event(uow, channel, institution_code, number, command, status)
        return body

    key = idempotency.Key(f"channel:{channel}", "mail_event", command.external_id)
    digest = idempotency.fingerprint(
        {**asdict(command), "tracking_no": number, "occurred_at": occurred_at}
    )
    written = idempotency.once(uow.session, key, None, effect, kind=dict[str, Any], digest=digest)
    return Written(written.body, replayed=written.replayed or identical)


def _record_event(
    uow: UnitOfWork,
    channel: str,
    institution_code: str | None,
    number: str,
    command: EventCommand,
    status: MailStatus,
) -> tuple[dict[str, Any], bool]:
    """The event's answer, and whether an identical one was recorded before (then
    nothing is stored)."""
    session = uow.session
    occurred_at = to_utc(command.occurred_at)
    # Locked so that two scans of one item get distinct sequences and the status is
    # derived from every event, the other scan's included.
    mailing = session.scalars(
        select(Mailing).where(Mailing.tracking_no == number).with_for_update()
    ).one_or_none()
    if mailing is None:
        raise domain.UnknownMailing(f"no mail item with tracking number {number}")
    events = list(
        session.scalars(
            select(MailEvent).where(MailEvent.mailing_id == mailing.id).order_by(MailEvent.sequence)
        )
    )
    for event in events:
        if (event.status, event.location, as_utc(event.occurred_at)) == (
            status.value,
            command.location,
            occurred_at,
        ):
            return event_body(mailing.tracking_no, event), True
    now = utcnow()
    domain.check_event_time(occurred_at, as_utc(mailing.accepted_at), now)
    event = MailEvent(
        mailing_id=mailing.id,
        sequence=len(events) + 1,
        status=status.value,
        location=command.location,
        occurred_at=occurred_at,
        channel=channel,
        institution_code=institution_code,
        external_id=command.external_id,
        created_at=now,
    )
    session.add(event)
    # The stored status and time follow the rule, so readers (the timeline, the
    # warehouse) need not derive them again.
    latest = domain.latest_event(_recorded(e) for e in [*events, event])
    mailing.status = latest.status.value
    mailing.last_event_at = latest.occurred_at
    mailing.updated_at = now
    return event_body(mailing.tracking_no, event), False


def _recorded(event: MailEvent) -> domain.RecordedEvent:
    return domain.RecordedEvent(MailStatus(event.status), as_utc(event.occurred_at), event.sequence)


def event_body(tracking_no: str, event: MailEvent) -> dict[str, Any]:
    return {
        "tracking_no": tracking_no,
        "sequence": event.sequence,
        "status": event.status,
        "location": event.location,
        "occurred_at": as_utc(event.occurred_at).isoformat(),
    }
