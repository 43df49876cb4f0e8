"""Staff login for the dashboards: a signed session cookie, the gate in front of every page
and callback, and what each role may see.

The session is a cookie signed with the server's secret key (itsdangerous, as Flask's own
session cookie is) holding the username and role; nothing else is trusted from the
browser. The gate answers before Dash does: pages redirect anonymous visitors to the
login page, callbacks refuse them with 401, except the few the login page itself needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer

from common.masking import sees_personal_data
from dashboards.urls import PREFIX

SESSION_COOKIE = "memberhub_dashboards"
SESSION_SECONDS = 12 * 3600
COOKIE_PATH = PREFIX.rstrip("/")
ROLES = ("marketer", "finance", "admin")
LOGIN_PATH = PREFIX + "login"
LOGOUT_PATH = PREFIX + "logout"
CALLBACK_PATH = PREFIX + "_dash-update-component"
# What a browser needs before anyone has logged in: Dash's own scripts and layout, our
# stylesheet, and the login and logout pages.
PUBLIC = (
    "_dash-component-suites/",
    "_dash-layout",
    "_dash-dependencies",
    "_favicon.ico",
    "_reload-hash",
    "assets/",
    "login",
    "logout",
)
# Callbacks an anonymous visitor may run: those of the login form.
LOGIN_OUTPUTS = frozenset({"login-message"})
Authenticate = Callable[[str, str], str | None]


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str

    @property
    def sees_personal_data(self) -> bool:
        return sees_personal_data(self.role)


class Sessions:
    """Issues and reads the signed session cookie."""

    def __init__(self, secret_key: str, max_age: int = SESSION_SECONDS) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="memberhub.dashboards")
        self.max_age = max_age

    def issue(self, viewer: Viewer) -> str:
        return self._serializer.dumps({"u": viewer.username, "r": viewer.role})

    def read(self, token: str | None) -> Viewer | None:
        """The viewer a cookie names, or None if it is missing, forged, expired or odd."""
        if not token:
            return None
        try:
            data = self._serializer.loads(token, max_age=self.max_age)
        except BadSignature:  # SignatureExpired is a BadSignature too
            return None
        if not isinstance(data, dict):
            return None
        username, role = data.get("u"), data.get("r")
        if not isinstance(username, str) or role not in ROLES:
            return None
        return Viewer(username, str(role))

    def from_cookies(self, cookies: Mapping[str, str]) -> Viewer | None:
        return self.read(cookies.get(SESSION_COOKIE))


def log_in(authenticate: Authenticate, username: str, password: str) -> Viewer | None:
    """The viewer for these credentials, or None; an unknown role never logs in."""
    if not username or not password:
        return None
    role = authenticate(username, password)
    if role not in ROLES:
        return None
    return Viewer(username, str(role))


def login_url(next_path: str | None = None) -> str:
    if not next_path or next_path.rstrip("?") in (LOGIN_PATH, PREFIX, PREFIX.rstrip("/")):
        return LOGIN_PATH
    return f"{LOGIN_PATH}?{urlencode({'next': next_path.rstrip('?')})}"


def safe_next(next_path: str | None) -> str:
    """Where to go after logging in: a dashboard path only, never another site."""
    if (
        next_path
        and next_path.startswith(PREFIX)
        and not next_path.startswith(LOGIN_PATH)
        and "//" not in next_path
        and "\\" not in next_path
    ):
        return next_path
    return PREFIX


@dataclass(frozen=True)
class Refusal:
    """What the gate answers instead of Dash."""

    status: int
    location: str | None = None

    def response(self) -> tuple[Any, int, dict[str, str]]:
        """A (body, status, headers) tuple as a Flask view or before_request returns."""
        if self.location is not None:
            return "", self.status, {"Location": self.location, "Cache-Control": "no-store"}
        body = {"error": "login required", "login": LOGIN_PATH}
        return body, self.status, {"Cache-Control": "no-store"}


def _ids(entries: object) -> set[str]:
    """The component ids of a callback request's outputs or inputs (lists may nest)."""
    found: set[str] = set()
    stack = [entries]
    while stack:
        entry = stack.pop()
        if isinstance(entry, list):
            stack.extend(entry)
        elif isinstance(entry, dict) and isinstance(entry.get("id"), str):
            found.add(entry["id"])
    return found


def _on_login_page(inputs: object) -> bool:
    stack = [inputs]
    while stack:
        entry = stack.pop()
        if isinstance(entry, list):
            stack.extend(entry)
        elif (
            isinstance(entry, dict)
            and entry.get("id") == "_pages_location"
            and entry.get("property") == "pathname"
        ):
            return entry.get("value") == LOGIN_PATH
    return False


def anonymous_may_call(body: object) -> bool:
    """Whether a callback request serves the login page: the login form's own callback,
    or page routing and the header while the login page is open."""
    if not isinstance(body, dict):
        return False
    if _ids(body.get("outputs")) & LOGIN_OUTPUTS:
        return True
    return _on_login_page(body.get("inputs"))


def check(
    path: str, full_path: str, viewer: Viewer | None, body: Callable[[], object]
) -> Refusal | None:
    """The gate: None lets the request through to Dash, a Refusal answers instead.

    `body` reads the JSON of a callback request; it is only called for anonymous ones.
    Paths outside the dashboards are not the gate's business.
    """
    root = PREFIX.rstrip("/")
    if path != root and not path.startswith(PREFIX):
        return None
    rest = path[len(PREFIX) :]
    if any(rest.startswith(public) for public in PUBLIC):
        return None
    if viewer is not None:
        return None
    if path == CALLBACK_PATH:
        return None if anonymous_may_call(body()) else Refusal(401)
    return Refusal(302, login_url(full_path))
