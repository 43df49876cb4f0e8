"""The login page: staff username and password; on success a session cookie and the page
the visitor first asked for; too many attempts say how long to wait."""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, callback_context, dcc, html, no_update

from dashboards import auth, components
from dashboards.context import Context
from dashboards.i18n import Lang, parse_lang, t
from dashboards.urls import parse_search

PREFIX = "login"
# What the login form's callback sets: its message and, after a login, the location. The
# gate lets anonymous visitors run it (auth.anonymous_callbacks).
OUTPUTS = (("login-message", "children"), ("_pages_location", "href"))


def layout(**query: str) -> html.Div:
    lang = parse_lang(query.get("lang"))
    return html.Div(
        html.Div(
            [
                html.Div(
                    [
                        html.Span("邮", className="brand-mark large"),
                        html.H1(t("login.title", lang)),
                    ],
                    className="login-head",
                ),
                html.P(t("login.hint", lang), className="login-hint"),
                html.Label(t("login.username", lang), htmlFor="login-username"),
                dcc.Input(
                    id="login-username",
                    type="text",
                    autoComplete="username",
                    autoFocus=True,
                    debounce=False,
                    className="input",
                ),
                html.Label(t("login.password", lang), htmlFor="login-password"),
                dcc.Input(
                    id="login-password",
                    type="password",
                    autoComplete="current-password",
                    className="input",
                    n_submit=0,
                ),
                html.Button(
                    t("login.submit", lang),
                    id="login-submit",
                    type="button",
                    n_clicks=0,
                    className="primary",
                ),
                html.Div(id="login-message", className="login-message", role="alert"),
            ],
            className="login-card",
            id="login-form",
        ),
        className="login-page",
    )


def register(app: Any, context: Context) -> None:
    @components.callback(
        app,
        Output(*OUTPUTS[0]),
        Output(*OUTPUTS[1], allow_duplicate=True),
        Input("login-submit", "n_clicks"),
        Input("login-password", "n_submit"),
        State("login-username", "value"),
        State("login-password", "value"),
        State("_pages_location", "search"),
        prevent_initial_call=True,
    )
    def log_in(
        clicks: int | None,
        submits: int | None,
        username: str | None,
        password: str | None,
        search: str | None,
    ) -> tuple[Any, Any]:
        params = parse_search(search)
        lang = parse_lang(params.get("lang"))
        if not (clicks or submits):
            return no_update, no_update
        if not username or not password:
            return t("login.missing", lang), no_update
        outcome = context.sessions.log_in(username.strip(), password)
        if isinstance(outcome, auth.Refused):
            return refusal_message(outcome, lang), no_update
        callback_context.response.set_cookie(
            auth.SESSION_COOKIE,
            context.sessions.sign(outcome.token),
            **context.sessions.cookie_options(),
        )
        return "", auth.safe_next(params.get("next"))


def refusal_message(refusal: auth.Refused, lang: Lang) -> str:
    """Wrong credentials, or (throttled) how many minutes to wait."""
    if refusal.retry_after is None:
        return t("login.failed", lang)
    minutes = refusal.minutes()
    key = "login.throttled.one" if minutes == 1 else "login.throttled"
    return t(key, lang).format(minutes=minutes)
