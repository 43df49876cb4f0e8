"""The one place that turns errors into RFC 9457 problem+json responses."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
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
from common.patterns import PATTERN_WORDS

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

# Long enough for a PostgreSQL restart; the pool reconnects on the first request after it.
DATABASE_RETRY_AFTER_SECONDS = 3


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


def database_unavailable(error: SQLAlchemyError) -> bool:
    """Whether `error` says the database could not be reached or could not keep up, rather
    than that the request or the code was wrong.

    Covers a refused or dropped connection (psycopg's OperationalError or InterfaceError,
    including SQLSTATE 57P01-57P03 when PostgreSQL shuts down or starts), a connection
    SQLAlchemy found broken and discarded, and a pool with no connection to lend.
    """
    if isinstance(error, PoolTimeout):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)
    return False


def unavailable_problem() -> Response:
    return problem(
        503,
        "service-unavailable",
        "Service Unavailable",
        "the database is unavailable; retry after Retry-After seconds, sending a write "
        "again with the same external_id (it is applied at most once)",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


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
    if item["type"] == "string_pattern_mismatch":
        words = PATTERN_WORDS.get(str(item.get("ctx", {}).get("pattern")))
        if words is not None:
            return words
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

    @app.errorhandler(SQLAlchemyError)
    def _database(error: SQLAlchemyError) -> Response:
        if not database_unavailable(error):
            return _unexpected(error)
        # A 503 even when the connection dropped during COMMIT, whose outcome is unknown:
        # every channel write carries an external_id claimed in the same transaction as
        # its effect, so the client's replay either applies it now (201) or returns the
        # answer it got the first time (200); it never applies twice. Only the driver's
        # message is logged: SQLAlchemy's text would carry the statement's parameters.
        cause = getattr(error, "orig", None) or error
        message = str(cause).strip().partition("\n")[0]
        log.warning("database unavailable: %s: %s", type(cause).__name__, message)
        return unavailable_problem()
