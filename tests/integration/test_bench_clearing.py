"""bench/clearing.py at a tiny size: the day it loads is cleared whole, and its last line
is the JSON of its figures.

SQLite always; PostgreSQL too when the suite runs on it (the bench makes its own scratch
database on that server, kept for the check here and dropped after it).
"""

from __future__ import annotations

import json
import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Date, Engine, bindparam, text

from bench import clearing as bench
from bench.common import database_url, drop_database
from common.clock import start_of_day
from common.db import make_engine
from common.settings import normalise_database_url
from tests.conftest import BACKEND, IS_POSTGRES
from tests.integration.clearing_takes import held_by_day

SALES = 2_000
FIGURES = ("seconds", "baseline_seconds", "ratio", "rows_per_s")

LINES = text(
    "SELECT institution_code, channel, business_type, sales, gross_fen, refunds "
    "FROM storefront_clearing_line WHERE cleared_on = :day AND original_date IS NULL"
).bindparams(bindparam("day", type_=Date))


def _last_json(out: str) -> dict[str, Any]:
    figures = json.loads(out.strip().splitlines()[-1])
    assert isinstance(figures, dict)
    return figures


def _check_cleared(engine: Engine, figures: dict[str, Any], label: str) -> None:
    """The clearing's takes and lines hold exactly the loaded day."""
    day = date.fromisoformat(figures["day"])
    with engine.connect() as connection:
        entries = {
            kind: int(connection.execute(held_by_day(kind), {"day": day}).scalar_one())
            for kind in ("sale", "refund", "posting")
        }
        lines = connection.execute(LINES, {"day": day}).all()
        sales = {
            (row[0], row[1], row[2]): (int(row[3]), int(row[4]))
            for row in connection.execute(
                bench.BASELINE,
                {"start": start_of_day(day), "end": start_of_day(day + timedelta(days=1))},
            )
        }
    assert entries == {
        "sale": SALES,
        "refund": figures["refunds"],
        "posting": figures["member_postings"],
    }
    assert sum(entries.values()) == figures[f"{label}_movements"]
    assert sum(int(line.sales) for line in lines) == SALES
    assert sum(int(line.refunds) for line in lines) == figures["refunds"]
    assert {
        (line.institution_code, line.channel, line.business_type): (
            int(line.sales),
            int(line.gross_fen),
        )
        for line in lines
        if line.sales
    } == sales
    assert len(lines) == figures[f"{label}_lines"]


def _check_keys(figures: dict[str, Any], present: str, absent: str) -> None:
    assert figures["transactions"] == SALES and figures["aim_ratio"] == 3.0
    for name in FIGURES:
        assert figures[f"{present}_{name}"] > 0
        assert f"{absent}_{name}" not in figures
    assert figures["refunds"] > 0 and figures["redemptions"] > 0


def test_the_bench_clears_the_whole_loaded_day_on_sqlite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench.main(["--transactions", str(SALES), "--skip-postgres", "--work", str(tmp_path)])
    figures = _last_json(capsys.readouterr().out)
    _check_keys(figures, "sqlite", "postgres")
    engine = make_engine(f"sqlite:///{tmp_path / 'clearing.db'}")
    try:
        _check_cleared(engine, figures, "sqlite")
    finally:
        engine.dispose()


@pytest.mark.skipif(not IS_POSTGRES, reason="the suite runs on SQLite")
def test_the_bench_clears_the_whole_loaded_day_on_postgresql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"mh_bench_clearing_{os.getpid()}"
    try:
        bench.main(
            [
                "--transactions",
                str(SALES),
                "--skip-sqlite",
                "--pg-url",
                BACKEND,
                "--db-name",
                name,
                "--keep-db",
                "--work",
                str(tmp_path),
            ]
        )
        figures = _last_json(capsys.readouterr().out)
        _check_keys(figures, "postgres", "sqlite")
        engine = make_engine(normalise_database_url(database_url(BACKEND, name)))
        try:
            _check_cleared(engine, figures, "postgres")
        finally:
            engine.dispose()
    finally:
        drop_database(BACKEND, name)
