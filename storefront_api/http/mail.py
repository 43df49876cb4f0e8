"""Mail endpoints: a counter accepts an item, channels post its scans, anyone tracks it."""

from __future__ import annotations

from flask import Blueprint, Response
from sqlalchemy.orm import Session

import crm
import points_engine
import storefront_api.mail as mail
from common.db import read_session
from common.unit_of_work import run_in_transaction
from storefront_api.auth import MemberPrincipal, Principal, StaffPrincipal
from storefront_api.http.context import api_context
from storefront_api.http.mail_schemas import (
    MailEventIn,
    MailEventOut,
    MailingIn,
    MailingOut,
    MailTrackingOut,
)
from storefront_api.http.routing import json_response, route, written_response
from storefront_api.http.security import channel_caller, current_principal

blueprint = Blueprint("mail", __name__, url_prefix="/api/v1/mailings")


@route(
    blueprint,
    "",
    "POST",
    summary="Accept a mail item at the key's counter; a named sender earns points",
    body=MailingIn,
    responses={201: MailingOut, 200: MailingOut},
    errors=(409, 422),
)
def accept(body: MailingIn) -> Response:
    principal = channel_caller()
    sender = (
        points_engine.MemberRef(
            member_no=body.member.member_no, phone=body.member.phone, card_no=body.member.card_no
        )
        if body.member is not None
        else None
    )
    command = mail.AcceptanceCommand(
        external_id=body.external_id,
        tracking_no=body.tracking_no,
        service=body.service,
        fee_fen=body.fee_fen,
        accepted_at=body.accepted_at,
        member=sender,
    )
    context = api_context()
    written = run_in_transaction(
        context.session_factory,
        lambda uow: mail.accept_mailing(
            uow, context.directory, principal.channel, principal.institution_code, command
        ),
    )
    return written_response(written)


@route(
    blueprint,
    "/<tracking_no>/events",
    "POST",
    summary="Record a tracking event (scan) of an item, in any order; skipped steps are fine",
    body=MailEventIn,
    responses={201: MailEventOut, 200: MailEventOut},
    errors=(404, 409, 422),
)
def record_event(tracking_no: str, body: MailEventIn) -> Response:
    principal = channel_caller()
    command = mail.EventCommand(
        status=body.status,
        location=body.location,
        occurred_at=body.occurred_at,
        external_id=body.external_id,
    )
    written = run_in_transaction(
        api_context().session_factory,
        lambda uow: mail.record_event(
            uow, principal.channel, principal.institution_code, tracking_no, command
        ),
    )
    return written_response(written)


@route(
    blueprint,
    "/<tracking_no>",
    "GET",
    summary="Track an item: its events in time order and the latest one's status (no auth)",
    responses={200: MailTrackingOut},
    errors=(404, 422),
)
def track(tracking_no: str) -> Response:
    principal = current_principal()
    with read_session(api_context().session_factory) as session:
        view = mail.tracking(session, tracking_no)
        shown_to_sender = _is_sender_or_staff(session, principal, view.member_no)
    return json_response(view.sender_body() if shown_to_sender else view.public_body())


def _is_sender_or_staff(
    session: Session, principal: Principal | None, sender_no: str | None
) -> bool:
    """Staff, or the member who sent it (also after either was merged into another)."""
    if isinstance(principal, StaffPrincipal):
        return True
    if not isinstance(principal, MemberPrincipal) or sender_no is None:
        return False
    if principal.member_no == sender_no:
        return True
    try:
        caller = crm.queries.active_member_id(session, principal.member_no)
        return caller == crm.queries.active_member_id(session, sender_no)
    except crm.UnknownMember:
        return False
