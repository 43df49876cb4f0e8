"""Channel writes on the ledger: POST /accruals, /accruals/batch and /refunds."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response
from pydantic import ValidationError

import points_engine
from common.errors import DomainError
from common.unit_of_work import UnitOfWork, run_in_transaction
from storefront_api.errors import PROBLEM_BASE, status_of, validation_field_errors
from storefront_api.http.context import api_context
from storefront_api.http.routing import json_response, route
from storefront_api.http.schemas import (
    AccrualBatchIn,
    AccrualBatchOut,
    AccrualIn,
    AccrualOut,
    RefundIn,
    RefundOut,
)
from storefront_api.http.security import require_channel, require_institution

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


def _written(written: points_engine.Written) -> Response:
    return json_response(written.body, 200 if written.replayed else 201)


@route(
    blueprint,
    "/accruals",
    "POST",
    summary="Earn points for a purchase",
    body=AccrualIn,
    responses={201: AccrualOut, 200: AccrualOut},
    auth=("channel",),
    errors=(403, 409, 422),
)
def accrue(body: AccrualIn) -> Response:
    principal = require_channel()
    require_institution(principal, body.institution_code)
    command = _command(body)
    context = api_context()
    written = run_in_transaction(
        context.session_factory,
        lambda uow: points_engine.accrue_points(uow, context.directory, principal.channel, command),
    )
    return _written(written)


@route(
    blueprint,
    "/accruals/batch",
    "POST",
    summary="Up to 1,000 accruals; each item stands alone",
    body=AccrualBatchIn,
    responses={200: AccrualBatchOut},
    auth=("channel",),
    errors=(422,),
)
def accrue_batch(body: AccrualBatchIn) -> Response:
    principal = require_channel()
    context = api_context()
    parsed: list[tuple[Any, AccrualIn | dict[str, Any]]] = []
    for index, item in enumerate(body.items):
        external_id = item.get("external_id") if isinstance(item.get("external_id"), str) else None
        try:
            parsed.append((external_id, AccrualIn.model_validate_json(json.dumps(item))))
        except ValidationError as error:
            fields = validation_field_errors(error, f"items[{index}]")
            parsed.append((external_id, _problem_body(422, "invalid", "Invalid input", fields)))

    def lock_order(uow: UnitOfWork) -> list[int]:
        # The batch holds every member account it locks until it commits. Two batches
        # that lock shared members in different orders deadlock, and a batch that keeps
        # losing exhausts its retries (a 500). Taking members in one global order (member
        # id) rules that out; repeats of an external_id keep the place of its first use.
        keys: list[tuple[int, int]] = []
        first: dict[str, int] = {}
        for index, (_, item) in enumerate(parsed):
            key = -1
            if not isinstance(item, dict):
                if item.external_id not in first:
                    try:
                        ref = _command(item).member
                        first[item.external_id] = context.directory.resolve(
                            uow, ref, "member"
                        ).member_id
                    except DomainError:
                        first[item.external_id] = -1
                key = first[item.external_id]
            keys.append((key, index))
        return [index for _, index in sorted(keys)]

    def run(uow: UnitOfWork) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = [{} for _ in parsed]
        for index in lock_order(uow):
            external_id, item = parsed[index]
            if isinstance(item, dict):
                results[index] = {"external_id": external_id, "status": 422, "body": item}
                continue
            try:
                require_institution(principal, item.institution_code)
                with uow.session.begin_nested():
                    written = points_engine.accrue_points(
                        uow, context.directory, principal.channel, _command(item), commit=False
                    )
                status = 200 if written.replayed else 201
                results[index] = {
                    "external_id": external_id,
                    "status": status,
                    "body": written.body,
                }
            except DomainError as error:
                results[index] = {
                    "external_id": external_id,
                    "status": status_of(error),
                    "body": _problem_body(
                        status_of(error), error.code, error.title, error.errors, error.detail
                    ),
                }
        uow.commit()
        return results

    return json_response({"results": run_in_transaction(context.session_factory, run)})


def _problem_body(
    status: int, code: str, title: str, errors: list[Any], detail: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail or "; ".join(f"{e.field}: {e.message}" for e in errors),
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return body


@route(
    blueprint,
    "/refunds",
    "POST",
    summary="Reverse points in proportion to a refund",
    body=RefundIn,
    responses={201: RefundOut, 200: RefundOut},
    auth=("channel",),
    errors=(409, 422),
)
def refund(body: RefundIn) -> Response:
    principal = require_channel()
    command = points_engine.RefundCommand(
        external_id=body.external_id,
        original_external_id=body.original_external_id,
        amount_fen=body.amount_fen,
    )
    written = run_in_transaction(
        api_context().session_factory,
        lambda uow: points_engine.refund_purchase(uow, principal.channel, command),
    )
    return _written(written)
