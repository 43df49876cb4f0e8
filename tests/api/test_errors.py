"""Error responses: 404, 405, 413, malformed bodies, and garbage sent to every endpoint."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from memberhub.runtime import build_runtime
from memberhub.wiring import create_app
from storefront_api.auth import MemberPrincipal
from storefront_api.http.context import EXTENSION_KEY
from storefront_api.http.routing import OPERATIONS
from tests.api.support import problem, row_counts, self_register

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Raise for a deeper local run, e.g. MEMBERHUB_FUZZ_EXAMPLES=2000.
FUZZ_EXAMPLES = int(os.environ.get("MEMBERHUB_FUZZ_EXAMPLES", "60"))


@pytest.fixture
def callers(app, client, channel_key, auth, staff_token):
    """Headers of every kind of caller, and the member they act for.

    Tokens come from the app's own issuer (what the token endpoints hand out), which
    keeps Argon2 out of this file's hot path.
    """
    created = self_register(client, {"phone": "13900000001", "name": "孙丽"})
    member_no = created.json["member_no"]
    tokens = app.extensions[EXTENSION_KEY].tokens
    return member_no, {
        "anonymous": {},
        "channel": auth(channel_key("counter", "SH-HP-0001")),
        "member": auth(tokens.issue(MemberPrincipal(member_no))),
        "admin": auth(staff_token("admin")),
    }


def _url(path, member_no):
    path = path.replace("<member_no>", member_no).replace("<redemption_id>", "RD0000000000")
    path = path.replace("<code>", "NO-SUCH-CAMPAIGN")
    for name, value in (
        ("<tracking_no>", "EE123456785CN"),
        ("<order_no>", "PO202611250000000000"),
        ("<sku>", "NO-SUCH-SKU"),
        ("<card_no>", "6200000000000000000"),
        ("<charge_no>", "CH0000000000"),
        ("<payment_no>", "BP0000000000"),
        ("<merge_no>", "MG0000000000"),
        ("<subscription_no>", "SB0000000000"),
        ("<username>", "nobody-here"),
        ("<key_id>", "000000000000"),
        ("<use_no>", "VU0000000000"),
    ):
        path = path.replace(name, value)
    assert "<" not in path, path
    return path


# -- routing errors -------------------------------------------------------------------------


def test_unknown_route_is_404_problem(client):
    for method, path in (
        ("get", "/api/v1/nope"),
        ("get", "/api/v2/members/800000000000"),
        ("post", "/api/v1/members/800000000000/nothing"),
        ("get", "/api/v1/rewards/"),
        ("delete", "/api/v1/nope"),
    ):
        body = problem(getattr(client, method)(path), 404)
        assert body["type"].endswith("not-found"), path


def test_wrong_method_is_405_with_allow(client):
    for method, path, allowed in (
        ("get", "/api/v1/accruals", {"POST"}),
        ("put", "/api/v1/members/800000000000", {"GET", "PATCH"}),
        ("delete", "/api/v1/rewards", {"GET", "POST"}),
        ("get", "/api/v1/refunds", {"POST"}),
        ("put", "/api/v1/redemptions/RD1/cancel", {"POST"}),
        ("post", "/api/v1/openapi.json", {"GET"}),
    ):
        response = getattr(client, method)(path, json={})
        problem(response, 405)
        listed = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed <= listed, path
        assert method.upper() not in listed, path


def test_body_over_one_mib_is_413_and_writes_nothing(client, db, callers):
    _, headers = callers
    before = row_counts(db)
    padding = "x" * (1024 * 1024)
    raw = json.dumps({"phone": "13900000002", "name": "周", "padding": padding})
    for path in (
        "/api/v1/accruals",
        "/api/v1/members",
        "/api/v1/accruals/batch",
        "/api/v1/rewards",
    ):
        # Who may not call is turned away (401/403) before the body is read.
        callers_here = {
            "/api/v1/members": ("anonymous", "channel"),
            "/api/v1/rewards": ("admin",),
        }.get(path, ("channel",))
        for caller in callers_here:
            response = client.post(
                path, data=raw, content_type="application/json", headers=headers[caller]
            )
            body = problem(response, 413)
            assert "1 MiB" in body["detail"]
    assert row_counts(db) == before


def test_body_just_under_the_limit_is_read(client, callers):
    _, headers = callers
    raw = json.dumps({"phone": "13900000002", "name": "周", "padding": "x" * 1_000_000})
    response = client.post(
        "/api/v1/members", data=raw, content_type="application/json", headers=headers["channel"]
    )
    body = problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["padding"]


def test_malformed_json_is_400_naming_the_body(client, db):
    before = row_counts(db)
    for raw in (b"{", b"{'phone': '13900000002'}", b"\xff\xfe{}", b"", b"[" * 5000, b'{"a": 1,}'):
        response = client.post("/api/v1/members", data=raw, content_type="application/json")
        body = problem(response, 400)
        assert body["type"].endswith("malformed-json")
        assert body["errors"][0]["field"] == "body"
    assert row_counts(db) == before


def test_unexpected_error_is_a_500_problem_that_leaks_nothing(app):
    def explode():
        raise RuntimeError("database password is hunter2")

    app.add_url_rule("/api/v1/explode", "explode", explode)
    response = app.test_client().get("/api/v1/explode")
    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    text = response.get_data(as_text=True)
    assert "hunter2" not in text and "RuntimeError" not in text
    assert json.loads(text)["status"] == 500


# -- database outages ------------------------------------------------------------------------

PHONE_IN_SQL = "13912345678"
STATEMENT = "SELECT * FROM crm_identifier WHERE value = %(value)s"


@pytest.mark.parametrize(
    "error",
    [
        OperationalError(
            STATEMENT,
            {"value": PHONE_IN_SQL},
            psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        ),
        OperationalError(
            STATEMENT,
            {"value": PHONE_IN_SQL},
            psycopg.errors.CannotConnectNow("the database system is starting up"),
        ),
        OperationalError(
            None, None, psycopg.OperationalError("connection failed: Connection refused")
        ),
        InterfaceError(STATEMENT, {"value": PHONE_IN_SQL}, psycopg.InterfaceError("closed")),
        DBAPIError(
            STATEMENT,
            {"value": PHONE_IN_SQL},
            psycopg.DatabaseError("server closed the connection unexpectedly"),
            connection_invalidated=True,
        ),
        PoolTimeout("QueuePool limit of size 10 overflow 20 reached, connection timed out"),
    ],
    ids=["admin-shutdown", "starting-up", "refused", "interface", "invalidated", "pool-timeout"],
)
def test_database_outage_is_a_503_with_retry_after_that_leaks_nothing(app, error):
    def lose_the_database():
        raise error

    app.add_url_rule("/api/v1/outage", "outage", lose_the_database)
    response = app.test_client().get("/api/v1/outage")
    body = problem(response, 503)
    assert body["type"].endswith("/service-unavailable")
    assert 1 <= int(response.headers["Retry-After"]) <= 10
    assert "external_id" in body["detail"]
    text = response.get_data(as_text=True)
    assert PHONE_IN_SQL not in text and "crm_identifier" not in text and "psycopg" not in text


def test_other_database_errors_stay_a_500_that_leaks_nothing(app):
    def break_a_constraint():
        raise IntegrityError(STATEMENT, {"value": PHONE_IN_SQL}, Exception("duplicate key"))

    app.add_url_rule("/api/v1/constraint", "constraint", break_a_constraint)
    response = app.test_client().get("/api/v1/constraint")
    assert response.status_code == 500
    assert response.content_type == "application/problem+json"
    assert "Retry-After" not in response.headers
    assert PHONE_IN_SQL not in response.get_data(as_text=True)


def test_every_request_to_an_unreachable_database_is_a_503(db, channel_key, staff_token):
    """A real refused connection (nothing listens on port 1), through the whole stack:
    reads, writes, and authentication, which must not turn an outage into a 401."""
    settings = dataclasses.replace(
        db.settings, database_url="postgresql+psycopg://memberhub@127.0.0.1:1/nowhere"
    )
    client = create_app(build_runtime(settings)).test_client()
    channel = {"Authorization": f"Bearer {channel_key('counter', 'SH-HP-0001')}"}
    admin = {"Authorization": f"Bearer {staff_token('admin')}"}
    for method, path, headers, body in (
        ("get", "/api/v1/rewards", {}, None),
        ("post", "/api/v1/members", {}, {"phone": "13900000009", "name": "吴"}),
        ("post", "/api/v1/accruals", channel, _valid_accrual("800000000000")),
        ("get", "/api/v1/members/800000000000", admin, None),
    ):
        response = getattr(client, method)(path, json=body, headers=headers)
        assert problem(response, 503)["type"].endswith("/service-unavailable"), path
        assert response.headers["Retry-After"].isdigit(), path
    # /healthz reports on the process, not the database.
    assert client.get("/healthz").status_code == 200


def test_nul_in_a_path_is_422_not_a_database_error(client, callers):
    member_no, headers = callers
    for method, path, status in (
        # A member number is 12 digits: anything else matches no route.
        ("get", "/api/v1/members/8%00", 404),
        ("get", "/api/v1/members/8%00/points", 404),
        ("post", "/api/v1/redemptions/RD%00/cancel", 422),
    ):
        problem(getattr(client, method)(path, headers=headers["admin"]), status)
    response = client.get(
        f"/api/v1/members/{member_no}", headers={"Authorization": "Bearer mhk_a\x00b_c"}
    )
    problem(response, 401)


# -- garbage to every endpoint --------------------------------------------------------------


POSTS = [op for op in OPERATIONS if op.method == "post"]
WRITES = [op for op in OPERATIONS if op.method in ("post", "patch")]
GARBAGE = [
    b"[]",
    b'"x"',
    b'{"a": 1}',
    b"null",
    b"1",
    b"true",
    b"{}",
    b"x",
    b"",
    b"{",
    b'{"external_id": {"$gt": ""}, "member_no": ["x"], "phone": null, "items": {}}',
    b'{"external_id": "\\u0000", "name": "\\u0000", "phone": "\\u0000"}',
    b'{"amount_fen": 1e400, "quantity": -1e-400, "total_fen": 123456789012345678901234567890}',
    b'{"items": [null, [], "x", {"external_id": 1}]}',
    b'{"occurred_at": "2026-02-30T25:61:00+99:00", "birthday": "0000-00-00"}',
]


def test_every_post_endpoint_is_exercised():
    paths = {op.path for op in POSTS}
    assert {
        "/api/v1/accruals",
        "/api/v1/accruals/batch",
        "/api/v1/refunds",
        "/api/v1/auth/member-token",
        "/api/v1/auth/staff-token",
        "/api/v1/members",
        "/api/v1/members/<member_no>/identifiers",
        "/api/v1/members/merge",
        "/api/v1/campaigns",
        "/api/v1/rewards",
        "/api/v1/redemptions",
        "/api/v1/redemptions/<redemption_id>/cancel",
    } <= paths


@pytest.mark.parametrize("operation", POSTS, ids=lambda op: f"{op.method} {op.path}")
def test_garbage_bodies_are_4xx_problems_never_5xx(client, db, callers, operation):
    member_no, headers = callers
    url = _url(operation.path, member_no)
    before = row_counts(db)
    for caller, caller_headers in headers.items():
        for raw in GARBAGE:
            if operation.body is None and raw in (b"", b"{}"):
                continue  # no body is the right body here (a logout may well succeed)
            response = client.open(
                url,
                method=operation.method.upper(),
                data=raw,
                content_type="application/json",
                headers=caller_headers,
            )
            assert response.status_code < 500, (caller, raw)
            problem(response)
    assert row_counts(db) == before


def _json_values():
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**70), max_value=2**70)
        | st.floats(allow_nan=False)
        | st.text(max_size=30)
    )
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=12), children, max_size=4)
        ),
        max_leaves=12,
    )


def _field_names():
    return st.sampled_from(
        [
            "external_id",
            "member",
            "member_no",
            "phone",
            "card_no",
            "name",
            "lines",
            "items",
            "amount_fen",
            "total_fen",
            "quantity",
            "reward_code",
            "occurred_at",
            "institution_code",
            "survivor",
            "absorbed",
            "type",
            "value",
            "code",
            "budget_points",
            "starts_on",
            "ends_on",
            "password",
            "username",
        ]
    )


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operation=st.sampled_from(WRITES),
    caller=st.sampled_from(["anonymous", "channel", "member", "admin"]),
    body=st.dictionaries(_field_names(), _json_values(), max_size=6) | _json_values(),
)
def test_random_json_never_causes_a_server_error(client, callers, operation, caller, body):
    member_no, headers = callers
    response = client.open(
        _url(operation.path, member_no),
        method=operation.method.upper(),
        data=json.dumps(body),
        content_type="application/json",
        headers=headers[caller],
    )
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        problem(response)


def _valid_accrual(member_no):
    occurred = (datetime.now(SHANGHAI) - timedelta(hours=1)).replace(microsecond=0)
    return {
        "external_id": "POS-FUZZ",
        "member": {"member_no": member_no},
        "institution_code": "SH-HP-0001",
        "occurred_at": occurred.isoformat(),
        "business_type": "goods",
        "lines": [{"sku": "SKU-1", "category": "food", "quantity": 1, "amount_fen": 1000}],
        "total_fen": 1000,
        "payment_method": "cash",
    }


def _leaf_paths(value, prefix=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaf_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaf_paths(child, (*prefix, index))
    yield prefix


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_one_field_changed_to_anything_is_answered_without_a_server_error(client, callers, data):
    member_no, headers = callers
    body = _valid_accrual(member_no)
    paths = [p for p in _leaf_paths(body) if p]
    path = data.draw(st.sampled_from(paths))
    value = data.draw(_json_values())
    target = body
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    body["external_id"] = f"POS-FUZZ-{data.draw(st.integers(0, 10**9))}"
    response = client.post("/api/v1/accruals", json=body, headers=headers["channel"])
    assert response.status_code in (201, 200, 403, 409, 422), response.get_data(as_text=True)
    if response.status_code >= 400:
        fields = [e["field"] for e in problem(response).get("errors", [])]
        if response.status_code == 422:
            dotted = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", ".".join(map(str, path)))
            assert fields, response.json
            top = re.split(r"[.\[]", dotted)[0]
            # A changed line amount may leave total_fen as the only field in error.
            assert any(
                dotted.startswith(field)
                or field.startswith(top)
                or (top == "lines" and field == "total_fen")
                for field in fields
            ), (dotted, fields)
