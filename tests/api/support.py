"""Assertions shared by the API tests: problem+json answers and "nothing was written"."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import func, select

from common.clock import SHANGHAI
from common.errors import Invalid
from common.sms import last_code_sent
from crm import normalise_phone
from memberhub.models import metadata
from storefront_api.http.context import EXTENSION_KEY


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


# Security bookkeeping that refused requests write on purpose: attempt counters (a wrong
# password or code must count even though the request fails) and the audit log.
BOOKKEEPING = frozenset({"common_throttle", "common_audit_event"})


def row_counts(db):
    """Rows per table, but for the security bookkeeping a refusal is meant to write."""
    with db.engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
            if table.name not in BOOKKEEPING
        }


def sent_code(client, phone):
    """Ask for a one-time code for `phone` and read it from the sandbox SMS outbox."""
    outbox = client.application.extensions[EXTENSION_KEY].settings.sms_outbox
    if client.post("/api/v1/verification-codes", json={"phone": phone}).status_code != 202:
        return None
    try:
        phone = normalise_phone(str(phone))
    except Invalid:
        return None
    return last_code_sent(outbox, phone)


def self_register(client, body):
    """Register the way a person does on their own: ask for a code, read it from the
    sandbox SMS outbox, send it with the registration. Returns the registration answer."""
    code = sent_code(client, body["phone"]) if isinstance(body.get("phone"), str) else None
    sent = {**body, "verification_code": code} if code is not None else body
    return client.post("/api/v1/members", json=sent)


def an_hour_ago_today() -> datetime:
    """An hour ago in Shanghai, but never yesterday: between 00:00 and 01:00 an hour ago
    is the day before, and campaigns made for tests start on this time's business day."""
    current = datetime.now(SHANGHAI).replace(microsecond=0)
    return max(current - timedelta(hours=1), current.replace(hour=0, minute=0, second=0))
