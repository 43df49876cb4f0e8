"""Shared fixtures: a migrated database (SQLite or PostgreSQL), app, client, keys and tokens.

The backend is chosen by MEMBERHUB_TEST_DB: unset or "sqlite" for a SQLite file, or a
PostgreSQL URL such as postgresql:///test. Each xdist worker gets its own SQLite file
or its own PostgreSQL schema. After every test the ledger invariants are checked and
the database is put back to its reference-data snapshot.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, insert, text
from sqlalchemy.pool import NullPool

import points_engine
from common.db import read_session, sqlite_triggers_set_aside
from common.reference_cache import reference_cache
from common.settings import Settings, normalise_database_url
from common.unit_of_work import UnitOfWork, transaction
from memberhub.models import metadata
from memberhub.reference_loader import load_reference_data
from memberhub.runtime import Runtime, build_runtime
from memberhub.schema import upgrade
from memberhub.wiring import create_app
from storefront_api import prepaid
from storefront_api.auth import (
    TokenIssuer,
    create_api_key,
    create_staff_user,
    open_staff_session,
)

BACKEND = os.environ.get("MEMBERHUB_TEST_DB", "sqlite")
IS_POSTGRES = BACKEND.startswith("postgres")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Show the one-line figures tests record with `record_property("figures", line)` (the
    crash and restart tests' counts); a print would stay inside an xdist worker."""
    lines = [
        value
        for reports in terminalreporter.stats.values()
        for report in reports
        if getattr(report, "when", None) == "call"
        for name, value in getattr(report, "user_properties", ())
        if name == "figures"
    ]
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with empty_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@contextmanager
def empty_database(directory: Path, name: str = "") -> Iterator[str]:
    """The URL of a new, empty database: a SQLite file in `directory`, or on PostgreSQL a
    schema of this test process (`name` tells several apart), dropped again at the end."""
    if not IS_POSTGRES:
        yield f"sqlite:///{directory / f'memberhub{name}.db'}"
        return
    # One schema per test process (worker name and pid), so that two pytest runs on
    # one database never drop each other's tables; it is dropped again at the end.
    schema = f"mh_test_{_worker()}_{os.getpid()}{name}"
    # No pool: a disruptive test restarts PostgreSQL between the schema's creation and
    # its removal, and a pooled connection would be dead by then.
    admin = create_engine(
        normalise_database_url(BACKEND), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with admin.connect() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in BACKEND else "?"
    try:
        yield f"{BACKEND}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def runtime(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    var = tmp_path_factory.mktemp("var")
    settings = Settings(
        database_url=normalise_database_url(database_url),
        secret_key="test-secret-" + uuid.uuid4().hex,
        warehouse_path=Path(var) / "warehouse.duckdb",
        var_dir=Path(var),
    )
    runtime = build_runtime(settings)
    upgrade(runtime.engine)
    load_reference_data(runtime.session_factory)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture(scope="session")
def reference_snapshot(runtime: Runtime) -> dict[str, list[dict[str, Any]]]:
    snapshot: dict[str, list[dict[str, Any]]] = {}
    with runtime.engine.connect() as connection:
        for table in metadata.sorted_tables:
            snapshot[table.name] = [
                dict(row._mapping) for row in connection.execute(table.select())
            ]
    return snapshot


def restore(runtime: Runtime, snapshot: dict[str, list[dict[str, Any]]]) -> None:
    tables = metadata.sorted_tables
    with runtime.engine.begin() as connection:
        if IS_POSTGRES:
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            # The audit log's triggers refuse DELETE; a test reset is one of the places
            # where emptying it is right.
            with sqlite_triggers_set_aside(connection):
                for table in reversed(tables):
                    connection.execute(table.delete())
        for table in tables:
            rows = snapshot[table.name]
            if rows:
                connection.execute(insert(table), rows)
    # The reset rewrote reference rows (earning-rule versions, keys, campaigns' rules)
    # behind the per-process cache's back, which production never does.
    reference_cache.clear()


@pytest.fixture(autouse=True)
def ledger_holds_after_test(
    request: pytest.FixtureRequest,
) -> Iterator[None]:
    """Every test that touched the database leaves a ledger whose invariants hold."""
    if "runtime" not in request.fixturenames:
        yield
        return
    # Asked for before the test runs: pytest deprecates it in teardown, and the reference
    # snapshot must be of the database before any test wrote to it.
    runtime: Runtime = request.getfixturevalue("runtime")
    snapshot = request.getfixturevalue("reference_snapshot")
    yield
    with read_session(runtime.session_factory) as session:
        breaches = points_engine.find_breaches(session)
        prepaid_breaches = prepaid.find_breaches(session)
    restore(runtime, snapshot)
    assert not breaches, f"ledger invariants broken: {breaches}"
    assert not prepaid_breaches, f"prepaid-card invariants broken: {prepaid_breaches}"


@pytest.fixture
def db(runtime: Runtime, reference_snapshot: dict[str, list[dict[str, Any]]]) -> Runtime:
    """The runtime, for tests that use the service layer directly."""
    return runtime


@pytest.fixture
def uow(db: Runtime) -> Callable[[], AbstractContextManager[UnitOfWork]]:
    """A unit of work that commits when its block ends normally, as the route layer's does."""
    return lambda: transaction(db.session_factory)


@pytest.fixture
def app(db: Runtime) -> Flask:
    app = create_app(db)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def channel_key(db: Runtime) -> Callable[..., str]:
    """`channel_key("counter", "SH-HP-0001")` → a fresh API key."""

    def make(channel: str = "web", institution: str | None = None) -> str:
        if channel in ("counter", "retail") and institution is None:
            institution = "SH-HP-0001"
        with transaction(db.session_factory) as uow:
            return create_api_key(uow, channel, institution)

    return make


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    return lambda token: {"Authorization": f"Bearer {token}"}


@pytest.fixture
def staff_token(db: Runtime, client: FlaskClient) -> Callable[[str], str]:
    """`staff_token("admin")` → a bearer token of a new staff user with that role."""

    def make(role: str) -> str:
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        with transaction(db.session_factory) as uow:
            password = create_staff_user(uow, username, role)
        response = client.post(
            "/api/v1/auth/staff-token", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.json
        return str(response.json["access_token"])  # type: ignore[index]

    return make


def issue_staff_token(runtime: Runtime, username: str, role: str) -> str:
    """A staff account and a live API session made directly (no Argon2 login round)."""
    with transaction(runtime.session_factory) as uow:
        create_staff_user(uow, username, role)
    with transaction(runtime.session_factory) as uow:
        login = open_staff_session(uow, username, "api", timedelta(hours=1))
        uow.commit()
    tokens = TokenIssuer(runtime.settings.secret_key, runtime.settings.token_ttl_seconds)
    return tokens.issue(login.principal)
