"""Figure builders are pure: a frame and a language in, a Plotly figure out."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from dashboards import figures


def days(first: date, n: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(n)]


def daily_sales(current: list[int], previous: list[int]) -> pd.DataFrame:
    n = len(current)
    start = date(2026, 3, 1)
    rows = []
    for i, value in enumerate(previous):
        rows.append(("previous", i, start - timedelta(days=n - i), value))
    for i, value in enumerate(current):
        rows.append(("current", i, start + timedelta(days=i), value))
    frame = pd.DataFrame(rows, columns=["period", "day_index", "day", "gmv_fen"])
    frame["active_members"] = 1
    return frame


def is_empty_state(figure: object, text: str) -> bool:
    annotations = figure.layout.annotations  # type: ignore[attr-defined]
    return len(figure.data) == 0 and annotations[0].text == text  # type: ignore[attr-defined]


def test_empty_frames_draw_the_empty_state_in_the_viewer_language() -> None:
    empty = pd.DataFrame(columns=["channel", "name", "name_en", "gmv_fen"])
    assert is_empty_state(
        figures.ranked_bars(empty, "zh", code="channel", value="gmv_fen"), "所选条件下暂无数据"
    )
    assert is_empty_state(
        figures.donut(empty, "en", code="channel", value="gmv_fen"), "No data for these filters"
    )
    assert is_empty_state(
        figures.trend_vs_previous(daily_sales([0, 0], [0, 0]), "en"), "No data for these filters"
    )
    assert is_empty_state(figures.cohort_heatmap(pd.DataFrame(), "zh"), "所选条件下暂无数据")
    assert is_empty_state(
        figures.institution_treemap(
            pd.DataFrame(columns=["code", "parent_code", "name", "name_en", "level", "gmv_fen"]),
            "zh",
        ),
        "所选条件下暂无数据",
    )


def test_the_trend_lays_the_previous_period_over_the_same_days() -> None:
    figure = figures.trend_vs_previous(
        daily_sales([100_00, 200_00, 300_00], [50_00, 0, 10_00]), "en"
    )
    previous, current = figure.data
    assert list(current.y) == [100.0, 200.0, 300.0]  # yuan: the largest day is below 10,000 元
    assert list(previous.y) == [50.0, 0.0, 10.0]
    assert list(previous.x) == list(current.x)
    assert previous.customdata[0] == "2026-02-26"
    assert figure.layout.yaxis.title.text == "GMV (CNY)"


def test_large_amounts_are_drawn_in_wan_yuan() -> None:
    frame = pd.DataFrame(
        {
            "channel": ["web", "counter"],
            "name": ["网上商城", "柜台"],
            "name_en": ["Web", "Counter"],
            "gmv_fen": [25_000_000, 1_000_000],
        }
    )
    figure = figures.ranked_bars(
        frame, "zh", code="channel", value="gmv_fen", colors=figures.CHANNEL_COLORS
    )
    bars = figure.data[0]
    assert list(bars.y) == ["柜台", "网上商城"]  # largest on top
    assert list(bars.x) == [1.0, 25.0]
    assert figure.layout.xaxis.title.text == "万元"
    assert list(bars.marker.color) == [
        figures.CHANNEL_COLORS["counter"],
        figures.CHANNEL_COLORS["web"],
    ]


def test_long_periods_are_drawn_per_week() -> None:
    frame = pd.DataFrame(
        {"day": days(date(2026, 1, 5), 70), "issued": 1, "redeemed": 2, "expired": 0}
    )
    weekly = figures.weekly(frame, ("issued", "redeemed", "expired"))
    assert len(weekly) == 10 and weekly["issued"].tolist() == [7] * 10
    short = frame.head(30)
    assert figures.weekly(short, ("issued",)) is short
    figure = figures.points_flow(frame, "en")
    assert [trace.name for trace in figure.data] == ["Issued", "Redeemed", "Expired"]
    assert list(figure.data[1].y)[:1] == [-14]  # redemptions point down
    assert figure.layout.xaxis.title.text == "Week"


def test_the_tree_keeps_branches_with_sales_and_adds_up_their_totals() -> None:
    frame = pd.DataFrame(
        {
            "code": ["SH", "SH-HP", "SH-PD", "SH-HP-0001", "SH-HP-0002"],
            "parent_code": [None, "SH", "SH", "SH-HP", "SH-HP"],
            "name": ["上海", "黄浦", "浦东", "一", "二"],
            "name_en": ["Shanghai", "Huangpu", "Pudong", "One", "Two"],
            "kind": ["company", "district", "district", "outlet", "outlet"],
            "level": [0, 1, 1, 2, 2],
            "gmv_fen": [100, 0, 0, 300, 0],
        }
    )
    nodes = figures.tree_nodes(frame).set_index("code")
    assert sorted(nodes.index) == ["SH", "SH-HP", "SH-HP-0001"]
    assert nodes.loc["SH", "parent"] == "" and nodes.loc["SH-HP-0001", "parent"] == "SH-HP"
    assert nodes["total_fen"].to_dict() == {"SH": 400, "SH-HP": 300, "SH-HP-0001": 300}
    # Two levels at a time: the company and its districts, or a district and its outlets.
    treemap = figures.institution_treemap(frame, "en").data[0]
    assert list(treemap.labels) == ["Shanghai", "Huangpu"]
    assert list(treemap.values) == [4.0, 3.0] and treemap.branchvalues == "total"
    district = figures.institution_treemap(frame[frame["code"].str.startswith("SH-HP")], "en")
    assert list(district.data[0].labels) == ["Huangpu", "One"]


def test_purchase_frequency_buckets_cover_every_count() -> None:
    frame = pd.DataFrame(
        {"purchases": [1, 2, 5, 6, 10, 11, 25, 40], "members": [9, 8, 7, 6, 5, 4, 3, 2]}
    )
    assert figures.frequency_buckets(frame) == [
        ("1", 9),
        ("2", 8),
        ("3", 0),
        ("4", 0),
        ("5", 7),
        ("6–10", 11),
        ("11–20", 4),
        ("21+", 5),
    ]


def test_campaign_groups_compare_cumulative_gmv_per_member() -> None:
    frame = pd.DataFrame(
        {
            "day": days(date(2026, 9, 1), 3),
            "treated_gmv_fen": [1000, 0, 2000],
            "holdout_gmv_fen": [500, 500, 0],
            "points_awarded": [10, 0, 20],
            "treated_members": [10, 10, 10],
            "holdout_members": [5, 5, 5],
        }
    )
    cumulative = figures.cumulative_per_member(frame)
    assert cumulative["treated"].tolist() == [100.0, 100.0, 300.0]
    assert cumulative["holdout"].tolist() == [100.0, 200.0, 200.0]
    burn = figures.campaign_burn(frame, 1000, "zh")
    assert list(burn.data[0].y) == [10, 10, 30] and list(burn.data[1].y) == [1000, 1000]


def test_campaign_lift_draws_its_confidence_interval() -> None:
    frame = pd.DataFrame(
        {
            "code": ["CA", "CB", "CC"],
            "name": ["甲", "乙", "丙"],
            "name_en": ["A", "B", "C"],
            "lift_fen": [5000.0, -2000.0, float("nan")],
            "lift_low_fen": [1000.0, -6000.0, float("nan")],
            "lift_high_fen": [9000.0, 2000.0, float("nan")],
        }
    )
    point = figures.campaign_lift(frame, "en").data[0]
    assert list(point.y) == ["A", "B"]
    assert list(point.customdata) == ["CA", "CB"]  # a click narrows to the campaign
    assert list(point.x) == [50.0, -20.0]
    assert list(point.error_x.array) == [40.0, 40.0]
    assert list(point.error_x.arrayminus) == [40.0, 40.0]
    # Only an interval entirely above zero is drawn as a real effect.
    assert point.marker.color[0] == figures.PALETTE[0] and point.marker.color[1] == figures.MUTED


def test_reward_kinds_are_summed_for_the_donut() -> None:
    frame = pd.DataFrame(
        {
            "kind": ["voucher", "goods", "voucher"],
            "reward_code": ["A", "B", "C"],
            "points_spent": [10, 20, 30],
            "redemptions": [1, 1, 2],
        }
    )
    summed = figures.by_reward_kind(frame).set_index("kind")
    assert summed.loc["voucher", "points_spent"] == 40 and summed.loc["goods", "redemptions"] == 1
    donut = figures.donut(
        summed.reset_index(), "zh", code="kind", value="points_spent", label_prefix="kind"
    )
    assert list(donut.data[0].labels) == ["实物礼品", "优惠券"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_figure_uses_the_product_font_and_palette(lang: str) -> None:
    figure = figures.trend_vs_previous(daily_sales([1, 2], [2, 1]), lang)  # type: ignore[arg-type]
    assert "Noto Sans CJK SC" in figure.layout.font.family
    assert figure.layout.colorway[0] == figures.PALETTE[0]
