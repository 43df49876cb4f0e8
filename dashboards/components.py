"""Building blocks shared by the pages: filter bar, KPI cards, chart and table cards with
CSV download (personal data masked by the viewer's role, formulas neutralised), empty and
loading states.

Component ids are page-prefixed: `<page>-filter-dates`, `<page>-kpi-<metric>-value`,
`<page>-chart-<name>`, `<page>-table-<name>` and its `-download-button`.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

import dash_ag_grid as dag
import pandas as pd
from dash import Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import MissingCallbackContextException, PreventUpdate
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from common.clock import SHANGHAI
from common.masking import mask_name, mask_phone
from dashboards import i18n, saved_views, urls
from dashboards.auth import Viewer
from dashboards.callbacks import Function
from dashboards.callbacks import callback as callback  # pages call components.callback
from dashboards.exports import ChartExport, Exports, TableExport
from dashboards.i18n import FEN_PER_YUAN, Change, Lang, MoneyScale, Shown, t
from dashboards.urls import (
    DEFAULT_DAYS,
    VIEW_URL,
    View,
    apply_filters,
    page_href,
    parse_search,
    to_store,
    typed_range,
)

PRESETS = (7, 30, 90, 365)

# -- filter bar ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Choices:
    """What the filter dropdowns offer: (value, label) pairs in display order; and each
    institution's parent and plain name, for the breadcrumb's path down the tree."""

    institutions: list[tuple[str, str]]
    channels: list[tuple[str, str]]
    campaigns: list[tuple[str, str]]
    institution_parents: dict[str, str | None] = field(default_factory=dict)
    institution_names: dict[str, str] = field(default_factory=dict)


def institution_choices(frame: pd.DataFrame, lang: Lang) -> list[tuple[str, str]]:
    """Institutions in tree order, indented by level so the tree reads in a flat list."""
    return [
        (
            str(row["code"]),
            "\u3000" * int(row["level"])
            + f"{i18n.name_of(row['name'], row['name_en'], lang)} · {row['code']}",
        )
        for _, row in frame.iterrows()
    ]


def named_choices(frame: pd.DataFrame, lang: Lang) -> list[tuple[str, str]]:
    return [
        (str(row["code"]), i18n.name_of(row["name"], row["name_en"], lang))
        for _, row in frame.iterrows()
    ]


def _options(pairs: Sequence[tuple[str, str]], current: str | None) -> list[dict[str, str]]:
    options = [{"value": value, "label": text} for value, text in pairs]
    if current and current not in {value for value, _ in pairs}:
        # An unknown code from a shared URL stays visible instead of silently vanishing.
        options.append({"value": current, "label": current})
    return options


INSTITUTION_MATCHES = 50


def institution_options(
    choices: Choices, current: str | None, search: str | None = None
) -> list[dict[str, str]]:
    """The institution dropdown's options: the company and its districts until the user
    types, then the institutions whose name or code holds the text (at most
    INSTITUTION_MATCHES, in tree order); the chosen one always. A list of every outlet
    would cost each page load a search index over 150 labels and help nobody scroll."""
    parents = choices.institution_parents

    def shallow(code: str) -> bool:
        parent = parents.get(code)
        return parent is None or parents.get(parent) is None

    text = (search or "").strip().casefold()
    if text:
        pairs = [pair for pair in choices.institutions if text in pair[1].casefold()]
        pairs = pairs[:INSTITUTION_MATCHES]
    else:
        pairs = [pair for pair in choices.institutions if shallow(pair[0])]
    if current and current not in {code for code, _ in pairs}:
        pairs += [pair for pair in choices.institutions if pair[0] == current]
    return _options(pairs, current)


def register_filters(
    app: Any,
    prefix: str,
    context: ViewContext,
    *,
    title_key: str | None = None,
    default_days: int = DEFAULT_DAYS,
) -> None:
    """Any change in the filter bar rewrites the URL's query string, so the address bar
    always holds a shareable view, and the page follows the URL: in place when it has a
    `title_key` (its head is page_head; follow_url), else drawn again whole by the
    router. Typing in the institution dropdown asks the server for matching
    institutions."""
    stored_view, choices = context.stored_view, context.choices
    if title_key is not None:
        follow_url(app, prefix, context, title_key=title_key, default_days=default_days)

    @callback(
        app,
        Output(f"{prefix}-filter-inst", "options"),
        Input(f"{prefix}-filter-inst", "search_value"),
        State(f"{prefix}-filter-inst", "value"),
        State(f"{prefix}-query", "data"),
        prevent_initial_call=True,
    )
    def search_institutions(search: str | None, current: str | None, data: Any) -> Any:
        view = stored_view(data)
        return institution_options(choices(view.lang), current, search)

    @callback(
        app,
        Output(VIEW_URL, "search", allow_duplicate=True),
        Input(f"{prefix}-filter-dates", "start_date"),
        Input(f"{prefix}-filter-dates", "end_date"),
        Input(f"{prefix}-filter-preset", "value"),
        Input(f"{prefix}-filter-inst", "value"),
        Input(f"{prefix}-filter-channel", "value"),
        Input(f"{prefix}-filter-campaign", "value"),
        State(f"{prefix}-query", "data"),
        State(f"{prefix}-typed-start", "data"),
        prevent_initial_call=True,
    )
    def apply(
        start: str | None,
        end: str | None,
        preset_days: int | None,
        inst: str | None,
        channel: str | None,
        campaign: str | None,
        data: Mapping[str, Any] | None,
        typed_start: str | None,
    ) -> Any:
        view = stored_view(data)
        if ctx.triggered_id == f"{prefix}-filter-dates":
            start, end = typed_range(view.filters.start, start, end, typed_start)
        changed = apply_filters(
            view,
            preset_days=preset_days if ctx.triggered_id == f"{prefix}-filter-preset" else None,
            start=start,
            end=end,
            inst=inst,
            channel=channel,
            campaign=campaign,
        )
        return no_update if changed == view else changed.search()


def follow_url(
    app: Any,
    prefix: str,
    context: ViewContext,
    *,
    title_key: str,
    default_days: int = DEFAULT_DAYS,
) -> None:
    """The page follows its URL in place. Filters, cross-filter clicks and saved views
    write the query string through VIEW_URL, which changes the address without waking
    Dash Pages' router: drawing the page again whole (every chart and grid mounted
    afresh) took most of a filter change's time. This callback redraws the page's head
    (page_head) and sets its query store, whose callbacks then update the cards. A change
    of language needs the whole page: the shell hands it to the router (see app.py)."""

    @callback(
        app,
        Output(f"{prefix}-head", "children"),
        Output(f"{prefix}-query", "data", allow_duplicate=True),
        Input(VIEW_URL, "search"),
        State(VIEW_URL, "pathname"),
        State(f"{prefix}-query", "data"),
        prevent_initial_call=True,
    )
    def follow(
        search: str | None, pathname: str | None, data: Mapping[str, Any] | None
    ) -> tuple[Any, Any]:
        if data is None or not shows_page(pathname, prefix):
            return no_update, no_update
        shown = context.stored_view(data)
        view = context.view(parse_search(search), default_days)
        if view == shown or view.lang != shown.lang:
            return no_update, no_update
        return page_head(prefix, title_key, view, context).children, to_store(view)


def follows_in_place() -> bool:
    """Whether Dash Pages' router, drawing a page that follows its URL in place, was
    woken by nothing but the query string: a breadcrumb, "today so far" or the back
    button. The page's follow_url callback answers that change; drawing the page again
    as well would do the work twice. The language is never the change: the language
    switch loads a new document. Outside a callback (a scheduled report), False."""
    try:
        return set(ctx.triggered_prop_ids) == {"_pages_location.search"}
    except MissingCallbackContextException:
        return False


def shows_page(pathname: str | None, prefix: str) -> bool:
    """Whether the address `pathname` is the page of `prefix`."""
    here = urls.PREFIX + page_path(prefix).lstrip("/")
    return (pathname or "").rstrip("/") == here.rstrip("/")


def page_head(prefix: str, title_key: str, view: View, context: ViewContext) -> html.Div:
    """The part of a page that shows its view, title and period and the filter bar,
    marked as following the URL in place (follow_url)."""
    return html.Div(
        [
            page_title(prefix, title_key, view, context.data_as_of()),
            filter_bar(prefix, view, context.choices(view.lang), context.today()),
        ],
        id=f"{prefix}-head",
        className="page-head",
        **data_attributes(follows_url="true"),
    )


def filter_bar(prefix: str, view: View, choices: Choices, today: date | None = None) -> html.Div:
    """Dates (typed or picked), the period presets ending on the view's last day, a link
    to today so far (`today`; periods end yesterday by default), and the dropdowns; under
    them the breadcrumb."""
    lang, filters = view.lang, view.filters
    controls: list[Any] = [
        html.Div(
            [
                html.Label(t("filter.dates", lang), htmlFor=f"{prefix}-filter-dates"),
                dcc.DatePickerRange(
                    id=f"{prefix}-filter-dates",
                    start_date=filters.start.isoformat(),
                    end_date=filters.end.isoformat(),
                    display_format="YYYY-MM-DD",
                    # The calendar's names come from assets/datepicker-locale.js.
                    month_format="YYYY年M月" if lang == "zh" else "MMMM YYYY",
                    first_day_of_week=1,
                    minimum_nights=0,
                    clearable=False,
                    # Only once both ends are picked: a half-chosen range is no view.
                    updatemode="bothdates",
                ),
                # The start field's typed text, kept by assets/dates.js (see typed_range).
                dcc.Store(id=f"{prefix}-typed-start"),
            ],
            className="filter filter-dates",
        ),
        html.Div(
            dcc.RadioItems(
                id=f"{prefix}-filter-preset",
                options=[
                    {"label": t(f"filter.preset.{days}", lang), "value": days} for days in PRESETS
                ],
                value=filters.days if filters.days in PRESETS else None,
                inline=True,
                className="presets",
                inputClassName="preset-input",
                labelClassName="preset-label",
            ),
            className="filter filter-presets",
        ),
        *([_today_so_far(prefix, view, today)] if today is not None else []),
        _dropdown(
            prefix, "inst", view, institution_options(choices, filters.inst), filters.inst, "wide"
        ),
        _dropdown(
            prefix, "channel", view, _options(choices.channels, filters.channel), filters.channel
        ),
        _dropdown(
            prefix,
            "campaign",
            view,
            _options(choices.campaigns, filters.campaign),
            filters.campaign,
            "wide",
        ),
        saved_views.bar(prefix, lang),
    ]
    # Phones: the controls fold behind this button, the breadcrumb stays (assets/layout.js).
    toggle = html.Button(
        t("filter.toggle", lang),
        id=f"{prefix}-filter-toggle",
        className="filter-toggle",
        **aria(controls=f"{prefix}-filter-controls", expanded="false"),
    )
    return html.Div(
        [
            toggle,
            html.Div(controls, className="filter-controls", id=f"{prefix}-filter-controls"),
            breadcrumb(prefix, view, choices),
        ],
        className="filter-bar",
        id=f"{prefix}-filter-bar",
    )


def _today_so_far(prefix: str, view: View, today: date) -> html.Div:
    filters = view.filters
    showing = filters.start == filters.end == today
    period = replace(view, filters=replace(filters, start=today, end=today))
    return html.Div(
        dcc.Link(
            t("filter.today", view.lang),
            href=page_href(page_path(prefix), period),
            id=f"{prefix}-filter-today",
            className="preset-today active" if showing else "preset-today",
            title=t("filter.today.note", view.lang),
        ),
        className="filter filter-today",
    )


# The page each dashboard prefix is served at, under urls.PREFIX.
PAGE_PATHS = {"overview": "/"}
CROSS_FILTERS = ("inst", "channel", "campaign")


def page_path(prefix: str) -> str:
    return PAGE_PATHS.get(prefix, f"/{prefix}")


def breadcrumb(prefix: str, view: View, choices: Choices) -> html.Nav:
    """What the view is narrowed to, each part a link: the institution's path down the
    tree (a link to each level above), the channel and the campaign, each with a link
    that clears it; without any, a hint that charts can be clicked to narrow."""
    lang, filters = view.lang, view.filters
    path = page_path(prefix)

    def link(text: str, changed: View, name: str, label: str | None = None) -> dcc.Link:
        return dcc.Link(
            text,
            href=page_href(path, changed),
            className="crumb-link",
            id=f"{prefix}-crumb-{name}",
            title=label or text,
        )

    def without(name: str) -> View:
        return with_filter(view, name, None)

    parts: list[Any] = []
    if filters.inst:
        chain = [filters.inst]
        parents = choices.institution_parents
        while (parent := parents.get(chain[-1])) and parent not in chain and len(chain) < 8:
            chain.append(parent)
        steps: list[Any] = []
        for depth, code in enumerate(reversed(chain)):
            name = choices.institution_names.get(code, code)
            if code == filters.inst:
                steps.append(html.Span(name, className="crumb-current"))
            else:
                steps.append(link(name, with_filter(view, "inst", code), f"inst-{depth}"))
            steps.append(html.Span("›", className="crumb-sep", **aria(hidden="true")))
        parts.append(
            _crumb(
                prefix,
                "inst",
                lang,
                steps[:-1],
                link("×", without("inst"), "clear-inst", t("crumb.clear", lang)),
            )
        )
    labels = {"channel": dict(choices.channels), "campaign": dict(choices.campaigns)}
    for name in ("channel", "campaign"):
        code = getattr(filters, name)
        if code:
            shown = html.Span(labels[name].get(code, code), className="crumb-current")
            clear = link("×", without(name), f"clear-{name}", t("crumb.clear", lang))
            parts.append(_crumb(prefix, name, lang, [shown], clear))
    if not parts:
        parts = [html.Span(t("crumb.hint", lang), className="crumb-hint")]
    return html.Nav(
        parts,
        className="breadcrumb",
        id=f"{prefix}-breadcrumb",
        **aria(label=t("crumb.label", lang)),
    )


def with_filter(view: View, name: str, code: str | None) -> View:
    """The view narrowed to `code` on one of CROSS_FILTERS (None: that filter cleared)."""
    filters = view.filters
    if name == "inst":
        filters = replace(filters, inst=code)
    elif name == "channel":
        filters = replace(filters, channel=code)
    else:
        filters = replace(filters, campaign=code)
    return replace(view, filters=filters)


def aria(**attributes: str) -> dict[str, Any]:
    """ARIA attributes for a Dash html component (aria(label="x") → aria-label="x")."""
    return {f"aria-{name}": value for name, value in attributes.items()}


def data_attributes(**attributes: str) -> dict[str, Any]:
    """data-* attributes for a Dash html component (label_chart → data-label-chart)."""
    return {f"data-{name.replace('_', '-')}": value for name, value in attributes.items()}


def _crumb(prefix: str, name: str, lang: Lang, steps: list[Any], clear: Any) -> html.Span:
    return html.Span(
        [html.Span(f"{t(f'filter.{name}', lang)}:", className="crumb-name"), *steps, clear],
        className="crumb",
        id=f"{prefix}-crumb-{name}-part",
    )


def clicked_code(event: Any) -> str | None:
    """The code a click on a chart names: the point's customdata (bars, slices) or its
    id (treemap nodes); None for anything else, including a forged event."""
    points = event.get("points") if isinstance(event, Mapping) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], Mapping):
        return None
    point = points[0]
    value = point.get("customdata", point.get("id"))
    if isinstance(value, list) and value:
        value = value[0]
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value if value and len(value) <= 64 and value.isprintable() else None


def register_cross_filter(
    app: Any,
    prefix: str,
    chart: str,
    filter_name: str,
    stored_view: Callable[[Mapping[str, Any] | None], View],
) -> None:
    """A click on a point of `<prefix>-chart-<chart>` narrows the page to the code it
    names (`filter_name`: inst, channel or campaign), through the URL like the filter
    bar, so the breadcrumb shows it and the back button undoes it."""
    assert filter_name in CROSS_FILTERS

    @callback(
        app,
        Output(VIEW_URL, "search", allow_duplicate=True),
        Input(f"{prefix}-chart-{chart}", "clickData"),
        State(f"{prefix}-query", "data"),
        prevent_initial_call=True,
    )
    def narrow(event: Any, data: Mapping[str, Any] | None) -> Any:
        code = clicked_code(event)
        view = stored_view(data)
        if code is None or getattr(view.filters, filter_name) == code:
            return no_update
        return with_filter(view, filter_name, code).search()


def _dropdown(
    prefix: str,
    name: str,
    view: View,
    options: list[dict[str, str]],
    current: str | None,
    width: str = "",
) -> html.Div:
    return html.Div(
        [
            html.Label(t(f"filter.{name}", view.lang), htmlFor=f"{prefix}-filter-{name}"),
            dcc.Dropdown(
                id=f"{prefix}-filter-{name}",
                options=options,
                value=current,
                placeholder=t(f"filter.{name}.all", view.lang),
                clearable=True,
                searchable=True,
            ),
        ],
        className=f"filter filter-{name} {width}".strip(),
    )


def page_title(prefix: str, title_key: str, view: View, as_of: datetime | None = None) -> html.Div:
    """The page's name, its period against the previous one, and when the last sync
    published the data it shows (`as_of`)."""
    filters, lang = view.filters, view.lang
    previous = filters.previous()
    synced = "—" if as_of is None else as_of.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return html.Div(
        [
            html.H1(t(title_key, lang)),
            html.Span(
                f"{t('filter.period', lang)} {filters.start:%Y-%m-%d} – {filters.end:%Y-%m-%d}"
                f" · {t('filter.previous', lang)} {previous.start:%Y-%m-%d} – "
                f"{previous.end:%Y-%m-%d}",
                className="period",
                id=f"{prefix}-period",
            ),
            html.Span(
                f"{t('data_as_of', lang)} {synced}",
                className="period data-as-of",
                id=f"{prefix}-data-as-of",
                title="Asia/Shanghai",
            ),
        ],
        className="page-title",
    )


# -- cards --------------------------------------------------------------------------------


def kpi_card(
    prefix: str,
    metric: str,
    label_text: str,
    shown: Shown,
    change: Change | None = None,
    note: str | None = None,
) -> html.Div:
    """One headline number: label, value with unit, change against the previous period."""
    footer: list[Any] = []
    if change is not None:
        footer.append(
            html.Span(
                change.text,
                className=f"delta delta-{change.direction}",
                id=f"{prefix}-kpi-{metric}-change",
            )
        )
    if note:
        footer.append(html.Span(note, className="note"))
    return html.Div(
        [
            html.Div(label_text, className="kpi-label"),
            html.Div(
                [
                    html.Span(
                        shown.number, className="kpi-number", id=f"{prefix}-kpi-{metric}-value"
                    ),
                    html.Span(shown.unit, className="kpi-unit"),
                ],
                className="kpi-value",
            ),
            html.Div(footer, className="kpi-footer"),
        ],
        className="kpi-card",
        id=f"{prefix}-kpi-{metric}",
    )


def kpi(
    prefix: str,
    metric: str,
    label_key: str,
    lang: Lang,
    value: int,
    previous: int | None = None,
    *,
    kind: str = "count",
    note: str | None = None,
) -> html.Div:
    """A KPI card for a number of a given kind (money in fen, points, people, count),
    with its change against `previous` when given."""
    if kind == "money":
        shown = i18n.money(value, lang)
    elif kind == "points":
        shown = i18n.count(value, lang, "unit.points")
    elif kind == "people":
        shown = i18n.count(value, lang, "unit.people")
    else:
        shown = i18n.count(value, lang)
    delta = i18n.change(value, previous, lang) if previous is not None else None
    return kpi_card(prefix, metric, t(label_key, lang), shown, delta, note)


def kpi_row(prefix: str, name: str = "kpis") -> html.Div:
    # No dcc.Loading around the cards, charts and grids: each one was a component of its
    # own that re-rendered on every callback of the page. While a callback fills them,
    # Dash marks them data-dash-is-loading and style.css shows the wait.
    return html.Div(id=f"{prefix}-{name}", className="kpi-row")


def card(title: str, body: Any, *, wide: bool = False, tools: Any = None) -> html.Section:
    header: list[Any] = [html.H2(title)]
    if tools is not None:
        header.append(html.Div(tools, className="card-tools"))
    return html.Section(
        [html.Div(header, className="card-header"), html.Div(body, className="card-body")],
        className="card wide" if wide else "card",
    )


def chart(prefix: str, name: str, *, clickable: bool = False) -> dcc.Graph:
    """A graph that shows a spinner while its callback runs (style.css); `clickable` when
    a click on a point narrows the page (register_cross_filter)."""
    return dcc.Graph(
        id=f"{prefix}-chart-{name}",
        config={
            "displayModeBar": False,
            "displaylogo": False,
            "responsive": True,
            "modeBarButtonsToRemove": ["lasso2d", "select2d"],
        },
        className="chart clickable" if clickable else "chart",
    )


def chart_card(
    prefix: str,
    name: str,
    title_key: str,
    lang: Lang,
    *,
    wide: bool = False,
    clickable: bool = False,
) -> html.Section:
    # The chart's text alternative: its data as a table (assets/layout.js builds it).
    as_table = html.Button(
        t("chart.as_table", lang),
        id=f"{prefix}-as-table-{name}",
        className="chart-table-toggle",
        title=t("chart.as_table.note", lang),
        **aria(pressed="false"),
        **data_attributes(chart=f"{prefix}-chart-{name}", label_chart=t("chart.as_chart", lang)),
    )
    return card(
        t(title_key, lang),
        chart(prefix, name, clickable=clickable),
        wide=wide,
        tools=as_table,
    )


def table_card(
    prefix: str,
    name: str,
    title_key: str,
    lang: Lang,
    columns: Sequence[Column],
    *,
    height: int | None = None,
    wrap_headers: bool = False,
) -> html.Section:
    """A page's table of a few hundred rows at most as a grid holding every row:
    the browser sorts, filters and pages them (`register_table` sends them with the
    page's other data), every row downloadable as CSV or Excel. Without a `height` the
    grid is as tall as its page of rows. `wrap_headers` lets long headers wrap over
    narrow columns (the grid then measures them: it costs a little time)."""
    filters = column_filters(columns)
    grid = _ag_grid(
        f"{prefix}-grid-{name}",
        [_client_column(c, lang, filters) for c in columns],
        lang,
        height,
        "clientSide",
        {"paginationPageSize": SMALL_GRID_PAGE if height is None else GRID_PAGE},
        wrap_headers=wrap_headers,
    )
    tools = download_tools(f"{prefix}-grid-{name}", lang)
    return card(t(title_key, lang), grid, wide=True, tools=tools)


def column_filters(columns: Sequence[Column]) -> dict[str, str]:
    """Each column's filter in a grid holding its rows: number for amounts, text for
    what reads as text (names, codes, labels, dates); none for changes or personal data."""
    filters: dict[str, str] = {}
    for column in columns:
        if column.personal or column.kind.startswith("change:"):
            continue
        filters[column.key] = "number" if column.kind in CSV_NUMBERS else "text"
    return filters


def empty_state(lang: Lang) -> html.Div:
    return html.Div(t("empty", lang), className="empty")


def not_ready(lang: Lang) -> html.Div:
    """Shown instead of a page until the first warehouse sync has run."""
    return html.Div(
        [html.H1(t("not_ready.title", lang)), html.P(t("not_ready.body", lang))],
        className="page not-ready",
        id="warehouse-not-ready",
    )


# -- tables ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One table column: the frame column it shows, its header, how to show values.

    kinds: text; name (the row's name/name_en); label:<family> (a code's label, e.g.
    label:tier); money (fen); points; count; percent; hours; date; bool; change:<column>
    (this column against <column>); link:<column> (text linking to the href in <column>);
    decimal (one decimal place).
    `personal` ("phone" or "name") marks personal data, masked for roles that may not
    see it. Tables are grids, and a grid shows money in 元 (its header says so).
    """

    key: str
    header: str
    kind: str = "text"
    personal: str | None = None
    # A grid column's fixed width in pixels (grids default to 150).
    width: int | None = None

    @property
    def field(self) -> str:
        """The column's id in a grid: its key, or for a change column the pair it
        compares (a table may show a value and its change side by side)."""
        if self.kind.startswith("change:"):
            return f"{self.key}_vs_{self.kind[7:]}"
        return self.key


# Where a row's code is, for a name without one in the viewer's language.
NAME_CODES = ("code", "channel", "reward_code")
# How each kind of personal data is masked (common.masking: one rule for API and dashboards).
MASKS: dict[str, Callable[[str], str]] = {"phone": mask_phone, "name": mask_name}
# Kinds whose CSV cells are numbers written by us, not text a member could have typed.
CSV_NUMBERS = ("money", "points", "count", "percent", "hours", "decimal")
# What makes a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(text: str) -> str:
    """A text cell a spreadsheet will show as text: one starting like a formula gets a
    leading apostrophe (=HYPERLINK(...) becomes '=HYPERLINK(...))."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def for_viewer(columns: Sequence[Column], frame: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """The frame with its personal columns masked unless the viewer's role sees them.

    Queries already mask for such roles; this is the last step before the rows leave,
    decided by the live session, whatever the query or the client asked for.
    """
    if viewer.sees_personal_data:
        return frame
    masked = frame.copy()
    for column in columns:
        if column.personal and column.key in masked.columns:
            mask = MASKS[column.personal]
            masked[column.key] = [
                value if _missing(value) else mask(str(value)) for value in masked[column.key]
            ]
    return masked


def _missing(value: object) -> bool:
    """None, NaN, NaT or pandas' NA (a LEFT JOIN that found nothing)."""
    if value is None:
        return True
    if isinstance(value, list | tuple | dict):
        return False
    return bool(pd.isna(value))


def cell_text(column: Column, row: pd.Series, lang: Lang, scale: MoneyScale | None) -> str:
    value = row.get(column.key)
    kind = column.kind
    if kind == "name" or (kind.startswith("link:") and column.key == "name"):
        code = next((row[key] for key in NAME_CODES if key in row.index), None)
        return i18n.name_of(row.get("name"), row.get("name_en"), lang, code)
    if kind.startswith("label:"):
        return i18n.label(kind.split(":", 1)[1], None if _missing(value) else value, lang)
    if _missing(value):
        return "—"
    if kind == "money":
        assert scale is not None
        return i18n.money_in(round(float(value)), scale)
    if kind in ("points", "count"):
        return f"{int(value):,}"
    if kind == "percent":
        return i18n.percent(float(value), lang)
    if kind in ("hours", "decimal"):
        return f"{float(value):,.1f}"
    if kind == "date":
        return str(pd.Timestamp(value).strftime("%Y-%m-%d"))
    if kind == "bool":
        return t("yes" if value else "no", lang)
    if kind.startswith("change:"):
        previous = row.get(kind.split(":", 1)[1])
        return i18n.change(int(value), 0 if _missing(previous) else int(previous), lang).text
    return str(value)


ExportValue = str | int | float | Decimal | None


def export_header(column: Column, lang: Lang) -> str:
    """A column's header in a download: the unit of its numbers in brackets."""
    text = t(column.header, lang)
    if column.kind == "money":
        return f"{text} ({t('unit.yuan', lang)})"
    if column.kind == "percent" or column.kind.startswith("change:"):
        return f"{text} (%)"
    return text


def export_value(column: Column, row: pd.Series, lang: Lang) -> ExportValue:
    """One cell of a download: a number for every numeric kind (money in exact 元,
    percentages and changes in percent, None when there is none), text otherwise,
    formula-neutralised."""
    value = row.get(column.key)
    kind = column.kind
    if kind.startswith("change:"):
        previous = row.get(kind.split(":", 1)[1])
        if _missing(value) or _missing(previous) or int(previous) == 0:
            return None  # nothing before: no ratio ("new" on screen)
        return round((int(value) - int(previous)) / abs(int(previous)) * 100, 2)
    if kind in CSV_NUMBERS and _missing(value):
        return None
    if kind == "money":
        return (Decimal(round(float(value))) / FEN_PER_YUAN).quantize(Decimal("0.01"))
    if kind in ("points", "count"):
        return int(value)
    if kind == "percent":
        return round(float(value) * 100, 2)
    if kind in ("hours", "decimal"):
        return round(float(value), 1)
    return neutralise_formula(cell_text(column, row, lang, None))


def csv_cell(column: Column, row: pd.Series, lang: Lang) -> str:
    """One CSV cell: numbers written plainly (a "-" minus, no thousands separator, no
    unit), an empty cell for a missing number, text as shown."""
    value = export_value(column, row, lang)
    if value is None:
        return ""
    if isinstance(value, float):
        in_percent = column.kind == "percent" or column.kind.startswith("change:")
        return f"{value:.2f}" if in_percent else f"{value:.1f}"
    return str(value)


def export_notes(title: str, view: View, as_of: datetime | None) -> list[str]:
    """What a download was made from: the table, the filters, and the data's time."""
    lang, filters = view.lang, view.filters
    chosen = [f"{t('filter.dates', lang)}: {filters.start.isoformat()} – {filters.end.isoformat()}"]
    for name in CROSS_FILTERS:
        value = getattr(filters, name) or t(f"filter.{name}.all", lang)
        chosen.append(f"{t(f'filter.{name}', lang)}: {value}")
    synced = "—" if as_of is None else as_of.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    return [
        title,
        " | ".join(chosen),
        f"{t('data_as_of', lang)}: {synced} (Asia/Shanghai)",
    ]


def csv_text(
    columns: Sequence[Column], frame: pd.DataFrame, lang: Lang, notes: Sequence[str] = ()
) -> str:
    """The table as CSV for spreadsheets: `notes` first as "# " lines, then every row,
    headers in the viewer's language, a BOM so Excel reads UTF-8; no cell a spreadsheet
    would run as a formula."""
    headers = [export_header(column, lang) for column in columns]
    rows = [[csv_cell(column, row, lang) for column in columns] for _, row in frame.iterrows()]
    out = pd.DataFrame(rows, columns=headers)
    comments = "".join(f"# {line}\r\n" for line in notes)
    return "\ufeff" + comments + str(out.to_csv(index=False, lineterminator="\r\n"))


def csv_download(
    columns: Sequence[Column],
    frame: pd.DataFrame,
    lang: Lang,
    filename: str,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """What a dcc.Download expects for the table as a CSV file."""
    # The same dict dcc.send_string builds, without base64: CSV text travels as it is.
    return {
        "content": csv_text(columns, frame, lang, notes),
        "filename": filename,
        "type": "text/csv",
        "base64": False,
    }


XLSX_FORMATS = {
    "money": "#,##0.00",
    "points": "#,##0",
    "count": "#,##0",
    "percent": "0.00",
    "hours": "0.0",
    "decimal": "0.0",
}
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(
    columns: Sequence[Column], frame: pd.DataFrame, lang: Lang, notes: Sequence[str] = ()
) -> bytes:
    """The table as an Excel workbook: a sheet of real numbers (formatted, headers with
    their unit, the header row frozen) and a second sheet with `notes`."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = t("sheet.data", lang)
    sheet.append([export_header(column, lang) for column in columns])
    for _, row in frame.iterrows():
        sheet.append([export_value(column, row, lang) for column in columns])
    for index, column in enumerate(columns, start=1):
        kind = "percent" if column.kind.startswith("change:") else column.kind
        number_format = XLSX_FORMATS.get(kind)
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = max(12, len(export_header(column, lang)) * 2)
        if number_format is not None:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
    sheet.freeze_panes = "A2"
    about = book.create_sheet(t("sheet.about", lang))
    for line in notes:
        about.append([line])
    about.column_dimensions["A"].width = 100
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download_name(page: str, table: str, view: View, extension: str = "csv") -> str:
    """memberhub-<page>-<table>-<from>-<to>[-<institution>][-<channel>][-<campaign>]."""
    filters = view.filters
    parts = [f"memberhub-{page}-{table}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}"]
    for value in (filters.inst, filters.channel, filters.campaign):
        if value:
            parts.append(re.sub(r"[^A-Za-z0-9_-]+", "_", value))
    return "-".join(parts) + f".{extension}"


class PageContext(Protocol):
    """What a table's callbacks need of dashboards.context.Context."""

    def stored_view(self, data: Mapping[str, Any] | None) -> View: ...

    def viewer(self) -> Viewer | None: ...

    def data_as_of(self) -> datetime | None: ...

    @property
    def exports(self) -> Exports: ...


class ViewContext(PageContext, Protocol):
    """What the filter bar and a page following its URL need besides."""

    def view(self, query: Mapping[str, Any], default_days: int = DEFAULT_DAYS) -> View: ...

    def choices(self, lang: Lang) -> Choices: ...

    def today(self) -> date: ...


def chart_callback(
    app: Any, context: PageContext, prefix: str, *names: str
) -> Callable[[Function], Function]:
    """A callback drawing the charts `<prefix>-chart-<name>` from the page's filters
    (its one input, the `<prefix>-query` store), recorded for scheduled reports too."""
    elements = tuple(f"{prefix}-chart-{name}" for name in names)

    def register(draw: Function) -> Function:
        context.exports.add_chart(prefix, ChartExport(elements, draw))
        outputs = [Output(element, "figure") for element in elements]
        return callback(app, *outputs, Input(f"{prefix}-query", "data"))(draw)

    return register


def register_table(
    app: Any,
    prefix: str,
    name: str,
    columns: Sequence[Column],
    load: Callable[[View], pd.DataFrame],
    context: PageContext,
) -> None:
    """The callbacks of a `table_card`: fill its grid with every row when the page's
    filters are known, and send the same rows as CSV or Excel. Both ask the context who
    is asking (the request's live session): nobody gets no rows, and personal columns
    are masked for roles that may not see them."""
    stored_view, viewer = context.stored_view, context.viewer
    element = f"{prefix}-grid-{name}"

    @callback(app, Output(element, "rowData"), Input(f"{prefix}-query", "data"))
    def fill(data: Mapping[str, Any] | None) -> Any:
        who = viewer()
        if who is None:
            raise PreventUpdate
        view = stored_view(data)
        return client_rows(columns, for_viewer(columns, load(view), who), view.lang)

    def rows(view: View, who: Viewer) -> tuple[Sequence[Column], pd.DataFrame]:
        return columns, load(view)

    context.exports.add_table(prefix, TableExport(element, name, stored_view, rows))
    _register_csv_download(
        app,
        prefix,
        element,
        context,
        rows,
        lambda view, extension: download_name(prefix, name, view, extension),
    )


def _register_csv_download(
    app: Any,
    prefix: str,
    element: str,
    context: PageContext,
    rows: Callable[[View, Viewer], tuple[Sequence[Column], pd.DataFrame]],
    filename: Callable[[View, str], str],
) -> None:
    """The download callbacks of a table or grid card: `<element>-download-button` fills
    `<element>-download` with its columns and rows as CSV, `<element>-xlsx-button` fills
    `<element>-xlsx` with the same as an Excel workbook; masked for the viewer's role,
    each naming its filters and the data's time."""
    stored_view, viewer = context.stored_view, context.viewer

    def export(clicks: int | None, data: Mapping[str, Any] | None, extension: str) -> Any:
        # Checked here too, not only by the gate: a file of member data leaves only for
        # a live session, masked by its role.
        who = viewer()
        if who is None:
            raise PreventUpdate  # 204, no file
        if not clicks:
            return no_update
        view = stored_view(data)
        columns, frame = rows(view, who)
        shown = for_viewer(columns, frame, who)
        name = filename(view, extension)
        notes = export_notes(name, view, context.data_as_of())
        if extension == "csv":
            return csv_download(columns, shown, view.lang, name, notes)
        workbook = xlsx_bytes(columns, shown, view.lang, notes)
        return {
            "content": base64.b64encode(workbook).decode("ascii"),
            "filename": name,
            "type": XLSX_TYPE,
            "base64": True,
        }

    for target, extension in (("download", "csv"), ("xlsx", "xlsx")):
        callback(
            app,
            Output(f"{element}-{target}", "data"),
            Input(f"{element}-{target}-button", "n_clicks"),
            State(f"{prefix}-query", "data"),
            prevent_initial_call=True,
        )(partial(export, extension=extension))


def download_tools(element: str, lang: Lang) -> list[Any]:
    """A card's CSV and Excel buttons and their downloads (see _register_csv_download)."""
    return [
        html.Button(
            t("download", lang), id=f"{element}-download-button", className="download", n_clicks=0
        ),
        dcc.Download(id=f"{element}-download"),
        html.Button(
            t("download.xlsx", lang), id=f"{element}-xlsx-button", className="download", n_clicks=0
        ),
        dcc.Download(id=f"{element}-xlsx"),
    ]


# -- grids: holding their rows (tables) or paged, sorted and filtered on the server ------

GRID_PAGE = 50
# A name column's width in pixels (other columns default to 150).
NAME_WIDTH = 220
# A numeric cell's formatted text beside its value, in a grid that holds its rows.
TEXT_SUFFIX = "__text"
# A small table's page: the grid grows to its rows, so a page is kept short.
SMALL_GRID_PAGE = 20
# AG Grid's filter types that a grid request may carry, as warehouse operators.
GRID_TEXT_OPS = {"contains": "contains", "equals": "equals", "startsWith": "starts_with"}
GRID_NUMBER_OPS = {
    "equals": "equals",
    "greaterThan": ">",
    "greaterThanOrEqual": ">=",
    "lessThan": "<",
    "lessThanOrEqual": "<=",
}


@dataclass(frozen=True)
class GridRequest:
    """What an infinite-row-model grid asks for: rows [start, end), sorted by (column,
    descending?) pairs, filtered by (column, operator, value) triples in the units the
    table stores (fen, fractions), with operators of `warehouse.member_scores`."""

    start: int
    end: int
    sort: tuple[tuple[str, bool], ...]
    conditions: tuple[tuple[str, str, str | float], ...]


def _grid_scale(column: Column) -> float:
    """What a typed filter number is multiplied by: 元 → fen, percent → fraction."""
    return 100.0 if column.kind == "money" else 0.01 if column.kind == "percent" else 1.0


def grid_request(request: Mapping[str, Any], columns: Sequence[Column]) -> GridRequest:
    """A grid's getRowsRequest read strictly: only the grid's own columns that are not
    personal data, only the operators above; anything else is left out rather than
    passed on."""
    by_key = {column.field: column for column in columns if not column.personal}
    if not isinstance(request, Mapping):
        request = {}
    sort_model = request.get("sortModel")
    filter_model = request.get("filterModel")
    start = max(0, _row_number(request.get("startRow"), 0))
    end = max(start + 1, min(_row_number(request.get("endRow"), start + GRID_PAGE), start + 500))
    sort = tuple(
        (str(item["colId"]), item.get("sort") == "desc")
        for item in (sort_model if isinstance(sort_model, list) else [])
        if isinstance(item, Mapping) and item.get("colId") in by_key
    )
    conditions: list[tuple[str, str, str | float]] = []
    for key, model in (filter_model if isinstance(filter_model, Mapping) else {}).items():
        if key not in by_key or not isinstance(model, Mapping):
            continue
        parts = model.get("conditions") if model.get("operator") == "AND" else [model]
        for part in parts if isinstance(parts, list) else []:
            if isinstance(part, Mapping):
                conditions.extend(_grid_condition(by_key[key], part))
    return GridRequest(start, end, sort, tuple(conditions))


def _row_number(value: Any, default: int) -> int:
    """A row index from a request, `default` for anything that is not a whole number (a
    forged request must not fail the callback)."""
    try:
        return int(value) if value is not None and not isinstance(value, bool) else default
    except (TypeError, ValueError, OverflowError):
        return default


def _grid_condition(column: Column, part: Mapping[str, Any]) -> list[tuple[str, str, str | float]]:
    kind, value = part.get("type"), part.get("filter")
    if value is None or value == "":
        return []
    if part.get("filterType") == "text":
        op = GRID_TEXT_OPS.get(str(kind))
        return [(column.key, op, str(value))] if op else []
    scale = _grid_scale(column)
    try:
        number = float(value) * scale
        if kind == "inRange":
            high = float(part["filterTo"]) * scale
            return [(column.key, ">=", number), (column.key, "<=", high)]
    except (KeyError, TypeError, ValueError):
        return []
    op = GRID_NUMBER_OPS.get(str(kind))
    return [(column.key, op, number)] if op else []


def grid_rows(columns: Sequence[Column], frame: pd.DataFrame, lang: Lang) -> list[dict[str, str]]:
    """Rows as the grid shows them: every cell formatted as in tables, money in 元."""
    scale = i18n.money_scale(0, lang)
    return [_shown_row(columns, row, lang, scale) for _, row in frame.iterrows()]


def _shown_row(
    columns: Sequence[Column], row: pd.Series, lang: Lang, scale: MoneyScale
) -> dict[str, str]:
    """One row's cells as shown (money in `scale`), and a link's href as `<field>_href`."""
    cells = {
        c.field: cell_text(c, row, lang, scale if c.kind == "money" else None) for c in columns
    }
    for column in columns:
        if column.kind.startswith("link:"):
            cells[f"{column.field}_href"] = str(row[column.kind[5:]])
    return cells


def _grid_column(column: Column, lang: Lang, filters: Mapping[str, str]) -> dict[str, Any]:
    header = t(column.header, lang)
    if column.kind == "money":
        header = f"{header} ({t('unit.yuan', lang)})"
    elif column.kind == "percent":
        header = f"{header} (%)"
    definition: dict[str, Any] = {"field": column.field, "headerName": header, "sortable": True}
    kind = filters.get(column.key)
    if kind == "text":
        definition["filter"] = "agTextColumnFilter"
        definition["filterParams"] = {"filterOptions": list(GRID_TEXT_OPS), "maxNumConditions": 1}
    elif kind == "number":
        definition["filter"] = "agNumberColumnFilter"
        definition["filterParams"] = {
            "filterOptions": [*GRID_NUMBER_OPS, "inRange"],
            "maxNumConditions": 1,
        }
    else:
        definition["filter"] = False
    if column.personal:
        # Personal data is neither sorted nor searched: a masked viewer could otherwise
        # learn it by probing.
        definition["sortable"] = False
    if column.kind in CSV_NUMBERS or column.kind.startswith("change:"):
        definition["type"] = "rightAligned"
    if column.kind.startswith("change:"):
        # Coloured as in tables: i18n.change writes a rise with "+", a fall with "−".
        definition["cellClassRules"] = {
            "delta-up": "params.value && params.value.startsWith('+')",
            "delta-down": "params.value && params.value.startsWith('\u2212')",
        }
    if column.kind.startswith("link:"):
        # A link within the app (assets/grid-links.js): the row's `<field>_href`.
        definition["cellRenderer"] = "PageLink"
    if column.width is not None:
        definition["width"] = column.width
    elif column.kind == "name" or column.kind.startswith("link:"):
        definition["width"] = NAME_WIDTH
    return definition


def _ag_grid(
    grid_id: str,
    column_defs: list[dict[str, Any]],
    lang: Lang,
    height: int | None,
    row_model: str,
    options: Mapping[str, Any],
    *,
    wrap_headers: bool = False,
) -> dag.AgGrid:
    """An AG Grid as every card shows one: paged, its first column pinned, fixed column
    widths, the pager and filter menus in the viewer's language; as tall as its page of
    rows without a `height`. `row_model`: clientSide (it holds every row) or infinite (it
    asks the server for each page); `options`: more of AG Grid's grid options."""
    if column_defs:
        # The first column (what the row is) stays in place while a narrow screen scrolls.
        column_defs[0] = {**column_defs[0], "pinned": "left"}
    return dag.AgGrid(
        id=grid_id,
        columnDefs=column_defs,
        # Fixed widths, not flex: flex columns stay hidden (ag-delay-render) until the
        # grid measures a width, which a grid laid out late on a busy machine never did.
        defaultColDef={
            "resizable": True,
            "minWidth": 90,
            "width": 150,
            **({"wrapHeaderText": True, "autoHeaderHeight": True} if wrap_headers else {}),
        },
        dashGridOptions={
            "pagination": True,
            "paginationPageSizeSelector": False,
            "localeText": grid_words(lang),
            **({"domLayout": "autoHeight"} if height is None else {}),
            **options,
        },
        rowModelType=row_model,
        style={"width": "100%", **({"height": f"{height}px"} if height is not None else {})},
        className="ag-theme-alpine",
    )


def _client_column(column: Column, lang: Lang, filters: Mapping[str, str]) -> dict[str, Any]:
    """A column of a grid holding its rows: it sorts and filters the values of
    `client_rows` (numbers in the header's unit) and shows their formatted text."""
    definition = _grid_column(column, lang, filters)
    if column.kind in CSV_NUMBERS or column.kind.startswith("change:"):
        definition["valueFormatter"] = {"function": f"params.data.{column.field}{TEXT_SUFFIX}"}
    if column.kind.startswith("change:"):
        # The value is the change in percent here, not its text.
        definition["cellClassRules"] = {
            "delta-up": "params.value > 0",
            "delta-down": "params.value < 0",
        }
    return definition


def client_rows(
    columns: Sequence[Column], frame: pd.DataFrame, lang: Lang
) -> list[dict[str, ExportValue]]:
    """Every row for a grid that holds them: each numeric cell as a number in the unit
    its header names (元, %, as downloads write them) with its formatted text beside it
    (`<field>__text`); other cells as the text shown; a link's href as `<field>_href`."""
    scale = i18n.money_scale(0, lang)
    rows: list[dict[str, ExportValue]] = []
    for _, row in frame.iterrows():
        text = _shown_row(columns, row, lang, scale)
        cells: dict[str, ExportValue] = dict(text)
        for column in columns:
            if column.kind in CSV_NUMBERS or column.kind.startswith("change:"):
                value = export_value(column, row, lang)
                cells[column.field] = float(value) if isinstance(value, Decimal) else value
                cells[column.field + TEXT_SUFFIX] = text[column.field]
        rows.append(cells)
    return rows


# AG Grid's words (its localeText keys) and ours for them.
GRID_WORDS = {
    "noRowsToShow": "empty.rows",
    "page": "grid.page",
    "of": "grid.of",
    "to": "grid.to",
    "firstPage": "grid.first",
    "previousPage": "grid.previous",
    "nextPage": "grid.next",
    "lastPage": "grid.last",
    "loadingOoo": "grid.loading",
    "filterOoo": "grid.filter",
    "contains": "grid.contains",
    "equals": "grid.equals",
    "startsWith": "grid.starts_with",
    "greaterThan": "grid.greater_than",
    "greaterThanOrEqual": "grid.greater_or_equal",
    "lessThan": "grid.less_than",
    "lessThanOrEqual": "grid.less_or_equal",
    "inRange": "grid.in_range",
    "inRangeStart": "grid.from",
    "inRangeEnd": "grid.until",
}


def grid_words(lang: Lang) -> dict[str, str]:
    """A grid's pager and filter menus in the viewer's language."""
    return {key: t(word, lang) for key, word in GRID_WORDS.items()}


def grid_card(
    prefix: str,
    name: str,
    title_key: str,
    lang: Lang,
    columns: Sequence[Column],
    *,
    filters: Mapping[str, str] | None = None,
    download: bool = False,
    note: Any = None,
    row_class_rules: Mapping[str, str] | None = None,
    height: int = 460,
) -> html.Section:
    """A card with an AG Grid on the infinite row model: the browser asks for a page of
    rows at a time (`<prefix>-grid-<name>`), the server sorts, filters and pages.
    `row_class_rules` gives rows a CSS class by an expression over the shown row (`data`)."""
    grid = _ag_grid(
        f"{prefix}-grid-{name}",
        [_grid_column(c, lang, filters or {}) for c in columns],
        lang,
        height,
        "infinite",
        {
            "paginationPageSize": GRID_PAGE,
            "cacheBlockSize": GRID_PAGE,
            "maxBlocksInCache": 4,
            "rowBuffer": 0,
            **({"rowClassRules": dict(row_class_rules)} if row_class_rules else {}),
        },
    )
    tools = download_tools(f"{prefix}-grid-{name}", lang) if download else None
    body = [note, grid] if note is not None else [grid]
    return card(t(title_key, lang), body, wide=True, tools=tools)


def sorted_page(
    frame: pd.DataFrame, request: GridRequest, columns: Sequence[Column]
) -> tuple[pd.DataFrame, int]:
    """A page of a small frame held whole (the at-risk list, a cleared day's tables),
    sorted and filtered as asked by the grid; a change column sorts by the relative
    change, and text filters ignore case as the warehouse's do."""
    by_field = {column.field: column for column in columns if not column.personal}
    for key, op, value in request.conditions:
        if key in frame.columns:
            frame = frame[_matches(frame[key], op, value)]
    order = [
        (by_field[field], descending) for field, descending in request.sort if field in by_field
    ]
    if order:
        keys = pd.DataFrame(
            {
                f"sort{index}": _sort_values(frame, column)
                for index, (column, _) in enumerate(order)
            },
            index=frame.index,
        )
        ranked = keys.sort_values(
            list(keys.columns),
            ascending=[not descending for _, descending in order],
            na_position="last",
            kind="stable",
        )
        frame = frame.loc[ranked.index]
    return frame.iloc[request.start : request.end], len(frame)


def _matches(values: pd.Series, op: str, wanted: str | float) -> pd.Series:
    if isinstance(wanted, str):
        text, needle = values.astype("string").str.lower(), wanted.lower()
        if op == "contains":
            return text.str.contains(needle, regex=False).fillna(False)
        if op == "starts_with":
            return text.str.startswith(needle).fillna(False)
        return (text == needle).fillna(False)
    numbers = pd.to_numeric(values, errors="coerce")
    compare = {
        "equals": numbers.eq,
        ">": numbers.gt,
        ">=": numbers.ge,
        "<": numbers.lt,
        "<=": numbers.le,
    }
    return compare[op](wanted).fillna(False)


def _sort_values(frame: pd.DataFrame, column: Column) -> pd.Series:
    if column.kind.startswith("change:"):
        current = frame[column.key].astype("float64")
        previous = frame[column.kind[7:]].astype("float64")
        # Nothing before and something now ("new") ranks above any finite rise.
        ratio = (current - previous) / previous.abs()
        return ratio.where(previous != 0, (current > 0).map({True: float("inf"), False: 0.0}))
    if column.kind == "name" and "name" in frame.columns:
        return frame["name"]
    return frame[column.key]


def register_grid(
    app: Any,
    prefix: str,
    name: str,
    columns: Sequence[Column],
    load_page: Callable[[View, GridRequest, Viewer], tuple[pd.DataFrame, int]],
    context: PageContext,
    *,
    load_all: Callable[[View, Viewer], pd.DataFrame] | None = None,
) -> None:
    """The callbacks of a grid card: answer each page request, and (with `load_all`)
    send every row as CSV. Both ask for the live session and mask personal columns by
    its role (`for_viewer`), as tables do."""
    stored_view, viewer = context.stored_view, context.viewer

    @callback(
        app,
        Output(f"{prefix}-grid-{name}", "getRowsResponse"),
        Input(f"{prefix}-grid-{name}", "getRowsRequest"),
        State(f"{prefix}-query", "data"),
    )
    def rows(request: Mapping[str, Any] | None, data: Mapping[str, Any] | None) -> Any:
        who = viewer()
        if who is None or not request:
            raise PreventUpdate
        view = stored_view(data)
        frame, total = load_page(view, grid_request(request, columns), who)
        shown = for_viewer(columns, frame, who)
        return {"rowData": grid_rows(columns, shown, view.lang), "rowCount": total}

    if load_all is not None:
        element = f"{prefix}-grid-{name}"

        def every_row(view: View, who: Viewer) -> tuple[Sequence[Column], pd.DataFrame]:
            return columns, load_all(view, who)

        context.exports.add_table(prefix, TableExport(element, name, stored_view, every_row))
        _register_csv_download(
            app,
            prefix,
            element,
            context,
            every_row,
            lambda view, extension: download_name(prefix, name, view, extension),
        )
