"""The session cookie and its live lookup, the gate in front of pages and callbacks, and
role masking."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer

from dashboards import auth
from dashboards.auth import Opened, Refusal, Refused, Sessions, StaffAccounts, Viewer

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


@dataclass
class FakeAccounts:
    """Staff sessions in memory: token -> viewer; counts the lookups."""

    sessions: dict[str, Viewer] = field(default_factory=dict)
    passwords: dict[str, tuple[str, str]] = field(default_factory=dict)
    throttled: int | None = None
    lookups: int = 0
    opened: int = 0
    addresses: list[str | None] = field(default_factory=list)

    def log_in(self, username: str, password: str, address: str | None) -> Opened | Refused:
        self.addresses.append(address)
        if self.throttled is not None:
            return Refused(retry_after=self.throttled)
        known = self.passwords.get(username)
        if known is None or known[0] != password:
            return Refused()
        self.opened += 1
        token = f"token-{self.opened}"
        self.sessions[token] = Viewer(username, known[1])
        return Opened(token, self.sessions[token])

    def viewer_of(self, token: str) -> Viewer | None:
        self.lookups += 1
        return self.sessions.get(token)

    def log_out(self, token: str) -> None:
        self.sessions.pop(token, None)

    def staff(self) -> StaffAccounts:
        return StaffAccounts(self.log_in, self.viewer_of, self.log_out)


@dataclass
class FakeRequest:
    """What Sessions reads of Dash's request adapter."""

    cookies: dict[str, str] = field(default_factory=dict)
    remote_addr: str | None = "10.1.2.3"
    context: Any = field(default_factory=SimpleNamespace)


def sessions_with(accounts: FakeAccounts, request: FakeRequest, **options: Any) -> Sessions:
    return Sessions("secret", accounts.staff(), lambda: request, **options)


def no_body() -> object:
    raise AssertionError("the gate read a body it did not need")


def nobody() -> Viewer | None:
    return None


def no_lookup() -> Viewer | None:
    raise AssertionError("the gate looked a session up for a public path")


# -- the cookie and the live session ------------------------------------------------------


def test_the_cookie_carries_a_signed_token_and_nothing_else_passes() -> None:
    sessions = sessions_with(FakeAccounts(), FakeRequest())
    cookie = sessions.sign("the-token")
    assert sessions.token_of(cookie) == "the-token"
    assert sessions.token_of(cookie[:-2] + "xx") is None
    assert sessions_with(FakeAccounts(), FakeRequest()).token_of(cookie) == "the-token"
    assert Sessions("other", FakeAccounts().staff(), FakeRequest).token_of(cookie) is None
    assert sessions.token_of(None) is None and sessions.token_of("") is None
    # The old cookie format (a signed username and role) is no session at all.
    old = URLSafeTimedSerializer("secret", salt="memberhub.dashboards").dumps(
        {"u": "alice", "r": "admin"}
    )
    assert sessions.token_of(old) is None


def test_an_expired_signature_is_refused_before_any_lookup() -> None:
    accounts = FakeAccounts(sessions={"t": Viewer("alice", "admin")})
    sessions = sessions_with(accounts, FakeRequest(), max_age=1)
    cookie = sessions.sign("t")
    time.sleep(2.1)
    assert sessions.viewer_of_cookies({auth.SESSION_COOKIE: cookie}) is None
    assert accounts.lookups == 0


def test_the_viewer_is_the_live_session_looked_up_once_per_request() -> None:
    accounts = FakeAccounts(sessions={"t": Viewer("alice", "marketer")})
    request = FakeRequest()
    sessions = sessions_with(accounts, request)
    request.cookies[auth.SESSION_COOKIE] = sessions.sign("t")
    assert sessions.current() == Viewer("alice", "marketer")
    assert sessions.current() == Viewer("alice", "marketer")
    assert accounts.lookups == 1
    # The next request looks again: a session ended meanwhile is gone at once.
    accounts.log_out("t")
    request.context = SimpleNamespace()
    assert sessions.current() is None
    assert accounts.lookups == 2


def test_a_session_of_an_unknown_role_is_nobody() -> None:
    accounts = FakeAccounts(sessions={"t": Viewer("m", "member")})
    sessions = sessions_with(accounts, FakeRequest())
    assert sessions.viewer_of_cookies({auth.SESSION_COOKIE: sessions.sign("t")}) is None


def test_log_in_opens_a_session_from_the_request_address_and_ends_the_old_one() -> None:
    accounts = FakeAccounts(passwords={"m": ("pw", "marketer"), "x": ("pw", "member")})
    request = FakeRequest()
    sessions = sessions_with(accounts, request)
    first = sessions.log_in("m", "pw")
    assert isinstance(first, Opened) and first.viewer == Viewer("m", "marketer")
    assert accounts.addresses == ["10.1.2.3"]
    request.cookies[auth.SESSION_COOKIE] = sessions.sign(first.token)
    second = sessions.log_in("m", "pw")
    assert isinstance(second, Opened)
    assert list(accounts.sessions) == [second.token]
    assert sessions.log_in("m", "bad") == Refused()
    assert sessions.log_in("", "pw") == Refused()
    # A role the dashboards do not know gets no session, not even a dangling one.
    assert sessions.log_in("x", "pw") == Refused()
    assert list(accounts.sessions) == [second.token]


def test_log_out_ends_the_session_on_the_server() -> None:
    accounts = FakeAccounts(sessions={"t": Viewer("alice", "admin")})
    request = FakeRequest()
    sessions = sessions_with(accounts, request)
    request.cookies[auth.SESSION_COOKIE] = sessions.sign("t")
    assert sessions.current() is not None
    sessions.log_out()
    assert accounts.sessions == {}
    assert sessions.current() is None


def test_a_throttled_login_says_how_many_minutes_to_wait() -> None:
    accounts = FakeAccounts(throttled=61)
    assert sessions_with(accounts, FakeRequest()).log_in("m", "pw") == Refused(retry_after=61)
    assert Refused(retry_after=61).minutes() == 2
    assert Refused(retry_after=1).minutes() == 1
    assert Refused(retry_after=900).minutes() == 15


def test_the_cookie_is_http_only_same_site_and_secure_behind_https() -> None:
    plain = sessions_with(FakeAccounts(), FakeRequest())
    options = plain.cookie_options()
    assert options["httponly"] and options["samesite"] == "Lax" and not options["secure"]
    assert options["path"] == "/dashboards" and options["max_age"] == auth.SESSION_SECONDS
    assert "Secure" not in plain.expired_cookie()
    secure = sessions_with(FakeAccounts(), FakeRequest(), secure=True)
    assert secure.cookie_options()["secure"]
    assert secure.expired_cookie().endswith("; Secure")
    assert "Max-Age=0" in secure.expired_cookie()


def test_only_finance_and_admin_see_personal_data() -> None:
    assert not Viewer("a", "marketer").sees_personal_data
    assert Viewer("b", "finance").sees_personal_data
    assert Viewer("c", "admin").sees_personal_data


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
