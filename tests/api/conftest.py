"""Fixtures of the API tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.clock import utcnow
from common.unit_of_work import UnitOfWork
from storefront_api.auth import open_staff_session
from storefront_api.auth.orm import StaffUser
from storefront_api.http.context import EXTENSION_KEY


@pytest.fixture
def staff_token(app, db):
    """Overrides the conftest fixture: a staff account and session made directly, as the
    staff-token endpoint would, without two Argon2 rounds per call (test_auth.py covers
    the login itself)."""
    tokens = app.extensions[EXTENSION_KEY].tokens

    def make(role: str) -> str:
        username = f"{role}-api-test"
        with UnitOfWork(db.session_factory) as uow:
            if uow.session.query(StaffUser).filter_by(username=username).first() is None:
                uow.session.add(
                    StaffUser(
                        username=username,
                        password_hash="not-a-hash",
                        role=role,
                        active=True,
                        created_at=utcnow(),
                    )
                )
                uow.session.flush()
            login = open_staff_session(uow, username, "api", timedelta(hours=1))
            uow.commit()
        return tokens.issue(login.principal)

    return make
