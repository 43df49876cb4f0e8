"""Builds the engine, session factory and Flask app from settings (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, Response, redirect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import crm
from common.db import make_engine, make_session_factory
from common.settings import Settings, load_settings
from storefront_api import ApiContext, register_api
from storefront_api.auth import TokenIssuer


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
        ),
    )

    @app.get("/")
    def index() -> Response:
        return redirect("/api/docs")  # type: ignore[return-value]

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def wsgi_app() -> Flask:
    """Entry point for gunicorn: `gunicorn 'memberhub.wiring:wsgi_app()'`."""
    return create_app()
