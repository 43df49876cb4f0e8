"""营销活动 Campaigns: per campaign its participants, points cost against budget, GMV in its
window against a baseline, and the incremental effect against its holdout group; with
?campaign=CODE the detail view of one campaign, whose headline is the incremental GMV
against the holdout by the API's rules (`warehouse.campaign_headline`) and whose
before/after comparison is secondary and labelled not causal."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from dash import Input, Output, dcc, html

from dashboards import components, figures, i18n
from dashboards.components import Column
from dashboards.context import Context, current
from dashboards.i18n import Lang, t
from dashboards.urls import View, page_href, to_store
from warehouse import CampaignHeadline, queries

PREFIX = "campaigns"
# Campaigns run a few weeks each, a few times a year: a year shows the whole calendar.
DEFAULT_DAYS = 365
# Every money column in 元; the budget shows as budget used. The widths fit the grid
# without sideways scrolling at 1440 px (the browser test checks).
CAMPAIGN_COLUMNS = (
    Column("name", "col.campaign", "link:href", width=200),
    Column("starts_on", "col.starts_on", "date", width=105),
    Column("ends_on", "col.ends_on", "date", width=105),
    Column("participants", "metric.participants", "count", width=100),
    Column("points_cost", "metric.points_cost", "points", width=100),
    Column("budget_used", "metric.budget_used", "percent", width=100),
    Column("gmv_window_fen", "metric.gmv_window", "money", width=125),
    Column("gmv_window_fen", "metric.before_after", "change:gmv_baseline_fen", width=110),
    Column("lift_fen", "metric.lift", "money", width=120),
    Column("lift_low_fen", "metric.lift_low", "money", width=115),
    Column("lift_high_fen", "metric.lift_high", "money", width=115),
)
DAILY_COLUMNS = (
    Column("day", "col.day", "date"),
    Column("treated_gmv_fen", "metric.treated", "money"),
    Column("holdout_gmv_fen", "metric.holdout", "money"),
    Column("points_awarded", "metric.points_awarded", "points"),
)


def layout(**query: str) -> html.Div:
    context = current()
    view = context.view(query, DEFAULT_DAYS)
    if not context.ready():
        return components.not_ready(view.lang)
    lang = view.lang
    detail = bool(view.filters.campaign)
    blocks = _detail_blocks(view) if detail else _list_blocks(lang)
    return html.Div(
        [
            components.page_title(PREFIX, "nav.campaigns", view, context.data_as_of()),
            components.filter_bar(PREFIX, view, context.choices(lang), context.today()),
            dcc.Store(id=f"{PREFIX}-query", data=to_store(view)),
            *blocks,
        ],
        className="page",
        id=f"{PREFIX}-page",
    )


def _list_blocks(lang: Lang) -> list[Any]:
    return [
        components.kpi_row(PREFIX),
        html.Div(
            [
                components.chart_card(PREFIX, "lift", "block.campaign_lift", lang, clickable=True),
                components.chart_card(PREFIX, "cost", "block.campaign_cost", lang, clickable=True),
                components.chart_card(
                    PREFIX, "gmv", "block.campaign_gmv", lang, wide=True, clickable=True
                ),
                components.table_card(
                    PREFIX,
                    "campaigns",
                    "block.campaign_table",
                    lang,
                    CAMPAIGN_COLUMNS,
                    wrap_headers=True,
                ),
            ],
            className="grid",
        ),
        html.P(_method_note(lang), className="method-note"),
    ]


def _detail_blocks(view: View) -> list[Any]:
    lang = view.lang
    back = view.with_campaign(None)
    return [
        html.Div(
            dcc.Link(t("block.campaign_back", lang), href=page_href("campaigns", back)),
            className="back-link",
        ),
        html.Div(id=f"{PREFIX}-headline", className="lift-headline"),
        components.kpi_row(PREFIX, "detail-kpis"),
        html.Div(id=f"{PREFIX}-before-after", className="secondary-block"),
        html.Div(
            [
                components.chart_card(PREFIX, "groups", "block.campaign_daily", lang),
                components.chart_card(PREFIX, "burn", "block.campaign_burn", lang),
                components.table_card(
                    PREFIX, "daily", "block.campaign_detail", lang, DAILY_COLUMNS, height=460
                ),
            ],
            className="grid",
        ),
        html.P(_method_note(lang), className="method-note"),
    ]


def _method_note(lang: Lang) -> str:
    if lang == "en":
        return (
            "Incremental effect: mean GMV per member in the campaign window, members who got "
            "the offer minus the random holdout group (members who bought nothing count as "
            "0), with a 95% confidence interval by the normal approximation (Welch). GMV "
            "counts the campaign's target business types; the baseline is the same number "
            "of days just before the window."
        )
    return (
        "增量效果：活动期内人均交易额，活动组减随机对照组（未消费会员计为0），95%置信区间按正态近似"
        "（Welch）计算。交易额仅统计活动目标业务类型；基准期为活动开始前相同天数。"
    )


def with_links(frame: pd.DataFrame, view: View) -> pd.DataFrame:
    """Adds `href`: each campaign's detail view with the current filters."""
    return frame.assign(
        href=[page_href("campaigns", view.with_campaign(str(code))) for code in frame["code"]]
    )


