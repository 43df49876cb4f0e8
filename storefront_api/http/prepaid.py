"""Prepaid-card endpoints: issue, top up, charge, refund, freeze, balance and transactions."""

from __future__ import annotations

from flask import Blueprint, Response

import points_engine
from common.unit_of_work import ReadOnlyUnitOfWork, run_in_transaction
from storefront_api import prepaid
from storefront_api.auth import ChannelPrincipal, StaffPrincipal
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
from storefront_api.http.routing import (
    decode_int_cursor,
    encode_cursor,
    json_response,
    route,
    written_response,
)
from storefront_api.http.schemas import PageQuery
from storefront_api.http.security import caller, channel_caller

blueprint = Blueprint("prepaid_cards", __name__, url_prefix="/api/v1/prepaid-cards")


@route(
    blueprint,
    "",
    "POST",
    summary="Issue a prepaid card holding amount_fen, optionally registered to a member",
    body=CardIssueIn,
    responses={201: CardOut, 200: CardOut},
    errors=(403, 409, 422),
)
def issue(body: CardIssueIn) -> Response:
    principal = caller()
    institution = body.institution_code
    if isinstance(principal, ChannelPrincipal):
        institution = institution or principal.institution_code
        scope, channel = f"channel:{principal.channel}", principal.channel
    else:
        assert isinstance(principal, StaffPrincipal)
        scope, channel = f"staff:{principal.username}", prepaid.STAFF_CHANNEL
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
            uow,
            context.directory,
            command,
            scope=scope,
            channel=channel,
            pin_secret=context.settings.secret_key,
        ),
    )
    return written_response(written)


@route(
    blueprint,
    "/<card_no>",
    "GET",
    summary="A prepaid card's balance and status",
    responses={200: CardOut},
    errors=(404, 422),
)
def get_card(card_no: str) -> Response:
    with ReadOnlyUnitOfWork(api_context().session_factory) as uow:
        body = prepaid.queries.describe_card(uow, api_context().directory, card_no)
    return json_response(body)


@route(
    blueprint,
    "/<card_no>",
    "PATCH",
    summary="Freeze a card (no top-ups or charges) or make it active again (finance, admin)",
    body=CardStatusIn,
    responses={200: CardOut},
    errors=(404, 422),
)
def set_status(card_no: str, body: CardStatusIn) -> Response:
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
    errors=(404, 422),
)
def transactions(card_no: str, query: PageQuery) -> Response:
    before = decode_int_cursor(query.cursor)
    with ReadOnlyUnitOfWork(api_context().session_factory) as uow:
        prepaid.queries.describe_card(uow, api_context().directory, card_no)
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
    errors=(403, 404, 409, 422),
)
def top_up(card_no: str, body: TopUpIn) -> Response:
    principal = channel_caller()
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
    return written_response(written)


@route(
    blueprint,
    "/<card_no>/charges",
    "POST",
    summary=(
        "Pay a purchase with a prepaid card and its PIN (5 wrong PINs in 30 minutes: 429); "
        "not enough on it: 422 insufficient-balance"
    ),
    body=CardChargeIn,
    responses={201: CardChargeOut, 200: CardChargeOut},
    errors=(403, 404, 409, 422),
)
def charge(card_no: str, body: CardChargeIn) -> Response:
    principal = channel_caller()
    command = prepaid.PaymentCommand(
        external_id=body.external_id,
        card_no=card_no,
        amount_fen=body.amount_fen,
        description=body.description,
        pin=body.pin,
    )
    context = api_context()
    written = run_in_transaction(
        context.session_factory,
        lambda uow: prepaid.take_card_payment(
            uow,
            command,
            channel=principal.channel,
            institution_code=principal.institution_code,
            pin_secret=context.settings.secret_key,
        ),
    )
    return written_response(written)


@route(
    blueprint,
    "/<card_no>/charges/<charge_no>/refunds",
    "POST",
    summary="Give (part of) a card payment back to the card; by the channel that took it",
    body=CardRefundIn,
    responses={201: CardRefundOut, 200: CardRefundOut},
    errors=(403, 404, 409, 422),
)
def refund(card_no: str, charge_no: str, body: CardRefundIn) -> Response:
    principal = channel_caller()
    command = prepaid.PaymentRefundCommand(
        external_id=body.external_id,
        card_no=card_no,
        charge_no=charge_no,
        amount_fen=body.amount_fen,
    )
    written = run_in_transaction(
        api_context().session_factory,
        lambda uow: prepaid.refund_card_payment(
            uow, command, channel=principal.channel, institution_code=principal.institution_code
        ),
    )
    return written_response(written)
