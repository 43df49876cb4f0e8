"""清分结算 Clearing: one cleared business day for finance, at the company, district or
outlet level: its status (open or closed, by whom, why), the headline figures, lines per
institution × channel × business type (adjustment lines name the closed day they belong
to), net positions, fund-transfer instructions, points liability by institution and the
channels' control-total mismatches. Read from the warehouse's clearing tables
(`warehouse.clearing`), which give the same figures as the API's day report.

Finance and admin only: the page's roles are declared with the others in
`dashboards.app.PAGES`, and the gate refuses the page and its callbacks to anyone else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from common import settlement
from common.clock import SHANGHAI
from dashboards import components, i18n, saved_views
from dashboards.auth import Viewer
from dashboards.components import Column, GridRequest
from dashboards.context import Context, current
from dashboards.exports import Exports
from dashboards.i18n import Lang, parse_lang, t
from dashboards.urls import View
from warehouse import clearing
from warehouse.queries import Filters

PREFIX = "clearing"
LEVELS = settlement.LEVELS
DEFAULT_LEVEL = "outlet"

LINE_COLUMNS = (
    Column("institution", "col.institution", "text", width=170),
    Column("channel_name", "col.channel", "text", width=110),
    Column("business_type_name", "col.business_type", "text", width=120),
    Column("adjustment", "col.adjustment", "text", width=150),
    Column("sales", "col.sales", "count", width=100),
    Column("gross_fen", "col.gross", "money", width=130),
    Column("refunds", "col.refunds", "count", width=100),
    Column("refunds_fen", "col.refunds_amount", "money", width=130),
    Column("net_fen", "col.net", "money", width=130),
    Column("points_issued", "col.points_issued", "points", width=110),
    Column("points_reversed", "col.points_reversed", "points", width=110),
    Column("points_redeemed", "col.points_redeemed", "points", width=110),
    Column("points_expired", "col.points_expired", "points", width=110),
    Column("points_adjusted", "col.points_adjusted", "points", width=110),
)
POSITION_COLUMNS = (
    Column("institution", "col.institution", "text", width=190),
    Column("institution_code", "col.code", "text", width=130),
    Column("money_fen", "col.money_position", "money", width=140),
    Column("points_cost_fen", "col.points_cost", "money", width=140),
    Column("net_fen", "col.net_position", "money", width=140),
    Column("direction", "col.direction", "text", width=100),
)
TRANSFER_COLUMNS = (
    Column("payer_name", "col.payer", "text", width=190),
    Column("payer", "col.payer_code", "text", width=130),
    Column("payee_name", "col.payee", "text", width=190),
    Column("payee", "col.payee_code", "text", width=130),
    Column("amount_fen", "col.amount", "money", width=150),
)
LIABILITY_COLUMNS = (
    Column("institution", "col.institution", "text", width=190),
    Column("institution_code", "col.code", "text", width=130),
    Column("points", "col.points", "points", width=140),
    Column("fen", "col.liability_value", "money", width=150),
)
MISMATCH_COLUMNS = (
    Column("status", "col.status", "label:mismatch", width=100),
    Column("channel_name", "col.channel", "text", width=110),
    Column("institution", "col.institution", "text", width=160),
    Column("reported_sales", "col.reported_sales", "count", width=110),
    Column("reported_fen", "col.reported_amount", "money", width=130),
    Column("cleared_sales", "col.cleared_sales", "count", width=110),
    Column("cleared_fen", "col.cleared_amount", "money", width=130),
    Column("missing_ids", "col.missing", "text", width=200),
    Column("extra_ids", "col.extra", "text", width=200),
)
GRIDS = ("lines", "positions", "transfers", "liability", "mismatches")
# A channel that sent no control total: shown, but behind the real disagreements.
UNREPORTED_ROW = {"row-secondary": "params.data && params.data.reported_sales === '—'"}


@dataclass(frozen=True)
class ClearingView(View):
    """The page's state: the business day (None before any day was cleared), the level
    of the institution tree and the language. Its filters span the one day, so CSV files
    are named after it."""

    day: date | None = None
    level: str = DEFAULT_LEVEL

    def query(self) -> dict[str, str]:
        params = {"day": self.day.isoformat()} if self.day else {}
        params["level"] = self.level
        if self.lang == "en":
            params["lang"] = "en"
        return params


def _day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def read_view(query: Mapping[str, Any] | None, latest: date | None, today: date) -> ClearingView:
    """The view a URL (or the page's store) asks for, never failing: without a readable
    day, the latest cleared day; an unknown level is the outlets'."""
    query = query or {}
    day = _day(query.get("day")) or latest
    level = query.get("level")
    shown = day or today
    return ClearingView(
        filters=Filters(start=shown, end=shown),
        lang=parse_lang(query.get("lang")),
        day=day,
        level=level if isinstance(level, str) and level in LEVELS else DEFAULT_LEVEL,
    )


@dataclass(frozen=True)
class _Pages:
    """What the shared grid and download callbacks need (components.PageContext), with
    the page's own store read as a ClearingView."""

    context: Context

    def stored_view(self, data: Mapping[str, Any] | None) -> View:
        return read_view(data, None, self.context.today())

    def viewer(self) -> Viewer | None:
        return self.context.viewer()

    def data_as_of(self) -> datetime | None:
        return self.context.data_as_of()

    @property
    def exports(self) -> Exports:
        return self.context.exports


# -- layout -------------------------------------------------------------------------------


def _moment(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def layout(**query: str) -> html.Div:
    context = current()
    lang = parse_lang(query.get("lang"))
    if not context.ready():
        return components.not_ready(lang)
    reader = context.reader
    view = read_view(query, clearing.latest_day(reader), context.today())
    lang = view.lang
    record = clearing.clearing_day(reader, view.day) if view.day else None
    synced = clearing.synced_at(reader)
    children: list[Any] = [
        html.Div(
            [
                html.H1(t("nav.clearing", lang)),
                html.Span(
                    f"{t('clearing.data_as_of', lang)} {_moment(synced)}",
                    className="period",
                    id=f"{PREFIX}-data-as-of",
                ),
            ],
            className="page-title",
        ),
        controls(view),
        dcc.Store(id=f"{PREFIX}-query", data=view.query()),
    ]
    if record is None:
        children.append(not_cleared(view, clearing.latest_day(reader)))
    else:
        children += [
            status_strip(record, lang),
            components.kpi_row(PREFIX),
            html.Div(grid_cards(view, record), className="grid"),
        ]
    return html.Div(children, className="page", id=f"{PREFIX}-page")


def controls(view: ClearingView) -> html.Div:
    lang = view.lang
    return html.Div(
        [
            html.Div(
                [
                    html.Label(t("clearing.day", lang), htmlFor=f"{PREFIX}-day"),
                    dcc.DatePickerSingle(
                        id=f"{PREFIX}-day",
                        date=view.day.isoformat() if view.day else None,
                        display_format="YYYY-MM-DD",
                        first_day_of_week=1,
                        clearable=False,
                    ),
                ],
                className="filter filter-day",
            ),
            html.Div(
                [
                    html.Label(t("clearing.level", lang), htmlFor=f"{PREFIX}-level"),
                    dcc.RadioItems(
                        id=f"{PREFIX}-level",
                        options=[{"label": t(f"level.{lv}", lang), "value": lv} for lv in LEVELS],
                        value=view.level,
                        inline=True,
                        className="presets",
                        inputClassName="preset-input",
                        labelClassName="preset-label",
                    ),
                ],
                className="filter filter-presets",
            ),
            saved_views.bar(PREFIX, lang),
        ],
        className="filter-bar",
        id=f"{PREFIX}-filter-bar",
    )


def status_strip(record: clearing.ClearingDay, lang: Lang) -> html.Div:
    """Open or closed, the last run, who closed it and why."""
    closed = record.status == "closed"
    parts: list[Any] = [
        html.Span(
            t(f"clearing.status.{record.status}", lang),
            className=f"status-badge status-{record.status}",
            id=f"{PREFIX}-status",
        ),
        html.Span(
            t("clearing.run", lang).format(
                runs=record.runs, run_at=_moment(record.run_at), run_by=record.run_by
            ),
            className="status-item",
        ),
    ]
    if closed:
        parts.append(
            html.Span(
                t("clearing.closed", lang).format(
                    closed_at=_moment(record.closed_at), closed_by=record.closed_by or "—"
                ),
                className="status-item",
                id=f"{PREFIX}-closed-by",
            )
        )
    else:
        parts.append(html.Span(t("clearing.open_note", lang), className="status-item"))
    if record.close_reason:
        parts.append(
            html.Div(
                [
                    html.Span(t("clearing.reason", lang), className="status-reason-label"),
                    html.Span(record.close_reason, id=f"{PREFIX}-close-reason"),
                ],
                className="status-reason",
            )
        )
    return html.Div(parts, className="status-strip", id=f"{PREFIX}-status-strip")


def not_cleared(view: ClearingView, latest: date | None) -> html.Section:
    lang = view.lang
    if view.day is None:
        title = t("clearing.none", lang)
        links: list[Any] = []
    else:
        title = t("clearing.not_run", lang).format(day=view.day.isoformat())
        links = []
        if latest is not None:
            params = {"day": latest.isoformat(), "level": view.level}
            if lang == "en":
                params["lang"] = "en"
            links = [
                dcc.Link(
                    t("clearing.latest", lang).format(day=latest.isoformat()),
                    href=f"?{urlencode(params)}",
                    id=f"{PREFIX}-latest-link",
                )
            ]
    return html.Section(
        [html.H2(title), html.P(t("clearing.not_run_body", lang)), *links],
        className="card clearing-empty",
        id=f"{PREFIX}-not-cleared",
    )


def grid_cards(view: ClearingView, record: clearing.ClearingDay) -> list[Any]:
    lang = view.lang

    def grid(name: str, title: str, columns: tuple[Column, ...], **options: Any) -> Any:
        return components.grid_card(
            PREFIX, name, title, lang, columns, download=True, height=360, **options
        )

    liability_note = html.Div(
        t("clearing.liability_note", lang).format(fen_per_point=record.fen_per_point),
        className="table-note",
    )
    return [
        grid("lines", "block.clearing_lines", LINE_COLUMNS),
        grid("positions", "block.clearing_positions", POSITION_COLUMNS),
        grid("transfers", "block.clearing_transfers", TRANSFER_COLUMNS),
        grid("liability", "block.clearing_liability", LIABILITY_COLUMNS, note=liability_note),
        grid(
            "mismatches",
            "block.clearing_mismatches",
            MISMATCH_COLUMNS,
            row_class_rules=UNREPORTED_ROW,
            note=html.Div(id=f"{PREFIX}-mismatch-note", className="table-note"),
        ),
    ]


# -- figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Names:
    """Institution, channel and business-type names in the viewer's language."""

    institutions: dict[str, str]
    channels: dict[str, str]
    business_types: dict[str, str]

    def institution(self, code: object) -> str:
        return self.institutions.get(str(code), str(code))


def names(context: Context, lang: Lang) -> Names:
    def named(frame: pd.DataFrame) -> dict[str, str]:
        return {
            str(r["code"]): i18n.name_of(r["name"], r["name_en"], lang, r["code"])
            for _, r in frame.iterrows()
        }

    reader = context.reader
    return Names(
        institutions=named(reader.query("SELECT code, name, name_en FROM dim_institution", {})),
        channels=named(reader.query("SELECT code, name, name_en FROM dim_channel", {})),
        business_types=named(reader.query("SELECT code, name, name_en FROM dim_business_type", {})),
    )


def table(context: Context, view: ClearingView, name: str) -> pd.DataFrame:
    """One of the day's tables at the view's level, with names in the view's language."""
    reader, day, level, lang = context.reader, view.day, view.level, view.lang
    if day is None:
        return pd.DataFrame()
    known = names(context, lang)
    if name == "lines":
        frame = clearing.lines(reader, day, level)
        adjustment = t("clearing.adjustment", lang)
        return frame.assign(
            institution=[known.institution(c) for c in frame["institution_code"]],
            channel_name=[known.channels.get(str(c), str(c)) for c in frame["channel"]],
            business_type_name=[
                known.business_types.get(str(c), str(c)) for c in frame["business_type"]
            ],
            adjustment=[
                None if d is None else f"{adjustment} {d.isoformat()}"
                for d in frame["original_date"]
            ],
        )
    if name == "positions":
        frame = clearing.positions(reader, day, level)
        return frame.assign(
            institution=[known.institution(c) for c in frame["institution_code"]],
            direction=[
                t("direction.receives" if n > 0 else "direction.pays", lang) if n else "—"
                for n in frame["net_fen"]
            ],
        )
    if name == "transfers":
        frame = clearing.transfers(reader, day, level)
        return frame.assign(
            payer_name=[known.institution(c) for c in frame["payer"]],
            payee_name=[known.institution(c) for c in frame["payee"]],
        )
    if name == "liability":
        frame = clearing.liability(reader, day, level)
        return frame.assign(institution=[known.institution(c) for c in frame["institution_code"]])
    if name == "mismatches":
        frame = clearing.mismatches(reader, day)
        # Real disagreements first, channels that sent nothing after them.
        frame = frame.assign(unreported=frame["status"] == "not reported").sort_values(
            ["unreported", "channel", "institution_code"], kind="stable"
        )
        return frame.assign(
            channel_name=[known.channels.get(str(c), str(c)) for c in frame["channel"]],
            institution=[
                f"{known.institution(c)} {c}" if known.institution(c) != c else str(c)
                for c in frame["institution_code"]
            ],
            missing_ids=[", ".join(ids) for ids in frame["missing"]],
            extra_ids=[", ".join(ids) for ids in frame["extra"]],
        ).reset_index(drop=True)
    raise ValueError(f"no table {name!r}")


def kpi_cards(context: Context, view: ClearingView) -> list[Any]:
    """The day's totals over its lines and whether its positions balance."""
    assert view.day is not None
    lang = view.lang
    lines = clearing.lines(context.reader, view.day, view.level)
    sums = clearing.totals(lines)
    net = clearing.positions(context.reader, view.day, view.level)["net_fen"]
    balanced = int(net.sum()) == 0

    def money(metric: str, key: str, fen: int, note: str | None = None) -> html.Div:
        return components.kpi_card(PREFIX, metric, t(key, lang), i18n.yuan(fen, lang), note=note)

    return [
        components.kpi(PREFIX, "sales", "metric.sales", lang, sums["sales"]),
        money("gross", "metric.gross", sums["gross_fen"]),
        money(
            "net",
            "metric.net",
            sums["net_fen"],
            note=t("metric.refunds_note", lang).format(refunds=f"{sums['refunds']:,}"),
        ),
        components.kpi(
            PREFIX, "issued", "metric.points_issued", lang, sums["points_issued"], kind="points"
        ),
        components.kpi(
            PREFIX,
            "redeemed",
            "metric.points_redeemed",
            lang,
            sums["points_redeemed"],
            kind="points",
        ),
        components.kpi(
            PREFIX, "expired", "metric.points_expired", lang, sums["points_expired"], kind="points"
        ),
        html.Div(
            components.kpi_card(
                PREFIX,
                "balanced",
                t("metric.balanced", lang),
                i18n.Shown(t("yes" if balanced else "no", lang), ""),
                note=t("metric.balanced_note", lang),
            ),
            className=f"kpi-balanced kpi-balanced-{'yes' if balanced else 'no'}",
        ),
    ]


# -- callbacks ------------------------------------------------------------------------------


def register(app: Any, context: Context) -> None:
    pages = _Pages(context)
    query = Input(f"{PREFIX}-query", "data")

    @components.callback(
        app,
        Output("_pages_location", "search", allow_duplicate=True),
        Input(f"{PREFIX}-day", "date"),
        Input(f"{PREFIX}-level", "value"),
        State(f"{PREFIX}-query", "data"),
        prevent_initial_call=True,
    )
    def choose(day: str | None, level: str | None, data: Mapping[str, Any] | None) -> Any:
        """A picked day or level rewrites the URL; the page renders again from it."""
        view = read_view(data, None, context.today())
        chosen = read_view(
            {"day": day, "level": level, "lang": view.lang}, view.day, context.today()
        )
        if (chosen.day, chosen.level) == (view.day, view.level):
            return no_update
        return "?" + urlencode(chosen.query())

    @components.callback(app, Output(f"{PREFIX}-kpis", "children"), query)
    def kpis(data: Mapping[str, Any] | None) -> Any:
        view = read_view(data, None, context.today())
        if view.day is None:
            return components.empty_state(view.lang)
        return kpi_cards(context, view)

    @components.callback(app, Output(f"{PREFIX}-mismatch-note", "children"), query)
    def mismatch_note(data: Mapping[str, Any] | None) -> Any:
        view = read_view(data, None, context.today())
        if view.day is None:
            return ""
        frame = clearing.mismatches(context.reader, view.day)
        unreported = int((frame["status"] == "not reported").sum())
        return t("clearing.mismatch_note", view.lang).format(
            mismatches=len(frame) - unreported, unreported=unreported
        )

    columns = {
        "lines": LINE_COLUMNS,
        "positions": POSITION_COLUMNS,
        "transfers": TRANSFER_COLUMNS,
        "liability": LIABILITY_COLUMNS,
        "mismatches": MISMATCH_COLUMNS,
    }
    for name in GRIDS:
        _register_grid(app, context, pages, name, columns[name])


def _register_grid(
    app: Any, context: Context, pages: _Pages, name: str, columns: tuple[Column, ...]
) -> None:
    def whole(view: View, viewer: Viewer) -> pd.DataFrame:
        del viewer  # no personal data: every role that reaches the page sees the same
        assert isinstance(view, ClearingView)
        return table(context, view, name)

    def page(view: View, request: GridRequest, viewer: Viewer) -> tuple[pd.DataFrame, int]:
        return components.sorted_page(whole(view, viewer), request, columns)

    components.register_grid(app, PREFIX, name, columns, page, pages, load_all=whole)
