"""Fixtures of the dashboard tests: a Dash callback client, staff users by role, and the
dashboard scenario synced into the warehouse the app reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from bench.dash_client import DashClient
from common.unit_of_work import transaction
from memberhub.runtime import Runtime
from storefront_api.auth import create_staff_user
from tests.integration import dashboard_scenario
from tests.integration.dashboard_scenario import Scenario
from warehouse import sync_warehouse


@pytest.fixture
def dash(client: FlaskClient) -> DashClient:
    return DashClient(client)


@pytest.fixture
def staff(db: Runtime) -> Any:
    """`staff("marketer")` → (username, password) of a new staff user."""

    def make(role: str) -> tuple[str, str]:
        username = f"dash-{role}"
        with transaction(db.session_factory) as uow:
            return username, create_staff_user(uow, username, role)

    return make


@pytest.fixture
def world(
    db: Runtime, client: FlaskClient, channel_key: Any, staff_token: Any, auth: Any
) -> Iterator[Scenario]:
    """The scenario, synced into the warehouse the app reads."""
    scenario = dashboard_scenario.build(client, db, channel_key, staff_token, auth)
    dashboard_scenario.train_insights(db)
    sync_warehouse(db.engine, db.settings.warehouse_path)
    yield scenario
    for suffix in ("", ".lock"):
        db.settings.warehouse_path.with_name(db.settings.warehouse_path.name + suffix).unlink(
            missing_ok=True
        )
