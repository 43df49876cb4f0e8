"""渠道 Channels: sales per channel and per institution (with the institution tree), and the
O2O flows: ordered online and collected at a post office, pickup rate and time, uncollected
expiries, mailing and bill-payment counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html, no_update

from dashboards import components, figures, i18n
from dashboards.components import Column
from dashboards.context import Context, current
from dashboards.i18n import Lang, t
from dashboards.urls import View, to_store
from warehouse import queries

PREFIX = "channels"
TITLE_KEY = "nav.channels"
CHANNEL_COLUMNS = (
    Column("name", "col.channel", "name"),
    Column("is_online", "col.online", "bool"),
    Column("purchases", "metric.purchases", "count"),
    Column("members", "metric.active_members", "count"),
    Column("gmv_fen", "metric.gmv", "money"),
    Column("avg_ticket_fen", "metric.avg_ticket", "money"),
    Column("previous_gmv_fen", "metric.previous_gmv", "money"),
    Column("gmv_fen", "metric.change", "change:previous_gmv_fen"),
    Column("points_issued", "metric.points_issued", "points"),
)
INSTITUTION_COLUMNS = (
    Column("name", "col.institution", "name"),
    Column("code", "col.code", "text"),
    Column("purchases", "metric.purchases", "count"),
    Column("members", "metric.active_members", "count"),
    Column("gmv_fen", "metric.gmv", "money"),
    Column("previous_gmv_fen", "metric.previous_gmv", "money"),
    Column("gmv_fen", "metric.change", "change:previous_gmv_fen"),
    Column("points_issued", "metric.points_issued", "points"),
)
OUTLET_COLUMNS = (
    Column("name", "col.outlet", "name"),
    Column("district", "col.district", "text"),
    Column("pickup_orders", "metric.pickup_orders", "count"),
    Column("online_picked_up", "metric.online_picked_up", "count"),
    Column("picked_up", "metric.picked_up", "count"),
    Column("awaiting", "metric.awaiting", "count"),
    Column("expired", "metric.expired_pickups", "count"),
    Column("pickup_rate", "metric.pickup_rate", "percent"),
    Column("median_hours", "metric.median_hours", "hours"),
)
SERVICE_COLUMNS = (
    Column("service", "col.service", "label:service"),
    Column("kind_label", "col.kind", "text"),
    Column("count", "metric.count", "count"),
    Column("amount_fen", "metric.amount", "money"),
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
                    components.chart_card(
                        PREFIX, "gmv", "block.gmv_by_channel", lang, clickable=True
                    ),
                    components.chart_card(PREFIX, "mix", "block.gmv_by_business_type", lang),
                    _table("channels", "block.channel_table", lang, CHANNEL_COLUMNS),
                    components.chart_card(
                        PREFIX, "tree", "block.institution_tree", lang, wide=True, clickable=True
                    ),
                    _table("institutions", "block.institutions", lang, INSTITUTION_COLUMNS, 460),
                ],
                className="grid",
            ),
            html.H2(t("block.o2o", lang), className="section-title"),
            components.kpi_row(PREFIX, "o2o-kpis"),
            html.Div(
                [
                    components.chart_card(PREFIX, "pickup", "block.o2o", lang),
                    components.chart_card(PREFIX, "services", "block.services", lang),
                    _table("outlets", "block.pickup_outlets", lang, OUTLET_COLUMNS, 460),
                    _table("services", "block.services", lang, SERVICE_COLUMNS),
                ],
                className="grid",
            ),
        ],
        className="page",
        id=f"{PREFIX}-page",
    )


def _table(
    name: str, title_key: str, lang: Lang, columns: tuple[Column, ...], height: int | None = None
) -> Any:
    """A grid holding the table's rows (the browser sorts, filters and pages them), with
    every row as CSV or Excel; names in the viewer's language."""
    return components.table_card(PREFIX, name, title_key, lang, columns, height=height)


def channel_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """`queries.sales_by_channel` with the average ticket (whole fen, rounded half up)."""
    purchases = frame["purchases"]
    average = [
        (2 * g + p) // (2 * p) if p else 0 for g, p in zip(frame["gmv_fen"], purchases, strict=True)
    ]
    return frame.assign(avg_ticket_fen=pd.Series(average, index=frame.index, dtype="int64"))


