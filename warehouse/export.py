"""Parquet export of the warehouse that other engines (Spark, Trino, pyarrow) read unchanged.

Facts are written Hive-style, partitioned by business date
(`DIR/fact_posting/date_key=20261124/data_0.parquet`); the partition column lives in
the directory name only, as those engines expect. Dimensions are one file each
(`DIR/dim_member.parquet`). Personal data leaves masked only: the raw phone and name
columns are not exported. Timestamps are written as plain TIMESTAMP holding UTC, the
type every engine reads the same way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from warehouse.reader import ALIAS, WarehouseReader
from warehouse.schema import DIMENSION_TABLES, FACT_TABLES

# Columns that never leave the warehouse unmasked.
PERSONAL_COLUMNS: dict[str, frozenset[str]] = {"dim_member": frozenset({"phone", "name"})}


def export_parquet(path: Path, out_dir: Path) -> list[Path]:
    """Write every fact and dimension of the warehouse at `path` under `out_dir`.

    A table exported before is replaced whole. Returns the Parquet files written.
    Raises WarehouseNotReady when there is no warehouse at `path`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    reader = WarehouseReader(path)
    try:
        with reader.cursor() as cursor:
            return _export(cursor, out_dir)
    finally:
        reader.close()


def _export(cursor: duckdb.DuckDBPyConnection, out_dir: Path) -> list[Path]:
    written: list[Path] = []
    for table in FACT_TABLES:
        target = out_dir / table
        if target.exists():
            shutil.rmtree(target)
        cursor.execute(
            f"COPY ({_select(cursor, table)}) TO '{_literal(target)}' "
            "(FORMAT parquet, PARTITION_BY (date_key), COMPRESSION zstd)"
        ).complete()
        written.extend(sorted(target.rglob("*.parquet")))
    for table in DIMENSION_TABLES:
        target = out_dir / f"{table}.parquet"
        target.unlink(missing_ok=True)
        cursor.execute(
            f"COPY ({_select(cursor, table)}) TO '{_literal(target)}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        ).complete()
        written.append(target)
    return written


def _select(cursor: duckdb.DuckDBPyConnection, table: str) -> str:
    hidden = PERSONAL_COLUMNS.get(table, frozenset())
    columns = cursor.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = $db AND table_name = $table ORDER BY column_index",
        {"db": ALIAS, "table": table},
    ).fetchall()
    listed = [
        f"CAST({name} AS TIMESTAMP) AS {name}" if kind == "TIMESTAMP WITH TIME ZONE" else name
        for name, kind in columns
        if name not in hidden
    ]
    return f"SELECT {', '.join(listed)} FROM {table}"


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")
