"""Saved views on every page: pick one (the page opens with its filters), save the current
filters under a name (private or shared with colleagues, optionally as a daily or weekly
report to the outbox), delete your own.

The views are kept by the operational database behind `SavedViews` (injected by
memberhub.wiring); the callbacks' ids start with the page's prefix, so the gate lets
only the roles that may open the page run them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from common.errors import DomainError
from dashboards.auth import Viewer
from dashboards.callbacks import callback
from dashboards.i18n import TEXT, Lang, parse_lang, t
from dashboards.urls import VIEW_URL

WEEKDAYS = range(1, 8)


@dataclass(frozen=True)
class SavedView:
    """A saved view as a page shows it; `mine` when the viewer owns it."""

    view_no: str
    name: str
    query: str
    shared: bool
    owner: str
    mine: bool
    cadence: str | None = None
    weekday: int | None = None
    file_format: str = "csv"
    recipients: str = ""


@dataclass(frozen=True)
class ViewForm:
    """What the save form sends (checked by the store, which raises a DomainError
    naming the field it refuses)."""

    page: str
    name: str
    query: str
    shared: bool
    cadence: str | None
    weekday: int | None
    file_format: str
    recipients: str


@dataclass(frozen=True)
class SavedViews:
    """The views' store: listed(viewer, page); save(viewer, form, pages the viewer may
    open); delete(viewer, view_no), which raises a DomainError for a view that is not
    the viewer's to delete."""

    listed: Callable[[Viewer, str], list[SavedView]]
    save: Callable[[Viewer, ViewForm, frozenset[str]], SavedView]
    delete: Callable[[Viewer, str], None]


def _plain(query: str | Mapping[str, Any] | None) -> dict[str, str]:
    """A view's filters without the language, to compare views across languages."""
    pairs = parse_qsl(query.lstrip("?")) if isinstance(query, str) else (query or {}).items()
    return {str(key): str(value) for key, value in pairs if key != "lang" and value}


def search_for(saved: SavedView, lang: Lang) -> str:
    """The URL search that opens `saved` in the viewer's current language."""
    params = _plain(saved.query)
    if lang == "en":
        params["lang"] = "en"
    return "?" + urlencode(params)


def _label(saved: SavedView, lang: Lang) -> str:
    marks = []
    if not saved.mine:
        marks.append(saved.owner)
    elif saved.shared:
        marks.append(t("views.shared_mark", lang))
    if saved.cadence:
        marks.append(t(f"views.cadence.{saved.cadence}", lang))
    return saved.name + (f"（{' · '.join(marks)}）" if marks else "")


def _options(views: Sequence[SavedView], lang: Lang) -> list[dict[str, str]]:
    return [{"label": _label(saved, lang), "value": saved.view_no} for saved in views]


def _current(views: Sequence[SavedView], data: Mapping[str, Any] | None) -> str | None:
    shown = _plain(data)
    return next((saved.view_no for saved in views if _plain(saved.query) == shown), None)


def bar(prefix: str, lang: Lang) -> html.Div:
    """The views control of a page's filter bar."""

    def field(label_key: str, control: Any, name: str, shown_for: str = "") -> html.Div:
        # `shown_for`: a CSS class that shows the field only for a cadence that uses it.
        return html.Div(
            [html.Label(t(label_key, lang), htmlFor=f"{prefix}-views-{name}"), control],
            className=f"views-field {shown_for}".strip(),
        )

    form = html.Div(
        [
            field(
                "views.name",
                dcc.Input(
                    id=f"{prefix}-views-name", type="text", maxLength=60, debounce=False, value=""
                ),
                "name",
            ),
            dcc.Checklist(
                id=f"{prefix}-views-shared",
                options=[{"label": t("views.share", lang), "value": "shared"}],
                value=[],
                className="views-check",
            ),
            field(
                "views.report",
                dcc.RadioItems(
                    id=f"{prefix}-views-cadence",
                    options=[
                        {"label": t("views.cadence.none", lang), "value": "none"},
                        {"label": t("views.cadence.daily", lang), "value": "daily"},
                        {"label": t("views.cadence.weekly", lang), "value": "weekly"},
                    ],
                    value="none",
                    inline=True,
                ),
                "cadence",
            ),
            field(
                "views.weekday",
                dcc.Dropdown(
                    id=f"{prefix}-views-weekday",
                    options=[
                        {"label": t(f"weekday.{day}", lang), "value": day} for day in WEEKDAYS
                    ],
                    value=1,
                    clearable=False,
                    searchable=False,
                ),
                "weekday",
                "for-weekly",
            ),
            field(
                "views.format",
                dcc.RadioItems(
                    id=f"{prefix}-views-format",
                    options=[
                        {"label": "CSV", "value": "csv"},
                        {"label": "Excel", "value": "xlsx"},
                    ],
                    value="csv",
                    inline=True,
                ),
                "format",
                "for-report",
            ),
            field(
                "views.recipients",
                dcc.Input(
                    id=f"{prefix}-views-recipients",
                    type="text",
                    placeholder="name@example.com, …",
                    value="",
                ),
                "recipients",
                "for-report",
            ),
            html.Div(id=f"{prefix}-views-error", className="views-error", role="alert"),
            html.Button(
                t("views.save", lang), id=f"{prefix}-views-save", n_clicks=0, className="primary"
            ),
        ],
        className="views-form",
    )
    return html.Div(
        [
            html.Label(t("views.title", lang), htmlFor=f"{prefix}-views"),
            html.Div(
                [
                    dcc.Dropdown(
                        id=f"{prefix}-views",
                        options=[],
                        placeholder=t("views.pick", lang),
                        searchable=False,
                        clearable=True,
                        className="views-pick",
                    ),
                    html.Details(
                        [html.Summary(t("views.save_open", lang)), form],
                        id=f"{prefix}-views-details",
                        className="views-details",
                    ),
                    html.Button(
                        t("views.delete", lang),
                        id=f"{prefix}-views-delete",
                        n_clicks=0,
                        className="views-delete",
                    ),
                ],
                className="views-row",
            ),
            html.Div(id=f"{prefix}-views-status", className="views-status", role="status"),
        ],
        className="filter views-bar",
        id=f"{prefix}-views-bar",
    )


