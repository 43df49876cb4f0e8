"""DATABASE_URL forms: plain PostgreSQL URLs use psycopg 3 without naming a driver."""

from __future__ import annotations

import pytest

from common.settings import normalise_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql:///test", "postgresql+psycopg:///test"),
        ("postgresql://user@host/db", "postgresql+psycopg://user@host/db"),
        ("postgres://user:pw@host:5432/db", "postgresql+psycopg://user:pw@host:5432/db"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///var/memberhub.db", "sqlite:///var/memberhub.db"),
    ],
)
def test_database_urls_are_normalised(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected
