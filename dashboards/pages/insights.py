"""会员洞察 Member insights, from the latest insights run: how many members are scored and
at risk, the value at stake, segments over time, the members at risk (by value at risk),
the lifetime-value distribution and the segments compared. Phone and name are masked
unless the viewer's role allows them."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html, no_update

from dashboards import components, figures, i18n
from dashboards.auth import Viewer
from dashboards.components import Column, GridRequest
from dashboards.context import Context, current
from dashboards.i18n import Lang
from dashboards.pages.members import MEMBER_COLUMNS, with_segment_names
from dashboards.urls import View, to_store
from warehouse import member_scores

PREFIX = "insights"
TITLE_KEY = "nav.insights"
AT_RISK_COLUMNS = (
    *MEMBER_COLUMNS,
    Column("segment", "col.segment", "text"),
    Column("churn_risk", "col.churn_risk", "percent"),
    Column("expected_value_fen", "col.expected_value", "money"),
    Column("value_at_risk_fen", "col.value_at_risk", "money"),
)
AT_RISK_LIMIT = 500
SEGMENT_COLUMNS = (
    Column("name", "col.segment", "name"),
    Column("members", "metric.members", "count"),
    Column("avg_r", "col.avg_r", "decimal"),
    Column("avg_f", "col.avg_f", "decimal"),
    Column("avg_m", "col.avg_m", "decimal"),
    Column("avg_churn_risk", "col.avg_churn_risk", "percent"),
    Column("avg_expected_value_fen", "col.avg_expected_value", "money"),
    Column("total_expected_value_fen", "col.total_expected_value", "money"),
)
# The page's cards, each the page's width.
CARDS = ("block.segments_over_time", "block.at_risk", "block.clv", "block.segment_compare")


def layout(**query: str) -> Any:
    if components.follows_in_place():
        return no_update
    context = current()
    view = context.view(query)
    if not context.ready():
        return components.not_ready(view.lang)
    lang = view.lang
    run = member_scores.latest_run(context.reader)
    return html.Div(
        [
            components.page_head(PREFIX, TITLE_KEY, view, context),
            dcc.Store(id=f"{PREFIX}-query", data=to_store(view)),
            *([] if run.empty else [components.kpi_row(PREFIX)]),
            html.Div(insight_cards(run, lang), className="grid"),
        ],
        className="page",
        id=f"{PREFIX}-page",
    )


def insight_cards(run: pd.DataFrame, lang: Lang) -> list[Any]:
    """The cards drawn from the latest insights run; before any run, each says so."""
    if run.empty:
        return [
            components.card(
                i18n.t(title, lang),
                html.P(i18n.t("insights.none", lang), className="empty insights-none"),
                wide=True,
            )
            for title in CARDS
        ]
    latest = run.iloc[0]
    note = html.Div(
        i18n.t("insights.as_of", lang).format(
            as_of=pd.Timestamp(latest["as_of"]).strftime("%Y-%m-%d"),
            version=latest["model_version"],
        )
        + " "
        + i18n.t("insights.at_risk_limit", lang).format(limit=AT_RISK_LIMIT),
        className="table-note",
        id=f"{PREFIX}-as-of",
    )
    return [
        components.chart_card(PREFIX, "segments", "block.segments_over_time", lang, wide=True),
        components.grid_card(
            PREFIX, "atrisk", "block.at_risk", lang, AT_RISK_COLUMNS, download=True, note=note
        ),
        components.chart_card(PREFIX, "clv", "block.clv", lang, wide=True),
        components.table_card(
            PREFIX, "segments", "block.segment_compare", lang, SEGMENT_COLUMNS, wrap_headers=True
        ),
    ]


def kpi_cards(segments: pd.DataFrame, at_risk: pd.DataFrame, lang: Lang) -> list[Any]:
    """Scored members, members at risk (and their share), the value at risk and the
    expected value of every scored member: the latest run's snapshot, no comparison."""
    scored = int(segments["members"].sum())
    risky = len(at_risk)
    share = i18n.percent(risky / scored if scored else None, lang)
    return [
        components.kpi_card(
            PREFIX,
            "scored",
            i18n.t("metric.scored_members", lang),
            i18n.count(scored, lang, "unit.people"),
        ),
        components.kpi_card(
            PREFIX,
            "at-risk",
            i18n.t("metric.members_at_risk", lang),
            i18n.count(risky, lang, "unit.people"),
            note=i18n.t("metric.members_at_risk.share", lang).format(share=share),
        ),
        components.kpi_card(
            PREFIX,
            "value-at-risk",
            i18n.t("col.value_at_risk", lang),
            i18n.money(int(at_risk["value_at_risk_fen"].fillna(0).sum()), lang),
        ),
        components.kpi_card(
            PREFIX,
            "expected-value",
            i18n.t("col.total_expected_value", lang),
            i18n.money(int(segments["total_expected_value_fen"].fillna(0).sum()), lang),
        ),
    ]


def register(app: Any, context: Context) -> None:
    components.register_filters(app, PREFIX, context, title_key=TITLE_KEY)

    def compared(view: View) -> pd.DataFrame:
        frame = member_scores.segment_comparison(context.reader, view.filters)
        return frame.rename(columns={"segment_code": "code"})

    def at_risk(view: View, viewer: Viewer | None, limit: int | None) -> pd.DataFrame:
        frame = member_scores.at_risk_members(
            context.reader,
            view.filters,
            reveal_personal_data=viewer is not None and viewer.sees_personal_data,
            limit=limit,
        )
        return with_segment_names(frame, view.lang)

    @components.callback(
        app, Output(f"{PREFIX}-kpis", "children"), Input(f"{PREFIX}-query", "data")
    )
    def kpis(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return kpi_cards(compared(view), at_risk(view, None, None), view.lang)

    @components.chart_callback(app, context, PREFIX, "segments")
    def segments(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = member_scores.segments_over_time(context.reader, view.filters)
        return figures.segments_over_time(frame, view.lang)

    @components.chart_callback(app, context, PREFIX, "clv")
    def clv(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.clv_histogram(
            member_scores.clv_distribution(context.reader, view.filters), view.lang
        )

    components.register_table(app, PREFIX, "segments", SEGMENT_COLUMNS, compared, context)

    def at_risk_page(view: View, request: GridRequest, viewer: Viewer) -> tuple[pd.DataFrame, int]:
        return components.sorted_page(
            at_risk(view, viewer, AT_RISK_LIMIT), request, AT_RISK_COLUMNS
        )

    def every_member_at_risk(view: View, viewer: Viewer) -> pd.DataFrame:
        # The grid shows the members with the most at stake; the CSV is the whole list,
        # for a retention campaign's mailing.
        return at_risk(view, viewer, limit=None)

    components.register_grid(
        app, PREFIX, "atrisk", AT_RISK_COLUMNS, at_risk_page, context, load_all=every_member_at_risk
    )
