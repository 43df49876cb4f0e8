"""Mounts the Dash Pages app on the API's Flask server under /dashboards/: the shell (header,
navigation, language switch, logout), the pages, the login gate and the logout route."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import dash
from dash import Dash, Input, Output, State, dcc, html

from common.clock import today as business_today
from dashboards import auth, components, saved_views
from dashboards.context import Context, current, install
from dashboards.i18n import Lang, parse_lang, t
from dashboards.pages import (
    campaigns,
    channels,
    clearing,
    insights,
    login,
    members,
    overview,
    points,
)
from dashboards.reports import ReportRequest, WrittenReport, write_report
from dashboards.urls import PREFIX, VIEW_URL, parse_search
from warehouse import queries

EVERY_ROLE = frozenset(auth.ROLES)
FINANCE = frozenset({"finance", "admin"})
# (page module, path under PREFIX, nav label key, roles that may open it); the order is
# the navigation's. The one place a page's access is declared: the gate refuses a page
# and its callbacks to other roles (auth.may_open), and the navigation leaves it out.
PAGES = (
    (overview, "/", "nav.overview", EVERY_ROLE),
    (campaigns, "/campaigns", "nav.campaigns", EVERY_ROLE),
    (channels, "/channels", "nav.channels", EVERY_ROLE),
    (members, "/members", "nav.members", EVERY_ROLE),
    (insights, "/insights", "nav.insights", EVERY_ROLE),
    (points, "/points", "nav.points", EVERY_ROLE),
    (clearing, "/clearing", "nav.clearing", FINANCE),
)
PRODUCT_TITLE = "会员中心 Member Hub"
INDEX = """<!DOCTYPE html>
<html lang="zh-CN">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def mount(
    flask_app: Any,
    *,
    reader: queries.Reader,
    accounts: auth.StaffAccounts,
    secret_key: str,
    session_seconds: int = auth.SESSION_SECONDS,
    secure_cookie: bool = False,
    today: Callable[[], date] = business_today,
    fen_per_point: int = 1,
    views: saved_views.SavedViews | None = None,
) -> Dash:
    """Serve the dashboards from `flask_app` under /dashboards/.

    `reader` answers the metric queries (a read-only warehouse reader); `accounts` opens,
    looks up and ends staff sessions; `secure_cookie` marks the session cookie Secure
    (behind HTTPS); `fen_per_point` prices the points a campaign gave; `views` keeps the
    staff's saved views (without it the views control stays empty). One mounted app per
    process: Dash Pages keeps a single page registry.
    """
    app = Dash(
        "dashboards",
        server=flask_app,
        url_base_pathname=PREFIX,
        use_pages=True,
        pages_folder="",
        assets_folder=str(Path(__file__).parent / "assets"),
        title=PRODUCT_TITLE,
        update_title="",
        # Pages are rendered on demand, so their components are not in the first layout.
        suppress_callback_exceptions=True,
        serve_locally=True,
    )
    sessions = auth.Sessions(
        secret_key,
        accounts,
        app.backend.request_adapter,
        max_age=session_seconds,
        secure=secure_cookie,
    )
    context = Context(reader, sessions, today, fen_per_point)
    install(context)
    app.index_string = INDEX
    register_page: Any = dash.register_page  # not annotated
    for order, (page, path, key, _) in enumerate(PAGES):
        register_page(
            page.__name__,
            path=path,
            name=t(key, "zh"),
            title=f"{t(key, 'zh')} · {PRODUCT_TITLE}",
            layout=page.layout,
            order=order,
        )
    register_page(
        login.__name__,
        path="/login",
        name=t("login.submit", "zh"),
        title=f"{t('login.submit', 'zh')} · {PRODUCT_TITLE}",
        layout=login.layout,
        order=len(PAGES),
    )
    app.layout = shell
    _register_shell(app, context)
    _hand_address_to_router(app)
    for page, _, _, _ in PAGES:
        page.register(app, context)
        saved_views.register(app, page.PREFIX, views, context.viewer, pages_for)
    login.register(app, context)
    _finish_setup_now(flask_app)
    # Dash has its callback map (the page router included) only once set up.
    public = auth.anonymous_callbacks(app.callback_map, anonymous_outputs())
    _install_gate(flask_app, app, sessions, public)
    flask_app.add_url_rule(auth.LOGOUT_PATH, "dashboards_logout", _logout(sessions))
    return app


def pages_for(role: str) -> frozenset[str]:
    """The pages (by their prefix) a role may open, as PAGES declares."""
    return frozenset(page.PREFIX for page, _, _, roles in PAGES if role in roles)


