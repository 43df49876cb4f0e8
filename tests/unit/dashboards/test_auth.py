"""The session cookie, the gate in front of pages and callbacks, and role masking."""

from __future__ import annotations

import time
from typing import Any

import pytest

from dashboards import auth
from dashboards.auth import Refusal, Sessions, Viewer

LOGIN_FORM = "..login-message.children..._pages_location.href@a384e6ff89468b72727efae1be08816226.."
ROUTER = ".._pages_content.children..._pages_store.data.."
HEADER = "..header-product.children...header-user.children...nav-members.href.."
DOWNLOAD = "members-table-top-download.data"
TABLE = "members-table-top.children"
CALLBACK_IDS = (LOGIN_FORM, ROUTER, HEADER, DOWNLOAD, TABLE, "overview-kpis.children")
ALLOWED = {
    ("login-message", "children"),
    ("_pages_location", "href"),
    *auth.ROUTER_OUTPUTS,
    ("header-product", "children"),
    ("header-user", "children"),
    ("nav-members", "href"),
}
PUBLIC = auth.anonymous_callbacks(CALLBACK_IDS, ALLOWED)


def no_body() -> object:
    raise AssertionError("the gate read a body it did not need")


def nobody() -> Viewer | None:
    return None


def no_lookup() -> Viewer | None:
    raise AssertionError("the gate looked a session up for a public path")


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


# -- the gate -------------------------------------------------------------------------------


def test_the_gate_lets_assets_and_the_login_page_through_without_a_lookup() -> None:
    for path in (
        "/dashboards/login",
        "/dashboards/login/",
        "/dashboards/logout",
        "/dashboards/_dash-layout",
        "/dashboards/_dash-dependencies",
        "/dashboards/_dash-component-suites/dash/dcc/dash_core_components.js",
        "/dashboards/assets/style.css",
        "/api/v1/members",
        "/healthz",
    ):
        assert auth.check(path, path, no_lookup, no_body, PUBLIC) is None, path


def test_the_gate_redirects_pages_and_refuses_callbacks_for_anonymous_visitors() -> None:
    assert auth.check(
        "/dashboards/points", "/dashboards/points?lang=en", nobody, no_body, PUBLIC
    ) == Refusal(302, "/dashboards/login?next=%2Fdashboards%2Fpoints%3Flang%3Den")
    assert auth.check("/dashboards/", "/dashboards/?", nobody, no_body, PUBLIC) == Refusal(
        302, "/dashboards/login"
    )
    # Only the login page itself is public, not whatever starts like it.
    assert auth.check("/dashboards/loginx", "/dashboards/loginx", nobody, no_body, PUBLIC) == (
        Refusal(302, "/dashboards/login?next=%2Fdashboards%2Floginx")
    )
    data = {"output": TABLE, "outputs": {"id": "members-table-top", "property": "children"}}
    assert auth.check(auth.CALLBACK_PATH, "", nobody, lambda: data, PUBLIC) == Refusal(401)

    def alice() -> Viewer:
        return Viewer("a", "marketer")

    assert auth.check("/dashboards/points", "/dashboards/points", alice, no_body, PUBLIC) is None
    assert auth.check(auth.CALLBACK_PATH, auth.CALLBACK_PATH, alice, no_body, PUBLIC) is None


def test_callback_ids_name_their_outputs() -> None:
    assert auth.callback_outputs(DOWNLOAD) == [("members-table-top-download", "data")]
    assert auth.callback_outputs(LOGIN_FORM) == [
        ("login-message", "children"),
        ("_pages_location", "href"),
    ]
    assert {LOGIN_FORM, ROUTER, HEADER} == PUBLIC


def body(output: str, inputs: list[Any], **extra: Any) -> dict[str, Any]:
    outputs = [
        {"id": component, "property": prop} for component, prop in auth.callback_outputs(output)
    ]
    return {"output": output, "outputs": outputs, "inputs": inputs, **extra}


ON_LOGIN_PAGE = [
    {"id": "_pages_location", "property": "pathname", "value": "/dashboards/login"},
    {"id": "_pages_location", "property": "search", "value": ""},
]


def test_anonymous_callers_may_run_what_the_login_page_needs() -> None:
    form = body(LOGIN_FORM, [{"id": "login-submit", "property": "n_clicks", "value": 1}])
    form["outputs"][1]["property"] = "href@a384e6ff89468b72727efae1be08816226"
    assert auth.anonymous_may_call(form, PUBLIC)
    assert auth.anonymous_may_call(body(ROUTER, ON_LOGIN_PAGE), PUBLIC)
    slash = body(ROUTER, [{**ON_LOGIN_PAGE[0], "value": "/dashboards/login/"}, ON_LOGIN_PAGE[1]])
    assert auth.anonymous_may_call(slash, PUBLIC)
    other_page = [{**ON_LOGIN_PAGE[0], "value": "/dashboards/members"}, ON_LOGIN_PAGE[1]]
    assert auth.anonymous_may_call(body(HEADER, other_page), PUBLIC)


@pytest.mark.parametrize(
    "case",
    [
        # The review's exploit: a download, with inputs claiming the login page.
        body(DOWNLOAD, ON_LOGIN_PAGE),
        body(TABLE, ON_LOGIN_PAGE),
        body("overview-kpis.children", ON_LOGIN_PAGE),
        # A callback Dash does not know is not made known by its outputs' names.
        body("login-message.children", ON_LOGIN_PAGE),
        # The answer labelled as the login form's, while Dash would run the download.
        {**body(DOWNLOAD, ON_LOGIN_PAGE), "outputs": body(LOGIN_FORM, [])["outputs"]},
        # ...or the other way round.
        {**body(LOGIN_FORM, []), "outputs": body(DOWNLOAD, [])["outputs"]},
        # The router, asked for another page.
        body(ROUTER, [{**ON_LOGIN_PAGE[0], "value": "/dashboards/members"}, ON_LOGIN_PAGE[1]]),
        body(ROUTER, [{**ON_LOGIN_PAGE[0], "value": "/dashboards//members"}, ON_LOGIN_PAGE[1]]),
        # Dash passes inputs by position: the login page named second renders the first.
        body(
            ROUTER,
            [
                {"id": "_pages_location", "property": "search", "value": "/dashboards/members"},
                ON_LOGIN_PAGE[0],
            ],
        ),
        body(ROUTER, [*ON_LOGIN_PAGE, {"id": "x", "property": "y", "value": 1}]),
        body(ROUTER, ON_LOGIN_PAGE, state=[{"id": "members-query", "property": "data"}]),
        body(ROUTER, [ON_LOGIN_PAGE[0]]),
        {"output": ROUTER, "inputs": ON_LOGIN_PAGE},
        {"output": DOWNLOAD},
        {"outputs": [{"id": "login-message", "property": "children"}]},
        None,
        [],
        "login-message.children",
    ],
)
def test_anonymous_callers_may_run_nothing_else(case: object) -> None:
    assert not auth.anonymous_may_call(case, PUBLIC)


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
