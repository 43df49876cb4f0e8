"""Administration over HTTP (admin role): staff accounts, channel keys, the audit log."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response

from common import audit
from common.clock import as_utc
from common.db import read_session
from common.errors import Conflict
from common.unit_of_work import run_in_transaction
from storefront_api import auth
from storefront_api.http.admin_schemas import (
    AuditPage,
    AuditQuery,
    KeyCreatedOut,
    KeyIn,
    KeyList,
    KeyOut,
    PasswordOut,
    RotateIn,
    StaffCreatedOut,
    StaffIn,
    StaffList,
    StaffOut,
    StaffPatchIn,
)
from storefront_api.http.context import api_context
from storefront_api.http.routing import decode_int_cursor, encode_cursor, json_response, route
from storefront_api.http.security import staff_caller

blueprint = Blueprint("admin", __name__, url_prefix="/api/v1")


@route(blueprint, "/staff", "GET", summary="Staff accounts", responses={200: StaffList})
def list_staff() -> Response:
    with read_session(api_context().session_factory) as session:
        return json_response({"items": auth.list_staff(session)})


@route(
    blueprint,
    "/staff",
    "POST",
    summary="Create a staff account; its generated password is shown once",
    body=StaffIn,
    responses={201: StaffCreatedOut},
    errors=(409, 422),
)
def create_staff(body: StaffIn) -> Response:
    factory = api_context().session_factory
    password = run_in_transaction(
        factory, lambda uow: auth.create_staff_user(uow, body.username, body.role)
    )
    with read_session(factory) as session:
        created = next(u for u in auth.list_staff(session) if u["username"] == body.username)
    return json_response({**created, "password": password}, 201)


@route(
    blueprint,
    "/staff/<username>",
    "PATCH",
    summary="Disable (every session ends at once) or enable a staff account",
    body=StaffPatchIn,
    responses={200: StaffOut},
    errors=(404, 409, 422),
)
def update_staff(username: str, body: StaffPatchIn) -> Response:
    if not body.active and username == staff_caller().username:
        raise Conflict("an admin may not disable their own account")
    updated = run_in_transaction(
        api_context().session_factory,
        lambda uow: auth.set_staff_active(uow, username, body.active),
    )
    return json_response(updated)


@route(
    blueprint,
    "/staff/<username>/password-reset",
    "POST",
    summary="Give a staff account a new generated password (shown once); its sessions end",
    responses={200: PasswordOut},
    errors=(404,),
)
def reset_password(username: str) -> Response:
    password = run_in_transaction(
        api_context().session_factory, lambda uow: auth.reset_staff_password(uow, username)
    )
    return json_response({"username": username, "password": password})


@route(blueprint, "/channel-keys", "GET", summary="Channel API keys", responses={200: KeyList})
def list_keys() -> Response:
    with read_session(api_context().session_factory) as session:
        return json_response({"items": auth.list_api_keys(session)})


@route(
    blueprint,
    "/channel-keys",
    "POST",
    summary="Create a channel API key; the key is shown once",
    body=KeyIn,
    responses={201: KeyCreatedOut},
    errors=(422,),
)
def create_key(body: KeyIn) -> Response:
    key = run_in_transaction(
        api_context().session_factory,
        lambda uow: auth.create_api_key(uow, body.channel, body.institution_code, body.label),
    )
    return json_response({"key_id": key.split("_")[1], "api_key": key}, 201)


@route(
    blueprint,
    "/channel-keys/<key_id>/rotation",
    "POST",
    summary="Issue a successor key; the old one keeps working for overlap_hours",
    body=RotateIn,
    body_required=False,
    responses={201: KeyCreatedOut},
    errors=(404, 409, 422),
)
def rotate_key(key_id: str, body: RotateIn) -> Response:
    key = run_in_transaction(
        api_context().session_factory,
        lambda uow: auth.rotate_api_key(uow, key_id, timedelta(hours=body.overlap_hours)),
    )
    return json_response({"key_id": key.split("_")[1], "api_key": key}, 201)


@route(
    blueprint,
    "/channel-keys/<key_id>/revocation",
    "POST",
    summary="Revoke a key (refused at once here, within 30 s on every worker)",
    responses={200: KeyOut},
    errors=(404, 409),
)
def revoke_key(key_id: str) -> Response:
    factory = api_context().session_factory
    run_in_transaction(factory, lambda uow: auth.revoke_api_key(uow, key_id))
    with read_session(factory) as session:
        return json_response(next(k for k in auth.list_api_keys(session) if k["key_id"] == key_id))


@route(
    blueprint,
    "/audit-events",
    "GET",
    summary="The audit log, newest first (append-only: nothing edits or deletes it)",
    query=AuditQuery,
    responses={200: AuditPage},
    errors=(422,),
)
def audit_events(query: AuditQuery) -> Response:
    with read_session(api_context().session_factory) as session:
        rows = audit.list_events(
            session,
            before_id=decode_int_cursor(query.cursor),
            limit=query.limit + 1,
            actor=query.actor,
            action=query.action,
            target=query.target,
        )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [
        {
            "id": row.id,
            "occurred_at": as_utc(row.occurred_at).isoformat(),
            "actor": row.actor,
            "action": row.action,
            "target": row.target,
            "outcome": row.outcome,
            "client_address": row.client_address,
            "detail": row.detail,
        }
        for row in rows
    ]
    return json_response(
        {"items": items, "next_cursor": encode_cursor(rows[-1].id) if more else None}
    )
