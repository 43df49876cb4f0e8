"""Staff login for the dashboards: a signed session cookie, the gate in front of every page
and callback, and what each role may see.

The session is a cookie signed with the server's secret key (itsdangerous, as Flask's own
session cookie is) holding the username and role; nothing else is trusted from the
browser. The gate answers before Dash does: pages redirect anonymous visitors to the
login page, callbacks refuse them with 401, except the few callbacks whose every output
is one the login page itself needs (the form, the page router while it renders the login
page, the header's labels). What an anonymous request claims in its inputs decides
nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
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
# What a browser needs before anyone has logged in: Dash's own scripts, layout and
# callback map, our stylesheet and script (prefixes), and the login and logout pages
# (exact paths; every other path serves the page shell, which only logged-in staff get).
PUBLIC_PREFIXES = (
    "_dash-component-suites/",
    "_dash-layout",
    "_dash-dependencies",
    "_favicon.ico",
    "_reload-hash",
    "assets/",
)
PUBLIC_PAGES = ("login", "login/", "logout")
# Dash Pages' router: it renders whichever page its pathname input names.
ROUTER_OUTPUTS = frozenset({("_pages_content", "children"), ("_pages_store", "data")})
ROUTER_INPUTS = (("_pages_location", "pathname"), ("_pages_location", "search"))
# The pathnames under which the router renders the login page (Dash drops trailing slashes).
LOGIN_PATHNAMES = (LOGIN_PATH, LOGIN_PATH + "/")
Output = tuple[str, str]  # (component id, property)
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


def callback_outputs(callback_id: str) -> list[Output]:
    """The (id, property) outputs Dash's id of a callback names: `a.children`, or
    `..a.children...b.href@<hash>..` for several (the hash marks a duplicate output)."""
    parts = callback_id[2:-2].split("...") if callback_id.startswith("..") else [callback_id]
    found = []
    for part in parts:
        component, _, prop = part.partition("@")[0].rpartition(".")
        found.append((component, prop))
    return found


def anonymous_callbacks(callback_ids: Iterable[str], allowed: Iterable[Output]) -> frozenset[str]:
    """The callbacks (by Dash's id for them) whose every output is in `allowed`."""
    permitted = frozenset(allowed)
    return frozenset(
        callback_id
        for callback_id in callback_ids
        if all(output in permitted for output in callback_outputs(callback_id))
    )


def _entries(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _renders_login_page(body: Mapping[str, Any]) -> bool:
    """Whether the router would render the login page for this request.

    Dash hands the router its input values by position, not by the ids the request
    labels them with, so the inputs must be exactly the router's own and the first (the
    pathname) one of the login page's.
    """
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or len(inputs) != len(ROUTER_INPUTS):
        return False
    for entry, (component, prop) in zip(inputs, ROUTER_INPUTS, strict=True):
        if not isinstance(entry, dict) or (entry.get("id"), entry.get("property")) != (
            component,
            prop,
        ):
            return False
    if body.get("state") not in (None, []):
        return False
    return inputs[0].get("value") in LOGIN_PATHNAMES


def anonymous_may_call(body: object, callbacks: frozenset[str]) -> bool:
    """Whether an anonymous callback request serves the login page.

    Dash runs the callback that `output` names (its id for the callback), so that id
    must be one of `callbacks` (see anonymous_callbacks); the `outputs` list, which
    labels the answer, must name the same outputs. The router is let through only when
    it renders the login page.
    """
    if not isinstance(body, dict):
        return False
    callback_id = body.get("output")
    if not isinstance(callback_id, str) or callback_id not in callbacks:
        return False
    declared = callback_outputs(callback_id)
    labelled = []
    for entry in _entries(body.get("outputs")):
        if not isinstance(entry, dict) or not isinstance(entry.get("property"), str):
            return False
        labelled.append((entry.get("id"), entry["property"].partition("@")[0]))
    if labelled != declared:
        return False
    if any(output in ROUTER_OUTPUTS for output in declared):
        return _renders_login_page(body)
    return True


def is_public(path: str) -> bool:
    """Whether a dashboards path is served to anyone (scripts, styles, login, logout)."""
    rest = path[len(PREFIX) :] if path.startswith(PREFIX) else None
    if rest is None:
        return False
    return rest in PUBLIC_PAGES or any(rest.startswith(prefix) for prefix in PUBLIC_PREFIXES)


def check(
    path: str,
    full_path: str,
    viewer: Callable[[], Viewer | None],
    body: Callable[[], object],
    callbacks: frozenset[str],
) -> Refusal | None:
    """The gate: None lets the request through to Dash, a Refusal answers instead.

    `viewer` looks the request's session up (not for public paths); `body` reads the
    JSON of a callback request, only for anonymous ones; `callbacks` are those anonymous
    visitors may run. Paths outside the dashboards are not the gate's business.
    """
    root = PREFIX.rstrip("/")
    if path != root and not path.startswith(PREFIX):
        return None
    if is_public(path):
        return None
    if viewer() is not None:
        return None
    if path == CALLBACK_PATH:
        return None if anonymous_may_call(body(), callbacks) else Refusal(401)
    return Refusal(302, login_url(full_path))
