"""GET /members/{member_no}/activity: the member's one timeline across every channel."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response

import crm
from common.db import read_session
from common.errors import UnknownCursor
from storefront_api.http.context import api_context
from storefront_api.http.routing import decode_cursor, encode_cursor, json_response, route
from storefront_api.http.schemas import Open, PageQuery
from storefront_api.timeline import member_timeline

blueprint = Blueprint("activity", __name__, url_prefix="/api/v1")


class ActivityItem(Open):
    occurred_at: str
    kind: str
    reference: str
    title: str


class ActivityPage(Open):
    items: list[ActivityItem]
    next_cursor: str | None


def _position(cursor: str | None) -> tuple[datetime, int] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    moment, _, shown = raw.rpartition("|")
    try:
        when = datetime.fromisoformat(moment)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None or not (shown.isascii() and shown.isdigit()):
        raise UnknownCursor.field("cursor", "not a cursor this API issued")
    return when, int(shown)


@route(
    blueprint,
    "/members/<member_no>/activity",
    "GET",
    summary="One timeline across channels: orders, points, bills, mail, redemptions, cards",
    query=PageQuery,
    responses={200: ActivityPage},
    errors=(403, 404, 422),
)
def member_activity(member_no: str, query: PageQuery) -> Response:
    after = _position(query.cursor)
    with read_session(api_context().session_factory) as session:
        member_ids = crm.queries.member_ids_merged_into(
            session, crm.queries.active_member_id(session, member_no)
        )
        page, position = member_timeline(session, member_ids, after, query.limit)
    cursor = encode_cursor(f"{position[0].isoformat()}|{position[1]}") if position else None
    return json_response({"items": [entry.as_dict() for entry in page], "next_cursor": cursor})
