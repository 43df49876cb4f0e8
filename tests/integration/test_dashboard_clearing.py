"""The Clearing page: its warehouse tables follow clearing runs by cleared day, its figures
are the API's day report for the same day and level, and only finance and admin open it.

The dashboard scenario is cleared for its last days the way finance works: tills send
control totals (one of them misses a sale and names one the platform never had), the
days are closed (that one with a reason), the newest stays open, and a sale of a closed
day that arrives late lands on the open day's adjustment line. A re-run of the open day
after a sync replaces its rows in the warehouse.
"""

from __future__ import annotations

import csv as csv_module
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from flask.testing import FlaskClient

from bench.dash_client import CALLBACK_URL, DashClient
from common.clock import SHANGHAI, utcnow
from common.db import read_session
from common.unit_of_work import transaction
from dashboards import i18n
from memberhub.runtime import Runtime
from storefront_api import clearing
from storefront_api.auth import create_staff_user
from tests.integration import dashboard_scenario
from tests.integration.dashboard_scenario import Scenario
from tests.integration.test_dashboard_callbacks import ids_in, kpi_value, log_in, render, texts_in
from warehouse import WarehouseReader, sync_warehouse
from warehouse import clearing as wc

DAYS = 4  # cleared: today-4 .. today-1; the last stays open
REASON = "收银机漏记一笔 / the till lost a sale"
LEVELS = ("company", "district", "outlet")


@dataclass
class Cleared:
    scenario: Scenario
    days: list[date]
    lost_on: date
    late_for: date


def _post_sale(client: FlaskClient, scenario: Scenario, key: str, inst: str, day: date, n: str):
    moment = min(
        pd.Timestamp(day).tz_localize(SHANGHAI) + pd.Timedelta(hours=11),
        pd.Timestamp(utcnow()) - pd.Timedelta(seconds=5),
    )
    answer = client.post(
        "/api/v1/accruals",
        json={
            "external_id": f"CLR-{n}",
            "member": {"member_no": scenario.members[int(n[-1]) % len(scenario.members)]},
            "institution_code": inst,
            "occurred_at": moment.isoformat(),
            "business_type": "goods",
            "lines": [{"sku": "SKU-CLR", "category": "food", "quantity": 1, "amount_fen": 12_345}],
            "total_fen": 12_345,
            "payment_method": "cash",
        },
        headers=scenario.keys[key],
    )
    assert answer.status_code == 201, answer.get_data(as_text=True)[:400]


def _run(db: Runtime, day: date, close: bool, reason: str | None = None) -> None:
    with transaction(db.session_factory) as uow:
        clearing.run_day(
            uow,
            day,
            actor="staff:finance",
            fen_per_point=db.settings.fen_per_point,
            close=close,
            reason=reason,
        )


def _report(db: Runtime, day: date, level: str) -> clearing.DayReport:
    with read_session(db.session_factory) as session:
        return clearing.day_report(session, day, level)


@pytest.fixture
def cleared(
    db: Runtime, client: FlaskClient, channel_key: Any, staff_token: Any, auth: Any
) -> Iterator[Cleared]:
    scenario = dashboard_scenario.build(client, db, channel_key, staff_token, auth)
    today = scenario.today
    days = [today - timedelta(days=n) for n in range(DAYS, 0, -1)]
    hp = scenario.outlets["hp"]
    for number, day in enumerate(days):
        _post_sale(client, scenario, "counter_hp", hp, day, f"{number}1")
        _post_sale(client, scenario, "counter_hp", hp, day, f"{number}2")
        _post_sale(client, scenario, "web", "SH", day, f"{number}3")
    lost_on = days[1]
    # The counter's own list misses its second sale and names one the platform never had.
    with transaction(db.session_factory) as uow:
        clearing.submit_control_total(
            uow,
            clearing.ControlTotalCommand(lost_on, hp, 2, 24_690, ("CLR-11", "TILL-ONLY-1")),
            channel="counter",
            actor="channel:counter",
        )
    for day in days:
        _run(db, day, close=day != days[-1], reason=REASON if day == lost_on else None)
    # A sale of a closed day that arrives after the close: the open day adjusts for it.
    late_for = days[0]
    _post_sale(client, scenario, "counter_hp", hp, late_for, "LATE9")
    _run(db, days[-1], close=False)
    sync_warehouse(db.engine, db.settings.warehouse_path)
    yield Cleared(scenario, days, lost_on, late_for)
    for suffix in ("", ".lock"):
        db.settings.warehouse_path.with_name(db.settings.warehouse_path.name + suffix).unlink(
            missing_ok=True
        )


