"""The session cookie, the gate in front of pages and callbacks, and role masking."""

from __future__ import annotations

import time

from dashboards import auth
from dashboards.auth import Refusal, Sessions, Viewer


def no_body() -> object:
    raise AssertionError("the gate read a body it did not need")


def test_a_session_names_its_viewer_and_nothing_else_passes() -> None:
    sessions = Sessions("secret")
    token = sessions.issue(Viewer("alice", "marketer"))
    assert sessions.read(token) == Viewer("alice", "marketer")
    assert sessions.from_cookies({auth.SESSION_COOKIE: token}) == Viewer("alice", "marketer")
    assert sessions.read(token[:-2] + "xx") is None
    assert Sessions("other").read(token) is None
    assert sessions.read(None) is None and sessions.read("") is None
    assert sessions.from_cookies({}) is None


def test_an_expired_session_is_refused() -> None:
    sessions = Sessions("secret", max_age=1)
    token = sessions.issue(Viewer("alice", "admin"))
    time.sleep(2.1)
    assert sessions.read(token) is None


def test_only_finance_and_admin_see_personal_data() -> None:
    assert not Viewer("a", "marketer").sees_personal_data
    assert Viewer("b", "finance").sees_personal_data
    assert Viewer("c", "admin").sees_personal_data


def test_log_in_accepts_known_roles_only() -> None:
    def authenticate(username: str, password: str) -> str | None:
        return {"m": "marketer", "x": "member"}.get(username) if password == "pw" else None

    assert auth.log_in(authenticate, "m", "pw") == Viewer("m", "marketer")
    assert auth.log_in(authenticate, "m", "bad") is None
    assert auth.log_in(authenticate, "x", "pw") is None
    assert auth.log_in(authenticate, "", "pw") is None


def test_the_gate_lets_assets_and_the_login_page_through() -> None:
    for path in (
        "/dashboards/login",
        "/dashboards/logout",
        "/dashboards/_dash-layout",
        "/dashboards/_dash-dependencies",
        "/dashboards/_dash-component-suites/dash/dcc/dash_core_components.js",
        "/dashboards/assets/style.css",
        "/api/v1/members",
        "/healthz",
    ):
        assert auth.check(path, path, None, no_body) is None, path


def test_the_gate_redirects_pages_and_refuses_callbacks_for_anonymous_visitors() -> None:
    assert auth.check("/dashboards/points", "/dashboards/points?lang=en", None, no_body) == Refusal(
        302, "/dashboards/login?next=%2Fdashboards%2Fpoints%3Flang%3Den"
    )
    assert auth.check("/dashboards/", "/dashboards/?", None, no_body) == Refusal(
        302, "/dashboards/login"
    )
    data = {"outputs": {"id": "overview-kpis", "property": "children"}, "inputs": []}
    assert auth.check(auth.CALLBACK_PATH, auth.CALLBACK_PATH, None, lambda: data) == Refusal(401)
    viewer = Viewer("a", "marketer")
    assert auth.check("/dashboards/points", "/dashboards/points", viewer, no_body) is None
    assert auth.check(auth.CALLBACK_PATH, auth.CALLBACK_PATH, viewer, no_body) is None


def test_anonymous_callers_may_only_run_the_login_page() -> None:
    login_form = {"outputs": [{"id": "login-message", "property": "children"}], "inputs": []}
    routing_login = {
        "outputs": [{"id": "_pages_content", "property": "children"}],
        "inputs": [
            {"id": "_pages_location", "property": "pathname", "value": "/dashboards/login"},
            {"id": "_pages_location", "property": "search", "value": ""},
        ],
    }
    routing_page = {
        "outputs": [{"id": "_pages_content", "property": "children"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/dashboards/"}],
    }
    assert auth.anonymous_may_call(login_form)
    assert auth.anonymous_may_call(routing_login)
    assert not auth.anonymous_may_call(routing_page)
    assert not auth.anonymous_may_call(None)
    assert not auth.anonymous_may_call({"outputs": "login-message.children"})


def test_after_login_only_dashboard_paths_are_followed() -> None:
    assert auth.safe_next("/dashboards/members?lang=en") == "/dashboards/members?lang=en"
    for bad in (
        None,
        "",
        "https://evil.example",
        "//evil.example",
        "/api/v1",
        "/dashboards//x",
        "/dashboards/login?next=x",
        "/dashboards\\..\\x",
    ):
        assert auth.safe_next(bad) == "/dashboards/", bad
