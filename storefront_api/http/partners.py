"""Partner exchange over HTTP: the partners, points out to a partner (the member in the
app, or a serving channel for them), points in from a partner (its own channel key), and
an exchange line."""

from __future__ import annotations

from flask import Blueprint, Response

from common.db import read_session
from common.errors import NotFound
from common.unit_of_work import run_in_transaction
from storefront_api import partners
from storefront_api.auth import ChannelPrincipal, MemberPrincipal
from storefront_api.http.context import api_context
from storefront_api.http.partners_schemas import (
    ExchangeIn,
    ExchangeInIn,
    ExchangeOutIn,
    PartnerList,
)
from storefront_api.http.routing import json_response, route, written_response
from storefront_api.http.security import caller

blueprint = Blueprint("partners", __name__, url_prefix="/api/v1")


@route(
    blueprint,
    "/partners",
    "GET",
    summary="Partners, with their exchange rates, minimums and daily limits",
    responses={200: PartnerList},
)
def list_partners() -> Response:
    with read_session(api_context().session_factory) as session:
        return json_response({"items": partners.list_partners(session)})


@route(
    blueprint,
    "/partner-exchanges",
    "POST",
    summary=(
        "Exchange points into a partner's currency (e.g. airline miles): FIFO by expiry, "
        "settled by the day's file; a line the partner rejects gives the points back"
    ),
    body=ExchangeOutIn,
    responses={201: ExchangeIn, 200: ExchangeIn},
    errors=(403, 404, 409, 422),
)
def exchange_out(body: ExchangeOutIn) -> Response:
    principal = caller()
    if isinstance(principal, ChannelPrincipal):
        scope, channel = f"channel:{principal.channel}", principal.channel
    else:
        assert isinstance(principal, MemberPrincipal)
        scope, channel = f"member:{principal.member_no}", None
    command = partners.ExchangeOutCommand(
        body.external_id, body.member_no, body.partner_code, body.points, body.partner_member_no
    )
    context = api_context()
    written = run_in_transaction(
        context.session_factory,
        lambda uow: partners.exchange_out(
            uow, context.directory, command, scope=scope, channel=channel
        ),
    )
    return written_response(written)


@route(
    blueprint,
    "/partner-exchanges/inbound",
    "POST",
    summary="Book points a member bought in from a partner's programme (finance, from the "
    "partner's file): the partner's points buy programme points at its rate, once per the "
    "partner's transaction id",
    body=ExchangeInIn,
    responses={201: ExchangeIn, 200: ExchangeIn},
    errors=(404, 409, 422),
)
def exchange_in(body: ExchangeInIn) -> Response:
    command = partners.ExchangeInCommand(
        body.external_id,
        body.member_no,
        body.partner_code,
        body.partner_points,
        body.partner_member_no,
    )
    context = api_context()
    written = run_in_transaction(
        context.session_factory,
        lambda uow: partners.exchange_in(uow, context.directory, command),
    )
    return written_response(written)


@route(
    blueprint,
    "/partner-exchanges/<exchange_no>",
    "GET",
    summary="An exchange line and where it stands",
    responses={200: ExchangeIn},
    errors=(403, 404),
)
def get_exchange(exchange_no: str) -> Response:
    with read_session(api_context().session_factory) as session:
        view = partners.exchange_view(session, exchange_no)
    if view is None:
        raise NotFound(f"unknown exchange {exchange_no!r}")
    return json_response(view)
