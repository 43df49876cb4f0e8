"""`memberhub insights train` and the weekly retraining in `jobs run-due`, as an operator
runs them: a one-line reason and a non-zero exit for everything that cannot be trained."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.test_cli import memberhub
from tests.integration.test_warehouse_cli import one_line_error

pytestmark = pytest.mark.skipif(
    os.environ.get("MEMBERHUB_TEST_DB", "sqlite").startswith("postgres"),
    reason="CLI behaviour is database-independent; exercised on SQLite files",
)


def test_training_without_history_fails_in_one_line(tmp_path: Path) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    line = one_line_error(memberhub(tmp_path, "insights", "train", "--no-sync"))
    assert "WarehouseNotReady" in line
    line = one_line_error(memberhub(tmp_path, "insights", "train"))
    assert line == "memberhub: NotEnoughData: the warehouse holds no purchases yet"


@pytest.mark.parametrize(
    "args",
    [("--as-of", "2026-13-01"), ("--horizon-days", "3"), ("--horizon-days", "many")],
)
def test_bad_options_are_usage_errors(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = memberhub(tmp_path, "insights", "train", *args)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("memberhub: usage error"), result.stderr


def test_jobs_run_due_skips_insights_without_a_warehouse(tmp_path: Path) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    result = memberhub(tmp_path, "jobs", "run-due", "--as-of", "2026-11-30")
    assert result.returncode == 0, result.stderr
    assert "insights skipped: no warehouse yet" in result.stdout
