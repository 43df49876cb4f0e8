"""会员 Members: new members, tier distribution, monthly cohort retention, purchase
frequency, members by channel mix, and the top members (phone and name masked unless the
viewer's role allows them)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html

from dashboards import components, figures, i18n
from dashboards.components import Column
from dashboards.context import Context, current
from dashboards.i18n import Lang
from dashboards.urls import to_store
from warehouse import queries

PREFIX = "members"
TOP_COLUMNS = (
    Column("member_no", "col.member_no", "text"),
    Column("name", "col.name", "text", personal="name"),
    Column("phone", "col.phone", "text", personal="phone"),
    Column("tier", "col.tier", "label:tier"),
    Column("purchases", "metric.purchases", "count"),
    Column("gmv_fen", "metric.gmv", "money"),
    Column("points_issued", "metric.points_issued", "points"),
    Column("last_day", "metric.last_day", "date"),
)
TIER_ORDER = ("regular", "silver", "gold", "diamond")
MIX_COLORS = {"online_only": "#2F6DB5", "offline_only": "#F2A900", "both": "#007A4D"}


def layout(**query: str) -> html.Div:
    context = current()
    view = context.view(query)
    if not context.ready():
        return components.not_ready(view.lang)
    lang = view.lang
    return html.Div(
        [
            components.page_title(PREFIX, "nav.members", view),
            components.filter_bar(PREFIX, view, context.choices(lang)),
            dcc.Store(id=f"{PREFIX}-query", data=to_store(view)),
            components.kpi_row(PREFIX),
            html.Div(
                [
                    components.chart_card(PREFIX, "new", "block.new_members", lang, wide=True),
                    components.chart_card(PREFIX, "tiers", "block.tiers", lang),
                    components.chart_card(PREFIX, "mix", "block.channel_mix", lang),
                    components.chart_card(PREFIX, "cohorts", "block.cohorts", lang, wide=True),
                    components.chart_card(PREFIX, "frequency", "block.frequency", lang, wide=True),
                    components.table_card(PREFIX, "top", "block.top_members", lang),
                ],
                className="grid",
            ),
        ],
        className="page",
        id=f"{PREFIX}-page",
    )


def kpi_cards(totals: pd.DataFrame, lang: Lang) -> list[Any]:
    now = totals.set_index("period").loc["current"]
    before = totals.set_index("period").loc["previous"]

    def card(metric: str, column: str, key: str) -> html.Div:
        return components.kpi(
            PREFIX, metric, key, lang, int(now[column]), int(before[column]), kind="people"
        )

    active = int(now["active_members"])
    return [
        card("members", "members", "metric.members"),
        card("new-members", "new_members", "metric.new_members"),
        card("active-members", "active_members", "metric.active_members"),
        card("repeat-buyers", "repeat_buyers", "metric.repeat_buyers"),
        components.kpi_card(
            PREFIX,
            "repeat-rate",
            i18n.t("metric.repeat_rate", lang),
            i18n.Shown(
                i18n.percent(int(now["repeat_buyers"]) / active if active else None, lang), ""
            ),
        ),
    ]


def tiers_in_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Tiers from regular up to diamond, unknown tiers after them."""
    rank = {tier: position for position, tier in enumerate(TIER_ORDER)}
    return frame.assign(order=[rank.get(str(t), len(rank)) for t in frame["tier"]]).sort_values(
        ["order", "tier"]
    )


def register(app: Any, context: Context) -> None:
    components.register_filters(app, PREFIX, context.stored_view)
    query = Input(f"{PREFIX}-query", "data")

    @components.callback(app, Output(f"{PREFIX}-kpis", "children"), query)
    def kpis(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return kpi_cards(queries.headline_totals(context.reader, view.filters), view.lang)

    @components.callback(app, Output(f"{PREFIX}-chart-new", "figure"), query)
    def new_members(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        names = {code: name for code, name in context.choices(view.lang).channels}
        frame = queries.new_members_daily(context.reader, view.filters)
        return figures.new_members(frame, names, view.lang)

    @components.callback(app, Output(f"{PREFIX}-chart-tiers", "figure"), query)
    def tiers(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = tiers_in_order(queries.tier_distribution(context.reader, view.filters))
        return figures.donut(
            frame,
            view.lang,
            code="tier",
            value="members",
            label_prefix="tier",
            colors={
                "regular": "#8A8F98",
                "silver": "#2F6DB5",
                "gold": "#F2A900",
                "diamond": "#7B5EA7",
            },
        )

    @components.callback(app, Output(f"{PREFIX}-chart-mix", "figure"), query)
    def mix(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = queries.channel_mix(context.reader, view.filters)
        return figures.donut(
            frame, view.lang, code="mix", value="members", label_prefix="mix", colors=MIX_COLORS
        )

    @components.callback(app, Output(f"{PREFIX}-chart-cohorts", "figure"), query)
    def cohorts(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.cohort_heatmap(
            queries.cohort_retention(context.reader, view.filters), view.lang
        )

    @components.callback(app, Output(f"{PREFIX}-chart-frequency", "figure"), query)
    def frequency(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.purchase_frequency(
            queries.purchase_frequency(context.reader, view.filters), view.lang
        )

    def top(view: Any) -> pd.DataFrame:
        viewer = context.viewer()
        return queries.top_members(
            context.reader,
            view.filters,
            reveal_personal_data=bool(viewer and viewer.sees_personal_data),
        )

    components.register_table(app, PREFIX, "top", TOP_COLUMNS, top, context)
