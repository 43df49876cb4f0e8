"""The one place that turns errors into RFC 9457 problem+json responses."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from common.errors import (
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    Invalid,
    NotFound,
    RuleViolation,
    Throttled,
    Unauthorized,
)

log = logging.getLogger(__name__)
PROBLEM_BASE = "https://memberhub.chinapost-sh.example/problems/"

STATUS_BY_CATEGORY: tuple[tuple[type[DomainError], int], ...] = (
    (Unauthorized, 401),
    (Forbidden, 403),
    (Invalid, 422),
    (NotFound, 404),
    (Conflict, 409),
    (RuleViolation, 422),
)


TooManyRequests = Throttled


def problem_body(
    status: int, code: str, title: str, detail: str, errors: list[FieldError] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return body


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = problem_body(status, code, title, detail, errors)
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json"
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="memberhub"'
    return response


def status_of(error: DomainError) -> int:
    if isinstance(error, TooManyRequests):
        return 429
    for category, status in STATUS_BY_CATEGORY:
        if isinstance(error, category):
            return status
    return 400


def domain_problem_body(error: DomainError, field_prefix: str = "") -> dict[str, Any]:
    """The problem document of a domain error; `field_prefix` places it inside a batch."""
    fields = [FieldError(field_prefix + e.field, e.message) for e in error.errors]
    return problem_body(status_of(error), error.code, error.title, error.detail, fields)


def domain_problem(error: DomainError) -> Response:
    headers = (
        {"Retry-After": str(error.retry_after)} if isinstance(error, TooManyRequests) else None
    )
    return problem(status_of(error), error.code, error.title, error.detail, error.errors, headers)


# Pydantic names the member of a union it tried (`sms_consent.bool`); the field is
# what the caller needs to hear about.
_UNION_TAGS = frozenset({"bool", "none", "str", "int", "float", "date", "datetime", "list"})


def validation_field_errors(error: ValidationError, prefix: str = "") -> list[FieldError]:
    fields = []
    seen = set()
    for item in error.errors():
        path = prefix
        for index, part in enumerate(item["loc"]):
            if isinstance(part, int):
                path += f"[{part}]"
            elif index > 0 and part in _UNION_TAGS:
                continue
            elif part and not str(part).startswith(("function-", "constrained-")):
                path += ("." if path else "") + str(part)
        field = FieldError(path or "body", _message(item))
        if field not in seen:
            seen.add(field)
            fields.append(field)
    return fields


def _message(item: Any) -> str:
    if item["type"] == "json_invalid":
        return "malformed JSON: " + str(item.get("ctx", {}).get("error", "cannot parse"))
    if item["type"] == "extra_forbidden":
        return "unknown field"
    return str(item["msg"]).removeprefix("Value error, ")


def validation_problem(error: ValidationError, prefix: str = "") -> Response:
    fields = validation_field_errors(error, prefix)
    malformed = any(item["type"] in ("json_invalid", "json_type") for item in error.errors())
    if malformed:
        return problem(400, "malformed-json", "Malformed JSON", fields[0].message, fields)
    detail = "; ".join(f"{f.field}: {f.message}" for f in fields)
    return problem(422, "invalid", "Invalid input", detail, fields)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> Response:
        return domain_problem(error)

    @app.errorhandler(ValidationError)
    def _validation(error: ValidationError) -> Response:
        return validation_problem(error)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        code = (error.name or "error").lower().replace(" ", "-")
        detail = error.description or error.name
        if status == 413:
            detail = "the request body is larger than 1 MiB"
        response = problem(status, code, error.name, detail)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return problem(
            500,
            "internal-error",
            "Internal Server Error",
            "the server failed to complete the request; it has been logged",
        )
