"""Builds the engine, session factory and Flask app from settings (never at import time)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from dash import Dash
from flask import Flask, Response, redirect

import crm
import dashboards
from common.clock import today as business_today
from common.db import read_session
from common.errors import Throttled, Unauthorized
from common.sms import SandboxSmsSender
from common.unit_of_work import UnitOfWork, run_in_transaction
from dashboards import SavedView, SavedViews, ViewForm
from dashboards.auth import Opened, Refused, StaffAccounts, Viewer
from memberhub import http_headers
from memberhub.runtime import Runtime, build_runtime
from storefront_api import ApiContext, register_api
from storefront_api.auth import (
    TokenIssuer,
    end_staff_session,
    log_in_staff,
    session_sha256_of,
    staff_of_session,
)
from storefront_api.saved_views import (
    SavedViewRecord,
    ViewDraft,
    delete_view,
    save_view,
    visible_views,
)
from warehouse import WarehouseReader


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

    mounted = mount_dashboards(app, runtime)
    http_headers.install(app, script_hashes=mounted.csp_hashes(), https=runtime.settings.https)

    @app.get("/")
    def index() -> Response:
        # People land on the dashboards; channel developers go to /api/docs.
        return redirect("/dashboards/")  # type: ignore[return-value]

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def mount_dashboards(
    app: Flask, runtime: Runtime, today: Callable[[], date] = business_today
) -> Dash:
    """The dashboards on `app`, reading the runtime's warehouse; `today` is the business
    day their default periods end before (a report job's run day)."""
    return dashboards.mount(
        app,
        reader=WarehouseReader(runtime.settings.warehouse_path),
        accounts=_staff_accounts(runtime),
        secret_key=runtime.settings.secret_key,
        session_seconds=runtime.settings.token_ttl_seconds,
        secure_cookie=runtime.settings.https,
        today=today,
        fen_per_point=runtime.settings.fen_per_point,
        views=saved_views_of(runtime),
    )


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


def saved_views_of(runtime: Runtime) -> SavedViews:
    """The dashboards' saved views, kept by storefront_api.saved_views."""
    factory = runtime.session_factory

    def shown(record: SavedViewRecord, username: str) -> SavedView:
        return SavedView(
            view_no=record.view_no,
            name=record.name,
            query=record.query,
            shared=record.shared,
            owner=record.owner,
            mine=record.owner == username,
            cadence=record.cadence,
            weekday=record.weekday,
            file_format=record.file_format,
            recipients=", ".join(record.recipients),
        )

    def listed(viewer: Viewer, page: str) -> list[SavedView]:
        with read_session(factory) as session:
            found = visible_views(session, viewer.username, page)
        return [shown(record, viewer.username) for record in found]

    def save(viewer: Viewer, form: ViewForm, pages: frozenset[str]) -> SavedView:
        draft = ViewDraft(
            page=form.page,
            name=form.name,
            query=form.query,
            shared=form.shared,
            cadence=form.cadence,
            weekday=form.weekday,
            file_format=form.file_format,
            recipients=form.recipients,
        )
        record = run_in_transaction(
            factory, lambda uow: save_view(uow, viewer.username, draft, pages)
        )
        return shown(record, viewer.username)

    def delete(viewer: Viewer, view_no: str) -> None:
        run_in_transaction(
            factory, lambda uow: delete_view(uow, viewer.username, viewer.role, view_no)
        )

    return SavedViews(listed=listed, save=save, delete=delete)


def wsgi_app() -> Flask:
    """Entry point for gunicorn: `gunicorn 'memberhub.wiring:wsgi_app()'`."""
    return create_app()