def _refusal(error: DomainError, lang: Lang) -> str:
    fields = [problem.field for problem in error.errors]
    known = [t(f"views.error.{name}", lang) for name in fields if f"views.error.{name}" in TEXT]
    return "；".join(known) if known else error.detail


def register(
    app: Any,
    prefix: str,
    store: SavedViews | None,
    viewer: Callable[[], Viewer | None],
    pages_for: Callable[[str], frozenset[str]],
) -> None:
    """The views callbacks of the page `prefix`; without a store the bar stays empty.
    `pages_for(role)` names the pages a role may open (a view is saved only for those)."""
    query = State(f"{prefix}-query", "data")
    views, status = f"{prefix}-views", f"{prefix}-views-status"

    def who() -> Viewer:
        found = viewer()
        if found is None or store is None:
            raise PreventUpdate
        return found

    def lang_of(data: Mapping[str, Any] | None) -> Lang:
        return parse_lang((data or {}).get("lang"))

    @callback(
        app,
        Output(views, "options"),
        Output(views, "value"),
        Input(f"{prefix}-query", "data"),
    )
    def listing(data: Mapping[str, Any] | None) -> tuple[Any, Any]:
        seen = who()
        assert store is not None
        found = store.listed(seen, prefix)
        return _options(found, lang_of(data)), _current(found, data)

    @callback(
        app,
        Output(VIEW_URL, "search", allow_duplicate=True),
        Output(status, "children", allow_duplicate=True),
        Input(views, "value"),
        query,
        prevent_initial_call=True,
    )
    def pick(view_no: str | None, data: Mapping[str, Any] | None) -> tuple[Any, Any]:
        seen = who()
        assert store is not None
        chosen = next((v for v in store.listed(seen, prefix) if v.view_no == view_no), None)
        if chosen is None or _plain(chosen.query) == _plain(data):
            return no_update, no_update
        return search_for(chosen, lang_of(data)), ""

    @callback(
        app,
        Output(status, "children", allow_duplicate=True),
        Output(f"{prefix}-views-error", "children"),
        Output(f"{prefix}-views-details", "open"),
        Output(views, "options", allow_duplicate=True),
        Output(views, "value", allow_duplicate=True),
        Input(f"{prefix}-views-save", "n_clicks"),
        State(f"{prefix}-views-name", "value"),
        State(f"{prefix}-views-shared", "value"),
        State(f"{prefix}-views-cadence", "value"),
        State(f"{prefix}-views-weekday", "value"),
        State(f"{prefix}-views-format", "value"),
        State(f"{prefix}-views-recipients", "value"),
        query,
        prevent_initial_call=True,
    )
    def save(
        clicks: int | None,
        name: str | None,
        shared: list[str] | None,
        cadence: str | None,
        weekday: int | None,
        file_format: str | None,
        recipients: str | None,
        data: Mapping[str, Any] | None,
    ) -> tuple[Any, Any, Any, Any, Any]:
        """Saved: the panel closes and the status says so; refused: the panel stays open
        with the reason in it."""
        seen = who()
        assert store is not None
        if not clicks:
            raise PreventUpdate
        lang = lang_of(data)
        form = ViewForm(
            page=prefix,
            name=name if isinstance(name, str) else "",
            query=urlencode(_plain(data)),
            shared=isinstance(shared, list) and "shared" in shared,
            cadence=cadence if cadence in ("daily", "weekly") else None,
            weekday=weekday if isinstance(weekday, int) else None,
            file_format=file_format if isinstance(file_format, str) else "csv",
            recipients=recipients if isinstance(recipients, str) else "",
        )
        try:
            saved = store.save(seen, form, pages_for(seen.role))
        except DomainError as error:
            return no_update, _refusal(error, lang), True, no_update, no_update
        found = store.listed(seen, prefix)
        message = t("views.saved", lang).format(name=saved.name)
        return message, "", False, _options(found, lang), saved.view_no

    @callback(
        app,
        Output(status, "children", allow_duplicate=True),
        Output(views, "options", allow_duplicate=True),
        Output(views, "value", allow_duplicate=True),
        Input(f"{prefix}-views-delete", "n_clicks"),
        State(views, "value"),
        query,
        prevent_initial_call=True,
    )
    def delete(
        clicks: int | None, view_no: str | None, data: Mapping[str, Any] | None
    ) -> tuple[Any, Any, Any]:
        seen = who()
        assert store is not None
        lang = lang_of(data)
        if not clicks:
            raise PreventUpdate
        if not view_no:
            return t("views.pick_first", lang), no_update, no_update
        try:
            store.delete(seen, view_no)
        except DomainError:
            return t("views.not_yours", lang), no_update, no_update
        return t("views.deleted", lang), _options(store.listed(seen, prefix), lang), None
