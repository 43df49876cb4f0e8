"""Prepaid-card endpoints: issue, top up, charge, refund, freeze, balance and transactions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

import points_engine
from common.errors import Forbidden
from common.unit_of_work import UnitOfWork, run_in_transaction
from storefront_api import prepaid
from storefront_api.auth import ChannelPrincipal, MemberPrincipal, Principal
from storefront_api.http.context import api_context
from storefront_api.http.prepaid_schemas import (
    CardChargeIn,
    CardChargeOut,
    CardIssueIn,
    CardOut,
    CardRefundIn,
    CardRefundOut,
    CardStatusIn,
    CardTransactionPage,
    TopUpIn,
    TopUpOut,
)
from storefront_api.http.routing import decode_int_cursor, encode_cursor, json_response, route
from storefront_api.http.schemas import PageQuery
from storefront_api.http.security import (
    require_channel,
    require_institution,
    require_principal,
    require_staff,
)

blueprint = Blueprint("prepaid_cards", __name__, url_prefix="/api/v1/prepaid-cards")
CARD_READERS = ("member (own card)", "channel", "staff")
SELLING = ", ".join(prepaid.CARD_SELLING_CHANNELS)


def _written(written: points_engine.Written) -> Response:
    return json_response(written.body, 200 if written.replayed else 201)


def _selling_channel() -> ChannelPrincipal:
    principal = require_channel()
    if principal.channel not in prepaid.CARD_SELLING_CHANNELS:
        raise Forbidden(f"only the {SELLING} channels take money for prepaid cards")
    return principal


@route(
    blueprint,
    "",
    "POST",
    summary="Issue a prepaid card holding amount_fen, optionally registered to a member",
    body=CardIssueIn,
    responses={201: CardOut, 200: CardOut},
    auth=(*prepaid.CARD_SELLING_CHANNELS, "staff:finance"),
    errors=(403, 409, 422),
)
def issue(body: CardIssueIn) -> Response:
    principal = require_principal()
    institution = body.institution_code
    if isinstance(principal, ChannelPrincipal):
        _selling_channel()
        institution = institution or principal.institution_code
        if institution is not None:
            require_institution(principal, institution)
        scope, channel = f"channel:{principal.channel}", principal.channel
    else:
        staff = require_staff("finance")
        scope, channel = f"staff:{staff.username}", prepaid.STAFF_CHANNEL
    member = (
        points_engine.MemberRef(
            member_no=body.member.member_no, phone=body.member.phone, card_no=body.member.card_no
        )
        if body.member is not None
        else None
    )
    command = prepaid.IssueCommand(
        external_id=body.external_id,
        amount_fen=body.amount_fen,
        member=member,
        institution_code=institution,
    )
    context = api_context()
    written = run_in_transaction(
        context.session_factory,
        lambda uow: prepaid.issue_card(
            uow, context.directory, command, scope=scope, channel=channel
        ),
    )
    return _written(written)


def _readable_card(uow: UnitOfWork, principal: Principal, card_no: str) -> dict[str, Any]:
    """The card's details, if this caller may read them: a member only their own card."""
    directory = api_context().directory
    card = prepaid.queries.describe_card(uow, directory, card_no)
    if isinstance(principal, MemberPrincipal):
        caller = directory.resolve(
            uow, points_engine.MemberRef(member_no=principal.member_no), "member_no"
        )
        if card.get("member_no") != caller.member_no:
            raise Forbidden("a member may see only their own prepaid cards")
    return card


@route(
    blueprint,
    "/<card_no>",
    "GET",
    summary="A prepaid card's balance and status",
    responses={200: CardOut},
    auth=CARD_READERS,
    errors=(404, 422),
)
def get_card(card_no: str) -> Response:
    principal = require_principal()
    with UnitOfWork(api_context().session_factory) as uow:
        body = _readable_card(uow, principal, card_no)
    return json_response(body)


@route(
    blueprint,
    "/<card_no>",
    "PATCH",
    summary="Freeze a card (no top-ups or charges) or make it active again (finance, admin)",
    body=CardStatusIn,
    responses={200: CardOut},
    auth=("staff:finance",),
    errors=(404, 422),
)
def set_status(card_no: str, body: CardStatusIn) -> Response:
    require_staff("finance")
    context = api_context()
    updated = run_in_transaction(
        context.session_factory,
        lambda uow: prepaid.set_card_status(uow, context.directory, card_no, body.status),
    )
    return json_response(updated)


@route(
    blueprint,
    "/<card_no>/transactions",
    "GET",
    summary="A prepaid card's entries, newest first",
    query=PageQuery,
    responses={200: CardTransactionPage},
    auth=CARD_READERS,
    errors=(404, 422),
)
def transactions(card_no: str, query: PageQuery) -> Response:
    principal = require_principal()
    before = decode_int_cursor(query.cursor)
    with UnitOfWork(api_context().session_factory) as uow:
        _readable_card(uow, principal, card_no)
        entries = prepaid.queries.card_transactions(uow.session, card_no, before, query.limit + 1)
    more = len(entries) > query.limit
    entries = entries[: query.limit]
    return json_response(
        {
            "items": [{k: v for k, v in entry.items() if k != "id"} for entry in entries],
            "next_cursor": encode_cursor(entries[-1]["id"]) if more else None,
        }
    )


@route(
    blueprint,
    "/<card_no>/top-ups",
    "POST",
    summary="Pay money onto a prepaid card",
    body=TopUpIn,
    responses={201: TopUpOut, 200: TopUpOut},
    auth=prepaid.CARD_SELLING_CHANNELS,
    errors=(403, 404, 409, 422),
)
def top_up(card_no: str, body: TopUpIn) -> Response:
    principal = _selling_channel()
    command = prepaid.TopUpCommand(
        external_id=body.external_id, card_no=card_no, amount_fen=body.amount_fen
    )
    written = run_in_transaction(
        api_context().session_factory,
        lambda uow: prepaid.top_up_card(
            uow,
            command,
            channel=principal.channel,
            institution_code=principal.institution_code,
        ),
    )
    return _written(written)


@route(
    blueprint,
    "/<card_no>/charges",
    "POST",
    summary="Pay a purchase with a prepaid card; not enough on it: 422 insufficient-balance",
    body=CardChargeIn,
    responses={201: CardChargeOut, 200: CardChargeOut},
    auth=("channel",),
    errors=(403, 404, 409, 422),
)
def charge(card_no: str, body: CardChargeIn) -> Response:
    principal = require_channel()
    command = prepaid.PaymentCommand(
        external_id=body.external_id,
        card_no=card_no,
        amount_fen=body.amount_fen,
        description=body.description,
    )
    written = run_in_transaction(
        api_context().session_factory,
        lambda uow: prepaid.take_card_payment(uow, command, channel=principal.channel),
    )
    return _written(written)


@route(
    blueprint,
    "/<card_no>/charges/<charge_no>/refunds",
    "POST",
    summary="Give (part of) a card payment back to the card; by the channel that took it",
    body=CardRefundIn,
    responses={201: CardRefundOut, 200: CardRefundOut},
    auth=("channel",),
    errors=(403, 404, 409, 422),
)
def refund(card_no: str, charge_no: str, body: CardRefundIn) -> Response:
    principal = require_channel()
    command = prepaid.PaymentRefundCommand(
        external_id=body.external_id,
        card_no=card_no,
        charge_no=charge_no,
        amount_fen=body.amount_fen,
    )
    written = run_in_transaction(
        api_context().session_factory,
        lambda uow: prepaid.refund_card_payment(uow, command, channel=principal.channel),
    )
    return _written(written)
