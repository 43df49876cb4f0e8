"""Assertions shared by the API tests: problem+json answers and "nothing was written"."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from memberhub.models import metadata


def problem(response, status=None, *fields):
    """Assert a problem+json answer naming `fields`; `status` None means any 4xx."""
    text = response.get_data(as_text=True)
    if status is None:
        assert 400 <= response.status_code < 500, text
    else:
        assert response.status_code == status, text
    assert response.content_type == "application/problem+json", text
    body = json.loads(text)
    assert body["status"] == response.status_code
    assert body["type"].startswith("https://")
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str)
    for error in body.get("errors", []):
        assert isinstance(error["field"], str) and error["field"]
        assert isinstance(error["message"], str) and error["message"]
    named = [error["field"] for error in body.get("errors", [])]
    for field in fields:
        assert field in named, body
    return body


def each_is_problem(cases, send, status=422):
    """Send every (case, field) pair; report each one not answered `status` naming `field`."""
    failures = []
    for case, field in cases:
        try:
            problem(send(case), status, field)
        except AssertionError as error:
            failures.append(f"{field}: {error}")
    assert not failures, "\n".join(failures)


def row_counts(db):
    with db.engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }
