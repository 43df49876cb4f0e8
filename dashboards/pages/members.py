"""会员 Members: new members, tier distribution, monthly cohort retention, purchase
frequency, members by channel mix, and the whole member list with each member's segment,
churn risk and expected value from the latest insights run, paged, sorted and filtered on
the server (phone and name masked unless the viewer's role allows them). The insights
themselves have their own page (pages/insights.py)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html, no_update

from dashboards import components, figures, i18n
from dashboards.auth import Viewer
from dashboards.components import Column, GridRequest
from dashboards.context import Context, current
from dashboards.i18n import Lang
from dashboards.urls import View, to_store
from warehouse import member_scores, queries
from warehouse.member_scores import Condition, ListRequest

PREFIX = "members"
TITLE_KEY = "nav.members"
# Who a member is, as every list of members starts (phone and name masked by role).
MEMBER_COLUMNS = (
    Column("member_no", "col.member_no", "text"),
    Column("name", "col.name", "text", personal="name"),
    Column("phone", "col.phone", "text", personal="phone"),
    Column("tier", "col.tier", "label:tier"),
)
LIST_COLUMNS = (
    *MEMBER_COLUMNS,
    Column("registered_on", "col.registered_on", "date"),
    Column("registered_channel", "col.registered_channel", "text"),
    Column("purchases", "metric.purchases", "count"),
    Column("spend_fen", "col.spend", "money"),
    Column("segment", "col.segment", "text"),
    Column("churn_risk", "col.churn_risk", "percent"),
    Column("expected_value_fen", "col.expected_value", "money"),
)
# What the list's columns may be filtered by; personal columns never are.
LIST_FILTERS = {
    "member_no": "text",
    "tier": "text",
    "registered_channel": "text",
    "segment": "text",
    "purchases": "number",
    "spend_fen": "number",
    "churn_risk": "number",
    "expected_value_fen": "number",
}
# A download's page: every member the filters choose.
EVERY_ROW = 2**31 - 1
TIER_ORDER = ("regular", "silver", "gold", "diamond")
MIX_COLORS = {"online_only": "#2F6DB5", "offline_only": "#F2A900", "both": "#007A4D"}


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
                    components.chart_card(PREFIX, "new", "block.new_members", lang, wide=True),
                    components.chart_card(PREFIX, "tiers", "block.tiers", lang),
                    components.chart_card(PREFIX, "mix", "block.channel_mix", lang),
                    components.chart_card(PREFIX, "cohorts", "block.cohorts", lang, wide=True),
                    components.chart_card(PREFIX, "frequency", "block.frequency", lang, wide=True),
                    components.grid_card(
                        PREFIX,
                        "list",
                        "block.member_list",
                        lang,
                        LIST_COLUMNS,
                        filters=LIST_FILTERS,
                        download=True,
                    ),
                ],
                className="grid",
            ),
        ],
        className="page",
        id=f"{PREFIX}-page",
    )


def with_segment_names(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """A `segment` column: the segment's name in the viewer's language."""
    names = [
        i18n.name_of(name, name_en, lang, code) if isinstance(code, str) else None
        for code, name, name_en in zip(
            frame["segment_code"], frame["segment_name"], frame["segment_name_en"], strict=True
        )
    ]
    return frame.assign(segment=names)


def list_request(request: GridRequest, lang: Lang) -> ListRequest:
    """The grid's page request as the warehouse's list request; the segment column is
    sorted and searched by the name the viewer reads."""

    def key(column: str) -> str:
        if column == "segment":
            return "segment_name_en" if lang == "en" else "segment_name"
        return column

    return ListRequest(
        offset=request.start,
        limit=request.end - request.start,
        sort=tuple(
            (key(column), descending)
            for column, descending in request.sort
            if key(column) in member_scores.LIST_COLUMNS
        ),
        conditions=tuple(
            Condition(key(column), op, value)  # type: ignore[arg-type]
            for column, op, value in request.conditions
            if key(column) in member_scores.LIST_COLUMNS
        ),
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
    components.register_filters(app, PREFIX, context, title_key=TITLE_KEY)
    query = Input(f"{PREFIX}-query", "data")

    @components.callback(app, Output(f"{PREFIX}-kpis", "children"), query)
    def kpis(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return kpi_cards(queries.headline_totals(context.reader, view.filters), view.lang)

    @components.chart_callback(app, context, PREFIX, "new")
    def new_members(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        names = {code: name for code, name in context.choices(view.lang).channels}
        frame = queries.new_members_daily(context.reader, view.filters)
        return figures.new_members(frame, names, view.lang)

    @components.chart_callback(app, context, PREFIX, "tiers")
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

    @components.chart_callback(app, context, PREFIX, "mix")
    def mix(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = queries.channel_mix(context.reader, view.filters)
        return figures.donut(
            frame, view.lang, code="mix", value="members", label_prefix="mix", colors=MIX_COLORS
        )

    @components.chart_callback(app, context, PREFIX, "cohorts")
    def cohorts(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.cohort_heatmap(
            queries.cohort_retention(context.reader, view.filters), view.lang
        )

    @components.chart_callback(app, context, PREFIX, "frequency")
    def frequency(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        return figures.purchase_frequency(
            queries.purchase_frequency(context.reader, view.filters), view.lang
        )

    def member_page(view: View, request: GridRequest, viewer: Viewer) -> tuple[pd.DataFrame, int]:
        frame, total = member_scores.member_list(
            context.reader,
            view.filters,
            list_request(request, view.lang),
            reveal_personal_data=viewer.sees_personal_data,
        )
        return with_segment_names(frame, view.lang), total

    def every_member(view: View, viewer: Viewer) -> pd.DataFrame:
        # The page's filters choose the members; the grid's own sort and column filters
        # are the browser's and not sent with a download.
        frame, _ = member_scores.member_list(
            context.reader,
            view.filters,
            ListRequest(limit=EVERY_ROW),
            reveal_personal_data=viewer.sees_personal_data,
        )
        return with_segment_names(frame, view.lang)

    components.register_grid(
        app, PREFIX, "list", LIST_COLUMNS, member_page, context, load_all=every_member
    )
