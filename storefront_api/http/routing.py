"""Route declaration that validates requests with pydantic and records the OpenAPI operation."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ValidationError

from common.errors import Invalid
from storefront_api.errors import validation_problem
from storefront_api.http.security import current_principal, require_principal


@dataclass
class Operation:
    path: str
    method: str
    summary: str
    tag: str
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | None]
    auth: tuple[str, ...]
    errors: tuple[int, ...]
    path_params: tuple[str, ...] = field(default_factory=tuple)
    body_required: bool = True


OPERATIONS: list[Operation] = []


def route(
    blueprint: Blueprint,
    path: str,
    method: str,
    *,
    summary: str,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    responses: dict[int, type[BaseModel] | None] | None = None,
    auth: tuple[str, ...] = (),
    errors: tuple[int, ...] = (),
    body_required: bool = True,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a view; `body` and `query` models are parsed and passed as keyword arguments.

    The raw body goes straight to pydantic's JSON parser, so malformed JSON, wrong types,
    unknown and missing fields all come back as one problem naming each field. With
    `body_required=False` an empty body reads as `{}`.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        def endpoint(**path_args: Any) -> Any:
            for name, value in path_args.items():
                # PostgreSQL cannot compare text holding NUL: refuse it before any query.
                if isinstance(value, str) and "\x00" in value:
                    raise Invalid.field(name, "must not contain NUL characters")
            # Who is calling is settled before the body is read: a bad or missing
            # token is a 401 whatever the body holds, and a malformed header is a 401
            # even on endpoints open to anyone.
            if auth:
                require_principal()
            else:
                current_principal()
            kwargs = dict(path_args)
            if body is not None:
                try:
                    raw = request.get_data(cache=True) or (b"" if body_required else b"{}")
                    kwargs["body"] = body.model_validate_json(raw)
                except ValidationError as error:
                    return validation_problem(error)
            if query is not None:
                try:
                    kwargs["query"] = query.model_validate(request.args.to_dict())
                except ValidationError as error:
                    return validation_problem(error)
            return view(**kwargs)

        endpoint.__name__ = view.__name__
        blueprint.add_url_rule(path, view.__name__, endpoint, methods=[method])
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
                body=body,
                query=query,
                responses=responses or {200: None},
                auth=auth,
                errors=errors,
                path_params=params,
                body_required=body_required,
            )
        )
        return view

    return decorate


def json_response(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


def encode_cursor(value: int | str) -> str:
    return base64.urlsafe_b64encode(str(value).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise Invalid.field("cursor", "not a cursor this API issued") from error


def decode_int_cursor(cursor: str | None) -> int | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    # isdigit() alone accepts non-ASCII digits int() rejects; ids are 64-bit in the database.
    if not (raw.isascii() and raw.isdigit()) or int(raw) >= 2**63:
        raise Invalid.field("cursor", "not a cursor this API issued")
    return int(raw)
