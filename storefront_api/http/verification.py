"""One-time codes by SMS: to register by phone, and for a member to link an identifier."""

from __future__ import annotations

from typing import Literal

from flask import Blueprint, Response

import crm
from common.db import read_session
from common.masking import mask_phone
from common.unit_of_work import UnitOfWork
from storefront_api.http.context import api_context
from storefront_api.http.routing import json_response, route
from storefront_api.http.schemas import IdentifierValueIn, Open, Phone, Strict

blueprint = Blueprint("verification", __name__, url_prefix="/api/v1")


class RegistrationCodeIn(Strict):
    phone: Phone
    purpose: Literal["register"] = "register"


class LinkCodeIn(Strict):
    purpose: Literal["link_identifier"] = "link_identifier"
    identifier: IdentifierValueIn


class CodeSentOut(Open):
    sent_to: str
    expires_in: int


def _send(phone: str, purpose: str, subject: str = "") -> Response:
    context = api_context()
    expires_in = crm.verification.send_code(
        lambda: UnitOfWork(context.session_factory),
        context.sms,
        context.settings.secret_key,
        phone,
        purpose,
        subject,
    )
    return json_response({"sent_to": mask_phone(phone), "expires_in": expires_in}, 202)


@route(
    blueprint,
    "/verification-codes",
    "POST",
    summary=(
        "Send a one-time code to a phone to register with (one a minute, ten a day); "
        "then POST /members with verification_code"
    ),
    body=RegistrationCodeIn,
    responses={202: CodeSentOut},
    errors=(422, 429),
)
def request_code(body: RegistrationCodeIn) -> Response:
    return _send(crm.normalise_phone(body.phone), body.purpose)


@route(
    blueprint,
    "/members/<member_no>/verification-codes",
    "POST",
    summary=(
        "Send the member a one-time code to link this identifier with "
        "(POST /members/{member_no}/identifiers with verification_code)"
    ),
    body=LinkCodeIn,
    responses={202: CodeSentOut},
    errors=(404, 422, 429),
)
def request_member_code(member_no: str, body: LinkCodeIn) -> Response:
    subject = crm.identifier_subject(body.identifier.type, body.identifier.value)
    with read_session(api_context().session_factory) as session:
        phone = crm.queries.phone_of(session, crm.queries.active_member_id(session, member_no))
    return _send(phone, body.purpose, subject)
