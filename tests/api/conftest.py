"""Fixtures of the API tests."""

from __future__ import annotations

from datetime import timedelta

import pytest

from common.clock import utcnow
from common.unit_of_work import transaction
from storefront_api.auth import ROLES, open_staff_session
from storefront_api.auth.orm import StaffUser
from storefront_api.http.context import EXTENSION_KEY


@pytest.fixture
def staff_token(app, db):
    """Overrides the conftest fixture: a staff account and session made directly, as the
    staff-token endpoint would, without two Argon2 rounds per call (test_auth.py covers
    the login itself). One account per role is made before the test starts, so a test
    that counts rows sees none appear when it asks for a token."""
    tokens = app.extensions[EXTENSION_KEY].tokens
    issued = {}
    with transaction(db.session_factory) as uow:
        for role in ROLES:
            username = f"{role}-api-test"
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
            issued[role] = tokens.issue(login.principal)
        uow.commit()
    return issued.__getitem__
