"""`memberhub warehouse sync` and `export` as an operator runs them: real processes and files."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import duckdb
import pytest

from tests.integration.test_cli import memberhub

pytestmark = pytest.mark.skipif(
    os.environ.get("MEMBERHUB_TEST_DB", "sqlite").startswith("postgres"),
    reason="CLI behaviour is database-independent; exercised on SQLite files",
)


def one_line_error(result) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("memberhub: ")
    return lines[0]


def test_sync_twice_then_export(tmp_path: Path) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    first = memberhub(tmp_path, "warehouse", "sync")
    assert first.returncode == 0, first.stderr
    assert "rebuilt (new warehouse)" in first.stdout and "rows/s" in first.stdout
    warehouse = tmp_path / "var" / "warehouse.duckdb"
    assert warehouse.exists()
    assert not (tmp_path / "var" / "warehouse.duckdb.next").exists()

    second = memberhub(tmp_path, "warehouse", "sync")
    assert second.returncode == 0, second.stderr
    assert "incremental: 0 rows written" in second.stdout

    rebuilt = memberhub(tmp_path, "warehouse", "sync", "--rebuild", "--batch-size", "100")
    assert rebuilt.returncode == 0 and "rebuilt (rebuild asked)" in rebuilt.stdout

    out = tmp_path / "parquet"
    exported = memberhub(tmp_path, "warehouse", "export", "--to", str(out))
    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("exported ")
    institutions = duckdb.connect().execute(
        f"SELECT count(*) FROM read_parquet('{out / 'dim_institution.parquet'}')"
    )
    assert institutions.fetchall()[0][0] > 700


def test_export_before_any_sync_fails_in_one_line(tmp_path: Path) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    line = one_line_error(memberhub(tmp_path, "warehouse", "export", "--to", str(tmp_path / "x")))
    assert "WarehouseNotReady" in line and "memberhub warehouse sync" in line


def test_a_sync_refuses_to_run_beside_another_when_asked_not_to_wait(tmp_path: Path) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    lock = tmp_path / "var" / "warehouse.duckdb.lock"
    with open(lock, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        line = one_line_error(memberhub(tmp_path, "warehouse", "sync", "--no-wait"))
    assert "SyncInProgress" in line and "another warehouse sync" in line


def test_a_broken_warehouse_file_fails_in_one_line_and_stays_as_it_was(tmp_path: Path) -> None:
    assert memberhub(tmp_path, "init-db").returncode == 0
    warehouse = tmp_path / "var" / "warehouse.duckdb"
    warehouse.write_bytes(b"not a duckdb file" * 100)
    line = one_line_error(memberhub(tmp_path, "warehouse", "sync"))
    assert line.startswith("memberhub: warehouse error")
    assert warehouse.read_bytes().startswith(b"not a duckdb file")
    assert not (tmp_path / "var" / "warehouse.duckdb.next").exists()


@pytest.mark.parametrize(
    "args",
    [
        ("warehouse", "sync", "--batch-size", "0"),
        ("warehouse", "export"),
        ("warehouse", "vacuum"),
    ],
)
def test_bad_usage_exits_2_with_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    result = memberhub(tmp_path, *args)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("memberhub: usage error"), result.stderr
