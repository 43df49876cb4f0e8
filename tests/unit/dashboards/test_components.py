"""Tables and their CSV: formatted for reading, exact for spreadsheets."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboards import components
from dashboards.components import Column

COLUMNS = (
    Column("name", "col.channel", "name"),
    Column("purchases", "metric.purchases", "count"),
    Column("gmv_fen", "metric.gmv", "money"),
    Column("gmv_fen", "metric.change", "change:previous_gmv_fen"),
    Column("share", "metric.share", "percent"),
    Column("day", "col.day", "date"),
    Column("tier", "col.tier", "label:tier"),
)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "code": ["web", "counter"],
            "name": ["网上商城", None],
            "name_en": ["Online mall", None],
            "purchases": [1234, 5],
            "gmv_fen": [123_456_789, 1_005],
            "previous_gmv_fen": [100_000_000, 0],
            "share": [0.5, float("nan")],
            "day": [pd.Timestamp("2026-03-01"), pd.NaT],
            "tier": ["gold", None],
        }
    )


def cells(table: object) -> list[list[str]]:
    body = table.children[0].children[1]  # type: ignore[attr-defined]
    return [[str(td.children) for td in tr.children] for tr in body.children]


def test_a_table_shows_money_in_one_unit_per_column_and_missing_values_as_dashes() -> None:
    table = components.render_table(COLUMNS, frame(), "zh")
    head_row = table.children[0].children[0].children  # type: ignore[attr-defined]
    head = [th.children for th in head_row.children]
    assert head[2] == "交易额 (万元)"
    assert cells(table) == [
        ["网上商城", "1,234", "123.46", "+23.5%", "50.0%", "2026-03-01", "金卡"],
        ["counter", "5", "0.00", "新增", "—", "—", "未知"],
    ]


def test_an_empty_table_says_so() -> None:
    empty = components.render_table(COLUMNS, frame().head(0), "en")
    assert empty.children == "No data for these filters"


def test_csv_is_exact_yuan_with_localised_headers_and_a_bom() -> None:
    text = components.csv_text(COLUMNS, frame(), "en")
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").split("\r\n")
    assert lines[0] == "Channel,Purchases,GMV (CNY),Change,Share,Day,Tier"
    assert lines[1] == "Online mall,1234,1234567.89,+23.5%,50.00%,2026-03-01,Gold"
    assert lines[2] == "counter,5,10.05,new,—,—,unknown"


def test_csv_download_names_the_page_table_and_period() -> None:
    from dashboards.urls import read_view

    view = read_view({"from": "2026-01-01", "to": "2026-01-31"}, date(2026, 1, 31))
    download = components.csv_download(
        COLUMNS, frame(), "zh", components.download_name("overview", "channels", view)
    )
    assert download["filename"] == "memberhub-overview-channels-20260101-20260131.csv"
    assert download["type"] == "text/csv" and download["base64"] is False


def test_kpi_cards_carry_stable_ids_and_the_change() -> None:
    card = components.kpi("overview", "gmv", "metric.gmv", "en", 2_000_000, 1_000_000, kind="money")
    assert card.id == "overview-kpi-gmv"
    number = card.children[1].children[0]
    assert number.id == "overview-kpi-gmv-value" and number.children == "2.00"
    assert card.children[1].children[1].children == "10k CNY"
    change = card.children[2].children[0]
    assert change.children == "+100.0%" and "delta-up" in change.className


def test_institution_choices_read_as_a_tree() -> None:
    tree = pd.DataFrame(
        {
            "code": ["SH", "SH-HP"],
            "name": ["上海", "黄浦"],
            "name_en": ["Shanghai", "Huangpu"],
            "level": [0, 1],
        }
    )
    assert components.institution_choices(tree, "en") == [
        ("SH", "Shanghai · SH"),
        ("SH-HP", "\u3000Huangpu · SH-HP"),
    ]
