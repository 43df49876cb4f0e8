"""Schema-driven fuzzing: schemathesis sends requests made from the served OpenAPI document.

The document is meant to state every rule the server enforces, so that a client (or a
fuzzer) that follows it is never told "invalid input" for a request the document allows.
Schemathesis reads GET /api/v1/openapi.json from the app in-process (WSGI) and, for every
operation, sends schema-valid (positive) and schema-invalid (negative) requests: its
examples, its coverage phase (boundaries, missing and extra fields, wrong types) and its
fuzzing phase, once with an admin staff token and once with a counter key of outlet
SH-HP-0001. Every check schemathesis 4 runs by default applies, plus two of our own:

- `input_rules_stated`: a schema-valid request answered 422 with the generic problem type
  `.../problems/invalid` is a rule the document does not state, and fails. Rules that
  depend on the state of the data (points not enough, an order already paid, an amount that
  is not the bill's amount due, a code that names nothing) are 422 problems of their own
  types and pass: a schema cannot know them (`positive_data_acceptance` allows 422 for
  that reason, and only for that reason).
- nothing in the database changes when a request is refused (4xx), apart from the security
  bookkeeping a refusal writes on purpose (throttle counters, the audit log).

Each identity is one pytest test that runs every operation as a subtest, so the token and
the key made for it stay valid for the whole run (the database is reset after each test).
MEMBERHUB_SCHEMATHESIS_EXAMPLES sets the fuzzing phase's examples per operation (and so the depth
of the run); MEMBERHUB_SCHEMATHESIS_SEED its seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation import GenerationMode

from common.unit_of_work import transaction
from memberhub.models import metadata
from storefront_api.auth import open_staff_session
from storefront_api.errors import PROBLEM_BASE
from storefront_api.http.context import EXTENSION_KEY
from tests.api.support import BOOKKEEPING
from tests.conftest import IS_POSTGRES

EXAMPLES_PER_OPERATION = int(os.environ.get("MEMBERHUB_SCHEMATHESIS_EXAMPLES", "45"))
SEED = int(os.environ.get("MEMBERHUB_SCHEMATHESIS_SEED", "20261124"))
# The bar: at least this many generated requests per identity (a quick local run with
# fewer examples per operation checks no count).
MIN_CASES = 5000 if EXAMPLES_PER_OPERATION >= 45 else 0

GENERIC_INVALID = PROBLEM_BASE + "invalid"

# SQLite only: the contract the fuzz checks is the same on both backends, and the API tests
# already run on PostgreSQL; there the run would add its minutes to bin/test's slowest
# step, and "nothing changed" would need a full read of the database per refused request
# (PostgreSQL has no counterpart of SQLite's data_version that other tests leave alone).
pytestmark = pytest.mark.skipif(IS_POSTGRES, reason="the schema fuzz runs on SQLite")

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            # No example database: a run depends on the seed alone, not on earlier runs.
            "database": "none",
        },
        "checks": {
            # A schema-valid request may still break a rule that depends on the state of
            # the data (not enough points, an order in the wrong state, an amount that is
            # not the bill's amount due, a code that names nothing) or on several fields
            # at once (inconsistent-fields): a 422 of its own problem type, named in the
            # operation's description. `input_rules_stated` below fails every 422 that is
            # the generic `invalid`. 413: a body over 1 MiB is refused before it is read,
            # whatever it holds; JSON Schema has no keyword for the size of a document,
            # so the request body's description states it and the operation lists 413.
            "positive_data_acceptance": {
                "expected-statuses": [
                    "2xx",
                    "3xx",
                    "401",
                    "403",
                    "404",
                    "409",
                    "413",
                    "422",
                    "429",
                ]
            },
            # The defaults, and 413 for the same reason: a refusal of a body over 1 MiB.
            "negative_data_rejection": {
                "expected-statuses": [
                    "400",
                    "401",
                    "403",
                    "404",
                    "405",
                    "406",
                    "409",
                    "413",
                    "415",
                    "422",
                    "428",
                    "429",
                    "5xx",
                ]
            },
        },
    }
)


@schemathesis.check
def input_rules_stated(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> bool | None:
    """A schema-valid request must not be refused as generically invalid input."""
    meta = case.meta
    if meta is None or meta.generation.mode is not GenerationMode.POSITIVE:
        return None
    if response.status_code != 422:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    problem_type = body.get("type") if isinstance(body, dict) else None
    if problem_type == GENERIC_INVALID:
        raise AssertionError(
            "a schema-valid request was refused as invalid input: the document does not "
            f"state this rule: {body.get('detail')}"
        )
    return None


@dataclass
class Identity:
    headers: dict[str, str]
    unchanged: Callable[[], str]
    # Logging out ends the session it is called with: each such case gets a session of its
    # own, so that the identity's token stays valid for every other operation.
    session_of_its_own: Callable[[], dict[str, str]]
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)


class Digest:
    """All rows of all tables but the security bookkeeping, hashed; recomputed only when
    another connection committed (SQLite's data_version), so a refused request costs two
    PRAGMA calls rather than a read of the whole database."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.queries = [
            f'SELECT * FROM "{table.name}" ORDER BY '
            + ", ".join(f'"{column.name}"' for column in table.primary_key.columns)
            for table in metadata.sorted_tables
            if table.name not in BOOKKEEPING
        ]
        self.version: int | None = None
        self.value = ""

    def _data_version(self) -> int:
        return int(self.connection.execute("PRAGMA data_version").fetchone()[0])

    def current(self) -> str:
        version = self._data_version()
        if version != self.version:
            digest = hashlib.sha256()
            for query in self.queries:
                for row in self.connection.execute(query):
                    digest.update(repr(row).encode())
            self.version, self.value = version, digest.hexdigest()
        return self.value

    def close(self) -> None:
        self.connection.close()


