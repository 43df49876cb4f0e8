"""Builds the engine, session factory and Flask app from settings (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask, Response, redirect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import crm
import dashboards
from common.db import make_engine, make_session_factory, read_session
from common.errors import Throttled, Unauthorized
from common.settings import Settings, load_settings
from common.sms import SandboxSmsSender
from common.unit_of_work import UnitOfWork
from dashboards.auth import Opened, Refused, StaffAccounts, Viewer
from memberhub import http_headers
from storefront_api import ApiContext, register_api
from storefront_api.auth import (
    TokenIssuer,
    end_staff_session,
    log_in_staff,
    session_sha256_of,
    staff_of_session,
)
from warehouse import WarehouseReader


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]


def build_runtime(settings: Settings | None = None, *, scratch_sqlite: bool = False) -> Runtime:
    """`scratch_sqlite`: see common.db.make_engine; only for a database made to throw away."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url, scratch_sqlite=scratch_sqlite)
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
        accounts=_staff_accounts(runtime),
        secret_key=runtime.settings.secret_key,
        session_seconds=runtime.settings.token_ttl_seconds,
        secure_cookie=runtime.settings.https,
        fen_per_point=runtime.settings.fen_per_point,
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


def _staff_accounts(runtime: Runtime) -> StaffAccounts:
    """The dashboards' logins: staff sessions of kind "dashboards", throttled per account
    and per client address as the API's are, looked up live on every request."""
    factory = runtime.session_factory
    ttl = timedelta(seconds=runtime.settings.token_ttl_seconds)

    def log_in(username: str, password: str, client_address: str | None) -> Opened | Refused:
        try:
            login = log_in_staff(
                factory,
                username,
                password,
                client_address=client_address,
                kind="dashboards",
                ttl=ttl,
            )
        except Throttled as throttled:
            return Refused(retry_after=throttled.retry_after)
        except Unauthorized:
            return Refused()
        principal = login.principal
        return Opened(login.session_token, Viewer(principal.username, principal.role))

    def viewer_of(token: str) -> Viewer | None:
        with read_session(factory) as session:
            principal = staff_of_session(session, session_sha256_of(token))
        return None if principal is None else Viewer(principal.username, principal.role)

    def log_out(token: str) -> None:
        with UnitOfWork(factory) as uow:
            end_staff_session(uow, session_sha256_of(token))
            uow.commit()

    return StaffAccounts(log_in=log_in, viewer_of=viewer_of, log_out=log_out)


def wsgi_app() -> Flask:
    """Entry point for gunicorn: `gunicorn 'memberhub.wiring:wsgi_app()'`."""
    return create_app()
