"""Channel writes on the ledger: POST /accruals, /accruals/batch and /refunds, and
POST /accruals/preview, which answers what an accrual would earn and writes nothing."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response
from pydantic import ValidationError

import points_engine
from common import idempotency
from common.errors import DomainError
from common.unit_of_work import ReadOnlyUnitOfWork, run_in_transaction
from storefront_api.errors import (
    domain_problem_body,
    problem_body,
    status_of,
    validation_field_errors,
)
from storefront_api.http.context import api_context
from storefront_api.http.policy import check_institution
from storefront_api.http.routing import json_response, route, written_response
from storefront_api.http.schemas import (
    AccrualBatchIn,
    AccrualBatchOut,
    AccrualIn,
    AccrualOut,
    AccrualPreviewOut,
    RefundIn,
    RefundOut,
)
from storefront_api.http.security import channel_caller

blueprint = Blueprint("accruals", __name__, url_prefix="/api/v1")


def _command(body: AccrualIn) -> points_engine.AccrualCommand:
    return points_engine.AccrualCommand(
        external_id=body.external_id,
        member=points_engine.MemberRef(
            member_no=body.member.member_no, phone=body.member.phone, card_no=body.member.card_no
        ),
        institution_code=body.institution_code,
        occurred_at=body.occurred_at,
        business_type=body.business_type,
        lines=tuple(
            points_engine.AccrualLine(
                sku=line.sku,
                quantity=line.quantity,
                amount_fen=line.amount_fen,
                category=line.category,
            )
            for line in body.lines
        ),
        total_fen=body.total_fen,
        payment_method=body.payment_method,
    )


@route(
    blueprint,
    "/accruals",
    "POST",
    summary="Earn points for a purchase",
    body=AccrualIn,
    responses={201: AccrualOut, 200: AccrualOut},
    errors=(403, 409, 422),
)
def accrue(body: AccrualIn) -> Response:
    principal = channel_caller()
    command = _command(body)
    context = api_context()
    written = run_in_transaction(
        context.session_factory,
        lambda uow: points_engine.accrue_points(
            uow,
            context.directory,
            principal.channel,
            command,
            window=context.settings.event_window,
        ),
    )
    return written_response(written)


@route(
    blueprint,
    "/accruals/preview",
    "POST",
    summary="What an accrual would earn, through the same rules; writes nothing",
    body=AccrualIn,
    responses={200: AccrualPreviewOut},
    errors=(403, 422),
)
def preview(body: AccrualIn) -> Response:
    principal = channel_caller()
    context = api_context()
    with ReadOnlyUnitOfWork(context.session_factory) as uow:
        answer = points_engine.preview_accrual(
            uow,
            context.directory,
            principal.channel,
            _command(body),
            window=context.settings.event_window,
        )
    return json_response(answer)


@route(
    blueprint,
    "/accruals/batch",
    "POST",
    summary="Up to 1,000 accruals; each item stands alone",
    body=AccrualBatchIn,
    responses={200: AccrualBatchOut},
    errors=(422,),
)
def accrue_batch(body: AccrualBatchIn) -> Response:
    principal = channel_caller()
    context = api_context()
    results: list[dict[str, Any]] = []
    commands: list[tuple[int, points_engine.AccrualCommand]] = []
    for index, item in enumerate(body.items):
        external_id = item.get("external_id") if isinstance(item.get("external_id"), str) else None
        results.append({"external_id": external_id, "status": 422, "body": {}})
        try:
            commands.append((index, _command(AccrualIn.model_validate_json(json.dumps(item)))))
        except ValidationError as error:
            fields = validation_field_errors(error, f"items[{index}]")
            detail = "; ".join(f"{f.field}: {f.message}" for f in fields)
            results[index]["body"] = problem_body(422, "invalid", "Invalid input", detail, fields)

    outcomes = run_in_transaction(
        context.session_factory,
        lambda uow: points_engine.accrue_many(
            uow,
            context.directory,
            principal.channel,
            [command for _, command in commands],
            lambda command: check_institution(principal, command.institution_code),
            window=context.settings.event_window,
        ),
    )
    for (index, _), outcome in zip(commands, outcomes, strict=True):
        if isinstance(outcome, DomainError):
            results[index]["status"] = status_of(outcome)
            results[index]["body"] = domain_problem_body(outcome, f"items[{index}].")
        else:
            results[index]["status"] = 200 if outcome.replayed else 201
            results[index]["body"] = idempotency.as_answer(outcome.body)
    return json_response({"results": results})


@route(
    blueprint,
    "/refunds",
    "POST",
    summary="Reverse points in proportion to a refund",
    body=RefundIn,
    responses={201: RefundOut, 200: RefundOut},
    errors=(409, 422),
)
def refund(body: RefundIn) -> Response:
    principal = channel_caller()
    command = points_engine.RefundCommand(
        external_id=body.external_id,
        original_external_id=body.original_external_id,
        amount_fen=body.amount_fen,
    )
    written = run_in_transaction(
        api_context().session_factory,
        lambda uow: points_engine.refund_purchase(uow, principal.channel, command),
    )
    return written_response(written)
