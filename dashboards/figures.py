"""Pure figure builders: a query's DataFrame and a language in, a Plotly figure out.

Builders do no I/O and read no globals but the palette, so they are unit-tested on
hand-made frames. Money arrives as integer fen and is scaled to 元 or 万元 here, for
display only.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from dashboards.i18n import (
    FEN_PER_YUAN,
    SERVICE_KIND_PREFIX,
    Lang,
    MoneyScale,
    label,
    money_scale,
    name_of,
    t,
)

FONT_FAMILY = (
    '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", '
    '"Source Han Sans SC", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif'
)
# China Post green first; the rest chosen to stay apart for colour-blind viewers.
PALETTE = (
    "#007A4D",
    "#F2A900",
    "#2F6DB5",
    "#D64545",
    "#7B5EA7",
    "#1AA3A3",
    "#8A8F98",
    "#A0C334",
)
MUTED = "#C9CED6"
INK = "#1F2933"
GRID = "#EEF1F4"
CHANNEL_COLORS = {
    "web": "#007A4D",
    "app": "#2F6DB5",
    "counter": "#F2A900",
    "retail": "#7B5EA7",
    "hotline": "#1AA3A3",
    "distribution": "#D64545",
    "partner": "#8A8F98",
}
FLOW_COLORS = {"issued": "#007A4D", "redeemed": "#2F6DB5", "expired": "#D64545"}
# Longer periods are drawn per week so a year stays readable.
WEEKLY_AFTER_DAYS = 62


def channel_color(code: str, position: int = 0) -> str:
    return CHANNEL_COLORS.get(code, PALETTE[position % len(PALETTE)])


DATE_TICKS = [
    {"dtickrange": [None, 86_400_000], "value": "%Y-%m-%d"},
    {"dtickrange": [86_400_000, "M1"], "value": "%m-%d"},
    {"dtickrange": ["M1", "M12"], "value": "%Y-%m"},
    {"dtickrange": ["M12", None], "value": "%Y"},
]


def _style(
    figure: go.Figure,
    *,
    x_title: str = "",
    y_title: str = "",
    height: int = 320,
    legend: bool = True,
    dates: bool = False,
) -> go.Figure:
    """The house style; `dates` when the x axis is a date axis."""
    figure.update_layout(
        font={"family": FONT_FAMILY, "size": 13, "color": INK},
        paper_bgcolor="white",
        plot_bgcolor="white",
        height=height,
        margin={"l": 56, "r": 16, "t": 24, "b": 48},
        colorway=list(PALETTE),
        separators=".,",
        showlegend=legend,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        hoverlabel={"font": {"family": FONT_FAMILY}},
    )
    figure.update_xaxes(
        title_text=x_title,
        gridcolor=GRID,
        zeroline=False,
        # Dates in numbers, never times of day and never English month names (a Chinese
        # page would show "Sep 27"): days as 09-27, months as 2026-09, years as 2026.
        tickformatstops=DATE_TICKS if dates else [],
    )
    # Numbers on value axes as on cards and tables: separated thousands, never "80k" SI
    # suffixes or 0.6000000000000001 (category axes ignore the format).
    figure.update_yaxes(title_text=y_title, gridcolor=GRID, zerolinecolor=MUTED, tickformat=",.6~r")
    return figure


def empty_figure(lang: Lang, height: int = 320) -> go.Figure:
    """A blank chart that says there is nothing to show for these filters."""
    figure = go.Figure()
    figure.add_annotation(
        text=t("empty", lang),
        showarrow=False,
        font={"size": 15, "color": "#8A8F98"},
        xref="paper",
        yref="paper",
        x=0.5,
        y=0.5,
    )
    _style(figure, height=height, legend=False)
    figure.update_xaxes(visible=False)
    figure.update_yaxes(visible=False)
    return figure


def _money_axis(values: Sequence[int] | pd.Series, lang: Lang) -> MoneyScale:
    largest = max((abs(int(v)) for v in values), default=0)
    return money_scale(largest, lang)


def _scaled(values: pd.Series, scale: MoneyScale) -> list[float]:
    return [scale.value(int(v)) for v in values]


def weekly(frame: pd.DataFrame, columns: Sequence[str], day: str = "day") -> pd.DataFrame:
    """Sum `columns` per week (weeks start on Monday) when the frame spans more than
    WEEKLY_AFTER_DAYS days; otherwise return it unchanged."""
    if frame.empty:
        return frame
    days = pd.to_datetime(frame[day])
    if (days.max() - days.min()).days < WEEKLY_AFTER_DAYS:
        return frame
    monday = (days - pd.to_timedelta(days.dt.day_of_week, unit="D")).dt.normalize()
    grouped = frame.assign(**{day: monday}).groupby(day, as_index=False)[list(columns)].sum()
    return grouped


# -- overview ---------------------------------------------------------------------------


def trend_vs_previous(daily: pd.DataFrame, lang: Lang, value: str = "gmv_fen") -> go.Figure:
    """The period's daily `value` against the previous period's, day by day.

    `daily` is `queries.daily_sales`; money columns (ending in _fen) are scaled to 元 or
    万元, the previous period is drawn dashed on the same days of the period.
    """
    current = daily[daily["period"] == "current"].sort_values("day_index")
    previous = daily[daily["period"] == "previous"].sort_values("day_index")
    if current.empty or (current[value].sum() == 0 and previous[value].sum() == 0):
        return empty_figure(lang)
    is_money = value.endswith("_fen")
    scale = _money_axis(list(current[value]) + list(previous[value]), lang)
    values_now = _scaled(current[value], scale) if is_money else list(current[value])
    values_then = _scaled(previous[value], scale) if is_money else list(previous[value])
    days = list(pd.to_datetime(current["day"]))
    previous_days = dict(zip(previous["day_index"], pd.to_datetime(previous["day"]), strict=True))
    then_x = [days[i] for i in previous["day_index"] if i < len(days)]
    unit = scale.unit if is_money else t("unit.people", lang)
    number = "%{y:,.2f}" if is_money else "%{y:,}"
    # Each day of the period says what the same day of the previous period had.
    then_by_index = dict(zip(previous["day_index"], values_then, strict=True))
    compared = [
        [
            previous_days[i].strftime("%Y-%m-%d") if i in previous_days else "—",
            then_by_index.get(i, float("nan")),
        ]
        for i in current["day_index"]
    ]
    then_number = "%{customdata[1]:,.2f}" if is_money else "%{customdata[1]:,}"
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=then_x,
            y=values_then[: len(then_x)],
            name=t("period.previous", lang),
            mode="lines",
            line={"color": MUTED, "width": 2, "dash": "dash"},
            customdata=[previous_days[i].strftime("%Y-%m-%d") for i in range(len(then_x))],
            hovertemplate=f"{t('period.previous', lang)} %{{customdata}}: {number} {unit}"
            "<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=days,
            y=values_now,
            name=t("period.current", lang),
            mode="lines+markers" if len(days) <= 31 else "lines",
            line={"color": PALETTE[0], "width": 3},
            marker={"size": 5},
            customdata=compared,
            hovertemplate=f"%{{x|%Y-%m-%d}}: {number} {unit}<br>"
            f"{t('period.previous', lang)} %{{customdata[0]}}: {then_number} {unit}"
            "<extra></extra>",
        )
    )
    metric = t("metric.gmv", lang) if is_money else t("metric.active_members", lang)
    return _style(figure, x_title=t("axis.day", lang), y_title=f"{metric} ({unit})", dates=True)


def ranked_bars(
    frame: pd.DataFrame,
    lang: Lang,
    *,
    code: str,
    value: str,
    colors: dict[str, str] | None = None,
    label_prefix: str | None = None,
    height: int = 320,
) -> go.Figure:
    """Horizontal bars of `value` per row, largest on top, labelled by name/name_en (or by
    `label_prefix` + code). Money columns (ending in _fen) are scaled to 元 or 万元."""
    rows = frame[frame[value] != 0].sort_values(value)
    if rows.empty:
        return empty_figure(lang, height)
    labels = [
        label(label_prefix, row[code], lang)
        if label_prefix
        else name_of(row.get("name"), row.get("name_en"), lang, row[code])
        for _, row in rows.iterrows()
    ]
    is_money = value.endswith("_fen")
    scale = _money_axis(rows[value], lang)
    values = _scaled(rows[value], scale) if is_money else [int(v) for v in rows[value]]
    palette = [
        (colors or {}).get(str(c), PALETTE[i % len(PALETTE)]) for i, c in enumerate(rows[code])
    ]
    text_format = "%{x:,.2f}" if is_money else "%{x:,}"
    figure = go.Figure(
        go.Bar(
            x=values,
            y=labels,
            orientation="h",
            marker={"color": palette},
            # Each bar's code: a click on it narrows the page (components.register_cross_filter).
            customdata=[str(c) for c in rows[code]],
            texttemplate=text_format,
            textposition="auto",
            hovertemplate=f"%{{y}}: {text_format} {scale.unit if is_money else ''}<extra></extra>",
        )
    )
    unit = scale.unit if is_money else ""
    _style(figure, x_title=unit, height=height, legend=False)
    # Round tick labels (0.6, not 0.6000000000000001), thousands separated.
    return figure.update_xaxes(tickformatstops=[], tickformat=",.6~r")


def donut(
    frame: pd.DataFrame,
    lang: Lang,
    *,
    code: str,
    value: str,
    label_prefix: str | None = None,
    colors: dict[str, str] | None = None,
) -> go.Figure:
    """Shares of `value` per row as a donut; labels as in `ranked_bars`."""
    rows = frame[frame[value] > 0]
    if rows.empty:
        return empty_figure(lang)
    labels = [
        label(label_prefix, row[code], lang)
        if label_prefix
        else name_of(row.get("name"), row.get("name_en"), lang, row[code])
        for _, row in rows.iterrows()
    ]
    is_money = value.endswith("_fen")
    scale = _money_axis(rows[value], lang)
    values = _scaled(rows[value], scale) if is_money else [int(v) for v in rows[value]]
    palette = [
        (colors or {}).get(str(c), PALETTE[i % len(PALETTE)]) for i, c in enumerate(rows[code])
    ]
    figure = go.Figure(
        go.Pie(
            labels=labels,
            values=values,
            hole=0.55,
            sort=False,
            marker={"colors": palette},
            textinfo="percent",
            hovertemplate="%{label}: %{value:,.2f} " + scale.unit + "<extra></extra>"
            if is_money
            else "%{label}: %{value:,}<extra></extra>",
        )
    )
    _style(figure, height=320)
    figure.update_layout(legend={"orientation": "v", "x": 1.0, "y": 0.5, "yanchor": "middle"})
    return figure


def points_flow(daily: pd.DataFrame, lang: Lang) -> go.Figure:
    """Points issued (up) against redeemed and expired (down), per day or week."""
    if daily.empty or daily[["issued", "redeemed", "expired"]].to_numpy().sum() == 0:
        return empty_figure(lang)
    frame = weekly(daily, ("issued", "redeemed", "expired"))
    days = list(pd.to_datetime(frame["day"]))
    figure = go.Figure()
    for flow, sign in (("issued", 1), ("redeemed", -1), ("expired", -1)):
        figure.add_trace(
            go.Bar(
                x=days,
                y=[sign * int(v) for v in frame[flow]],
                name=t(f"flow.{flow}", lang),
                marker={"color": FLOW_COLORS[flow]},
                customdata=[int(v) for v in frame[flow]],
                hovertemplate="%{x|%Y-%m-%d}: %{customdata:,}<extra>"
                + t(f"flow.{flow}", lang)
                + "</extra>",
            )
        )
    figure.update_layout(barmode="relative")
    return _style(
        figure, x_title=_period_axis(daily, lang), y_title=t("axis.points", lang), dates=True
    )


def _period_axis(daily: pd.DataFrame, lang: Lang) -> str:
    days = pd.to_datetime(daily["day"])
    return t(
        "axis.week" if (days.max() - days.min()).days >= WEEKLY_AFTER_DAYS else "axis.day", lang
    )


# -- campaigns --------------------------------------------------------------------------


def campaign_cost(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """Each campaign's points cost drawn over its budget (both in points)."""
    if frame.empty:
        return empty_figure(lang)
    names = [name_of(r["name"], r["name_en"], lang) for _, r in frame.iterrows()]
    codes = [str(code) for code in frame["code"]]  # a click narrows to the campaign
    figure = go.Figure()
    figure.add_trace(
        go.Bar(
            y=names,
            x=[int(v) for v in frame["budget_points"]],
            orientation="h",
            customdata=codes,
            name=t("metric.budget", lang),
            marker={"color": GRID, "line": {"color": MUTED, "width": 1}},
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Bar(
            y=names,
            x=[int(v) for v in frame["points_cost"]],
            orientation="h",
            customdata=codes,
            name=t("metric.points_cost", lang),
            marker={"color": PALETTE[0]},
            width=0.45,
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    figure.update_layout(barmode="overlay")
    return _style(figure, x_title=t("axis.points", lang), height=max(260, 70 * len(names)))


def campaign_lift(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """Incremental GMV per member of each campaign with its 95% interval as error bars;
    campaigns without an estimate are left out."""
    rows = frame.dropna(subset=["lift_fen"])
    if rows.empty:
        return empty_figure(lang)
    scale = money_scale(
        int(max(rows["lift_high_fen"].abs().max(), rows["lift_low_fen"].abs().max())), lang
    )
    names = [name_of(r["name"], r["name_en"], lang) for _, r in rows.iterrows()]
    lift = [v / scale.fen_per_unit for v in rows["lift_fen"]]
    above = [
        (h - v) / scale.fen_per_unit
        for h, v in zip(rows["lift_high_fen"], rows["lift_fen"], strict=True)
    ]
    below = [
        (v - lo) / scale.fen_per_unit
        for lo, v in zip(rows["lift_low_fen"], rows["lift_fen"], strict=True)
    ]
    colors = [PALETTE[0] if low > 0 else MUTED for low in rows["lift_low_fen"]]
    figure = go.Figure(
        go.Scatter(
            x=lift,
            y=names,
            mode="markers",
            marker={"size": 12, "color": colors},
            customdata=[str(code) for code in rows["code"]],  # a click narrows to it
            error_x={
                "type": "data",
                "symmetric": False,
                "array": above,
                "arrayminus": below,
                "color": INK,
                "thickness": 1.5,
            },
            hovertemplate="%{y}: %{x:,.2f} " + scale.unit + "<extra></extra>",
        )
    )
    figure.add_vline(x=0, line={"color": "#8A8F98", "dash": "dot"})
    return _style(
        figure,
        x_title=f"{t('metric.lift', lang)} ({scale.unit})",
        height=max(260, 70 * len(names)),
        legend=False,
    )


def campaign_window_vs_baseline(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """GMV in each campaign's window next to the same-length baseline before it."""
    if frame.empty or (frame["gmv_window_fen"].sum() == 0 and frame["gmv_baseline_fen"].sum() == 0):
        return empty_figure(lang)
    names = [name_of(r["name"], r["name_en"], lang) for _, r in frame.iterrows()]
    scale = _money_axis(list(frame["gmv_window_fen"]) + list(frame["gmv_baseline_fen"]), lang)
    figure = go.Figure()
    for column, key, color in (
        ("gmv_baseline_fen", "metric.gmv_baseline", MUTED),
        ("gmv_window_fen", "metric.gmv_window", PALETTE[0]),
    ):
        figure.add_trace(
            go.Bar(
                x=names,
                y=_scaled(frame[column], scale),
                customdata=[str(code) for code in frame["code"]],
                name=t(key, lang),
                marker={"color": color},
                hovertemplate="%{x}: %{y:,.2f} " + scale.unit + "<extra></extra>",
            )
        )
    figure.update_layout(barmode="group")
    return _style(figure, y_title=f"{t('metric.gmv', lang)} ({scale.unit})")


def cumulative_per_member(daily: pd.DataFrame) -> pd.DataFrame:
    """From `queries.campaign_daily`: cumulative GMV per member of each group, in fen
    (floats: a mean). Columns: day, treated, holdout."""
    treated = daily["treated_gmv_fen"].cumsum() / daily["treated_members"].where(
        daily["treated_members"] > 0
    )
    holdout = daily["holdout_gmv_fen"].cumsum() / daily["holdout_members"].where(
        daily["holdout_members"] > 0
    )
    return pd.DataFrame({"day": daily["day"], "treated": treated, "holdout": holdout})


def campaign_groups(daily: pd.DataFrame, lang: Lang) -> go.Figure:
    """Cumulative GMV per member through the campaign window, treated against holdout."""
    if daily.empty or (daily["treated_gmv_fen"].sum() == 0 and daily["holdout_gmv_fen"].sum() == 0):
        return empty_figure(lang)
    cumulative = cumulative_per_member(daily)
    largest = int(
        max(
            cumulative["treated"].max(skipna=True) or 0, cumulative["holdout"].max(skipna=True) or 0
        )
    )
    scale = money_scale(largest, lang)
    figure = go.Figure()
    for column, key, style in (
        ("holdout", "metric.holdout", {"color": "#8A8F98", "width": 2, "dash": "dash"}),
        ("treated", "metric.treated", {"color": PALETTE[0], "width": 3}),
    ):
        figure.add_trace(
            go.Scatter(
                x=list(pd.to_datetime(cumulative["day"])),
                y=[v / scale.fen_per_unit for v in cumulative[column]],
                name=t(key, lang),
                mode="lines",
                line=style,
                hovertemplate="%{x|%Y-%m-%d}: %{y:,.2f} " + scale.unit + "<extra></extra>",
            )
        )
    return _style(
        figure,
        x_title=t("axis.day", lang),
        dates=True,
        y_title=f"{t('metric.gmv', lang)} / {t('unit.people', lang)} ({scale.unit})",
    )


def campaign_burn(daily: pd.DataFrame, budget_points: int, lang: Lang) -> go.Figure:
    """Campaign points awarded, cumulated over the window, against the budget line."""
    if daily.empty:
        return empty_figure(lang)
    days = list(pd.to_datetime(daily["day"]))
    figure = go.Figure(
        go.Scatter(
            x=days,
            y=[int(v) for v in daily["points_awarded"].cumsum()],
            name=t("metric.points_awarded", lang),
            mode="lines",
            fill="tozeroy",
            line={"color": PALETTE[0], "width": 3},
            hovertemplate="%{x|%Y-%m-%d}: %{y:,}<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[days[0], days[-1]],
            y=[budget_points, budget_points],
            name=t("metric.budget", lang),
            mode="lines",
            line={"color": PALETTE[3], "dash": "dash"},
            hovertemplate="%{y:,}<extra></extra>",
        )
    )
    return _style(figure, x_title=t("axis.day", lang), y_title=t("axis.points", lang), dates=True)


# -- channels ---------------------------------------------------------------------------


def tree_nodes(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of `queries.institution_tree` a tree chart can draw: nodes whose parent
    is not in the frame become roots (parent ''), and branches with no GMV anywhere
    below them are dropped."""
    if frame.empty:
        return frame.assign(parent="")
    codes = set(frame["code"])
    parent = [p if isinstance(p, str) and p in codes else "" for p in frame["parent_code"]]
    nodes = frame.assign(parent=parent)
    totals = dict(zip(nodes["code"], (int(v) for v in nodes["gmv_fen"]), strict=True))
    by_depth = nodes.sort_values("level", ascending=False)
    for code, parent_code in zip(by_depth["code"], by_depth["parent"], strict=True):
        if parent_code:
            totals[parent_code] += totals[code]
    return nodes[[totals[c] > 0 for c in nodes["code"]]].assign(
        total_fen=[totals[c] for c in nodes["code"] if totals[c] > 0]
    )


def institution_treemap(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """The institution tree sized by GMV, two levels at a time: the company and its
    districts, or (filtered to a district, as a click on it does) the district and its
    outlets. Labels of 130 outlets at once are unreadable, and measuring them is most of
    the time the browser spends drawing the Channels page."""
    nodes = tree_nodes(frame)
    if nodes.empty:
        return empty_figure(lang, height=420)
    nodes = nodes[nodes["level"] <= nodes["level"].min() + 1]
    scale = _money_axis(nodes["total_fen"], lang)
    figure = go.Figure(
        go.Treemap(
            ids=list(nodes["code"]),
            parents=list(nodes["parent"]),
            labels=[name_of(r["name"], r["name_en"], lang) for _, r in nodes.iterrows()],
            values=[v / scale.fen_per_unit for v in nodes["total_fen"]],
            branchvalues="total",
            marker={
                "colorscale": [[0, "#E6F2EC"], [1, PALETTE[0]]],
                "colors": [v / scale.fen_per_unit for v in nodes["total_fen"]],
            },
            hovertemplate="%{label}<br>%{value:,.2f} " + scale.unit + "<extra></extra>",
            textinfo="label+value",
            texttemplate="%{label}<br>%{value:,.2f}",
        )
    )
    _style(figure, height=420, legend=False)
    figure.update_layout(margin={"l": 8, "r": 8, "t": 8, "b": 8})
    return figure


def pickup_funnel(summary: pd.DataFrame, lang: Lang) -> go.Figure:
    """Pickup orders of the period by outcome: collected, still waiting, expired."""
    if summary.empty or int(summary["pickup_orders"].iloc[0]) == 0:
        return empty_figure(lang)
    row = summary.iloc[0]
    outcomes = (
        ("metric.picked_up", int(row["picked_up"]), PALETTE[0]),
        ("metric.awaiting", int(row["awaiting"]), PALETTE[1]),
        ("metric.expired_pickups", int(row["expired"]), PALETTE[3]),
    )
    figure = go.Figure(
        go.Bar(
            x=[value for _, value, _ in outcomes],
            y=[t(key, lang) for key, _, _ in outcomes],
            orientation="h",
            marker={"color": [color for _, _, color in outcomes]},
            texttemplate="%{x:,}",
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    figure.update_yaxes(autorange="reversed")
    return _style(figure, x_title=t("unit.orders", lang), height=240, legend=False)


def service_bars(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """Counts of mailings, bill payments and subscriptions, split by their kinds."""
    if frame.empty:
        return empty_figure(lang)
    figure = go.Figure()
    for position, (service, rows) in enumerate(frame.groupby("service", sort=True)):
        prefix = SERVICE_KIND_PREFIX.get(str(service), str(service))
        figure.add_trace(
            go.Bar(
                x=[label(prefix, k, lang) for k in rows["kind"]],
                y=[int(v) for v in rows["count"]],
                name=t(f"service.{service}", lang),
                marker={"color": PALETTE[position % len(PALETTE)]},
                hovertemplate="%{x}: %{y:,}<extra></extra>",
            )
        )
    return _style(figure, y_title=t("metric.count", lang))


# -- members ----------------------------------------------------------------------------


def new_members(frame: pd.DataFrame, channel_names: dict[str, str], lang: Lang) -> go.Figure:
    """Registrations per day (or week), stacked by registration channel."""
    if frame.empty:
        return empty_figure(lang)
    wide = frame.assign(channel=frame["channel"].fillna("unknown")).pivot_table(
        index="day", columns="channel", values="new_members", aggfunc="sum", fill_value=0
    )
    wide = weekly(wide.reset_index(), [c for c in wide.columns])
    figure = go.Figure()
    for position, channel in enumerate(c for c in wide.columns if c != "day"):
        figure.add_trace(
            go.Bar(
                x=list(pd.to_datetime(wide["day"])),
                y=[int(v) for v in wide[channel]],
                name=channel_names.get(
                    channel, t("unknown", lang) if channel == "unknown" else channel
                ),
                marker={"color": channel_color(channel, position)},
                hovertemplate="%{x|%Y-%m-%d}: %{y:,}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(barmode="stack")
    return _style(
        figure, x_title=_period_axis(frame, lang), y_title=t("axis.members", lang), dates=True
    )


def cohort_heatmap(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """Share of each monthly cohort that bought in each month since joining."""
    if frame.empty:
        return empty_figure(lang, height=380)
    grid = frame.pivot_table(index="cohort", columns="months_since", values="retention")
    sizes = frame.groupby("cohort")["cohort_size"].first()
    cohorts = [pd.Timestamp(c).strftime("%Y-%m") for c in grid.index]
    rows = [f"{month} ({int(sizes[c]):,})" for month, c in zip(cohorts, grid.index, strict=True)]
    values = grid.to_numpy() * 100
    text = [["" if v != v else f"{v:.0f}%" for v in row] for row in values]
    figure = go.Figure(
        go.Heatmap(
            z=values,
            x=[int(c) for c in grid.columns],
            y=rows,
            text=text,
            texttemplate="%{text}",
            colorscale=[[0, "#F4F8F6"], [1, PALETTE[0]]],
            zmin=0,
            zmax=max(1.0, float(pd.DataFrame(values).max().max() if values.size else 1)),
            hovertemplate="%{y} +%{x}: %{z:.1f}%<extra></extra>",
            colorbar={"ticksuffix": "%"},
            xgap=2,
            ygap=2,
        )
    )
    figure.update_yaxes(autorange="reversed")
    figure.update_xaxes(dtick=1)
    return _style(
        figure,
        x_title=t("axis.months_since", lang),
        y_title=t("axis.cohort", lang),
        height=380,
        legend=False,
    )


FREQUENCY_BUCKETS = ((1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (6, 10), (11, 20), (21, None))


def frequency_buckets(frame: pd.DataFrame) -> list[tuple[str, int]]:
    """Members per purchase-count bucket: 1, 2, 3, 4, 5, 6–10, 11–20, 21+ (all present)."""
    buckets = []
    for low, high in FREQUENCY_BUCKETS:
        inside = frame["purchases"] >= low
        if high is not None:
            inside &= frame["purchases"] <= high
        name = str(low) if low == high else (f"{low}–{high}" if high else f"{low}+")
        buckets.append((name, int(frame.loc[inside, "members"].sum())))
    return buckets


def purchase_frequency(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """How many members bought once, twice, ... in the period."""
    if frame.empty:
        return empty_figure(lang)
    buckets = frequency_buckets(frame)
    figure = go.Figure(
        go.Bar(
            x=[name for name, _ in buckets],
            y=[members for _, members in buckets],
            marker={"color": PALETTE[2]},
            texttemplate="%{y:,}",
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    figure.update_xaxes(type="category")
    return _style(
        figure,
        x_title=t("axis.purchases", lang),
        y_title=t("axis.members", lang),
        legend=False,
    )


# -- points -----------------------------------------------------------------------------


def issuance_by_source(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """Points earned per day (or week), base issuance stacked under campaign bonus."""
    if frame.empty:
        return empty_figure(lang)
    wide = frame.pivot_table(
        index="day", columns="source", values="points", aggfunc="sum", fill_value=0
    ).reset_index()
    for source in ("issuance", "campaign"):
        if source not in wide.columns:
            wide[source] = 0
    wide = weekly(wide, ("issuance", "campaign"))
    figure = go.Figure()
    for source, color in (("issuance", PALETTE[0]), ("campaign", PALETTE[1])):
        figure.add_trace(
            go.Bar(
                x=list(pd.to_datetime(wide["day"])),
                y=[int(v) for v in wide[source]],
                name=t(f"source.{source}", lang),
                marker={"color": color},
                hovertemplate="%{x|%Y-%m-%d}: %{y:,}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(barmode="stack")
    return _style(
        figure, x_title=_period_axis(frame, lang), y_title=t("axis.points", lang), dates=True
    )


def by_reward_kind(frame: pd.DataFrame) -> pd.DataFrame:
    """`queries.redemptions_by_reward` summed per reward kind. Columns: kind, points_spent,
    redemptions."""
    if frame.empty:
        return pd.DataFrame({"kind": [], "points_spent": [], "redemptions": []})
    return frame.groupby("kind", as_index=False)[["points_spent", "redemptions"]].sum()


def liability_bars(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """Outstanding points per institution, with what expires within 30 and 90 days."""
    if frame.empty or frame["outstanding"].sum() == 0:
        return empty_figure(lang)
    rows = frame.sort_values("outstanding").tail(25)
    names = [name_of(r["name"], r["name_en"], lang) for _, r in rows.iterrows()]
    figure = go.Figure()
    # Drawn inside each other: what expires soon is part of what is outstanding.
    for column, key, color, width in (
        ("outstanding", "metric.points_outstanding", PALETTE[0], 0.8),
        ("expiring_90", "metric.expiring_90", PALETTE[1], 0.5),
        ("expiring_30", "metric.expiring_30", PALETTE[3], 0.25),
    ):
        figure.add_trace(
            go.Bar(
                y=names,
                x=[int(v) for v in rows[column]],
                name=t(key, lang),
                orientation="h",
                width=width,
                marker={"color": color},
                hovertemplate="%{y}: %{x:,}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(barmode="overlay")
    return _style(figure, x_title=t("axis.points", lang), height=max(320, 36 * len(names)))


SEGMENT_COLORS = {
    "champions": "#007A4D",
    "potential": "#2F6DB5",
    "new": "#7B5EA7",
    "regular": "#8A8F98",
    "at_risk": "#F2A900",
    "lost": "#C8102E",
}


def segments_over_time(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """Members per segment at each model as-of date, stacked, segments in rule order."""
    if frame.empty:
        return empty_figure(lang)
    days = sorted({pd.Timestamp(d) for d in frame["as_of"]})
    figure = go.Figure()
    segments = frame.drop_duplicates("segment_code")
    for position, (_, segment) in enumerate(segments.iterrows()):
        code = str(segment["segment_code"])
        rows = frame[frame["segment_code"] == code]
        counts = {
            pd.Timestamp(d): int(n) for d, n in zip(rows["as_of"], rows["members"], strict=True)
        }
        figure.add_trace(
            go.Bar(
                x=[d.strftime("%Y-%m-%d") for d in days],
                y=[counts.get(d, 0) for d in days],
                name=name_of(segment["name"], segment["name_en"], lang, code),
                marker={"color": SEGMENT_COLORS.get(code, PALETTE[position % len(PALETTE)])},
                hovertemplate="%{x}: %{y:,}<extra>%{fullData.name}</extra>",
            )
        )
    figure.update_layout(barmode="stack")
    figure.update_xaxes(type="category")
    return _style(
        figure, x_title=t("axis.as_of", lang), y_title=t("axis.members", lang), dates=True
    )


def clv_bucket_label(low_fen: int, high_fen: float | None) -> str:
    """A bucket of expected value in 元: "0–50", "5,000+"."""
    low = f"{low_fen // FEN_PER_YUAN:,}"
    if high_fen is None or pd.isna(high_fen):
        return f"{low}+"
    return f"{low}–{int(high_fen) // FEN_PER_YUAN:,}"


def clv_histogram(frame: pd.DataFrame, lang: Lang) -> go.Figure:
    """Members per bucket of expected lifetime value (the buckets the query chose)."""
    if frame.empty or int(frame["members"].sum()) == 0:
        return empty_figure(lang)
    figure = go.Figure(
        go.Bar(
            x=[clv_bucket_label(int(r.low_fen), r.high_fen) for r in frame.itertuples()],
            y=[int(v) for v in frame["members"]],
            marker={"color": "#007A4D"},
            hovertemplate="%{x}: %{y:,}<extra></extra>",
        )
    )
    figure.update_xaxes(type="category")
    return _style(
        figure, x_title=t("axis.clv", lang), y_title=t("axis.members", lang), legend=False
    )
