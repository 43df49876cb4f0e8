"""Staff login for the dashboards: server-side sessions behind a signed cookie, the gate in
front of every page and callback, and what each role may see.

A login opens a staff session of kind "dashboards" (the composition root injects the
staff accounts as `StaffAccounts`); the cookie holds that session's token, signed with
the server's secret key (itsdangerous) so a forged cookie costs no database lookup. Every
request looks its session up live, so a logout, a disabled account or a password reset
ends it at once, and the role is the account's current one.

The gate answers before Dash does: pages redirect anonymous visitors to the login page,
callbacks refuse them with 401, except the few callbacks whose every output is one the
login page itself needs (the form, the page router while it renders the login page, the
header's labels). What an anonymous request claims in its inputs decides nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, URLSafeTimedSerializer

from common.codes import STAFF_ROLES
from common.masking import sees_personal_data
from dashboards.urls import PREFIX

SESSION_COOKIE = "memberhub_dashboards"
SESSION_SECONDS = 12 * 3600
COOKIE_PATH = PREFIX.rstrip("/")
ROLES = STAFF_ROLES
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


@dataclass(frozen=True)
class Viewer:
    username: str
    role: str

    @property
    def sees_personal_data(self) -> bool:
        return sees_personal_data(self.role)


@dataclass(frozen=True)
class Opened:
    """A login that succeeded: the new session's token and whose it is."""

    token: str
    viewer: Viewer


@dataclass(frozen=True)
class Refused:
    """A login that failed; `retry_after` seconds when it was throttled."""

    retry_after: int | None = None

    def minutes(self) -> int:
        """The wait in whole minutes, rounded up (never 0: "retry in 0 minutes" lies)."""
        return max(1, math.ceil((self.retry_after or 0) / 60))


@dataclass(frozen=True)
class StaffAccounts:
    """What the dashboards need from the staff accounts (injected by memberhub.wiring).

    log_in(username, password, client_address) opens a dashboards session or refuses;
    viewer_of(token) is the live session's viewer, None for one that ended or expired;
    log_out(token) ends the session at once.
    """

    log_in: Callable[[str, str, str | None], Opened | Refused]
    viewer_of: Callable[[str], Viewer | None]
    log_out: Callable[[str], None]


