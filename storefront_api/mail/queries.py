"""Read side of mail: an item's tracking history and a member's mailings for the timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.clock import as_utc
from storefront_api.activity import ActivityEntry
from storefront_api.mail import domain
from storefront_api.mail.orm import MailEvent, Mailing


@dataclass(frozen=True)
class TrackingView:
    """An item and its events in the order they happened.

    `public_body` is what anyone holding the number may see; `sender_body` adds who
    sent it and what it cost, for the sender and staff only.
    """

    tracking_no: str
    service: str
    status: str
    accepted_at: datetime
    institution_code: str
    events: tuple[dict[str, Any], ...]
    member_no: str | None
    fee_fen: int
    points: int

    def public_body(self) -> dict[str, Any]:
        return {
            "tracking_no": self.tracking_no,
            "service": self.service,
            "status": self.status,
            "accepted_at": self.accepted_at.isoformat(),
            "institution_code": self.institution_code,
            "events": list(self.events),
        }

    def sender_body(self) -> dict[str, Any]:
        body = self.public_body()
        body["fee_fen"] = self.fee_fen
        body["points"] = self.points
        if self.member_no is not None:
            body["member_no"] = self.member_no
        return body


def tracking(session: Session, tracking_no: str) -> TrackingView:
    """The item with this number (any case, printed spaces allowed).

    Raises InvalidTrackingNumber naming `tracking_no`, UnknownMailing.
    """
    number = domain.normalise_tracking_no(tracking_no)
    mailing = session.scalars(select(Mailing).where(Mailing.tracking_no == number)).one_or_none()
    if mailing is None:
        raise domain.UnknownMailing(f"no mail item with tracking number {number}")
    events = session.scalars(
        select(MailEvent)
        .where(MailEvent.mailing_id == mailing.id)
        .order_by(MailEvent.occurred_at, MailEvent.sequence)
    )
    return TrackingView(
        tracking_no=mailing.tracking_no,
        service=mailing.service,
        status=mailing.status,
        accepted_at=as_utc(mailing.accepted_at),
        institution_code=mailing.institution_code,
        events=tuple(
            {
                "sequence": event.sequence,
                "status": event.status,
                "location": event.location,
                "occurred_at": as_utc(event.occurred_at).isoformat(),
            }
            for event in events
        ),
        member_no=mailing.member_no,
        fee_fen=mailing.fee_fen,
        points=mailing.points,
    )


def member_activity(session: Session, member_id: int) -> list[ActivityEntry]:
    """The member's mailings, newest first: the fee they paid (negative) and points earned."""
    mailings = session.scalars(
        select(Mailing)
        .where(Mailing.member_id == member_id)
        .order_by(Mailing.accepted_at.desc(), Mailing.id.desc())
    )
    return [
        ActivityEntry(
            occurred_at=as_utc(mailing.accepted_at),
            kind="mail",
            reference=mailing.tracking_no,
            title=domain.SERVICE_TITLES.get(mailing.service, mailing.service),
            status=mailing.status,
            channel=mailing.channel,
            amount_fen=-mailing.fee_fen,
            points=mailing.points,
        )
        for mailing in mailings
    ]
