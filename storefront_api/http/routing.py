"""Route declaration: the access policy enforced, the request validated, the answer masked.

Every operation goes through the same steps, in this order, before its view runs:
1. the caller (401 for a malformed, invalid, expired or revoked credential);
2. the policy's caller check (401 / 403), before a byte of the body is read;
3. the body (no duplicate keys; pydantic) and the query string (400 / 422);
4. the policy's object check on the object the request names (403);
then the view runs with the audit entry pending (written in the transaction of its
first commit), and personal data in the answer is masked as the policy says.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError
from werkzeug.routing import BaseConverter

from common import audit, idempotency
from common.db import read_session
from common.errors import FieldError, Invalid, UnknownCursor
from common.patterns import MEMBER_NO
from storefront_api.auth import ChannelPrincipal, Principal, StaffPrincipal
from storefront_api.errors import problem, validation_problem
from storefront_api.http import owners, policy
from storefront_api.http.context import api_context
from storefront_api.http.security import actor, client_address, current_principal


@dataclass
class Operation:
    path: str
    method: str
    summary: str
    tag: str
    endpoint: str
    rule: policy.Rule
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | None]
    errors: tuple[int, ...]
    path_params: tuple[str, ...] = field(default_factory=tuple)
    body_required: bool = True
    # What a 200 without a model carries, when it is not JSON (a CSV export).
    media_type: str | None = None


OPERATIONS: list[Operation] = []


class MemberNoConverter(BaseConverter):
    """`<member_no>` matches 12 digits only, so /members/lookup and /members/merge are never
    taken for a member number (nor answer 405 with another operation's methods)."""

    regex = MEMBER_NO.removeprefix("^").removesuffix("$")


class CampaignCodeConverter(BaseConverter):
    """`<code>` of a campaign is any segment but `simulate`, so PATCH /campaigns/simulate
    is not taken for a campaign (nor advertised in its Allow header)."""

    regex = "(?!simulate$)[^/]+"


class ExchangeNoConverter(BaseConverter):
    """`<exchange_no>` is any segment but `inbound`, so POST /partner-exchanges/inbound is
    not also advertised as a GET of an exchange line named "inbound"."""

    regex = "(?!inbound$)[^/]+"


CONVERTERS: dict[str, type[BaseConverter]] = {
    "member_no": MemberNoConverter,
    "campaign_code": CampaignCodeConverter,
    "exchange_no": ExchangeNoConverter,
}


def route(
    blueprint: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    responses: dict[int, type[BaseModel] | None] | None = None,
    errors: tuple[int, ...] = (),
    body_required: bool = True,
    media_type: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view under its policy rule (`<blueprint>.<view>` in policy.POLICY).

    `body` and `query` models are parsed and passed as keyword arguments. The raw body
    goes to pydantic's JSON parser, so malformed JSON, wrong types, unknown and missing
    fields come back as one problem naming each field. With `body_required=False` an
    empty body reads as `{}`.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        endpoint_name = f"{blueprint.name}.{view.__name__}"
        rule = policy.rule_for(endpoint_name)

        def endpoint(**path_args: Any) -> Any:
            for name, value in path_args.items():
                # PostgreSQL cannot compare text holding NUL: refuse it before any query.
                if isinstance(value, str) and "\x00" in value:
                    raise Invalid.field(name, "must not contain NUL characters")
            principal = current_principal()
            policy.admit(rule, principal)
            kwargs = dict(path_args)
            if body is not None:
                raw = request.get_data(cache=True) or (b"" if body_required else b"{}")
                duplicate = duplicate_key(raw)
                if duplicate is not None:
                    return problem(
                        400,
                        "duplicate-key",
                        "Duplicate key in JSON",
                        f"{duplicate}: appears twice in one object; send each field once",
                        [FieldError(duplicate, "appears twice in one object")],
                    )
                try:
                    kwargs["body"] = body.model_validate_json(raw)
                except ValidationError as error:
                    return validation_problem(error)
            elif request.get_data(cache=True).strip() not in (b"", b"{}"):
                return problem(
                    400,
                    "unexpected-body",
                    "This operation takes no body",
                    "send the request without a body",
                    [FieldError("body", "this operation takes no body")],
                )
            if query is not None:
                try:
                    kwargs["query"] = query.model_validate(request.args.to_dict())
                except ValidationError as error:
                    return validation_problem(error)
            if policy.needs_owner(rule, principal):
                _check_object(rule, principal, kwargs)
            with audit.pending_entry(_audit_entry(rule, principal, method, kwargs)):
                response = view(**kwargs)
            return _masked(rule, principal, response)

        endpoint.__name__ = view.__name__
        blueprint.add_url_rule(
            path.replace("<member_no>", "<member_no:member_no>")
            .replace("/campaigns/<code>", "/campaigns/<campaign_code:code>")
            .replace("<exchange_no>", "<exchange_no:exchange_no>"),
            view.__name__,
            endpoint,
            methods=[method],
        )
        url = (blueprint.url_prefix or "") + path
        params = tuple(
            part[1:-1].split(":")[-1] for part in path.split("/") if part.startswith("<")
        )
        OPERATIONS.append(
            Operation(
                path=url,
                method=method.lower(),
                summary=summary,
                tag=blueprint.name,
                endpoint=endpoint_name,
                rule=rule,
                body=body,
                query=query,
                responses=responses or {200: None},
                errors=errors,
                path_params=params,
                body_required=body_required,
                media_type=media_type,
            )
        )
        return view

    return decorate


def _check_object(rule: policy.Rule, principal: Principal | None, kwargs: dict[str, Any]) -> None:
    target = rule.target
    assert target is not None
    key = (
        getattr(kwargs.get("body"), target.field, None)
        if target.in_body
        else kwargs.get(target.field)
    )
    with read_session(api_context().session_factory) as session:
        owner = owners.owner_of(session, target.kind, key, principal)
        policy.check_owner(rule, principal, owner, session)


def _audit_entry(
    rule: policy.Rule, principal: Principal | None, method: str, kwargs: dict[str, Any]
) -> audit.AuditEntry | None:
    """Staff actions and writes by channel keys (the money movements) are audited."""
    if not rule.audit or method == "GET":
        return None
    if not isinstance(principal, ChannelPrincipal | StaffPrincipal):
        return None
    named = [value for key, value in kwargs.items() if key not in ("body", "query")]
    external_id = getattr(kwargs.get("body"), "external_id", None)
    target = str(named[0]) if named else external_id
    detail: dict[str, Any] = {"method": method, "path": request.path}
    if isinstance(principal, ChannelPrincipal) and principal.institution_code:
        detail["institution_code"] = principal.institution_code
    if external_id is not None and named:
        detail["external_id"] = external_id
    return audit.AuditEntry(
        actor=actor(principal),
        action=request.endpoint or "unknown",
        target=target[:160] if isinstance(target, str) else None,
        client_address=client_address(),
        detail=detail,
    )


def _masked(rule: policy.Rule, principal: Principal | None, response: Any) -> Any:
    if (
        not rule.personal
        or policy.sees_personal(rule, principal)
        or not isinstance(response, Response)
        or not response.is_json
        or response.status_code >= 300
    ):
        return response
    shown = jsonify(policy.masked(rule, principal, response.get_json()))
    shown.status_code = response.status_code
    return shown


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def duplicate_key(raw: bytes) -> str | None:
    """The first key that appears twice in one JSON object of `raw`, if any.

    JSON parsers keep the last of two equal keys, so `{"points": 1, "points": 999}`
    would read as 999 here while a proxy or a log shows 1: such a body is refused.
    Malformed JSON is left to pydantic, which names the fault.
    """
    try:
        json.loads(raw, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as duplicate:
        return duplicate.key
    except (ValueError, RecursionError):
        return None
    return None


def json_response(body: Any, status: int = 200) -> Response:
    """`body` as JSON: a use case's typed result (a dataclass) in its answer form, or
    plain data (views built as dicts, lists of results)."""
    response = jsonify(_plain(body))
    response.status_code = status
    return response


def _plain(body: Any) -> Any:
    if isinstance(body, dict):
        return {key: _plain(value) for key, value in body.items()}
    if isinstance(body, list | tuple):
        return [_plain(item) for item in body]
    return idempotency.as_answer(body)


def written_response(written: idempotency.Written[Any], status: int = 201) -> Response:
    """A write's answer: `status` the first time, 200 for a replay of it."""
    return json_response(written.body, 200 if written.replayed else status)


def encode_cursor(value: int | str) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise UnknownCursor.field("cursor", "not a cursor this API issued") from error


def decode_int_cursor(cursor: str | None) -> int | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    # isdigit() alone accepts non-ASCII digits int() rejects; ids are 64-bit in the database.
    if not (raw.isascii() and raw.isdigit()) or int(raw) >= 2**63:
        raise UnknownCursor.field("cursor", "not a cursor this API issued")
    return int(raw)
