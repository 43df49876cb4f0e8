"""The Flask side of the API: blueprints, auth, OpenAPI document and error mapping."""

from __future__ import annotations

from flask import Flask

from storefront_api.errors import register_error_handlers
from storefront_api.http import (
    accruals,
    activity,
    admin,
    auth_routes,
    bills,
    clearing,
    mail,
    members,
    openapi,
    orders,
    partners,
    prepaid,
    reference,
    rewards,
    segments,
    subscriptions,
    verification,
    vouchers,
)
from storefront_api.http.context import EXTENSION_KEY, ApiContext
from storefront_api.http.routing import CONVERTERS


def register_api(app: Flask, context: ApiContext) -> None:
    app.extensions[EXTENSION_KEY] = context
    app.config["MAX_CONTENT_LENGTH"] = context.settings.max_body_bytes
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.url_map.converters.update(CONVERTERS)
    for module in (
        auth_routes,
        admin,
        members,
        accruals,
        orders,
        activity,
        rewards,
        reference,
        mail,
        subscriptions,
        prepaid,
        partners,
        vouchers,
        bills,
        clearing,
        segments,
        verification,
        openapi,
    ):
        app.register_blueprint(module.blueprint)
    register_error_handlers(app)


__all__ = ["ApiContext", "register_api"]
