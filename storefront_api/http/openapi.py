"""The OpenAPI 3.1 document, generated from the registered routes and their pydantic models."""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, send_from_directory
from pydantic import BaseModel

from common.patterns import MEMBER_NO, TRACKING_NO
from storefront_api.http import policy
from storefront_api.http.routing import OPERATIONS, Operation, json_response

blueprint = Blueprint("openapi", __name__)
REF = "#/components/schemas/{model}"


def _swagger_assets() -> Path:
    # Swagger UI 5 (OpenAPI 3.1 capable) as packaged by flask-openapi3-swagger; located
    # without importing the package, whose plugin module pulls in flask-openapi3.
    spec = importlib.util.find_spec("flask_openapi3_swagger")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "templates" / "swagger"


ASSETS = _swagger_assets()

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
# A public number: two capital letters, then capital letters and digits (RD..., BP..., SB...).
_PUBLIC_NO = r"^[A-Z]{2}[0-9A-Z]{4,40}$"
# Codes chosen by people (SKUs, campaign codes): any text of a path segment.
_FREE_CODE = r"^[^/\x00]{1,64}$"
PATH_PARAMETERS: dict[str, dict[str, str]] = {
    "member_no": {"pattern": MEMBER_NO, "description": "the 12-digit member number"},
    "order_no": {"pattern": r"^PO[0-9]{18}$", "description": "PO, the date, 10 digits"},
    "card_no": {
        "pattern": r"^[0-9]{19}$",
        "description": "the 19-digit prepaid card number, the last a Luhn check digit (a "
        "wrong one is answered 422 invalid-card-no)",
    },
    "tracking_no": {
        "pattern": TRACKING_NO,
        "description": "UPU S10 number, e.g. EE123456785CN (a wrong check digit is answered "
        "422 invalid-tracking-number)",
    },
    "payment_no": {"pattern": _PUBLIC_NO, "description": "the bill payment's number"},
    "redemption_id": {"pattern": _PUBLIC_NO, "description": "the redemption's id"},
    "charge_no": {"pattern": _PUBLIC_NO, "description": "the card charge's number"},
    "subscription_no": {"pattern": _PUBLIC_NO, "description": "the subscription's number"},
    "key_id": {"pattern": r"^[0-9a-f]{12}$", "description": "the key's 12-hex-digit id"},
    "username": {"pattern": r"^[a-z][a-z0-9_.-]{2,63}$", "description": "the staff login"},
    "sku": {"pattern": _FREE_CODE, "description": "the product's SKU"},
    "code": {"pattern": _FREE_CODE, "description": "the campaign's code"},
    "business_date": {
        "pattern": r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        "description": "the business day as YYYY-MM-DD (Asia/Shanghai); a date the calendar "
        "does not have (30 February) is 404",
    },
    "exchange_no": {"pattern": _PUBLIC_NO, "description": "the exchange line's number"},
    "merge_no": {"pattern": _PUBLIC_NO, "description": "the merge's number"},
    "use_no": {"pattern": _PUBLIC_NO, "description": "the voucher use's number"},
    "month": {"pattern": r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])$", "description": "the month as YYYY-MM"},
    "report_name": {
        "pattern": r"^(lines|positions|transfers|liability|mismatches)$",
        "description": "which report of the day",
    },
    "segment_code": {
        "pattern": r"^[a-z][a-z0-9_]{0,31}$",
        "description": "the segment's code, as GET /segments lists them",
    },
}
# Operations that count attempts and answer 429 past a limit (see their summaries).
THROTTLED = frozenset(
    {
        "auth.member_token",
        "auth.staff_token",
        "verification.request_code",
        "verification.request_member_code",
        "members.register",
        "members.link",
        "orders.verify_pickup",
        "orders.place_order",
        "prepaid_cards.charge",
    }
)

ERROR_TEXT = {
    400: "Malformed JSON",
    401: "Missing or invalid credentials",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Body over 1 MiB",
    422: "Invalid input",
    429: "Too many requests",
    503: "Database unavailable: retry after Retry-After seconds with the same external_id",
}