def report_page(request: ReportRequest, run_day: date, outbox: Path) -> WrittenReport | None:
    """Write a scheduled report of the mounted dashboards' page `request.page`, as its
    owner may see it; None when the owner's role may no longer open that page."""
    if request.page not in pages_for(request.owner.role):
        return None
    page = next(page for page, _, _, _ in PAGES if request.page == page.PREFIX)
    context = current()
    return write_report(
        context.exports, page.layout, request, run_day, outbox, context.data_as_of()
    )


def _finish_setup_now(flask_app: Any) -> None:
    """Dash completes its setup (script registry, callback map, pages router) in
    before_request hooks on the first request, and marks it done before doing it: under
    threaded workers a second early request finds it half done (a 500 on a script, a page
    that never renders). Run the hooks once now, before the server takes requests."""
    with flask_app.test_request_context(PREFIX + "_dash-layout"):
        flask_app.preprocess_request()


def shell() -> html.Div:
    """The frame around every page; its labels follow the URL (see _register_shell)."""
    return html.Div(
        [
            html.Header(
                [
                    html.A(
                        [
                            html.Span("邮", className="brand-mark"),
                            html.Span(t("product", "zh"), id="header-product"),
                            html.Span(
                                t("product", "en"), id="header-product-other", className="brand-en"
                            ),
                        ],
                        href=PREFIX,
                        className="brand",
                        id="header-brand",
                    ),
                    # Phones: the navigation folds behind this button (assets/layout.js).
                    html.Button(
                        "☰",
                        id="nav-toggle",
                        className="nav-toggle",
                        title=t("nav.menu", "zh"),
                        **components.aria(
                            controls="nav", expanded="false", label=t("nav.menu", "zh")
                        ),
                    ),
                    html.Nav(
                        [
                            dcc.Link(
                                t(key, "zh"),
                                href=PREFIX + path.lstrip("/"),
                                id=f"nav-{page.PREFIX}",
                                className="nav-link",
                            )
                            for page, path, key, _ in PAGES
                        ],
                        className="nav",
                        id="nav",
                    ),
                    html.Div(
                        [
                            html.Span(id="header-user", className="user"),
                            # A whole new document: within one, a page's language never
                            # changes (components.follows_in_place relies on it).
                            html.A(
                                t("lang.switch", "zh"),
                                href=PREFIX + "?lang=en",
                                id="lang-switch",
                                className="lang-switch",
                            ),
                            html.A(
                                t("logout", "zh"),
                                href=auth.LOGOUT_PATH,
                                id="logout-link",
                                className="logout",
                            ),
                        ],
                        className="header-tools",
                        id="header-tools",
                    ),
                ],
                # Navigation shows once the header callback has seen a session.
                className="app-header anonymous",
                id="app-header",
            ),
            # Filters write the address through this one; see components.follow_url.
            dcc.Location(id=VIEW_URL, refresh=False),
            html.Main(dash.page_container, className="app-main"),
        ],
        className="app",
    )


def header_state(
    pathname: str | None, search: str | None, viewer: auth.Viewer | None
) -> dict[str, Any]:
    """Labels and links of the header for a URL: nav links keep the query string, the
    language switch flips `lang`, the current page is marked."""
    params = parse_search(search)
    lang: Lang = parse_lang(params.get("lang"))
    flipped = dict(params)
    if lang == "en":
        flipped.pop("lang", None)
    else:
        flipped["lang"] = "en"
    query = "?" + urlencode(params) if params else ""
    flipped_query = "?" + urlencode(flipped) if flipped else ""
    here = (pathname or PREFIX).rstrip("/") + "/"
    nav = []
    for page, path, key, roles in PAGES:
        target = PREFIX + path.lstrip("/")
        active = here == target or (path != "/" and here.startswith(target.rstrip("/") + "/"))
        shown = "nav-link active" if active else "nav-link"
        nav.append(
            {
                "label": t(key, lang),
                "href": target + query,
                # A page the viewer may not open is not offered.
                "class": shown if may_see(viewer, roles) else "nav-link hidden",
                "page": page.PREFIX,
            }
        )
    role = t(f"role.{viewer.role}", lang) if viewer else ""
    return {
        "product": t("product", lang),
        # The brand also names itself in the other language, as the printed signs do.
        "product_other": t("product", "zh" if lang == "en" else "en"),
        "home_href": PREFIX + query,
        "nav": nav,
        "lang_label": t("lang.switch", lang),
        "lang_href": (pathname or PREFIX) + flipped_query,
        "logout": t("logout", lang),
        "menu": t("nav.menu", lang),
        "user": f"{viewer.username} · {role}" if viewer else "",
        "header_class": "app-header" if viewer else "app-header anonymous",
    }


