"""Authentication and access rules over HTTP: token endpoints, 401 versus 403."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import jwt
import pytest
from sqlalchemy import update

from common.unit_of_work import transaction
from storefront_api.auth import (
    MemberPrincipal,
    StaffPrincipal,
    TokenIssuer,
    create_staff_user,
    revoke_api_key,
)
from storefront_api.auth.orm import ApiKey
from storefront_api.auth.services import KEY_CACHE_SECONDS
from storefront_api.http.context import EXTENSION_KEY
from tests.api.support import problem, row_counts, self_register

SHANGHAI = ZoneInfo("Asia/Shanghai")


def register(client, phone, password=None, **extra):
    body = {"phone": phone, "name": "王芳", **extra}
    if password is not None:
        body["password"] = password
    response = self_register(client, body)
    assert response.status_code == 201, response.json
    return response.json["member_no"]


def member_token(client, phone, password):
    response = client.post("/api/v1/auth/member-token", json={"phone": phone, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["access_token"]


def accrual(member_no, institution="SH-HP-0001", external_id="POS-A-1", amount=10000):
    occurred = datetime.now(SHANGHAI) - timedelta(hours=1)
    return {
        "external_id": external_id,
        "member": {"member_no": member_no},
        "institution_code": institution,
        "occurred_at": occurred.isoformat(),
        "business_type": "goods",
        "lines": [{"sku": "SKU-1", "category": "food", "quantity": 1, "amount_fen": amount}],
        "total_fen": amount,
    }


# -- token endpoints ----------------------------------------------------------------


def test_member_token_round_trip_gives_access_to_own_profile(client, auth):
    member_no = register(client, "13900000001", password="s3cret-pass")
    response = client.post(
        "/api/v1/auth/member-token", json={"phone": "139 0000 0001", "password": "s3cret-pass"}
    )
    assert response.status_code == 200
    assert response.content_type == "application/json"
    body = response.json
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] > 0
    assert set(body) >= {"access_token", "token_type", "expires_in"}
    profile = client.get(f"/api/v1/members/{member_no}", headers=auth(body["access_token"]))
    assert profile.status_code == 200
    assert profile.json["member_no"] == member_no
    assert profile.json["phone"] == "13900000001"


def test_member_token_with_wrong_credentials_is_401(client):
    register(client, "13900000001", password="s3cret-pass")
    for phone, password in (
        ("13900000001", "wrong-password"),
        ("13900000002", "s3cret-pass"),
        ("not-a-phone", "s3cret-pass"),
    ):
        response = client.post(
            "/api/v1/auth/member-token", json={"phone": phone, "password": password}
        )
        problem(response, 401)
        assert "access_token" not in response.json
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_member_without_password_cannot_log_in(client):
    register(client, "13900000003")
    response = client.post(
        "/api/v1/auth/member-token", json={"phone": "13900000003", "password": "anything"}
    )
    problem(response, 401)


def test_member_token_request_missing_password_is_422(client):
    response = client.post("/api/v1/auth/member-token", json={"phone": "13900000001"})
    problem(response, 422, "password")


@pytest.mark.parametrize("role", ["marketer", "finance", "admin"])
def test_staff_token_for_each_role(client, auth, db, role):
    with transaction(db.session_factory) as uow:
        password = create_staff_user(uow, f"{role}-login", role)
    response = client.post(
        "/api/v1/auth/staff-token", json={"username": f"{role}-login", "password": password}
    )
    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"
    assert response.json["expires_in"] > 0
    campaigns = client.get("/api/v1/campaigns", headers=auth(response.json["access_token"]))
    assert campaigns.status_code == 200


def test_staff_token_with_wrong_credentials_is_401(client, db):
    with transaction(db.session_factory) as uow:
        real = create_staff_user(uow, "ops-login", "admin")
    for username, password in (("ops-login", real + "x"), ("nobody-here", real)):
        response = client.post(
            "/api/v1/auth/staff-token", json={"username": username, "password": password}
        )
        problem(response, 401)
        assert "access_token" not in response.json


def test_staff_token_request_with_unknown_field_is_422(client):
    response = client.post(
        "/api/v1/auth/staff-token", json={"username": "a", "password": "b", "role": "admin"}
    )
    problem(response, 422, "role")


# -- 401: missing, malformed, invalid, expired --------------------------------------


PROTECTED = [
    ("get", "/api/v1/members/800000000000", None),
    ("get", "/api/v1/members/800000000000/points", None),
    ("get", "/api/v1/members/800000000000/ledger", None),
    ("get", "/api/v1/members/lookup?phone=13900000001", None),
    ("post", "/api/v1/members/merge", {"survivor": "800000000000", "absorbed": "800000000001"}),
    ("post", "/api/v1/accruals", "ACCRUAL"),
    (
        "post",
        "/api/v1/refunds",
        {"external_id": "R1", "original_external_id": "A1", "amount_fen": 1},
    ),
    (
        "post",
        "/api/v1/redemptions",
        {"external_id": "X1", "member_no": "800000000000", "reward_code": "VOUCHER-MALL-10"},
    ),
    ("post", "/api/v1/redemptions/RD0000/cancel", None),
    ("get", "/api/v1/campaigns", None),
    (
        "post",
        "/api/v1/rewards",
        {
            "code": "R-X",
            "name": "x",
            "kind": "voucher",
            "points_cost": 10,
            "value_fen": 1000,
            "valid_days": 30,
            "stock": 1,
        },
    ),
]


def _call(client, method, path, body, headers):
    if body == "ACCRUAL":
        body = accrual("800000000000")
    return getattr(client, method)(path, json=body, headers=headers)


def test_missing_token_is_401(client, db):
    before = row_counts(db)
    for method, path, body in PROTECTED:
        response = _call(client, method, path, body, {})
        problem(response, 401)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="memberhub"', path
    assert row_counts(db) == before


MALFORMED_HEADERS = [
    "Basic dXNlcjpwYXNz",
    "Bearer",
    "Bearer    ",
    "Token abc",
    "bearer-abc",
    "Bearer not-a-token",
    "Bearer mhk_nosuchkey_secret",
    "Bearer mhk_only-two-parts",
    "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abc",
]


def test_malformed_or_invalid_authorization_is_401(client, db):
    before = row_counts(db)
    for header in MALFORMED_HEADERS:
        for method, path, body in PROTECTED:
            response = _call(client, method, path, body, {"Authorization": header})
            assert response.status_code == 401, (header, path)
            problem(response, 401)
    assert row_counts(db) == before


def test_bad_token_on_open_registration_is_401_and_registers_nobody(client, db):
    before = row_counts(db)
    response = client.post(
        "/api/v1/members",
        json={"phone": "13900000009", "name": "李雷"},
        headers={"Authorization": "Bearer forged"},
    )
    problem(response, 401)
    assert row_counts(db) == before


def test_expired_member_token_is_401(client, app, auth):
    member_no = register(client, "13900000001", password="s3cret-pass")
    secret = app.extensions[EXTENSION_KEY].settings.secret_key
    expired = TokenIssuer(secret, ttl_seconds=-60).issue(MemberPrincipal(member_no))
    response = client.get(f"/api/v1/members/{member_no}", headers=auth(expired))
    problem(response, 401)
    fresh = TokenIssuer(secret, ttl_seconds=60).issue(MemberPrincipal(member_no))
    assert client.get(f"/api/v1/members/{member_no}", headers=auth(fresh)).status_code == 200


def test_token_signed_with_another_key_is_401(client, auth):
    member_no = register(client, "13900000001")
    forged = TokenIssuer("not-the-server-secret-" * 3, 600).issue(StaffPrincipal("eve", "admin"))
    problem(client.get(f"/api/v1/members/{member_no}", headers=auth(forged)), 401)


def test_token_with_unknown_role_or_kind_is_401(client, app, auth):
    secret = app.extensions[EXTENSION_KEY].settings.secret_key
    now = datetime.now(UTC)
    for claims in (
        {"sub": "eve", "kind": "staff", "role": "root"},
        {"sub": "eve", "kind": "robot"},
    ):
        token = jwt.encode(
            {**claims, "iat": now, "exp": now + timedelta(minutes=5)}, secret, algorithm="HS256"
        )
        problem(client.get("/api/v1/campaigns", headers=auth(token)), 401)


def test_unsigned_token_is_401(client, auth):
    token = jwt.encode({"sub": "eve", "kind": "staff", "role": "admin"}, key=None, algorithm="none")
    problem(client.get("/api/v1/campaigns", headers=auth(token)), 401)


def test_revoked_channel_key_is_401(client, db, channel_key, auth):
    key = channel_key("web")
    member_no = register(client, "13900000001")
    assert client.get(f"/api/v1/members/{member_no}", headers=auth(key)).status_code == 200
    with transaction(db.session_factory) as uow:
        revoke_api_key(uow, key.split("_")[1])
    problem(client.get(f"/api/v1/members/{member_no}", headers=auth(key)), 401)


def test_key_revoked_elsewhere_stops_working_once_remembered_keys_lapse(
    client, db, channel_key, auth, monkeypatch
):
    key = channel_key("web")
    member_no = register(client, "13900000001")
    assert client.get(f"/api/v1/members/{member_no}", headers=auth(key)).status_code == 200
    with db.engine.begin() as connection:  # as another process would: no local cache to clear
        connection.execute(update(ApiKey).values(revoked_at=datetime.now(UTC)))
    clock = time.monotonic() + KEY_CACHE_SECONDS + 1
    monkeypatch.setattr("common.reference_cache.time.monotonic", lambda: clock)
    problem(client.get(f"/api/v1/members/{member_no}", headers=auth(key)), 401)


def test_channel_key_with_wrong_secret_is_401(client, channel_key, auth):
    key = channel_key("web")
    member_no = register(client, "13900000001")
    tampered = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    problem(client.get(f"/api/v1/members/{member_no}", headers=auth(tampered)), 401)


# -- 403: valid but not allowed -----------------------------------------------------


def test_member_may_not_read_or_change_another_member(client, auth):
    mine = register(client, "13900000001", password="s3cret-pass")
    other = register(client, "13900000002")
    token = member_token(client, "13900000001", "s3cret-pass")
    for path in ("", "/points", "/ledger"):
        problem(client.get(f"/api/v1/members/{other}{path}", headers=auth(token)), 403)
        assert client.get(f"/api/v1/members/{mine}{path}", headers=auth(token)).status_code == 200
    problem(
        client.patch(
            f"/api/v1/members/{other}", json={"marketing_consent": True}, headers=auth(token)
        ),
        403,
    )
    problem(
        client.post(
            f"/api/v1/members/{other}/identifiers",
            json={"type": "card_no", "value": "6221880000009999"},
            headers=auth(token),
        ),
        403,
    )


def test_member_may_not_use_channel_only_endpoints(client, db, auth):
    mine = register(client, "13900000001", password="s3cret-pass")
    token = member_token(client, "13900000001", "s3cret-pass")
    before = row_counts(db)
    problem(client.post("/api/v1/accruals", json=accrual(mine), headers=auth(token)), 403)
    problem(
        client.post("/api/v1/accruals/batch", json={"items": [accrual(mine)]}, headers=auth(token)),
        403,
    )
    problem(
        client.post(
            "/api/v1/refunds",
            json={"external_id": "R-1", "original_external_id": "POS-A-1", "amount_fen": 100},
            headers=auth(token),
        ),
        403,
    )
    problem(client.get("/api/v1/members/lookup?phone=13900000001", headers=auth(token)), 403)
    problem(
        client.post(
            "/api/v1/members/merge",
            json={"survivor": mine, "absorbed": mine},
            headers=auth(token),
        ),
        403,
    )
    problem(client.get("/api/v1/campaigns", headers=auth(token)), 403)
    assert row_counts(db) == before


def test_channel_may_not_do_admin_or_marketing_things(client, db, channel_key, auth):
    key = channel_key("web")
    first = register(client, "13900000001")
    second = register(client, "13900000002")
    before = row_counts(db)
    problem(
        client.post(
            "/api/v1/rewards",
            json={
                "code": "R-X",
                "name": "x",
                "kind": "voucher",
                "points_cost": 10,
                "value_fen": 1000,
                "valid_days": 30,
            },
            headers=auth(key),
        ),
        403,
    )
    problem(
        client.post(
            "/api/v1/members/merge",
            json={"survivor": first, "absorbed": second},
            headers=auth(key),
        ),
        403,
    )
    problem(client.get("/api/v1/campaigns", headers=auth(key)), 403)
    problem(
        client.post(
            "/api/v1/campaigns",
            json={
                "code": "C-X",
                "name": "x",
                "starts_on": "2026-01-01",
                "ends_on": "2026-12-31",
                "budget_points": 100,
                "bonus_points": 5,
            },
            headers=auth(key),
        ),
        403,
    )
    assert row_counts(db) == before


@pytest.mark.parametrize("role", ["marketer", "finance"])
def test_only_admin_may_merge_or_add_rewards(client, db, staff_token, auth, role):
    token = staff_token(role)
    first = register(client, "13900000001")
    second = register(client, "13900000002")
    before = row_counts(db)
    problem(
        client.post(
            "/api/v1/members/merge",
            json={"survivor": first, "absorbed": second},
            headers=auth(token),
        ),
        403,
    )
    problem(
        client.post(
            "/api/v1/rewards",
            json={
                "code": "R-X",
                "name": "x",
                "kind": "voucher",
                "points_cost": 10,
                "value_fen": 1000,
                "valid_days": 30,
            },
            headers=auth(token),
        ),
        403,
    )
    assert row_counts(db) == before
    profile = client.get(f"/api/v1/members/{second}", headers=auth(token))
    assert profile.json["status"] == "active"


def test_finance_may_not_create_campaigns(client, db, staff_token, auth):
    token = staff_token("finance")
    before = row_counts(db)
    response = client.post(
        "/api/v1/campaigns",
        json={
            "code": "C-X",
            "name": "x",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "budget_points": 100,
            "bonus_points": 5,
        },
        headers=auth(token),
    )
    problem(response, 403)
    assert row_counts(db) == before


def test_staff_may_not_act_as_channel_or_member(client, db, staff_token, auth):
    token = staff_token("admin")
    member_no = register(client, "13900000001")
    before = row_counts(db)
    problem(client.post("/api/v1/accruals", json=accrual(member_no), headers=auth(token)), 403)
    problem(
        client.post(
            f"/api/v1/members/{member_no}/identifiers",
            json={"type": "card_no", "value": "6221880000009999"},
            headers=auth(token),
        ),
        403,
    )
    problem(
        client.post(
            "/api/v1/redemptions",
            json={"external_id": "X1", "member_no": member_no, "reward_code": "VOUCHER-MALL-10"},
            headers=auth(token),
        ),
        403,
    )
    assert row_counts(db) == before


def test_counter_key_may_not_accrue_for_another_institution(client, db, channel_key, auth):
    key = channel_key("counter", "SH-HP-0001")
    member_no = register(client, "13900000001")
    before = row_counts(db)
    response = client.post(
        "/api/v1/accruals", json=accrual(member_no, institution="SH-HP-0002"), headers=auth(key)
    )
    body = problem(response, 403)
    assert "SH-HP-0001" in body["detail"]
    assert row_counts(db) == before
    points = client.get(f"/api/v1/members/{member_no}/points", headers=auth(key))
    assert points.json["available"] == 0
    own = client.post("/api/v1/accruals", json=accrual(member_no), headers=auth(key))
    assert own.status_code == 201
