"""Daily clearing over HTTP: finance clears and closes business days and reads or downloads
their reports; channels submit their control totals."""

from __future__ import annotations

import re
from datetime import date

from flask import Blueprint, Response

from common.clock import today
from common.db import read_session
from common.errors import Invalid, NotFound
from common.unit_of_work import run_in_transaction
from storefront_api import clearing
from storefront_api.http.clearing_schemas import (
    ClearingDayOut,
    ClearingRunIn,
    ClearingRunOut,
    ControlTotalIn,
    ControlTotalOut,
    ReportQuery,
)
from storefront_api.http.context import api_context
from storefront_api.http.routing import json_response, route
from storefront_api.http.security import channel_caller, staff_caller

blueprint = Blueprint("clearing", __name__, url_prefix="/api/v1")
DATE_PATTERN = r"[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
MONTH_PATTERN = r"[1-9][0-9]{3}-(0[1-9]|1[0-2])"


def _business_date(text: str) -> date:
    """A date of the path; one the pattern admits but the calendar has not (30 February)
    names no day, so nothing is there: 404."""
    if not re.fullmatch(DATE_PATTERN, text):
        raise Invalid.field("business_date", "a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise NotFound(f"there is no day {text}") from None


@route(
    blueprint,
    "/clearing/runs",
    "POST",
    summary=(
        "Clear a business day (again, while it is open) and optionally close it; a closed "
        "day changes nothing and says so"
    ),
    body=ClearingRunIn,
    responses={200: ClearingRunOut},
    errors=(409, 422),
)
def run_clearing(body: ClearingRunIn) -> Response:
    context = api_context()
    actor = f"staff:{staff_caller().username}"
    result = run_in_transaction(
        context.session_factory,
        lambda uow: clearing.run_day(
            uow,
            body.business_date,
            actor=actor,
            fen_per_point=context.settings.fen_per_point,
            close=body.close,
            reason=body.reason,
        ),
    )
    return json_response(
        {
            "business_date": result.business_date.isoformat(),
            "status": result.status,
            "changed": result.changed,
            "movements": result.movements,
            "late": result.late,
            "lines": result.lines,
            "message": result.message,
        }
    )


@route(
    blueprint,
    "/clearing/runs/<business_date>",
    "GET",
    summary="A cleared day: lines, net positions, transfers, liability, control-total check",
    query=ReportQuery,
    responses={200: ClearingDayOut},
    errors=(404, 409, 422),
)
def get_run(business_date: str, query: ReportQuery) -> Response:
    day = _business_date(business_date)
    with read_session(api_context().session_factory) as session:
        report = clearing.day_report(session, day, query.level)
    return json_response(
        {
            "business_date": report.business_date.isoformat(),
            "status": report.status,
            "runs": report.runs,
            "run_at": report.run_at.isoformat(),
            "run_by": report.run_by,
            "closed_at": report.closed_at.isoformat() if report.closed_at else None,
            "closed_by": report.closed_by,
            "close_reason": report.close_reason,
            "fen_per_point": report.fen_per_point,
            "level": report.level,
            "balanced": report.balanced,
            "totals": report.totals,
            **{
                name: [
                    {k: (v.isoformat() if isinstance(v, date) else v) for k, v in row.items()}
                    for row in rows
                ]
                for name, rows in report.tables.items()
            },
        }
    )


@route(
    blueprint,
    "/clearing/runs/<business_date>/reports/<report_name>",
    "GET",
    summary="One report of a cleared day as CSV (lines, positions, transfers, liability, "
    "mismatches); fen and points as integers",
    query=ReportQuery,
    responses={200: None},
    errors=(404, 409, 422),
    media_type="text/csv",
)
def download_report(business_date: str, report_name: str, query: ReportQuery) -> Response:
    day = _business_date(business_date)
    with read_session(api_context().session_factory) as session:
        report = clearing.day_report(session, day, query.level)
    text = clearing.report_csv(report, report_name)
    response = Response(text, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="clearing-{day.isoformat()}-{report_name}-{query.level}.csv"'
    )
    return response


@route(
    blueprint,
    "/clearing/control-totals",
    "POST",
    summary=(
        "A channel's own count and amount of its sales at one institution on one day "
        "(sent again, it replaces the earlier one until the day is closed)"
    ),
    body=ControlTotalIn,
    responses={200: ControlTotalOut},
    errors=(409, 422),
)
def submit_control_total(body: ControlTotalIn) -> Response:
    key = channel_caller()
    command = clearing.ControlTotalCommand(
        business_date=body.business_date,
        institution_code=body.institution_code,
        sales=body.sales,
        amount_fen=body.amount_fen,
        transaction_ids=tuple(body.transaction_ids) if body.transaction_ids is not None else None,
    )
    run_in_transaction(
        api_context().session_factory,
        lambda uow: clearing.submit_control_total(
            uow, command, channel=key.channel, actor=f"channel:{key.channel}:{key.key_id}"
        ),
    )
    return json_response(
        {
            "business_date": body.business_date.isoformat(),
            "channel": key.channel,
            "institution_code": body.institution_code,
            "sales": body.sales,
            "amount_fen": body.amount_fen,
            "transaction_ids": len(body.transaction_ids or ()),
        }
    )


@route(
    blueprint,
    "/clearing/journal/<month>",
    "GET",
    summary="The month's accounting journal as CSV: debit and credit per account and "
    "sub-account over its closed days (headers name the closed and the missing days)",
    responses={200: None},
    errors=(404, 409, 422),
    media_type="text/csv",
)
def download_journal(month: str) -> Response:
    if not re.fullmatch(MONTH_PATTERN, month):
        raise Invalid.field("month", "a month as YYYY-MM")
    first = date.fromisoformat(f"{month}-01")
    with read_session(api_context().session_factory) as session:
        journal = clearing.monthly_journal(session, first, today())
    response = Response(clearing.journal_csv(journal), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="journal-{journal.month}.csv"'
    response.headers["X-Closed-Days"] = str(len(journal.closed_days))
    response.headers["X-Days-Not-Closed"] = ",".join(str(d) for d in journal.not_closed)
    return response
