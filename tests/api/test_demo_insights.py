"""The demo trains insights at several as-of days, so segments can be followed over time."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import select

from common.db import read_session
from crm.insights.orm import InsightRun
from memberhub import cli
from tests.integration.insights_world import Warehouse, add_crm_members, btyd_population
from warehouse import WarehouseReader

END = date(2026, 11, 30)


def runs(runtime):
    with read_session(runtime.session_factory) as session:
        return list(session.scalars(select(InsightRun.as_of).order_by(InsightRun.as_of)))


def world(db, tmp_path, days=400):
    ids = add_crm_members(db.session_factory, 240)
    store = Warehouse(tmp_path / "warehouse.duckdb")
    btyd_population(store, ids, END, days=days)
    store.close()
    return replace(db, settings=replace(db.settings, warehouse_path=store.path))


def test_the_demo_trains_as_of_twelve_eight_and_four_weeks_ago_and_today(db, tmp_path, monkeypatch):
    runtime = world(db, tmp_path)
    monkeypatch.setattr(cli, "today", lambda: END)
    summary = cli._demo_insights(runtime)
    assert summary.endswith(f"4 runs up to {END}")
    assert runs(runtime) == [END - timedelta(weeks=w) for w in (12, 8, 4, 0)]
    # The warehouse holds them too: the Members page reads them from there.
    reader = WarehouseReader(runtime.settings.warehouse_path)
    try:
        synced = reader.query("SELECT as_of FROM dim_insight_run ORDER BY as_of", [])
    finally:
        reader.close()
    assert [d.date() for d in pd.to_datetime(synced["as_of"])] == runs(runtime)


def test_runs_without_two_horizons_of_history_are_skipped_and_named(db, tmp_path, monkeypatch):
    runtime = world(db, tmp_path, days=200)
    monkeypatch.setattr(cli, "today", lambda: END)
    summary = cli._demo_insights(runtime)
    assert summary.endswith(
        f"1 run up to {END} (too little history 12 weeks ago, 8 weeks ago, 4 weeks ago)"
    )
    assert runs(runtime) == [END]
