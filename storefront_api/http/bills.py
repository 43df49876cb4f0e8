"""Bill payment endpoints: billers, bill look-up, paying, status checks and same-day reversal.

The billers are reached through `app.extensions[BILLERS_EXTENSION]` (a `biller_for`)
when the composition root or a test puts one there, else through the built-in sandbox.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, current_app

import points_engine
from common.db import read_session
from common.unit_of_work import UnitOfWork
from storefront_api import bills
from storefront_api.auth import ChannelPrincipal, MemberPrincipal, Principal
from storefront_api.http.bills_schemas import (
    BillerList,
    BillOut,
    BillPaymentIn,
    BillPaymentOut,
    BillQueryIn,
    BillReversalIn,
)
from storefront_api.http.context import api_context
from storefront_api.http.routing import json_response, route
from storefront_api.http.security import caller, channel_caller

blueprint = Blueprint("bills", __name__, url_prefix="/api/v1")
BILLERS_EXTENSION = "memberhub.billers"


def _biller_for() -> bills.BillerFor:
    configured: bills.BillerFor | None = current_app.extensions.get(BILLERS_EXTENSION)
    if configured is not None:
        return configured
    return bills.sandbox_billers(api_context().session_factory)


def _uow_factory() -> Callable[[], UnitOfWork]:
    session_factory = api_context().session_factory
    return lambda: UnitOfWork(session_factory)


def _payer(principal: Principal) -> bills.Payer:
    if isinstance(principal, MemberPrincipal):
        return bills.Payer.member(principal.member_no)
    assert isinstance(principal, ChannelPrincipal), "the policy admits members and channels"
    return bills.Payer(principal.channel, principal.institution_code)


@route(
    blueprint,
    "/billers",
    "GET",
    summary="Billers whose bills can be paid",
    responses={200: BillerList},
)
def list_billers() -> Response:
    with read_session(api_context().session_factory) as session:
        items = bills.list_billers(session)
    return json_response({"items": items})


@route(
    blueprint,
    "/bills/query",
    "POST",
    summary="Ask a biller what is due on an account; 404 when nothing is",
    body=BillQueryIn,
    responses={200: BillOut},
    errors=(403, 404, 409, 422),
)
def query_bill(body: BillQueryIn) -> Response:
    answer = bills.query_bill(_uow_factory(), _biller_for(), body.biller_code, body.account_no)
    return json_response(answer)


@route(
    blueprint,
    "/bill-payments",
    "POST",
    summary="Pay a bill: 201 paid, 202 when the biller's answer is still unknown",
    body=BillPaymentIn,
    responses={201: BillPaymentOut, 200: BillPaymentOut, 202: BillPaymentOut},
    errors=(403, 409, 422),
)
def pay(body: BillPaymentIn) -> Response:
    payer = _payer(caller())
    member = (
        None
        if body.member is None
        else points_engine.MemberRef(
            member_no=body.member.member_no, phone=body.member.phone, card_no=body.member.card_no
        )
    )
    command = bills.PaymentCommand(
        external_id=body.external_id,
        bill_id=body.bill_id,
        amount_fen=body.amount_fen,
        member=member,
        bill_credit_code=body.bill_credit_code,
    )
    written = bills.pay_bill(_uow_factory(), _biller_for(), api_context().directory, payer, command)
    if written.body.status in (bills.PaymentStatus.UNKNOWN, bills.PaymentStatus.PROCESSING):
        return json_response(written.body, 202)
    return json_response(written.body, 200 if written.replayed else 201)


@route(
    blueprint,
    "/bill-payments/<payment_no>",
    "GET",
    summary="A bill payment's receipt as it stands",
    responses={200: BillPaymentOut},
    errors=(403, 404),
)
def show(payment_no: str) -> Response:
    with read_session(api_context().session_factory) as session:
        body = bills.payment_receipt(session, payment_no)
    return json_response(body)


@route(
    blueprint,
    "/bill-payments/<payment_no>/status-check",
    "POST",
    summary="Ask the biller about an unresolved payment and settle it (paid: points now)",
    responses={200: BillPaymentOut},
    errors=(403, 404, 409),
)
def status_check(payment_no: str) -> Response:
    body = bills.check_payment_status(
        _uow_factory(), _biller_for(), api_context().directory, payment_no
    )
    return json_response(body)


@route(
    blueprint,
    "/bill-payments/<payment_no>/reversal",
    "POST",
    summary="Reverse (冲正) a payment on its business day; its points are reversed",
    body=BillReversalIn,
    responses={200: BillPaymentOut},
    errors=(403, 404, 409, 422),
)
def reverse(payment_no: str, body: BillReversalIn) -> Response:
    principal = channel_caller()
    written = bills.reverse_payment(
        _uow_factory(),
        _biller_for(),
        bills.Payer(principal.channel, principal.institution_code),
        body.external_id,
        payment_no,
    )
    return json_response(written.body)