def may_see(viewer: auth.Viewer | None, roles: frozenset[str]) -> bool:
    """Whether the navigation offers a page: pages open to every role always (the header
    is hidden until someone logs in), the others to their roles."""
    return roles == EVERY_ROLE or (viewer is not None and viewer.role in roles)


def header_outputs() -> list[tuple[str, str]]:
    """What the header callback sets: labels and links, and the viewer's name (empty for
    an anonymous visitor, so the login page may run it)."""
    outputs = [
        ("header-product", "children"),
        ("header-product-other", "children"),
        ("header-brand", "href"),
        ("lang-switch", "children"),
        ("lang-switch", "href"),
        ("logout-link", "children"),
        ("header-user", "children"),
        ("app-header", "className"),
        ("nav-toggle", "title"),
    ]
    for page, _, _, _ in PAGES:
        outputs += [
            (f"nav-{page.PREFIX}", "children"),
            (f"nav-{page.PREFIX}", "href"),
            (f"nav-{page.PREFIX}", "className"),
        ]
    return outputs


def anonymous_outputs() -> frozenset[tuple[str, str]]:
    """Every output a callback may have and still run for an anonymous visitor: what the
    login page needs, none of it data. The router is among them, but the gate lets it
    render the login page only."""
    return frozenset([*login.OUTPUTS, *auth.ROUTER_OUTPUTS, *header_outputs()])


def _register_shell(app: Dash, context: Context) -> None:
    @components.callback(
        app,
        *(Output(component, prop) for component, prop in header_outputs()),
        Input("_pages_location", "pathname"),
        # The address as it is: filters change it past the router (components.follow_url).
        Input(VIEW_URL, "search"),
    )
    def update_header(pathname: str | None, search: str | None) -> tuple[Any, ...]:
        state = header_state(pathname, search, context.viewer())
        links: list[Any] = []
        for item in state["nav"]:
            links += [item["label"], item["href"], item["class"]]
        return (
            state["product"],
            state["product_other"],
            state["home_href"],
            state["lang_label"],
            state["lang_href"],
            state["logout"],
            state["user"],
            state["header_class"],
            state["menu"],
            *links,
        )


def _hand_address_to_router(app: Dash) -> None:
    """Filters, cross-filter clicks and saved views change the address through VIEW_URL,
    which Dash Pages' router does not hear. A page that follows the URL in place (its
    head marked data-follows-url, components.follow_url) needs nothing more, but any
    other page (or a change of language, which the filters never make) must be drawn
    again by the router: this sets its location's search, unless it has that address
    already (a link or the back button told it)."""
    register: Any = app.clientside_callback  # not annotated
    register(
        """
        function (search, routerSearch) {
            var noUpdate = window.dash_clientside.no_update;
            if ((search || "") === (routerSearch || "")) { return noUpdate; }
            var lang = function (query) {
                return new URLSearchParams(query || "").get("lang") === "en" ? "en" : "zh";
            };
            var inPlace = document.querySelector("[data-follows-url]");
            return inPlace && lang(search) === lang(routerSearch) ? noUpdate : search || "";
        }
        """,
        Output("_pages_location", "search", allow_duplicate=True),
        Input(VIEW_URL, "search"),
        State("_pages_location", "search"),
        prevent_initial_call=True,
    )


def page_access() -> tuple[auth.PageAccess, ...]:
    """The pages not open to every role, as the gate checks them."""
    return tuple(
        auth.PageAccess(path, page.PREFIX, roles)
        for page, path, _, roles in PAGES
        if roles != EVERY_ROLE
    )


def _install_gate(
    flask_app: Any, app: Dash, sessions: auth.Sessions, public: frozenset[str]
) -> None:
    pages = page_access()
    known = frozenset(app.callback_map)

    def gate() -> Any:
        request = app.backend.request_adapter()
        path = request.path
        if not path.startswith(PREFIX.rstrip("/")):
            return None

        def body() -> object:
            if not request.is_json:
                return None
            return cast(object, request.get_json())  # type: ignore[no-untyped-call]

        refusal = auth.check(path, request.full_path, sessions.current, body, public, pages, known)
        return None if refusal is None else refusal.response()

    flask_app.before_request(gate)


def _logout(sessions: auth.Sessions) -> Callable[[], tuple[str, int, list[tuple[str, str]]]]:
    def log_out() -> tuple[str, int, list[tuple[str, str]]]:
        # The session ends on the server first: a copy of the cookie is worth nothing after.
        sessions.log_out()
        return (
            "",
            302,
            [
                ("Location", auth.LOGIN_PATH),
                ("Set-Cookie", sessions.expired_cookie()),
                ("Cache-Control", "no-store"),
            ],
        )

    return log_out
