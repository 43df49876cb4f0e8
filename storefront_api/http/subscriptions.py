"""Press titles and newspaper subscriptions: GET /press-titles, /subscriptions and cancel."""

from __future__ import annotations

from flask import Blueprint, Response

import points_engine
from common.db import read_session
from common.unit_of_work import run_in_transaction
from storefront_api import subscriptions
from storefront_api.auth import ChannelPrincipal, MemberPrincipal, Principal
from storefront_api.http.context import api_context
from storefront_api.http.routing import json_response, route, written_response
from storefront_api.http.security import caller as current_caller
from storefront_api.http.subscriptions_schemas import (
    PressTitleList,
    SubscriptionCancelIn,
    SubscriptionCancelOut,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
)

blueprint = Blueprint("subscriptions", __name__, url_prefix="/api/v1")


def _caller(principal: Principal) -> subscriptions.Caller:
    if isinstance(principal, ChannelPrincipal):
        return subscriptions.Caller(
            "channel", channel=principal.channel, institution_code=principal.institution_code
        )
    if isinstance(principal, MemberPrincipal):
        return subscriptions.Caller("member", member_no=principal.member_no)
    return subscriptions.Caller("staff", username=principal.username)


@route(
    blueprint,
    "/press-titles",
    "GET",
    summary="Newspapers and magazines open for subscription, with their monthly price",
    responses={200: PressTitleList},
)
def press_titles() -> Response:
    with read_session(api_context().session_factory) as session:
        items = subscriptions.list_press_titles(session)
    return json_response({"items": items})


@route(
    blueprint,
    "/subscriptions",
    "POST",
    summary="Subscribe a member to a title for a month, a quarter or a year; earns points",
    body=SubscriptionIn,
    responses={201: SubscriptionCreatedOut, 200: SubscriptionCreatedOut},
    errors=(409,),
)
def subscribe(body: SubscriptionIn) -> Response:
    principal = current_caller()
    command = subscriptions.SubscribeCommand(
        external_id=body.external_id,
        member=points_engine.MemberRef(
            member_no=body.member.member_no, phone=body.member.phone, card_no=body.member.card_no
        ),
        title_code=body.title_code,
        term=body.term,
        start_date=body.start_date,
        delivery=subscriptions.Delivery(
            type=body.delivery.type,
            address=body.delivery.address,
            outlet_code=body.delivery.outlet_code,
        ),
        payment_method=body.payment_method,
    )
    context = api_context()
    caller = _caller(principal)
    written = run_in_transaction(
        context.session_factory,
        lambda uow: subscriptions.subscribe(uow, context.directory, caller, command),
    )
    return written_response(written, 201)


@route(
    blueprint,
    "/subscriptions/<subscription_no>",
    "GET",
    summary="One subscription",
    responses={200: SubscriptionOut},
    errors=(404,),
)
def get_subscription(subscription_no: str) -> Response:
    with read_session(api_context().session_factory) as session:
        body = subscriptions.find_subscription(session, subscription_no)
    return json_response(body)


@route(
    blueprint,
    "/subscriptions/<subscription_no>/cancel",
    "POST",
    summary="Cancel a subscription: the undelivered days are refunded pro rata, points reversed",
    body=SubscriptionCancelIn,
    body_required=False,
    responses={200: SubscriptionCancelOut},
    errors=(404, 409),
)
def cancel(subscription_no: str, body: SubscriptionCancelIn) -> Response:
    principal = current_caller()
    command = subscriptions.CancelCommand(
        subscription_no=subscription_no, external_id=body.external_id, as_of=body.as_of
    )
    context = api_context()
    caller = _caller(principal)
    written = run_in_transaction(
        context.session_factory,
        lambda uow: subscriptions.cancel_subscription(uow, context.directory, caller, command),
    )
    return written_response(written, 200)