def _identity(
    db: Any,
    request: pytest.FixtureRequest,
    token: str,
    name: str,
    session_of_its_own: Callable[[], dict[str, str]],
) -> Iterator[Identity]:
    # schemathesis 4.32's lazy schemas (from_fixture) read and set `node._nodeid`, which
    # pytest 9.2 no longer has; giving it back is all they need (they only relabel the
    # node for their per-operation reports).
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    digest = Digest(db.engine.url.database)
    identity = Identity(
        headers={"Authorization": f"Bearer {token}"},
        unchanged=digest.current,
        session_of_its_own=session_of_its_own,
    )
    yield identity
    digest.close()
    figures = f"fuzz as {name}: {identity.cases} cases, statuses " + ", ".join(
        f"{status}: {count}" for status, count in sorted(identity.statuses.items())
    )
    print("\n" + figures)
    request.node.user_properties.append(("figures", figures))
    assert identity.cases >= MIN_CASES, figures


@pytest.fixture
def admin(app, db, staff_token, request):
    tokens = app.extensions[EXTENSION_KEY].tokens

    def new_session() -> dict[str, str]:
        with transaction(db.session_factory) as uow:
            login = open_staff_session(uow, "admin-api-test", "api", timedelta(hours=1))
            uow.commit()
        return {"Authorization": f"Bearer {tokens.issue(login.principal)}"}

    yield from _identity(db, request, staff_token("admin"), "admin", new_session)


@pytest.fixture
def counter(app, db, channel_key, request):
    key = channel_key("counter", "SH-HP-0001")
    yield from _identity(
        db, request, key, "counter SH-HP-0001", lambda: {"Authorization": f"Bearer {key}"}
    )


@pytest.fixture
def admin_schema(app, admin):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


@pytest.fixture
def counter_schema(app, counter):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)


def _run(case: schemathesis.Case, identity: Identity) -> None:
    identity.cases += 1
    headers = identity.headers
    if case.operation.path == "/api/v1/auth/logout":
        headers = identity.session_of_its_own()
    before = identity.unchanged()
    response = case.call_and_validate(headers=headers)
    status = response.status_code
    identity.statuses[status] = identity.statuses.get(status, 0) + 1
    if 400 <= status < 500:
        assert identity.unchanged() == before, (
            f"{case.operation.label} was refused ({status}) but the database changed: "
            f"{response.text[:300]}"
        )


SETTINGS = settings(
    # Requests go through the whole app and the database: their time says nothing.
    deadline=None,
    # The identity fixtures are function-scoped on purpose (one app, token, key and database
    # for the whole run); slow or filtered generation of deep request bodies is expected.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)

admin_api = schemathesis.pytest.from_fixture("admin_schema")
counter_api = schemathesis.pytest.from_fixture("counter_schema")


@admin_api.parametrize()
@SETTINGS
def test_fuzz_as_admin(case, admin):
    _run(case, admin)


@counter_api.parametrize()
@SETTINGS
def test_fuzz_as_counter_key(case, counter):
    _run(case, counter)