@functools.cache
def build_document() -> dict[str, Any]:
    """Built once per process: routes are all registered at import time."""
    schemas: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        path = operation.path
        for name in operation.path_params:
            path = path.replace(f"<{name}>", "{" + name + "}")
        paths.setdefault(path, {})[operation.method] = _operation(operation, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Member Hub API",
            "version": "1.0.0",
            "description": (
                "One member and one points ledger for every channel of the postal O2O "
                "platform. Money is integer fen, points are integers; errors are RFC 9457 "
                "problem+json naming the field."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _schema_ref(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=REF)
    for name, definition in schema.pop("$defs", {}).items():
        schemas[name] = _no_null_defaults(definition)
    schemas[model.__name__] = _no_null_defaults(schema)
    return {"$ref": REF.format(model=model.__name__)}


def _admits_null(schema: dict[str, Any]) -> bool:
    if schema.get("type") == "null" or "$ref" in schema:
        return schema.get("type") == "null"
    return any(_admits_null(branch) for branch in schema.get("anyOf", []))


def _without_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: a query string has no null, so `X | None` is just X."""
    branches = [branch for branch in prop.get("anyOf", []) if branch.get("type") != "null"]
    shown = {key: value for key, value in prop.items() if key != "anyOf"}
    if len(branches) == 1:
        shown = {**branches[0], **shown}
    if shown.get("default", 0) is None:
        del shown["default"]
    return shown


def _no_null_defaults(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop `default: null` where null is not allowed (a field that may only be left out):
    a client or generator taking the default would send what the server refuses."""
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None and not _admits_null(prop):
            del prop["default"]
    return schema


def _operation(operation: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "summary": operation.summary,
        "tags": [operation.tag],
        "operationId": f"{operation.method}_{operation.path}".replace("/", "_")
        .replace("<", "")
        .replace(">", "")
        .replace("-", "_"),
        "responses": {},
    }
    rule = operation.rule
    spec["description"] = "Who may call: " + policy.describe(rule) + "."
    spec["x-access-policy"] = policy.as_document(rule)
    needs_credentials = not rule.anonymous
    if needs_credentials:
        spec["security"] = [{"bearer": []}]
    elif not rule.open_to_all:
        # Open to callers without credentials; a bearer token is accepted too.
        spec["security"] = [{}, {"bearer": []}]
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "description": PATH_PARAMETERS[name]["description"],
            "schema": {"type": "string", "pattern": PATH_PARAMETERS[name]["pattern"]},
        }
        for name in operation.path_params
    ]
    if operation.query is not None:
        query_schema = operation.query.model_json_schema()
        query_schema["properties"] = {
            name: _without_null(prop) for name, prop in query_schema["properties"].items()
        }
        object_name = getattr(operation.query, "query_parameter", None)
        if object_name is not None:
            # One object parameter whose properties are the query's names (style form,
            # explode): how OpenAPI says "exactly one of these" of query parameters.
            query_schema.pop("title", None)
            parameters.append(
                {
                    "name": object_name,
                    "in": "query",
                    "required": True,
                    "style": "form",
                    "explode": True,
                    "schema": query_schema,
                }
            )
        else:
            required = set(query_schema.get("required", []))
            for name, prop in query_schema.get("properties", {}).items():
                parameters.append(
                    {"name": name, "in": "query", "required": name in required, "schema": prop}
                )
    if parameters:
        spec["parameters"] = parameters
    if operation.body is not None:
        spec["requestBody"] = {
            "description": "JSON, at most 1 MiB (a larger body is answered 413 unread)",
            "required": operation.body_required,
            "content": {"application/json": {"schema": _schema_ref(operation.body, schemas)}},
        }
    for status, model in operation.responses.items():
        response: dict[str, Any] = {
            "description": "Replayed: the first answer"
            if status == 200 and 201 in operation.responses
            else "OK"
        }
        if model is not None:
            response["content"] = {"application/json": {"schema": _schema_ref(model, schemas)}}
        elif operation.media_type is not None:
            response["content"] = {operation.media_type: {"schema": {"type": "string"}}}
        spec["responses"][str(status)] = response
    # Every operation reads or writes the database, so any of them can meet an outage.
    problem_statuses = set(operation.errors) | {503} | ({401, 403} if needs_credentials else {401})
    if not rule.open_to_all:
        problem_statuses.add(403)
    if operation.body is not None:
        problem_statuses |= {400, 413, 422}
    if operation.query is not None:
        problem_statuses.add(422)
    if operation.path_params:
        # Every named object can be unknown; a malformed name matches no route.
        problem_statuses.add(404)
    if operation.endpoint in THROTTLED:
        problem_statuses.add(429)
    for status in sorted(problem_statuses):
        spec["responses"][str(status)] = {
            "description": ERROR_TEXT.get(status, "Error"),
            "content": {
                "application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}
            },
        }
    return spec


@blueprint.get("/api/v1/openapi.json")
def openapi_json() -> Response:
    return json_response(build_document())


DOCS_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Member Hub API</title>
<link rel="stylesheet" href="/api/docs/assets/css/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/assets/js/swagger-ui-bundle.js"></script>
<script src="/api/docs/assets/js/swagger-ui-standalone-preset.js"></script>
<script src="/api/docs/init.js"></script>
</body></html>"""

# validatorUrl: null, or Swagger UI fetches a badge from validator.swagger.io (external).
DOCS_INIT = """window.onload = function () {
  window.ui = SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout", deepLinking: true, validatorUrl: null});
};"""


@blueprint.get("/api/docs")
def docs() -> Response:
    return Response(DOCS_PAGE, mimetype="text/html")


@blueprint.get("/api/docs/init.js")
def docs_init() -> Response:
    return Response(DOCS_INIT, mimetype="application/javascript")


@blueprint.get("/api/docs/assets/<path:filename>")
def docs_assets(filename: str) -> Response:
    return send_from_directory(ASSETS, filename)