def list_kpis(frame: pd.DataFrame, lang: Lang) -> list[Any]:
    """Totals over the listed campaigns."""
    budget = int(frame["budget_points"].sum())
    cost = int(frame["points_cost"].sum())
    return [
        components.kpi(PREFIX, "campaigns", "nav.campaigns", lang, len(frame)),
        components.kpi(
            PREFIX,
            "participants",
            "metric.participants",
            lang,
            int(frame["participants"].sum()),
            kind="people",
        ),
        components.kpi(PREFIX, "budget", "metric.budget", lang, budget, kind="points"),
        components.kpi(PREFIX, "points-cost", "metric.points_cost", lang, cost, kind="points"),
        components.kpi_card(
            PREFIX,
            "budget-used",
            t("metric.budget_used", lang),
            i18n.Shown(i18n.percent(cost / budget if budget else None, lang), ""),
        ),
        components.kpi(
            PREFIX,
            "gmv-window",
            "metric.gmv_window",
            lang,
            int(frame["gmv_window_fen"].sum()),
            int(frame["gmv_baseline_fen"].sum()),
            kind="money",
            note=t("metric.before_after", lang),
        ),
    ]


def detail_kpis(row: pd.Series, lang: Lang) -> list[Any]:
    """The cards of one campaign (a row of `queries.campaign_results`)."""
    budget = int(row["budget_points"])
    return [
        components.kpi(
            PREFIX,
            "participants",
            "metric.participants",
            lang,
            int(row["participants"]),
            kind="people",
        ),
        components.kpi(
            PREFIX,
            "points-cost",
            "metric.points_cost",
            lang,
            int(row["points_cost"]),
            kind="points",
            note=f"{t('metric.budget', lang)} {budget:,}",
        ),
        components.kpi_card(
            PREFIX,
            "budget-used",
            t("metric.budget_used", lang),
            i18n.Shown(i18n.percent(row["budget_used"], lang), ""),
        ),
        components.kpi(
            PREFIX,
            "treated",
            "metric.treated_members",
            lang,
            int(row["treated_members"]),
            kind="people",
        ),
        components.kpi(
            PREFIX,
            "holdout",
            "metric.holdout_members",
            lang,
            int(row["holdout_members"]),
            kind="people",
        ),
    ]


def _fen(yuan: float) -> int:
    """The API's yuan amounts back in whole fen, for display (half away from zero)."""
    return int(math.copysign(math.floor(abs(yuan) * 100 + 0.5), yuan))


def _roi(ratio: float) -> str:
    return f"{ratio * 100:+,.1f}%".replace("-", "−")


def headline_sentence(headline: CampaignHeadline, lang: Lang) -> str:
    """The effect in words: that the interval includes zero, or which way it went and
    how it compares with the points cost; or why there is no estimate."""
    effect = headline.effect
    if effect is None:
        return t(f"lift.{headline.missing}", lang)
    interval = effect.incremental_gmv_yuan_interval
    low = i18n.yuan(_fen(interval.low), lang).number
    high = i18n.yuan(_fen(interval.high), lang).number
    if effect.verdict.includes_zero:
        return t("lift.includes_zero", lang).format(low=low, high=high)
    return t("lift.effect", lang).format(
        direction=t(f"lift.{effect.verdict.direction}", lang),
        amount=i18n.yuan(_fen(abs(effect.incremental_gmv_yuan)), lang).number,
        low=low,
        high=high,
        against=t(f"lift.{effect.verdict.against_cost}", lang),
        cost=i18n.yuan(_fen(effect.points_cost_yuan), lang).number,
    )


def headline_block(headline: CampaignHeadline | None, lang: Lang) -> Any:
    """The detail view's headline: incremental GMV against the holdout with its 95 %
    interval, the points cost in 元, ROI with its interval, and the verdict in words.
    Every amount in 元."""
    if headline is None:
        return components.empty_state(lang)
    effect = headline.effect
    measured = (
        f"{t('metric.measured', lang)} {headline.measured_from:%Y-%m-%d} ~ "
        f"{headline.measured_to:%Y-%m-%d}"
    )
    if effect is None:
        cards = [
            components.kpi_card(
                PREFIX, "incremental", t("metric.incremental_gmv", lang), i18n.Shown("—", "")
            )
        ]
    else:
        interval = effect.incremental_gmv_yuan_interval
        ci = (
            f"95% CI {i18n.yuan(_fen(interval.low), lang).number} ~ "
            f"{i18n.yuan(_fen(interval.high), lang)}"
        )
        roi = i18n.Shown(_roi(effect.roi), "") if effect.roi is not None else i18n.Shown("—", "")
        roi_note = (
            f"95% CI {_roi(effect.roi_interval.low)} ~ {_roi(effect.roi_interval.high)}"
            if effect.roi_interval is not None
            else None
        )
        cards = [
            components.kpi_card(
                PREFIX,
                "incremental",
                t("metric.incremental_gmv", lang),
                i18n.yuan(_fen(effect.incremental_gmv_yuan), lang),
                note=ci,
            ),
            components.kpi_card(
                PREFIX,
                "cost-yuan",
                t("metric.points_cost_yuan", lang),
                i18n.yuan(_fen(effect.points_cost_yuan), lang),
                note=f"{effect.points_cost:,} {t('unit.points', lang)}",
            ),
            components.kpi_card(PREFIX, "roi", t("metric.roi", lang), roi, note=roi_note),
        ]
    return html.Div(
        [
            html.Div(cards, className="kpi-row lift-cards"),
            html.P(
                headline_sentence(headline, lang),
                className="lift-sentence",
                id=f"{PREFIX}-headline-sentence",
            ),
            html.P(
                [
                    measured,
                    " · ",
                    t("lift.method", lang).format(code=headline.code, fen=headline.fen_per_point),
                ],
                className="method-note",
            ),
        ]
    )


def before_after_block(row: pd.Series, lang: Lang) -> Any:
    """Secondary: the campaign window's GMV against the days just before it, labelled as
    not causal (everyone's spend moves with the season)."""
    window, baseline = int(row["gmv_window_fen"]), int(row["gmv_baseline_fen"])
    change = i18n.change(window, baseline, lang)
    return html.Div(
        [
            html.Span(t("metric.before_after", lang), className="secondary-label"),
            html.Span(
                f"{t('metric.gmv_window', lang)} {i18n.yuan(window, lang)} · "
                f"{t('metric.gmv_baseline', lang)} {i18n.yuan(baseline, lang)} · ",
            ),
            html.Span(
                change.text,
                className=f"delta delta-{change.direction}",
                id=f"{PREFIX}-before-after-change",
            ),
        ]
    )


def register(app: Any, context: Context) -> None:
    components.register_filters(app, PREFIX, context)
    for chart in ("lift", "cost", "gmv"):
        components.register_cross_filter(app, PREFIX, chart, "campaign", context.stored_view)
    query = Input(f"{PREFIX}-query", "data")

    def results(view: View) -> pd.DataFrame:
        return queries.campaign_results(context.reader, view.filters)

    @components.callback(app, Output(f"{PREFIX}-kpis", "children"), query)
    def kpis(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = results(view)
        if frame.empty:
            return components.empty_state(view.lang)
        return list_kpis(frame, view.lang)

    @components.chart_callback(app, context, PREFIX, "lift", "cost", "gmv")
    def charts(data: dict[str, str]) -> tuple[Any, Any, Any]:
        view = context.stored_view(data)
        frame = results(view)
        return (
            figures.campaign_lift(frame, view.lang),
            figures.campaign_cost(frame, view.lang),
            figures.campaign_window_vs_baseline(frame, view.lang),
        )

    components.register_table(
        app,
        PREFIX,
        "campaigns",
        CAMPAIGN_COLUMNS,
        lambda view: with_links(results(view), view),
        context,
    )

    @components.callback(app, Output(f"{PREFIX}-detail-kpis", "children"), query)
    def detail(data: dict[str, str]) -> Any:
        view = context.stored_view(data)
        frame = results(view)
        if frame.empty:
            return components.empty_state(view.lang)
        return detail_kpis(frame.iloc[0], view.lang)

    @components.callback(
        app,
        Output(f"{PREFIX}-headline", "children"),
        Output(f"{PREFIX}-before-after", "children"),
        query,
    )
    def headline(data: dict[str, str]) -> tuple[Any, Any]:
        view = context.stored_view(data)
        frame = results(view)
        shown = headline_block(context.campaign_headline(view.filters.campaign or ""), view.lang)
        secondary = None if frame.empty else before_after_block(frame.iloc[0], view.lang)
        return shown, secondary

    @components.chart_callback(app, context, PREFIX, "groups", "burn")
    def detail_charts(data: dict[str, str]) -> tuple[Any, Any]:
        view = context.stored_view(data)
        code = view.filters.campaign or ""
        daily = queries.campaign_daily(context.reader, view.filters, code)
        budget = queries.campaigns(context.reader)
        chosen = budget[budget["code"] == code]
        budget_points = int(chosen["budget_points"].iloc[0]) if not chosen.empty else 0
        return (
            figures.campaign_groups(daily, view.lang),
            figures.campaign_burn(daily, budget_points, view.lang),
        )

    components.register_table(
        app,
        PREFIX,
        "daily",
        DAILY_COLUMNS,
        lambda view: queries.campaign_daily(
            context.reader, view.filters, view.filters.campaign or ""
        ),
        context,
    )
