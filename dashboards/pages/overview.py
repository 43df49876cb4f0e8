"""总览 Overview: members, activity, GMV by channel and business type, the points flow, and
every headline against the previous period of the same length."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html, no_update

from dashboards import components, figures
from dashboards.components import Column
from dashboards.context import Context, current
from dashboards.i18n import Lang, t
from dashboards.urls import to_store
from warehouse import queries

PREFIX = "overview"
TITLE_KEY = "nav.overview"
CHANNEL_COLUMNS = (
    Column("name", "col.channel", "name"),
    Column("purchases", "metric.purchases", "count"),
    Column("members", "metric.active_members", "count"),
    Column("gmv_fen", "metric.gmv", "money"),
    Column("previous_gmv_fen", "metric.previous_gmv", "money"),
    Column("gmv_fen", "metric.change", "change:previous_gmv_fen"),
    Column("points_issued", "metric.points_issued", "points"),
)


def layout(**query: str) -> Any:
    if components.follows_in_place():
        return no_update
    context = current()
    view = context.view(query)
    if not context.ready():
        return components.not_ready(view.lang)
    lang = view.lang
    return html.Div(
        [
            components.page_head(PREFIX, TITLE_KEY, view, context),
            dcc.Store(id=f"{PREFIX}-query", data=to_store(view)),
            components.kpi_row(PREFIX),
            html.Div(
                [
                    components.chart_card(PREFIX, "gmv-trend", "block.gmv_trend", lang, wide=True),
                    components.chart_card(
                        PREFIX, "gmv-channel", "block.gmv_by_channel", lang, clickable=True
                    ),
                    components.chart_card(
                        PREFIX, "gmv-business", "block.gmv_by_business_type", lang
                    ),
                    components.chart_card(PREFIX, "active-trend", "block.members_trend", lang),
                    components.chart_card(PREFIX, "points-flow", "block.points_flow", lang),
                    components.table_card(
                        PREFIX, "channels", "block.channel_table", lang, CHANNEL_COLUMNS
                    ),
                ],
                className="grid",
            ),
        ],
        className="page",
        id=f"{PREFIX}-page",
    )


def kpi_cards(totals: pd.DataFrame, liability: pd.DataFrame, lang: Lang, as_of: str) -> list[Any]:
    """The headline cards from `queries.headline_totals` and `queries.points_liability`."""
    now = totals.set_index("period").loc["current"]
    before = totals.set_index("period").loc["previous"]

    def card(metric: str, column: str, key: str, kind: str) -> html.Div:
        return components.kpi(
            PREFIX, metric, key, lang, int(now[column]), int(before[column]), kind=kind
        )

    return [
        card("members", "members", "metric.members", "people"),
        card("new-members", "new_members", "metric.new_members", "people"),
        card("active-members", "active_members", "metric.active_members", "people"),
        card("gmv", "gmv_fen", "metric.gmv", "money"),
        card("points-issued", "points_issued", "metric.points_issued", "points"),
        card("points-redeemed", "points_redeemed", "metric.points_redeemed", "points"),
        card("points-expired", "points_expired", "metric.points_expired", "points"),
        components.kpi(
            PREFIX,
            "points-outstanding",
            "metric.points_outstanding",
            lang,
            int(liability["outstanding"].iloc[0]),
            kind="points",
            note=f"{t('as_of', lang)} {as_of}",
        ),
    ]


def register(app: Any, context: Context) -> None:
    components.register_filters(app, PREFIX, context, title_key=TITLE_KEY)
    components.register_cross_filter(app, PREFIX, "gmv-channel", "channel", context.stored_view)
    query = Input(f"{PREFIX}-query", "data")

    @components.callback(app, Output(f"{PREFIX}-kpis", "children"), query)
    def kpis(data: dict[str, str]) -> list[Any]:
        view = context.stored_view(data)
        as_of = context.today()
        totals = queries.headline_totals(context.reader, view.filters)
        liability = queries.points_liability(context.reader, view.filters, as_of)
        return kpi_cards(totals, liability, view.lang, as_of.isoformat())

    @components.chart_callback(app, context, PREFIX, "gmv-trend", "active-trend")
    def trends(data: dict[str, str]) -> tuple[Any, Any]:
        view = context.stored_view(data)
        daily = queries.daily_sales(context.reader, view.filters)
        return (
            figures.trend_vs_previous(daily, view.lang, "gmv_fen"),
            figures.trend_vs_previous(daily, view.lang, "active_members"),
        )

    @components.chart_callback(app, context, PREFIX, "gmv-channel")
    def by_channel(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = queries.sales_by_channel(context.reader, view.filters)
        return figures.ranked_bars(
            frame, view.lang, code="channel", value="gmv_fen", colors=figures.CHANNEL_COLORS
        )

    @components.chart_callback(app, context, PREFIX, "gmv-business")
    def by_business_type(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = queries.sales_by_business_type(context.reader, view.filters)
        return figures.donut(frame, view.lang, code="business_type", value="gmv_fen")

    @components.chart_callback(app, context, PREFIX, "points-flow")
    def points_flow(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.points_flow(
            queries.points_flow_daily(context.reader, view.filters), view.lang
        )

    components.register_table(
        app,
        PREFIX,
        "channels",
        CHANNEL_COLUMNS,
        lambda view: queries.sales_by_channel(context.reader, view.filters),
        context,
    )
