"""Tables and their CSV: formatted for reading, exact for spreadsheets, never a formula,
personal data masked by the viewer's role."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from dashboards import components
from dashboards.auth import Viewer
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


def test_grid_cells_read_money_in_yuan_and_missing_values_as_dashes() -> None:
    rows = components.grid_rows(COLUMNS, frame(), "zh")
    assert [list(row.values()) for row in rows] == [
        ["网上商城", "1,234", "1,234,567.89", "+23.5%", "50.0%", "2026-03-01", "金卡"],
        ["counter", "5", "10.05", "新增", "—", "—", "未知"],
    ]
    headers = [components._grid_column(c, "zh", {})["headerName"] for c in COLUMNS]
    assert headers[2] == "交易额 (元)" and headers[4] == "占比 (%)", headers


def test_a_small_table_is_a_grid_holding_numbers_in_the_units_its_headers_name() -> None:
    assert components.column_filters(COLUMNS) == {
        "name": "text",
        "purchases": "number",
        "gmv_fen": "number",
        "share": "number",
        "day": "text",
        "tier": "text",
    }
    masked = (Column("phone", "col.phone", "text", personal="phone"),)
    assert components.column_filters(masked) == {}
    card = components.table_card("overview", "channels", "block.channel_table", "zh", COLUMNS)
    grid = card.children[1].children
    assert grid.id == "overview-grid-channels" and grid.rowModelType == "clientSide"
    assert grid.dashGridOptions["domLayout"] == "autoHeight" and "height" not in grid.style
    gmv = next(c for c in grid.columnDefs if c["field"] == "gmv_fen")
    assert gmv["filter"] == "agNumberColumnFilter" and gmv["headerName"] == "交易额 (元)"
    assert gmv["valueFormatter"] == {"function": "params.data.gmv_fen__text"}
    rows = components.client_rows(COLUMNS, frame(), "zh")
    # Sorted and filtered as numbers in 元 and percent; shown as formatted text.
    assert rows[0]["gmv_fen"] == 1234567.89 and rows[0]["gmv_fen__text"] == "1,234,567.89"
    assert rows[0]["share"] == 50.0 and rows[0]["gmv_fen_vs_previous_gmv_fen"] == 23.46
    assert rows[1]["share"] is None and rows[1]["share__text"] == "—"
    assert rows[0]["tier"] == "金卡" and "tier__text" not in rows[0]
    tall = components.table_card("p", "t", "block.channel_table", "zh", COLUMNS, height=460)
    assert tall.children[1].children.style["height"] == "460px"


def test_a_link_column_carries_its_href_for_the_grid_to_render() -> None:
    columns = (Column("name", "col.campaign", "link:href"), Column("participants", "x", "count"))
    rows = pd.DataFrame(
        {
            "code": ["A"],
            "name": ["甲"],
            "name_en": ["A"],
            "href": ["/dashboards/x"],
            "participants": [3],
        }
    )
    assert components.grid_rows(columns, rows, "en") == [
        {"name": "A", "name_href": "/dashboards/x", "participants": "3"}
    ]
    assert components._grid_column(columns[0], "en", {})["cellRenderer"] == "PageLink"


def test_a_grid_holding_its_rows_sorts_and_matches_names_in_the_viewer_language() -> None:
    names = pd.DataFrame(
        {"channel": ["b", "a"], "name": ["乙", "甲"], "name_en": ["Beta", None], "n": [1, 2]}
    )
    columns = (Column("name", "col.channel", "name"), Column("n", "x", "count"))
    # The browser sorts and filters the value it is given: the name the viewer reads (a
    # name without an English one falls back to the code's label or the Chinese name).
    english = [row["name"] for row in components.client_rows(columns, names, "en")]
    assert english[0] == "Beta" and english[1] != "Beta"
    assert [row["name"] for row in components.client_rows(columns, names, "zh")] == ["乙", "甲"]


def test_csv_is_exact_yuan_with_localised_headers_and_a_bom() -> None:
    text = components.csv_text(COLUMNS, frame(), "en")
    assert text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").split("\r\n")
    assert lines[0] == "Channel,Purchases,GMV (CNY),Change (%),Share (%),Day,Tier"
    # Changes and shares are plain numbers in percent (a leading + would make a formula);
    # a missing number is an empty cell, and "new" (nothing before) has no ratio.
    assert lines[1] == "Online mall,1234,1234567.89,23.46,50.00,2026-03-01,Gold"
    assert lines[2] == "counter,5,10.05,,,—,unknown"
    falling = frame().assign(gmv_fen=[50_000_000, 1], previous_gmv_fen=[100_000_000, 3])
    falls = components.csv_text(COLUMNS, falling, "en").split("\r\n")
    assert falls[1].split(",")[3] == "-50.00" and falls[2].split(",")[3] == "-66.67"


def test_text_a_spreadsheet_would_run_is_neutralised() -> None:
    for formula in ('=HYPERLINK("http://x","y")', "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert components.neutralise_formula(formula) == "'" + formula
    for text in ("张三", "13800001234", "", " =1", "a=b", "'quoted"):
        assert components.neutralise_formula(text) == text


def test_negative_numbers_stay_numbers_and_member_text_does_not() -> None:
    columns = (
        Column("name", "col.name", "text"),
        Column("points", "metric.points_issued", "points"),
        Column("fen", "metric.gmv", "money"),
    )
    rows = pd.DataFrame({"name": ["=HYPERLINK(1)", "-5"], "points": [-12, 3], "fen": [-150, 0]})
    body = list(csv.reader(io.StringIO(components.csv_text(columns, rows, "en").lstrip("\ufeff"))))
    assert body[1:] == [["'=HYPERLINK(1)", "-12", "-1.50"], ["'-5", "3", "0.00"]]


TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
FUZZ_COLUMNS = (
    Column("note", "col.name", "text"),
    Column("count", "metric.purchases", "count"),
    Column("fen", "metric.gmv", "money"),
)


@given(
    st.lists(
        st.tuples(
            st.text(),
            st.integers(-(10**15), 10**15),
            st.integers(-(10**15), 10**15),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_no_csv_text_cell_starts_like_a_formula_and_numbers_are_unchanged(
    rows: list[tuple[str, int, int]],
) -> None:
    table = pd.DataFrame(rows, columns=["note", "count", "fen"])
    text = components.csv_text(FUZZ_COLUMNS, table, "en")
    body = list(csv.reader(io.StringIO(text.lstrip("\ufeff"), newline="")))[1:]
    assert len(body) == len(rows)
    for (note, count, fen), (note_cell, count_cell, fen_cell) in zip(rows, body, strict=True):
        assert not note_cell.startswith(TRIGGERS)
        assert note_cell in (note, "'" + note)
        assert count_cell == str(count)
        assert Decimal(fen_cell) == Decimal(fen) / 100


def test_personal_columns_are_masked_for_roles_that_may_not_see_them() -> None:
    columns = (
        Column("name", "col.name", "text", personal="name"),
        Column("phone", "col.phone", "text", personal="phone"),
        Column("tier", "col.tier", "label:tier"),
    )
    rows = pd.DataFrame(
        {"name": ["张三丰", None], "phone": ["13800001234", "138****5678"], "tier": ["gold"] * 2}
    )
    masked = components.for_viewer(columns, rows, Viewer("m", "marketer"))
    assert masked["name"].tolist()[0] == "张*" and pd.isna(masked["name"].tolist()[1])
    assert masked["phone"].tolist() == ["138****1234", "138****5678"]
    assert masked["tier"].tolist() == ["gold", "gold"]
    assert rows["phone"].tolist()[0] == "13800001234"  # the caller's frame is left alone
    whole = components.for_viewer(columns, rows, Viewer("f", "finance"))
    assert whole["phone"].tolist()[0] == "13800001234"


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
    assert number.id == "overview-kpi-gmv-value" and number.children == "20.00"
    assert card.children[1].children[1].children == "K CNY"
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


def test_a_grid_request_keeps_only_known_columns_and_operators() -> None:
    from dashboards.components import Column, grid_request

    columns = (
        Column("member_no", "col.member_no"),
        Column("phone", "col.phone", personal="phone"),
        Column("spend_fen", "col.spend", "money"),
        Column("churn_risk", "col.churn_risk", "percent"),
    )
    request = grid_request(
        {
            "startRow": 50,
            "endRow": 100_000,
            "sortModel": [{"colId": "spend_fen", "sort": "desc"}, {"colId": "evil", "sort": "asc"}],
            "filterModel": {
                "member_no": {"filterType": "text", "type": "startsWith", "filter": "00"},
                "spend_fen": {
                    "filterType": "number",
                    "type": "inRange",
                    "filter": 1,
                    "filterTo": 2,
                },
                "churn_risk": {"filterType": "number", "type": "greaterThan", "filter": 50},
                "evil": {"filterType": "text", "type": "contains", "filter": "x"},
                "phone": {"filterType": "text", "type": "notContains", "filter": "1"},
            },
        },
        columns,
    )
    assert (request.start, request.end) == (50, 550)
    assert request.sort == (("spend_fen", True),)
    assert request.conditions == (
        ("member_no", "starts_with", "00"),
        ("spend_fen", ">=", 100.0),
        ("spend_fen", "<=", 200.0),
        ("churn_risk", ">", 0.5),
    )


def test_a_forged_grid_request_falls_back_to_the_first_page() -> None:
    from dashboards.components import GRID_PAGE, Column, grid_request

    columns = (Column("member_no", "col.member_no"),)
    for start, end in (("abc", None), ([1], {"x": 1}), (float("inf"), "9" * 400), (True, False)):
        request = grid_request(
            {"startRow": start, "endRow": end, "sortModel": "x", "filterModel": {}}, columns
        )
        assert 0 <= request.start < request.end <= request.start + 500
    assert grid_request({"startRow": "oops"}, columns).end == GRID_PAGE
    for shape in (
        {"sortModel": 7, "filterModel": ["member_no"]},
        {"filterModel": {"member_no": {"operator": "AND", "conditions": 3}}},
        {"filterModel": {"member_no": {"operator": "AND", "conditions": ["x", None]}}},
        {"filterModel": {"member_no": {"filterType": "text", "type": "equals", "filter": "1"}}},
    ):
        request = grid_request(shape, columns)
        assert request.sort == () and len(request.conditions) <= 1
    assert grid_request(["not", "a", "mapping"], columns).start == 0  # type: ignore[arg-type]


def test_a_grid_held_whole_sorts_by_change_and_filters_like_the_warehouse() -> None:
    from dashboards.components import grid_request, grid_rows, sorted_page

    rows = pd.DataFrame(
        {
            "code": ["web", "app", "counter", "retail"],
            "name": ["网上商城", "邮政APP", "柜台", "便利店"],
            "name_en": ["Online mall", "Post app", "Counter", "Store"],
            "purchases": [10, 20, 30, 40],
            "gmv_fen": [150, 90, 500, 100],
            "previous_gmv_fen": [100, 100, 0, 100],
            "share": [0.1, 0.2, 0.3, 0.4],
            "day": [pd.Timestamp("2026-03-01")] * 4,
            "tier": ["gold"] * 4,
        }
    )
    change = COLUMNS[3]
    assert change.field == "gmv_fen_vs_previous_gmv_fen" != COLUMNS[2].field

    def page(request: dict[str, object]) -> list[str]:
        found, _ = sorted_page(rows, grid_request(request, COLUMNS), COLUMNS)
        return list(found["code"])

    # +50 %, −10 %, new (nothing before), 0 %: "new" ranks above any rise.
    by_change = {"sortModel": [{"colId": change.field, "sort": "desc"}]}
    assert page(by_change) == ["counter", "web", "retail", "app"]
    assert page({"sortModel": [{"colId": "gmv_fen", "sort": "asc"}]}) == [
        "app",
        "retail",
        "web",
        "counter",
    ]
    # Text matches ignoring case.
    search = {"filterModel": {"name": {"filterType": "text", "type": "contains", "filter": "app"}}}
    assert page(search) == ["app"]
    # Money is typed in 元 and compared in fen.
    money = {
        "filterModel": {"gmv_fen": {"filterType": "number", "type": "greaterThan", "filter": 1}}
    }
    assert page(money) == ["web", "counter"]
    shown = grid_rows(COLUMNS, rows.iloc[:2], "zh")
    assert shown[0][change.field] == "+50.0%" and shown[0]["gmv_fen"] != shown[0][change.field]


def test_downloads_name_their_filters_and_carry_them_with_the_data_time() -> None:
    from datetime import UTC, datetime

    from openpyxl import load_workbook

    from dashboards.urls import read_view

    view = read_view(
        {"from": "2026-09-01", "to": "2026-09-30", "inst": "SH-PD", "channel": "counter"},
        date(2026, 9, 30),
    )
    name = components.download_name("channels", "outlets", view, "xlsx")
    assert name == "memberhub-channels-outlets-20260901-20260930-SH-PD-counter.xlsx"
    synced = datetime(2026, 10, 1, 1, 30, tzinfo=UTC)
    notes = components.export_notes(name, view, synced)
    assert (
        notes[1]
        == "日期: 2026-09-01 – 2026-09-30 | 机构: SH-PD | 渠道: counter | 营销活动: 全部活动"
    )
    assert notes[2] == "数据截至: 2026-10-01 09:30 (Asia/Shanghai)"

    text = components.csv_text(COLUMNS, frame(), "zh", notes)
    lines = text.lstrip("\ufeff").split("\r\n")
    assert lines[:3] == [f"# {line}" for line in notes]
    assert list(pd.read_csv(io.StringIO(text.lstrip("\ufeff")), comment="#")["交易笔数"]) == [
        1234,
        5,
    ]

    book = load_workbook(io.BytesIO(components.xlsx_bytes(COLUMNS, frame(), "zh", notes)))
    data, about = book.worksheets
    rows = list(data.iter_rows(values_only=True))
    assert rows[0][:5] == ("渠道", "交易笔数", "交易额 (元)", "环比 (%)", "占比 (%)")
    assert rows[1][:5] == ("网上商城", 1234, 1234567.89, 23.46, 50.0)
    assert rows[2][1:5] == (5, 10.05, None, None)
    assert data["C2"].number_format == "#,##0.00" and data.freeze_panes == "A2"
    assert [row[0] for row in about.iter_rows(values_only=True)] == notes


def test_a_chart_click_names_a_code_only_when_it_is_one() -> None:
    from dashboards.components import clicked_code

    assert clicked_code({"points": [{"customdata": "counter", "y": "柜台"}]}) == "counter"
    assert clicked_code({"points": [{"customdata": ["MID-AUTUMN", 3]}]}) == "MID-AUTUMN"
    assert clicked_code({"points": [{"id": "SH-PD-0001", "label": "x"}]}) == "SH-PD-0001"
    for forged in (
        None,
        "counter",
        {"points": []},
        {"points": "x"},
        {"points": [None]},
        {"points": [{"customdata": 7}]},
        {"points": [{"customdata": " "}]},
        {"points": [{"customdata": "a\nb"}]},
        {"points": [{"customdata": "x" * 65}]},
        {"points": [{"customdata": []}]},
    ):
        assert clicked_code(forged) is None, forged


def test_the_breadcrumb_hints_at_clicking_until_something_is_narrowed() -> None:
    from dashboards.components import Choices, breadcrumb
    from dashboards.urls import read_view

    choices = Choices(
        institutions=[],
        channels=[("counter", "柜台")],
        campaigns=[],
        institution_parents={"SH": None, "SH-PD": "SH"},
        institution_names={"SH": "上海", "SH-PD": "浦东"},
    )
    plain = breadcrumb("overview", read_view({}, date(2026, 9, 30)), choices)
    assert plain.children[0].className == "crumb-hint"
    narrowed = read_view({"inst": "SH-PD", "channel": "counter"}, date(2026, 9, 30), 7)
    crumb = breadcrumb("overview", narrowed, choices)
    inst, channel = crumb.children
    up = inst.children[1]
    assert up.children == "上海" and up.href.startswith("/dashboards/?") and "inst=SH&" in up.href
    assert inst.children[3].children == "浦东"
    assert channel.children[1].children == "柜台" and "channel" not in channel.children[2].href


def test_the_institution_dropdown_offers_districts_until_the_user_types() -> None:
    tree = pd.DataFrame(
        {
            "code": ["SH", "SH-HP", "SH-HP-0001", "SH-HP-0002", "SH-JA", "SH-JA-0001"],
            "parent_code": [None, "SH", "SH-HP", "SH-HP", "SH", "SH-JA"],
            "name": ["上海", "黄浦区", "南京东路支局", "外滩支局", "静安区", "南京西路支局"],
            "name_en": ["Shanghai", "Huangpu", "East Nanjing Rd", "The Bund", "Jing'an", "W"],
            "level": [0, 1, 2, 2, 1, 2],
        }
    )
    choices = components.Choices(
        institutions=components.institution_choices(tree, "zh"),
        channels=[],
        campaigns=[],
        institution_parents={
            code: None if pd.isna(parent) else parent
            for code, parent in zip(tree["code"], tree["parent_code"], strict=True)
        },
    )

    def values(current: str | None, search: str | None = None) -> list[str]:
        return [o["value"] for o in components.institution_options(choices, current, search)]

    assert values(None) == ["SH", "SH-HP", "SH-JA"]
    assert values("SH-HP-0002") == ["SH", "SH-HP", "SH-JA", "SH-HP-0002"]
    assert values(None, "南京") == ["SH-HP-0001", "SH-JA-0001"]
    assert values(None, "hp-000") == ["SH-HP-0001", "SH-HP-0002"]
    assert values("SH-JA", "外滩") == ["SH-HP-0002", "SH-JA"]
    assert values("NOPE", "zzz") == ["NOPE"]  # an unknown code from a shared URL stays shown
    many = components.Choices(
        institutions=[(f"X-{i}", f"支局 {i}") for i in range(80)], channels=[], campaigns=[]
    )
    assert len(components.institution_options(many, None, "支局")) == 50