def outlet_rows(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    return frame.assign(
        district=[
            i18n.name_of(z, z_en, lang)
            for z, z_en in zip(frame["district_name"], frame["district_name_en"], strict=True)
        ]
    )


def service_rows(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    return frame.assign(
        kind_label=[
            i18n.label(i18n.SERVICE_KIND_PREFIX.get(str(s), "x"), k, lang)
            for s, k in zip(frame["service"], frame["kind"], strict=True)
        ]
    )


def kpi_cards(sales: pd.DataFrame, lang: Lang) -> list[Any]:
    online = sales[sales["is_online"].fillna(False).astype(bool)]
    gmv = int(sales["gmv_fen"].sum())
    online_share = int(online["gmv_fen"].sum()) / gmv if gmv else None
    return [
        components.kpi(
            PREFIX,
            "purchases",
            "metric.purchases",
            lang,
            int(sales["purchases"].sum()),
        ),
        components.kpi(
            PREFIX,
            "gmv",
            "metric.gmv",
            lang,
            gmv,
            int(sales["previous_gmv_fen"].sum()),
            kind="money",
        ),
        components.kpi_card(
            PREFIX,
            "online-share",
            t("metric.online_share", lang),
            i18n.Shown(i18n.percent(online_share, lang), ""),
        ),
        components.kpi(
            PREFIX, "channels", "metric.channels", lang, int((sales["purchases"] > 0).sum())
        ),
    ]


def o2o_cards(pickups: pd.DataFrame, services: pd.DataFrame, lang: Lang) -> list[Any]:
    row = pickups.iloc[0]
    counts = services.groupby("service")["count"].sum()
    return [
        components.kpi(
            PREFIX, "pickup-orders", "metric.pickup_orders", lang, int(row["pickup_orders"])
        ),
        components.kpi(
            PREFIX,
            "online-picked-up",
            "metric.online_picked_up",
            lang,
            int(row["online_picked_up"]),
        ),
        components.kpi_card(
            PREFIX,
            "pickup-rate",
            t("metric.pickup_rate", lang),
            i18n.Shown(i18n.percent(row["pickup_rate"], lang), ""),
        ),
        components.kpi_card(
            PREFIX,
            "median-hours",
            t("metric.median_hours", lang),
            i18n.hours(row["median_hours"], lang),
        ),
        components.kpi(
            PREFIX, "expired-pickups", "metric.expired_pickups", lang, int(row["expired"])
        ),
        components.kpi(PREFIX, "mailings", "metric.mailings", lang, int(counts.get("mailing", 0))),
        components.kpi(
            PREFIX,
            "bill-payments",
            "metric.bill_payments",
            lang,
            int(counts.get("bill_payment", 0)),
        ),
    ]


def register(app: Any, context: Context) -> None:
    components.register_filters(app, PREFIX, context, title_key=TITLE_KEY)
    for chart, narrows in (("gmv", "channel"), ("tree", "inst")):
        components.register_cross_filter(app, PREFIX, chart, narrows, context.stored_view)
    query = Input(f"{PREFIX}-query", "data")

    @components.callback(app, Output(f"{PREFIX}-kpis", "children"), query)
    def kpis(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return kpi_cards(queries.sales_by_channel(context.reader, view.filters), view.lang)

    @components.chart_callback(app, context, PREFIX, "gmv")
    def by_channel(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = queries.sales_by_channel(context.reader, view.filters)
        return figures.ranked_bars(
            frame, view.lang, code="channel", value="gmv_fen", colors=figures.CHANNEL_COLORS
        )

    @components.chart_callback(app, context, PREFIX, "mix")
    def by_business_type(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = queries.sales_by_business_type(context.reader, view.filters)
        return figures.donut(frame, view.lang, code="business_type", value="gmv_fen")

    @components.chart_callback(app, context, PREFIX, "tree")
    def tree(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.institution_treemap(
            queries.institution_tree(context.reader, view.filters), view.lang
        )

    @components.callback(app, Output(f"{PREFIX}-o2o-kpis", "children"), query)
    def o2o(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        pickups = queries.pickup_summary(context.reader, view.filters)
        services = queries.service_activity(context.reader, view.filters)
        return o2o_cards(pickups, services, view.lang)

    @components.chart_callback(app, context, PREFIX, "pickup")
    def pickup(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.pickup_funnel(
            queries.pickup_summary(context.reader, view.filters), view.lang
        )

    @components.chart_callback(app, context, PREFIX, "services")
    def services(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.service_bars(
            queries.service_activity(context.reader, view.filters), view.lang
        )

    tables: dict[str, tuple[tuple[Column, ...], Callable[[View], pd.DataFrame]]] = {
        "channels": (
            CHANNEL_COLUMNS,
            lambda view: channel_rows(queries.sales_by_channel(context.reader, view.filters)),
        ),
        "institutions": (
            INSTITUTION_COLUMNS,
            lambda view: queries.sales_by_institution(context.reader, view.filters),
        ),
        "outlets": (
            OUTLET_COLUMNS,
            lambda view: outlet_rows(
                queries.pickup_by_outlet(context.reader, view.filters), view.lang
            ),
        ),
        "services": (
            SERVICE_COLUMNS,
            lambda view: service_rows(
                queries.service_activity(context.reader, view.filters), view.lang
            ),
        ),
    }
    for name, (columns, load) in tables.items():
        components.register_table(app, PREFIX, name, columns, load, context)
