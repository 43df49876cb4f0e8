"""Fixtures of the API tests."""

from __future__ import annotations

import pytest

from storefront_api.auth import StaffPrincipal
from storefront_api.http.context import EXTENSION_KEY


@pytest.fixture
def staff_token(app):
    """Overrides the conftest fixture: a token from the app's own issuer, as the staff-token
    endpoint would give, without two Argon2 rounds per call (test_auth.py covers the login)."""
    tokens = app.extensions[EXTENSION_KEY].tokens
    return lambda role: tokens.issue(StaffPrincipal(f"{role}-api-test", role))