def _plain(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values (numpy ints as int, missing as None)."""
    rows = []
    for record in frame.to_dict("records"):
        row = {}
        for key, value in record.items():
            if isinstance(value, list):
                row[key] = value
            elif value is None or pd.isna(value):
                row[key] = None
            elif hasattr(value, "item"):
                row[key] = value.item()
            else:
                row[key] = value
        rows.append(row)
    return rows


def _without(rows: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in names} for row in rows]


# -- the warehouse equals the day report -----------------------------------------------------


def test_every_cleared_day_equals_the_api_s_day_report_at_every_level(
    db: Runtime, cleared: Cleared
) -> None:
    reader = WarehouseReader(db.settings.warehouse_path)
    try:
        assert wc.latest_day(reader) == cleared.days[-1]
        for day in cleared.days:
            record = wc.clearing_day(reader, day)
            assert record is not None
            for level in LEVELS:
                report = _report(db, day, level)
                assert (record.status, record.runs, record.closed_by, record.close_reason) == (
                    report.status,
                    report.runs,
                    report.closed_by,
                    report.close_reason,
                )
                lines = wc.lines(reader, day, level)
                assert _plain(lines) == report.tables["lines"], (day, level)
                assert wc.totals(lines) == report.totals
                assert _plain(wc.positions(reader, day, level)) == _without(
                    report.tables["positions"], "net_yuan"
                )
                assert _plain(wc.transfers(reader, day, level)) == _without(
                    report.tables["transfers"], "amount_yuan"
                )
                assert _plain(wc.liability(reader, day, level)) == _without(
                    report.tables["liability"], "yuan"
                )
                net = int(wc.positions(reader, day, level)["net_fen"].sum())
                assert (net == 0) == report.balanced
            assert _plain(wc.mismatches(reader, day)) == report.tables["mismatches"], day
    finally:
        reader.close()
    # What the fixture set up is there to see.
    lost = _report(db, cleared.lost_on, "outlet").tables["mismatches"]
    assert any(m["missing"] == ["TILL-ONLY-1"] and m["extra"] == ["CLR-12"] for m in lost)
    adjustments = [
        line
        for line in _report(db, cleared.days[-1], "outlet").tables["lines"]
        if line["original_date"] is not None
    ]
    assert [line["original_date"] for line in adjustments] == [cleared.late_for]


def test_a_re_run_replaces_the_open_day_s_rows_and_a_sync_without_news_writes_nothing(
    db: Runtime, client: FlaskClient, cleared: Cleared
) -> None:
    path = db.settings.warehouse_path
    assert sync_warehouse(db.engine, path).rows_written == 0
    open_day = cleared.days[-1]
    _post_sale(
        client, cleared.scenario, "counter_hp", cleared.scenario.outlets["hp"], open_day, "RR5"
    )
    _run(db, open_day, close=False)
    again = sync_warehouse(db.engine, path)
    assert again.rows["fact_clearing_day"] == 1 and again.rows["fact_clearing_line"] > 0
    reader = WarehouseReader(path)
    try:
        for level in LEVELS:
            report = _report(db, open_day, level)
            assert _plain(wc.lines(reader, open_day, level)) == report.tables["lines"]
        # Closed days were not touched; the open day's old rows are gone, not doubled.
        counted = reader.query(
            "SELECT count(*) AS n FROM fact_clearing_line WHERE cleared_on = $day",
            {"day": open_day},
        )["n"].iloc[0]
        with db.engine.connect() as connection:
            source = connection.exec_driver_sql(
                "SELECT count(*) FROM storefront_clearing_line WHERE cleared_on = ?"
                if db.engine.dialect.name == "sqlite"
                else "SELECT count(*) FROM storefront_clearing_line WHERE cleared_on = %s",
                (open_day.isoformat() if db.engine.dialect.name == "sqlite" else open_day,),
            ).scalar_one()
        assert int(counted) == int(source)
    finally:
        reader.close()
    rebuilt = path.with_name("rebuilt.duckdb")
    sync_warehouse(db.engine, rebuilt, rebuild=True)
    left, right = WarehouseReader(path), WarehouseReader(rebuilt)
    try:
        for table in ("fact_clearing_line", "fact_clearing_sale", "fact_clearing_transfer"):
            sql = f"SELECT * EXCLUDE ({table.replace('fact_clearing_', '')}_id) FROM {table}"
            sql += " ORDER BY ALL"
            assert left.query(sql, {}).equals(right.query(sql, {})), table
    finally:
        left.close()
        right.close()
        rebuilt.unlink(missing_ok=True)


# -- the page --------------------------------------------------------------------------------


@pytest.fixture
def dash(client: FlaskClient) -> DashClient:
    return DashClient(client)


def _staff(db: Runtime, role: str) -> tuple[str, str]:
    username = f"clearing-{role}"
    with transaction(db.session_factory) as uow:
        return username, create_staff_user(uow, username, role)


def _store(day: date, level: str = "outlet", lang: str = "zh") -> dict[str, str]:
    return {"day": day.isoformat(), "level": level, "lang": lang}


def _grid(dash: DashClient, name: str, store: dict[str, str], end: int = 500) -> Any:
    return dash.response(
        f"clearing-grid-{name}",
        {f"clearing-grid-{name}.getRowsRequest": {"startRow": 0, "endRow": end}},
        {"clearing-query.data": store},
    )[f"clearing-grid-{name}"]["getRowsResponse"]


def _csv(dash: DashClient, name: str, store: dict[str, str]) -> list[dict[str, str]]:
    answer = dash.response(
        f"clearing-grid-{name}-download",
        {f"clearing-grid-{name}-download-button.n_clicks": 1},
        {"clearing-query.data": store},
    )[f"clearing-grid-{name}-download"]["data"]
    assert answer["filename"].endswith(".csv")
    body = answer["content"].lstrip("\ufeff").split("\r\n")
    return list(csv_module.DictReader(line for line in body if not line.startswith("# ")))


def _yuan(fen: int) -> str:
    return i18n.yuan(fen, "zh").number


def test_the_page_shows_the_day_report_s_figures(
    dash: DashClient, db: Runtime, cleared: Cleared
) -> None:
    log_in(dash, *_staff(db, "finance"))
    layout = render(dash, "/dashboards/clearing").json["response"]["_pages_content"]
    # Without a day: the latest cleared day, open.
    assert "clearing-day" in ids_in(layout) and "clearing-level" in ids_in(layout)
    texts = texts_in(layout)
    assert i18n.t("clearing.status.open", "zh") in texts
    assert any(text.startswith(i18n.t("clearing.data_as_of", "zh")) for text in texts)

    closed = render(dash, "/dashboards/clearing", f"?day={cleared.lost_on}&lang=en")
    texts = texts_in(closed.json["response"]["_pages_content"])
    assert "Closed" in texts and REASON in texts
    assert any("staff:finance" in text for text in texts)

    for day in cleared.days:
        for level in LEVELS:
            report = _report(db, day, level)
            store = _store(day, level)
            kpis = dash.response("clearing-kpis", {"clearing-query.data": store})
            kpis = kpis["clearing-kpis"]["children"]
            assert kpi_value(kpis, "clearing-kpi-sales-value") == f"{report.totals['sales']:,}"
            assert kpi_value(kpis, "clearing-kpi-gross-value") == _yuan(report.totals["gross_fen"])
            assert kpi_value(kpis, "clearing-kpi-net-value") == _yuan(report.totals["net_fen"])
            for metric, column in (
                ("issued", "points_issued"),
                ("redeemed", "points_redeemed"),
                ("expired", "points_expired"),
            ):
                shown = i18n.count(report.totals[column], "zh", "unit.points").number
                assert kpi_value(kpis, f"clearing-kpi-{metric}-value") == shown
            balanced = i18n.t("yes" if report.balanced else "no", "zh")
            assert kpi_value(kpis, "clearing-kpi-balanced-value") == balanced

            lines = _grid(dash, "lines", store)
            assert lines["rowCount"] == len(report.tables["lines"])
            assert sorted(row["net_fen"] for row in lines["rowData"]) == sorted(
                _yuan(line["net_fen"]) for line in report.tables["lines"]
            )
            positions = _grid(dash, "positions", store)
            assert [(r["institution_code"], r["net_fen"]) for r in positions["rowData"]] == [
                (p["institution_code"], _yuan(p["net_fen"])) for p in report.tables["positions"]
            ]
            transfers = _csv(dash, "transfers", store)
            assert [(r["付款机构代码"], r["收款机构代码"], r["金额 (元)"]) for r in transfers] == [
                (t["payer"], t["payee"], t["amount_yuan"]) for t in report.tables["transfers"]
            ]
            liability = _grid(dash, "liability", store)
            assert [(r["institution_code"], r["points"]) for r in liability["rowData"]] == [
                (row["institution_code"], f"{row['points']:,}")
                for row in report.tables["liability"]
            ]

    # The adjustment line names the closed day it belongs to.
    adjusted = _grid(dash, "lines", _store(cleared.days[-1]))["rowData"]
    assert any(
        row["adjustment"] == f"{i18n.t('clearing.adjustment', 'zh')} {cleared.late_for}"
        for row in adjusted
    )
    # Mismatches first, channels that reported nothing after them, and a CSV of the same.
    store = _store(cleared.lost_on)
    rows = _grid(dash, "mismatches", store)["rowData"]
    report = _report(db, cleared.lost_on, "outlet").tables["mismatches"]
    assert len(rows) == len(report)
    assert rows[0]["status"] == i18n.t("mismatch.mismatch", "zh")
    assert rows[0]["missing_ids"] == "TILL-ONLY-1" and rows[0]["extra_ids"] == "CLR-12"
    assert all(row["reported_sales"] == "—" for row in rows[1:])
    csv_rows = _csv(dash, "mismatches", store)
    assert len(csv_rows) == len(report) and "TILL-ONLY-1" in csv_rows[0].values()


def test_a_day_without_a_run_says_so(
    dash: DashClient, db: Runtime, client: FlaskClient, cleared: Cleared
) -> None:
    log_in(dash, *_staff(db, "admin"))
    day = cleared.days[0] - timedelta(days=30)
    answer = render(dash, "/dashboards/clearing", f"?day={day}&level=company&lang=en")
    layout = answer.json["response"]["_pages_content"]
    assert "clearing-not-cleared" in ids_in(layout)
    assert f"{day} has not been cleared" in texts_in(layout)
    assert "clearing-grid-lines" not in ids_in(layout)
    kpis = dash.response("clearing-kpis", {"clearing-query.data": {"level": "company"}})
    assert "clearing-kpi-sales" not in ids_in(kpis)
    # Picking a day or level writes the URL; the page renders from it.
    [chooser] = [
        d
        for d in dash.dependencies
        if any(i["id"] == "clearing-day" for i in d["inputs"])
        and "_pages_location.search" in d["output"]
    ]
    body = {
        "output": chooser["output"],
        "outputs": {
            "id": "_pages_location",
            "property": "search@" + chooser["output"].split("@")[1],
        },
        "inputs": [
            {"id": "clearing-day", "property": "date", "value": str(cleared.days[0])},
            {"id": "clearing-level", "property": "value", "value": "district"},
        ],
        "state": [
            {
                "id": "clearing-query",
                "property": "data",
                "value": {"day": str(day), "level": "company", "lang": "en"},
            }
        ],
        "changedPropIds": ["clearing-day.date"],
    }
    answer = client.post(CALLBACK_URL, json=body)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    search = answer.json["response"]["_pages_location"]["search"]
    assert search == f"?day={cleared.days[0]}&level=district&lang=en"


# -- who may open it -------------------------------------------------------------------------


def test_marketers_are_refused_the_page_and_its_callbacks_finance_is_not(
    dash: DashClient, db: Runtime, client: FlaskClient, cleared: Cleared
) -> None:
    store = _store(cleared.days[-1])
    log_in(dash, *_staff(db, "marketer"))
    assert client.get("/dashboards/clearing").status_code == 403
    for path in ("/dashboards/clearing", "/dashboards//clearing/", "/dashboards/Clearing"):
        assert render(dash, path).status_code == 403, path
    assert dash.call("clearing-kpis", {"clearing-query.data": store}).status_code == 403
    grid = dash.call(
        "clearing-grid-lines",
        {"clearing-grid-lines.getRowsRequest": {"startRow": 0, "endRow": 50}},
        {"clearing-query.data": store},
    )
    assert grid.status_code == 403
    download = dash.call(
        "clearing-grid-transfers-download",
        {"clearing-grid-transfers-download-button.n_clicks": 1},
        {"clearing-query.data": store},
    )
    assert download.status_code == 403
    # The navigation does not offer it; the other pages still open.
    header = dash.response(
        "header-user",
        {"_pages_location.pathname": "/dashboards/", "_pages_location.search": ""},
    )
    assert "hidden" in header["nav-clearing"]["className"]
    assert "hidden" not in header["nav-points"]["className"]
    assert render(dash, "/dashboards/points").status_code == 200

    client.get("/dashboards/logout")
    log_in(dash, *_staff(db, "finance"))
    assert client.get("/dashboards/clearing").status_code == 200
    assert render(dash, "/dashboards/clearing").status_code == 200
    assert dash.call("clearing-kpis", {"clearing-query.data": store}).status_code == 200
    header = dash.response(
        "header-user",
        {"_pages_location.pathname": "/dashboards/clearing", "_pages_location.search": ""},
    )
    assert header["nav-clearing"]["className"] == "nav-link active"
