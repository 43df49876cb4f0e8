"""Builds the engine, session factory and Flask app from settings (never at import time)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, Response, redirect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import crm
import dashboards
from common.db import make_engine, make_session_factory
from common.errors import Throttled, Unauthorized
from common.settings import Settings, load_settings
from common.sms import SandboxSmsSender
from memberhub import http_headers
from storefront_api import ApiContext, register_api
from storefront_api.auth import TokenIssuer, log_in_staff
from warehouse import WarehouseReader


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]


def build_runtime(settings: Settings | None = None) -> Runtime:
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    return Runtime(settings, engine, make_session_factory(engine))


def create_app(runtime: Runtime | None = None) -> Flask:
    runtime = runtime or build_runtime()
    app = Flask("memberhub")
    register_api(
        app,
        ApiContext(
            settings=runtime.settings,
            session_factory=runtime.session_factory,
            directory=crm.CrmMemberDirectory(),
            tokens=TokenIssuer(runtime.settings.secret_key, runtime.settings.token_ttl_seconds),
            sms=SandboxSmsSender(runtime.settings.sms_outbox),
        ),
    )

    mounted = dashboards.mount(
        app,
        reader=WarehouseReader(runtime.settings.warehouse_path),
        authenticate=_staff_login(runtime),
        secret_key=runtime.settings.secret_key,
    )
    http_headers.install(app, script_hashes=mounted.csp_hashes(), https=runtime.settings.https)

    @app.get("/")
    def index() -> Response:
        # People land on the dashboards; channel developers go to /api/docs.
        return redirect("/dashboards/")  # type: ignore[return-value]

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _staff_login(runtime: Runtime) -> Callable[[str, str], str | None]:
    """The dashboards' login check: a staff user's role, or None."""

    def authenticate(username: str, password: str) -> str | None:
        try:
            login = log_in_staff(
                runtime.session_factory,
                username,
                password,
                client_address=None,
                kind="dashboards",
                ttl=timedelta(seconds=runtime.settings.token_ttl_seconds),
            )
        except (Unauthorized, Throttled):
            return None
        return login.principal.role

    return authenticate


def wsgi_app() -> Flask:
    """Entry point for gunicorn: `gunicorn 'memberhub.wiring:wsgi_app()'`."""
    return create_app()