class Sessions:
    """The session cookie of the current request and the live session behind it.

    `request` returns Dash's request adapter (cookies, remote address, and `context`, a
    per-request namespace): the viewer is looked up once per request and kept there, so
    the gate and the callback it lets through share one lookup.
    """

    _MEMO = "memberhub_dashboards_viewer"

    def __init__(
        self,
        secret_key: str,
        accounts: StaffAccounts,
        request: Callable[[], Any],
        *,
        max_age: int = SESSION_SECONDS,
        secure: bool = False,
    ) -> None:
        self._serializer = URLSafeTimedSerializer(secret_key, salt="memberhub.dashboards")
        self._accounts = accounts
        self._request = request
        self.max_age = max_age
        self.secure = secure

    def sign(self, token: str) -> str:
        """The cookie value carrying a session token."""
        return self._serializer.dumps(token)

    def token_of(self, cookie: str | None) -> str | None:
        """The session token a cookie carries, or None if it is missing, forged or old."""
        if not cookie:
            return None
        try:
            token = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:  # SignatureExpired is a BadSignature too
            return None
        return token if isinstance(token, str) and token else None

    def viewer_of_cookies(self, cookies: Mapping[str, str]) -> Viewer | None:
        """Who a request with these cookies is: a live session's viewer, or None."""
        token = self.token_of(cookies.get(SESSION_COOKIE))
        if token is None:
            return None
        viewer = self._accounts.viewer_of(token)
        return viewer if viewer is not None and viewer.role in ROLES else None

    def current(self) -> Viewer | None:
        """Who sends the current request (looked up once per request)."""
        request = self._request()
        scope = request.context
        cookie = request.cookies.get(SESSION_COOKIE)
        memo = getattr(scope, self._MEMO, None)
        if memo is not None and memo[0] == cookie:
            viewer: Viewer | None = memo[1]
            return viewer
        viewer = self.viewer_of_cookies(request.cookies)
        setattr(scope, self._MEMO, (cookie, viewer))
        return viewer

    def log_in(self, username: str, password: str) -> Opened | Refused:
        """Open a session for these credentials, counted against the request's address.

        A session this browser held before ends, so one browser holds one session.
        """
        if not username or not password:
            return Refused()
        outcome = self._accounts.log_in(username, password, self._request().remote_addr)
        if isinstance(outcome, Refused):
            return outcome
        if outcome.viewer.role not in ROLES:
            self._accounts.log_out(outcome.token)
            return Refused()
        self.log_out()
        return outcome

    def log_out(self) -> None:
        """End the current request's session on the server (nothing if it has none)."""
        request = self._request()
        token = self.token_of(request.cookies.get(SESSION_COOKIE))
        if token is not None:
            self._accounts.log_out(token)
        setattr(request.context, self._MEMO, None)

    def cookie_options(self) -> dict[str, Any]:
        """How the session cookie is set: script-proof, same-site, Secure behind HTTPS."""
        return {
            "max_age": self.max_age,
            "path": COOKIE_PATH,
            "httponly": True,
            "samesite": "Lax",
            "secure": self.secure,
        }

    def expired_cookie(self) -> str:
        """A Set-Cookie header value that removes the session cookie."""
        expired = (
            f"{SESSION_COOKIE}=; Path={COOKIE_PATH}; Max-Age=0; "
            "Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax"
        )
        return expired + "; Secure" if self.secure else expired


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
    field: str | None = None  # of a malformed callback request (400)

    def response(self) -> tuple[Any, int, dict[str, str]]:
        """A (body, status, headers) tuple as a Flask view or before_request returns."""
        if self.location is not None:
            return "", self.status, {"Location": self.location, "Cache-Control": "no-store"}
        if self.status == 400:
            refused = {"error": "malformed callback request", "field": self.field}
            return refused, 400, {"Cache-Control": "no-store"}
        if self.status == 403:
            return {"error": "not open to your role"}, 403, {"Cache-Control": "no-store"}
        body = {"error": "login required", "login": LOGIN_PATH}
        return body, self.status, {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class PageAccess:
    """Who may open a page (declared once, in dashboards.app.PAGES): its path under
    PREFIX ("/clearing"), the prefix of its components' ids ("clearing", so its callbacks
    are known by their outputs) and the roles it is open to."""

    path: str
    prefix: str
    roles: frozenset[str]

    def opened_by(self, pathname: object) -> bool:
        """Whether a URL path renders this page (however its slashes are written)."""
        if not isinstance(pathname, str) or not pathname.startswith(PREFIX.rstrip("/")):
            return False
        segments = [part for part in pathname[len(PREFIX.rstrip("/")) :].split("/") if part]
        own = [part for part in self.path.split("/") if part]
        return [s.lower() for s in segments[: len(own)]] == own if own else not segments

    def runs(self, outputs: Iterable[Output]) -> bool:
        """Whether a callback with these outputs belongs to the page."""
        return any(component.startswith(f"{self.prefix}-") for component, _ in outputs)


def may_open(role: str, path: str, body: Callable[[], object], pages: Iterable[PageAccess]) -> bool:
    """Whether a logged-in viewer of `role` may have this request: a page path, one of a
    page's callbacks (named by their outputs), or the page router rendering a page (by
    the pathname it is handed first, as Dash hands it inputs by position)."""
    closed = [page for page in pages if role not in page.roles]
    if not closed:
        return True
    if path != CALLBACK_PATH:
        return not any(page.opened_by(path) for page in closed)
    request = body()
    if not isinstance(request, dict):
        return True  # not a callback Dash can run
    callback_id = request.get("output")
    if not isinstance(callback_id, str):
        return True
    outputs = callback_outputs(callback_id)
    if any(page.runs(outputs) for page in closed):
        return False
    if any(output in ROUTER_OUTPUTS for output in outputs):
        inputs = request.get("inputs")
        first = inputs[0] if isinstance(inputs, list) and inputs else None
        pathname = first.get("value") if isinstance(first, dict) else None
        return not any(page.opened_by(pathname) for page in closed)
    return True


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


def malformed_callback(body: object, known: frozenset[str]) -> str | None:
    """The field of a callback request that Dash could not use, or None: `output` must
    name a callback of the app, `outputs` a {id, property} or a list of them, `inputs`
    and `state` lists of them."""

    def dependency(entry: object) -> bool:
        return (
            isinstance(entry, dict)
            and isinstance(entry.get("property"), str)
            and (isinstance(entry.get("id"), str | dict))
        )

    def dependencies(value: object) -> bool:
        return isinstance(value, list) and all(
            dependency(entry) or (isinstance(entry, list) and all(map(dependency, entry)))
            for entry in value
        )

    if not isinstance(body, dict):
        return "body"
    if body.get("output") not in known:
        return "output"
    outputs = body.get("outputs")
    if not (dependency(outputs) or dependencies(outputs)):
        return "outputs"
    if not dependencies(body.get("inputs")):
        return "inputs"
    if not dependencies(body.get("state", [])):
        return "state"
    return None


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
    pages: Iterable[PageAccess] = (),
    known: frozenset[str] | None = None,
) -> Refusal | None:
    """The gate: None lets the request through to Dash, a Refusal answers instead.

    `viewer` looks the request's session up (not for public paths); `body` reads the
    JSON of a callback request; `callbacks` are those anonymous visitors may run;
    `pages` says which roles may open which page (403 for the others, pages and
    callbacks alike); `known` are every callback's ids: a signed-in caller's request
    for another, or one Dash could not read, is a 400 naming the field (Dash itself
    would fail with a 500). Paths outside the dashboards are not the gate's business.
    """
    root = PREFIX.rstrip("/")
    if path != root and not path.startswith(PREFIX):
        return None
    if is_public(path):
        return None
    who = viewer()
    if who is not None:
        if path == CALLBACK_PATH and known is not None:
            wrong = malformed_callback(body(), known)
            if wrong is not None:
                return Refusal(400, field=wrong)
        return None if may_open(who.role, path, body, pages) else Refusal(403)
    if path == CALLBACK_PATH:
        return None if anonymous_may_call(body(), callbacks) else Refusal(401)
    return Refusal(302, login_url(full_path))
