"""Segments as targets: the named segments, their members (JSON pages and a CSV export)
and a member's scores, all from the latest `memberhub insights train` run."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, Response

import crm
import crm.insights
from common.db import read_session
from common.unit_of_work import ReadOnlyUnitOfWork
from storefront_api.http import policy
from storefront_api.http.context import api_context
from storefront_api.http.routing import decode_int_cursor, encode_cursor, json_response, route
from storefront_api.http.security import current_principal
from storefront_api.http.segments_schemas import (
    MemberScoresOut,
    RiskRange,
    SegmentList,
    SegmentMemberPage,
    SegmentMembersQuery,
)

blueprint = Blueprint("segments", __name__, url_prefix="/api/v1")

CSV_COLUMNS = (
    "member_no",
    "phone",
    "name",
    "r",
    "f",
    "m",
    "churn_risk",
    "alive",
    "expected_purchases",
    "expected_value_fen",
)


@route(
    blueprint,
    "/segments",
    "GET",
    summary="Named segments: rule, names, members in the latest scores",
    responses={200: SegmentList},
)
def list_segments() -> Response:
    with read_session(api_context().session_factory) as session:
        return json_response(crm.insights.list_segments(session))


@route(
    blueprint,
    "/segments/<segment_code>/members",
    "GET",
    summary=(
        "Members of a segment in the latest scores, by member number order; optionally "
        "within a churn-risk range (phone and name masked unless the role sees them)"
    ),
    query=SegmentMembersQuery,
    responses={200: SegmentMemberPage},
    errors=(404,),
)
def segment_members(segment_code: str, query: SegmentMembersQuery) -> Response:
    with read_session(api_context().session_factory) as session:
        rows = list(
            crm.insights.segment_members(
                session,
                segment_code,
                after_member_id=decode_int_cursor(query.cursor),
                limit=query.limit + 1,
                min_churn_risk=query.min_churn_risk,
                max_churn_risk=query.max_churn_risk,
            )
        )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return json_response(
        {
            "segment_code": segment_code,
            "items": [{k: v for k, v in row.items() if k != "id"} for row in rows],
            "next_cursor": encode_cursor(rows[-1]["id"]) if more else None,
        }
    )


def _cell(value: Any) -> Any:
    # A spreadsheet runs a cell starting with = + - @ as a formula: names are people's input.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@route(
    blueprint,
    "/segments/<segment_code>/members.csv",
    "GET",
    summary=(
        "Every member of a segment in the latest scores as CSV (UTF-8 with BOM; phone and "
        "name masked unless the role sees them), optionally within a churn-risk range"
    ),
    query=RiskRange,
    responses={200: None},
    errors=(404,),
    media_type="text/csv",
)
def export_segment(segment_code: str, query: RiskRange) -> Response:
    rule = policy.rule_for("segments.export_segment")
    principal = current_principal()
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 (Chinese names) only with the mark
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    with read_session(api_context().session_factory) as session:
        for row in crm.insights.segment_members(
            session,
            segment_code,
            min_churn_risk=query.min_churn_risk,
            max_churn_risk=query.max_churn_risk,
        ):
            shown = policy.masked(rule, principal, row)
            writer.writerow([_cell(shown[column]) for column in CSV_COLUMNS])
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="segment-{segment_code}.csv"'
    return response


@route(
    blueprint,
    "/members/<member_no>/scores",
    "GET",
    summary="The member's segment, RFM scores and churn risk in the latest scores",
    responses={200: MemberScoresOut},
    errors=(404,),
)
def member_scores(member_no: str) -> Response:
    with ReadOnlyUnitOfWork(api_context().session_factory) as uow:
        member = crm.resolve_member_no(uow, member_no)
        number = member.member_no  # the survivor's, when the number was merged away
        scores = crm.insights.member_scores(uow.session, member.id)
    if scores is None:
        raise crm.insights.MemberNotScored(
            f"member {number} has no scores in the latest run "
            "(`memberhub insights train` scores members registered by its as-of day)"
        )
    return json_response({"member_no": number, **scores})
