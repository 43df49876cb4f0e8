"""积分经济 Points economy: issuance by source and by campaign, redemption by reward kind,
breakage, liability by institution, and points expiring in the next 30 / 90 days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html, no_update

from dashboards import components, figures, i18n
from dashboards.components import Column
from dashboards.context import Context, current
from dashboards.i18n import Lang, t
from dashboards.urls import to_store
from warehouse import queries

PREFIX = "points"
TITLE_KEY = "nav.points"
REWARD_COLUMNS = (
    Column("name", "col.reward", "name"),
    Column("kind", "col.kind", "label:kind"),
    Column("redemptions", "metric.redemptions", "count"),
    Column("quantity", "metric.quantity", "count"),
    Column("points_spent", "metric.points_redeemed", "points"),
    Column("cash_fen", "metric.cash", "money"),
)
LIABILITY_COLUMNS = (
    Column("name", "col.institution", "name"),
    Column("code", "col.code", "text"),
    Column("outstanding", "metric.points_outstanding", "points"),
    Column("expiring_30", "metric.expiring_30", "points"),
    Column("expiring_90", "metric.expiring_90", "points"),
)
KIND_COLORS = {
    "goods": "#007A4D",
    "voucher": "#F2A900",
    "bill_credit": "#2F6DB5",
    "partner_miles": "#7B5EA7",
}


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
                    components.chart_card(PREFIX, "flow", "block.points_flow", lang, wide=True),
                    components.chart_card(PREFIX, "source", "block.issuance_source", lang),
                    components.chart_card(
                        PREFIX, "campaigns", "block.issuance_campaign", lang, clickable=True
                    ),
                    components.chart_card(PREFIX, "redemption", "block.redemption_kind", lang),
                    components.chart_card(PREFIX, "liability", "block.liability", lang),
                    components.table_card(PREFIX, "rewards", "block.rewards", lang, REWARD_COLUMNS),
                    components.table_card(
                        PREFIX, "liability", "block.liability", lang, LIABILITY_COLUMNS
                    ),
                ],
                className="grid",
            ),
        ],
        className="page",
        id=f"{PREFIX}-page",
    )


def kpi_cards(
    totals: pd.DataFrame, liability: pd.DataFrame, lang: Lang, as_of: date, fen_per_point: int
) -> list[Any]:
    """Flows of the period against the previous one; stocks as of the day, the points
    outstanding also in 元 at what a point costs; the expiring cards name their days
    (lots expiring on as_of up to 29 or 89 days after); breakage is the period's expired
    points over its issued ones."""
    now = totals.set_index("period").loc["current"]
    before = totals.set_index("period").loc["previous"]
    held = liability.iloc[0]
    note = f"{t('as_of', lang)} {as_of.isoformat()}"

    def flow(metric: str, column: str, key: str) -> html.Div:
        return components.kpi(
            PREFIX, metric, key, lang, int(now[column]), int(before[column]), kind="points"
        )

    def stock(metric: str, column: str, key: str, note: str) -> html.Div:
        return components.kpi(
            PREFIX, metric, key, lang, int(held[column]), kind="points", note=note
        )

    def until(days: int) -> str:
        return f"{as_of.isoformat()} ~ {(as_of + timedelta(days=days - 1)).isoformat()}"

    worth = i18n.money(int(held["outstanding"]) * fen_per_point, lang)
    issued, expired = int(now["points_issued"]), int(now["points_expired"])
    return [
        flow("issued", "points_issued", "metric.points_issued"),
        flow("redeemed", "points_redeemed", "metric.points_redeemed"),
        flow("expired", "points_expired", "metric.points_expired"),
        components.kpi_card(
            PREFIX,
            "breakage",
            t("metric.breakage_rate", lang),
            i18n.Shown(i18n.percent(expired / issued if issued else None, lang), ""),
            note=t("metric.breakage_rate_note", lang),
        ),
        stock(
            "outstanding",
            "outstanding",
            "metric.points_outstanding",
            f"≈ {worth} · {note} · "
            + t("metric.fen_per_point", lang).format(fen_per_point=fen_per_point),
        ),
        stock("pending", "pending", "metric.pending", note),
        stock("expiring-30", "expiring_30", "metric.expiring_30", until(30)),
        stock("expiring-90", "expiring_90", "metric.expiring_90", until(90)),
    ]


def register(app: Any, context: Context) -> None:
    components.register_filters(app, PREFIX, context, title_key=TITLE_KEY)
    components.register_cross_filter(app, PREFIX, "campaigns", "campaign", context.stored_view)
    query = Input(f"{PREFIX}-query", "data")

    @components.callback(app, Output(f"{PREFIX}-kpis", "children"), query)
    def kpis(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        as_of = context.today()
        totals = queries.headline_totals(context.reader, view.filters)
        liability = queries.points_liability(context.reader, view.filters, as_of)
        return kpi_cards(totals, liability, view.lang, as_of, context.fen_per_point)

    @components.chart_callback(app, context, PREFIX, "flow")
    def flow(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.points_flow(
            queries.points_flow_daily(context.reader, view.filters), view.lang
        )

    @components.chart_callback(app, context, PREFIX, "source")
    def source(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.issuance_by_source(
            queries.issuance_by_source(context.reader, view.filters), view.lang
        )

    @components.chart_callback(app, context, PREFIX, "campaigns")
    def by_campaign(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = queries.issuance_by_campaign(context.reader, view.filters)
        return figures.ranked_bars(frame, view.lang, code="campaign_code", value="points")

    @components.chart_callback(app, context, PREFIX, "redemption")
    def redemption(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = figures.by_reward_kind(queries.redemptions_by_reward(context.reader, view.filters))
        return figures.donut(
            frame,
            view.lang,
            code="kind",
            value="points_spent",
            label_prefix="kind",
            colors=KIND_COLORS,
        )

    def liability(view: Any) -> pd.DataFrame:
        return queries.liability_by_institution(context.reader, view.filters, context.today())

    @components.chart_callback(app, context, PREFIX, "liability")
    def liability_chart(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.liability_bars(liability(view), view.lang)

    components.register_table(
        app,
        PREFIX,
        "rewards",
        REWARD_COLUMNS,
        lambda view: queries.redemptions_by_reward(context.reader, view.filters),
        context,
    )
    components.register_table(app, PREFIX, "liability", LIABILITY_COLUMNS, liability, context)
