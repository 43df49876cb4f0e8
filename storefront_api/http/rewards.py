"""Reward catalogue and redemptions: GET/POST /rewards, POST /redemptions, cancel."""

from __future__ import annotations

from flask import Blueprint, Response

import points_engine
from common.db import read_session
from common.unit_of_work import run_in_transaction
from storefront_api import rewards
from storefront_api.auth import ChannelPrincipal, MemberPrincipal
from storefront_api.http.context import api_context
from storefront_api.http.orders import order_caller, order_context
from storefront_api.http.rewards_schemas import RedemptionIn, RedemptionOut
from storefront_api.http.routing import json_response, route, written_response
from storefront_api.http.schemas import (
    RedemptionCancelOut,
    RewardIn,
    RewardList,
    RewardOut,
)
from storefront_api.http.security import caller

blueprint = Blueprint("rewards", __name__, url_prefix="/api/v1")


@route(blueprint, "/rewards", "GET", summary="The reward catalogue", responses={200: RewardList})
def list_rewards() -> Response:
    with read_session(api_context().session_factory) as session:
        items = [points_engine.reward_view(r) for r in points_engine.queries.list_rewards(session)]
    return json_response({"items": items})


@route(
    blueprint,
    "/rewards",
    "POST",
    summary="Add a reward (admin)",
    body=RewardIn,
    responses={201: RewardOut},
    errors=(409, 422),
)
def add_reward(body: RewardIn) -> Response:
    created = run_in_transaction(
        api_context().session_factory,
        lambda uow: points_engine.add_reward(
            uow,
            code=body.code,
            name=body.name,
            name_en=body.name_en or body.name,
            kind=body.kind,
            points_cost=body.points_cost,
            cash_fen=body.cash_fen,
            stock=body.stock,
            value_fen=body.value_fen,
            min_spend_fen=body.min_spend_fen,
            valid_days=body.valid_days,
            applies_to=body.applies_to,
            biller_kind=body.biller_kind,
        ),
    )
    return json_response(created, 201)


@route(
    blueprint,
    "/redemptions",
    "POST",
    summary=(
        "Redeem a reward with points: a voucher or bill credit answers with its vouchers, "
        "a goods reward with the order that delivers it"
    ),
    body=RedemptionIn,
    responses={201: RedemptionOut, 200: RedemptionOut},
    errors=(403, 404, 409, 422),
)
def redeem(body: RedemptionIn) -> Response:
    principal = caller()
    placing = order_caller()
    if isinstance(principal, ChannelPrincipal):
        redeemer = rewards.Redeemer(
            placing.scope, principal.channel, principal.institution_code, placing
        )
    else:
        assert isinstance(principal, MemberPrincipal)
        redeemer = rewards.Redeemer(placing.scope, None, None, placing)
    fulfilment = body.fulfillment
    request = rewards.RedeemRequest(
        points_engine.RedemptionCommand(
            external_id=body.external_id,
            member_no=body.member_no,
            reward_code=body.reward_code,
            quantity=body.quantity,
        ),
        None
        if fulfilment is None
        else rewards.Fulfilment(
            fulfilment.type,
            getattr(fulfilment, "outlet_code", None),
            getattr(fulfilment, "address", None),
            body.cash_payment_method,
        ),
        body.partner_member_no,
    )
    context = order_context()
    written = run_in_transaction(
        api_context().session_factory, lambda uow: rewards.redeem(uow, context, redeemer, request)
    )
    return written_response(written)


@route(
    blueprint,
    "/redemptions/<redemption_id>/cancel",
    "POST",
    summary=(
        "Cancel a redemption: its vouchers are voided (refused while one is used) and the "
        "points go back to the lots they came from"
    ),
    responses={200: RedemptionCancelOut},
    errors=(403, 404, 409),
)
def cancel(redemption_id: str) -> Response:
    context = api_context()
    body = run_in_transaction(
        context.session_factory,
        lambda uow: rewards.cancel(uow, context.directory, redemption_id),
    )
    return json_response(body)
