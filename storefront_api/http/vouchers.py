"""Vouchers over HTTP: a member's vouchers, and a till taking one off a sale (or giving it
back when the sale is voided). Orders take vouchers in their own request."""

from __future__ import annotations

from flask import Blueprint, Response

import crm
import points_engine
from common.clock import today
from common.unit_of_work import ReadOnlyUnitOfWork, run_in_transaction
from storefront_api import vouchers
from storefront_api.auth import ChannelPrincipal
from storefront_api.http.context import api_context
from storefront_api.http.routing import json_response, route, written_response
from storefront_api.http.schemas import VoucherList, VoucherUseIn, VoucherUseOut
from storefront_api.http.security import caller

blueprint = Blueprint("vouchers", __name__, url_prefix="/api/v1")


@route(
    blueprint,
    "/members/<member_no>/vouchers",
    "GET",
    summary="The member's vouchers: usable ones first, soonest last day first",
    responses={200: VoucherList},
    errors=(404,),
)
def member_vouchers(member_no: str) -> Response:
    with ReadOnlyUnitOfWork(api_context().session_factory) as uow:
        member = crm.resolve_member_no(uow, member_no)
        items = vouchers.member_vouchers(uow.session, member.id, today())
    return json_response({"items": items})


@route(
    blueprint,
    "/voucher-uses",
    "POST",
    summary=(
        "Take a member's voucher off a till sale, once per external_id (whoever races for "
        "one code, exactly one use wins); the till then charges amount_due_fen"
    ),
    body=VoucherUseIn,
    responses={201: VoucherUseOut, 200: VoucherUseOut},
    errors=(403, 404, 409, 422),
)
def use_voucher(body: VoucherUseIn) -> Response:
    principal = caller()
    assert isinstance(principal, ChannelPrincipal)
    command = vouchers.CounterUse(
        external_id=body.external_id,
        voucher_code=body.voucher_code,
        member=points_engine.MemberRef(
            member_no=body.member.member_no, phone=body.member.phone, card_no=body.member.card_no
        ),
        institution_code=body.institution_code,
        business_type=body.business_type,
        spend_fen=body.spend_fen,
    )
    context = api_context()
    written = run_in_transaction(
        context.session_factory,
        lambda uow: vouchers.use_at_counter(
            uow, context.directory, channel=principal.channel, command=command
        ),
    )
    return written_response(written)


@route(
    blueprint,
    "/voucher-uses/<use_no>/cancel",
    "POST",
    summary="The till voided the sale: the voucher goes back to the member",
    responses={200: VoucherUseOut},
    errors=(403, 404),
)
def cancel_use(use_no: str) -> Response:
    body = run_in_transaction(
        api_context().session_factory, lambda uow: vouchers.cancel_use(uow, use_no)
    )
    return json_response(body)
