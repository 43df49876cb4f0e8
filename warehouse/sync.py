"""The only writer of the warehouse: an incremental load into a copy of the file, then a swap.

A sync copies the published file to `<path>.next` (or starts empty), loads what changed
at the source since the marks in `sync_state`, checkpoints, closes the copy and renames
it over the published path. Readers keep the file they opened until they notice the
swap, so they answer throughout. A lock file keeps two syncs from running at once.

The source is read in one snapshot (REPEATABLE READ on PostgreSQL, one read transaction
on SQLite) and streamed in batches; each batch is written and committed before the next
is read, so memory holds a batch, never a table. A row read again unchanged is not
written, so a sync with no new activity writes nothing.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
from sqlalchemy import Connection, Date, DateTime, Engine, Select, Text, cast

import points_engine
from common.db import read_snapshot
from common.errors import Conflict
from common.masking import mask_name, mask_phone
from warehouse import calendar, rollups
from warehouse.feeds import (
    CLEARING_PARTS,
    FEEDS,
    IDENTITY_CHECKS,
    MACROS,
    MEMBER_SCORES,
    MEMBER_SCORES_TRANSFORM,
    Child,
    Feed,
)
from warehouse.schema import DDL, SCHEMA_VERSION

# Ids a concurrent transaction may still commit below the highest id already seen.
ID_LOOKBACK = 10_000
# How long a transaction may run between stamping updated_at and committing.
TIME_LOOKBACK = timedelta(minutes=5)
DEFAULT_MEMORY_LIMIT = "1GB"
# Cleared days read per query (an IN list of dates).
CLEARING_DAYS_PER_QUERY = 200

Progress = Callable[[str, int], None]
Params = Mapping[str, object]


class SyncInProgress(Conflict):
    code = "warehouse-sync-running"
    title = "Another warehouse sync is running"


@dataclass(frozen=True)
class SyncReport:
    """What one sync did: rows written per warehouse table and rows read per source table."""

    path: Path
    rows: Mapping[str, int]
    read: Mapping[str, int]
    seconds: float
    rebuilt: bool
    # Why it started from an empty file: "rebuild asked", "new warehouse", ...; "" if not.
    reason: str = ""

    @property
    def rows_written(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_read(self) -> int:
        return sum(self.read.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0


def lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def next_path(path: Path) -> Path:
    return path.with_name(path.name + ".next")


def sync_warehouse(
    engine: Engine,
    path: Path,
    *,
    rebuild: bool = False,
    batch_size: int = 50_000,
    progress: Progress | None = None,
    wait: bool = True,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
) -> SyncReport:
    """Bring the warehouse at `path` up to date with the operational database at `engine`.

    Starts from an empty file when asked (`rebuild`), when there is none yet, when its
    schema version is older, or when the source is not the database it was loaded
    from. Waits for a running sync to finish, or with `wait=False` raises
    SyncInProgress. Raises duckdb.Error or SQLAlchemyError on failure, leaving the
    published file as it was.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with _exclusive(lock_path(path), wait):
        work = next_path(path)
        _remove_database(work)
        try:
            loader, reason = _load_copy(
                engine, path, work, rebuild, batch_size, progress, memory_limit
            )
            _publish(work, path)
        except BaseException:
            _remove_database(work)
            raise
    return SyncReport(
        path=path,
        rows=dict(loader.written),
        read=dict(loader.read),
        seconds=time.perf_counter() - started,
        rebuilt=bool(reason),
        reason=reason,
    )


def install_warehouse(source: Path, path: Path, *, wait: bool = True) -> None:
    """Publish a finished warehouse file (a restored backup) at `path` as a sync publishes.

    Under the sync lock, so a running sync cannot publish over it afterwards, and by an
    atomic rename, so readers see the old file or the new one. `source` is moved, so it
    must be on the file system of `path`.
    """
    path = Path(path)
    with _exclusive(lock_path(path), wait):
        _publish(Path(source), path)


def _load_copy(
    engine: Engine,
    path: Path,
    work: Path,
    rebuild: bool,
    batch_size: int,
    progress: Progress | None,
    memory_limit: str,
) -> tuple[_Loader, str]:
    """Load into `work`, a copy of the published file or a new one; returns why it was new."""
    reason = "rebuild asked" if rebuild else ("" if path.exists() else "new warehouse")
    copied = not reason
    if copied:
        shutil.copyfile(path, work)
    writer = _open_writer(work, memory_limit)
    try:
        if copied:
            reason = _stale_reason(writer)
        with _snapshot(engine) as source:
            if copied and not reason:
                reason = _source_changed(writer, source, _source_name(engine))
            if copied and reason:
                writer.close()
                _remove_database(work)
                writer = _open_writer(work, memory_limit)
            loader = _Loader(writer, source, batch_size, progress, _now())
            # A new file has nothing to recompute rollups from: build them whole.
            loader.tracker.full = bool(reason)
            loader.load_all()
        _set_meta(writer, _source_name(engine))
        _run(writer, "CHECKPOINT")
        return loader, reason
    finally:
        writer.close()


# -- files, locks, connections ------------------------------------------------------


@contextmanager
def _exclusive(lock: Path, wait: bool) -> Iterator[None]:
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncInProgress(f"another warehouse sync holds {lock}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_database(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)


def _publish(work: Path, path: Path) -> None:
    with open(work, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(work, path)
    # The rename itself must survive a crash, not only the file's contents.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _open_writer(path: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    writer = duckdb.connect(str(path), config={"autoinstall_known_extensions": False})
    _run(writer, "SET TimeZone = 'UTC'")
    # A rollup rebuild runs long enough for DuckDB to draw a progress bar on stderr.
    _run(writer, "SET enable_progress_bar = false")
    _run(writer, "SET memory_limit = $limit", {"limit": memory_limit})
    for statement in (*DDL, *rollups.DDL):
        _run(writer, statement)
    for macro in MACROS:
        _run(writer, macro)
    writer.create_function("mask_phone", mask_phone, ["VARCHAR"], "VARCHAR")
    writer.create_function("mask_name", mask_name, ["VARCHAR"], "VARCHAR")
    writer.create_function(
        "in_holdout", points_engine.in_holdout, ["VARCHAR", "BIGINT", "INTEGER"], "BOOLEAN"
    )
    return writer


def _stale_reason(writer: duckdb.DuckDBPyConnection) -> str:
    rows = _fetch(writer, "SELECT value FROM meta WHERE key = 'schema_version'")
    row = rows[0] if rows else None
    if row is None:
        return "new warehouse"
    if row[0] != str(SCHEMA_VERSION):
        return f"schema version {row[0]} is not {SCHEMA_VERSION}"
    return ""


def _source_name(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _source_changed(writer: duckdb.DuckDBPyConnection, source: Connection, name: str) -> str:
    rows = _fetch(writer, "SELECT value FROM meta WHERE key = 'source'")
    row = rows[0] if rows else None
    if row is not None and row[0] != name:
        return "loaded from another database"
    for table, key, column, query in IDENTITY_CHECKS:
        found = _fetch(writer, f"SELECT {key}, {column} FROM {table} ORDER BY {key} DESC LIMIT 1")
        if not found:
            continue
        newest = found[0]
        if source.execute(query, {"id": newest[0]}).scalar() != newest[1]:
            return "the source database was recreated"
    return ""


def _set_meta(writer: duckdb.DuckDBPyConnection, source: str) -> None:
    values = {
        "schema_version": str(SCHEMA_VERSION),
        "source": source,
        "synced_at": _now().isoformat(),
    }
    for key, value in values.items():
        _run(
            writer,
            "INSERT OR REPLACE INTO meta VALUES ($key, $value)",
            {"key": key, "value": value},
        )


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One read-only transaction, so every table is read as of the same moment."""
    with read_snapshot(engine) as connection:
        if engine.dialect.name == "postgresql":
            # Timestamps are read as text (see _times_as_text): make that text ISO and UTC.
            connection.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")
            connection.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")
        yield connection


def _now() -> datetime:
    return datetime.now(UTC)


def _run(writer: duckdb.DuckDBPyConnection, sql: str, params: Params | None = None) -> None:
    # Results stream in DuckDB 2: a statement runs to its end only when completed.
    writer.execute(sql, params)
    writer.complete()


def _fetch(
    writer: duckdb.DuckDBPyConnection, sql: str, params: Params | None = None
) -> list[tuple[Any, ...]]:
    return writer.execute(sql, params).fetchall()


def _times_as_text(query: Select[Any]) -> Select[Any]:
    """Select dates and timestamps as ISO text, which DuckDB parses faster than Python does."""
    return query.with_only_columns(
        *(
            cast(column, Text).label(column.name)
            if isinstance(column.type, Date | DateTime)
            else column
            for column in query.selected_columns
        ),
        maintain_column_froms=True,
    )


# -- loading --------------------------------------------------------------------------


@dataclass
class _Mark:
    last_id: int | None = None
    last_updated_at: datetime | None = None
    rows_loaded: int = 0


@dataclass
class _Loader:
    writer: duckdb.DuckDBPyConnection
    source: Connection
    batch_size: int
    progress: Progress | None
    started_at: datetime
    written: dict[str, int] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)
    # Keys of reference rows written or removed this sync, per table.
    touched: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    _columns: dict[str, list[str]] = field(default_factory=dict)
    # What the rollups must recompute, noted as rows are written.
    tracker: rollups.Tracker = field(init=False)

    def __post_init__(self) -> None:
        self.tracker = rollups.Tracker(self.writer)

    def load_all(self) -> None:
        for feed in FEEDS:
            self.load(feed)
            if feed.target == "dim_member":
                self._count("dim_member", self.resolve_survivors())
        self._count("dim_campaign_member", self.campaign_members())
        self._count("fact_member_score", self.member_scores())
        for table, rows in self.clearing().items():
            self._count(table, rows)
        self._count("dim_date", self.calendar())
        for table, rows in self.tracker.refresh().items():
            self._count(table, rows)

    def load(self, feed: Feed) -> None:
        mark = self._mark(feed.source)
        query = feed.query
        if feed.mode == "append":
            assert feed.watermark is not None
            if mark.last_id is not None:
                query = query.where(feed.watermark > mark.last_id - ID_LOOKBACK)
            query = query.order_by(feed.watermark)
        elif feed.mode == "changing":
            assert feed.watermark is not None
            if mark.last_updated_at is not None:
                query = query.where(feed.watermark >= mark.last_updated_at - TIME_LOOKBACK)
        empty = {t: self._is_empty(t) for t in (feed.target, *(c.target for c in feed.children))}
        self.read.setdefault(feed.source, 0)
        self.written.setdefault(feed.target, 0)
        written = 0
        result = self.source.execution_options(yield_per=self.batch_size).execute(
            _times_as_text(query)
        )
        names = list(result.keys())
        first = True
        for rows in result.partitions():
            self._register(rows, names)
            try:
                if feed.mode == "reference":
                    self._stage(feed.target, feed.transform, append=not first)
                else:
                    fast = empty[feed.target]
                    written += self._apply(feed.target, feed.key, feed.transform, fast)
                    for child in feed.children:
                        self._count(child.target, self._apply_child(child, empty[child.target]))
                    self._advance(feed, mark)
            finally:
                self.writer.unregister("batch")
            first = False
            self.read[feed.source] += len(rows)
            if self.progress is not None:
                self.progress(feed.target, len(rows))
        result.close()
        if feed.mode == "reference":
            if first:
                _run(
                    self.writer,
                    f"CREATE OR REPLACE TEMP TABLE staged AS FROM {feed.target} LIMIT 0",
                )
            written += self._replace_all(feed.target, feed.key)
        self._count(feed.target, written)
        mark.rows_loaded += written
        self._save_mark(feed.source, mark)

    # -- one batch ----------------------------------------------------------------

    def _register(self, rows: Sequence[Any], names: list[str]) -> None:
        frame = pd.DataFrame(dict(zip(names, zip(*rows, strict=True), strict=True)))
        self.writer.register("batch", frame)

    def _apply(self, target: str, key: tuple[str, ...], transform: str, fast: bool) -> int:
        """Write the batch's rows that differ from what `target` holds; returns how many."""
        if fast:
            # Nothing to compare against: every row of this snapshot is new.
            self.tracker.loaded_whole(target)
            return self._scalar(f"INSERT INTO {target} BY NAME {transform}")
        self._stage_like(target, "staged", transform)
        columns = ", ".join(self._table_columns(target))
        on = " AND ".join(f"t.{k} = s.{k}" for k in key)
        _run(
            self.writer,
            f"""
            CREATE OR REPLACE TEMP TABLE changed AS
            SELECT {columns} FROM staged
            EXCEPT
            SELECT {", ".join(f"t.{c}" for c in self._table_columns(target))}
            FROM {target} t SEMI JOIN staged s ON {on}
            """,
        )
        changed = self._scalar("SELECT count(*) FROM changed")
        if changed:
            self.tracker.rows_changed(target, key, "changed")
            _run(self.writer, f"INSERT OR REPLACE INTO {target} BY NAME SELECT * FROM changed")
        return changed

    def _apply_child(self, child: Child, fast: bool) -> int:
        """Replace the child rows of the batch's parents that differ; returns rows touched."""
        if fast:
            return self._scalar(f"INSERT INTO {child.target} BY NAME {child.transform}")
        columns = self._table_columns(child.target)
        listed = ", ".join(columns)
        self._stage_like(child.target, "child_new", child.transform)
        _run(
            self.writer,
            f"""
            CREATE OR REPLACE TEMP TABLE child_old AS
            SELECT {", ".join(f"t.{c}" for c in columns)} FROM {child.target} t
            SEMI JOIN batch b ON t.{child.parent_key} = b.id
            """,
        )
        _run(
            self.writer,
            f"""
            CREATE OR REPLACE TEMP TABLE child_added AS
            SELECT {listed} FROM child_new EXCEPT SELECT {listed} FROM child_old
            """,
        )
        keys = ", ".join(child.key)
        _run(
            self.writer,
            f"""
            CREATE OR REPLACE TEMP TABLE child_removed AS
            SELECT {keys} FROM child_old EXCEPT SELECT {keys} FROM child_new
            """,
        )
        on = " AND ".join(f"{child.target}.{k} = r.{k}" for k in child.key)
        removed = self._scalar(f"DELETE FROM {child.target} USING child_removed r WHERE {on}")
        added = self._scalar("SELECT count(*) FROM child_added")
        if added:
            _run(
                self.writer,
                f"INSERT OR REPLACE INTO {child.target} BY NAME SELECT * FROM child_added",
            )
        return added + removed

    def _advance(self, feed: Feed, mark: _Mark) -> None:
        assert feed.watermark is not None
        column = feed.watermark.name
        if feed.mode == "append":
            highest = self._scalar(f"SELECT max({column}) FROM batch")
            mark.last_id = highest if mark.last_id is None else max(mark.last_id, highest)
            return
        latest = _fetch(self.writer, f"SELECT max(utc({column})) FROM batch")[0]
        if latest[0] is None:
            return
        # A timestamp from a clock ahead of ours must not move the mark past changes
        # still to come; such rows are read again each time and found unchanged.
        seen = min(latest[0], self.started_at)
        if mark.last_updated_at is None or seen > mark.last_updated_at:
            mark.last_updated_at = seen

    # -- reference tables: compared whole -------------------------------------------

    def _stage(self, target: str, transform: str, append: bool) -> None:
        if append:
            _run(self.writer, f"INSERT INTO staged BY NAME {transform}")
        else:
            self._stage_like(target, "staged", transform)

    def _stage_like(self, target: str, name: str, transform: str) -> None:
        """Stage rows in the target's own column types.

        A batch's column types are inferred from its values (a column of only NULLs has
        none), so rows are cast to the target's types before they are compared.
        """
        _run(self.writer, f"CREATE OR REPLACE TEMP TABLE {name} AS FROM {target} LIMIT 0")
        _run(self.writer, f"INSERT INTO {name} BY NAME {transform}")

    def _replace_all(self, target: str, key: tuple[str, ...]) -> int:
        columns = ", ".join(self._table_columns(target))
        keys = ", ".join(key)
        _run(
            self.writer,
            f"""
            CREATE OR REPLACE TEMP TABLE changed AS
            SELECT {columns} FROM staged EXCEPT SELECT {columns} FROM {target}
            """,
        )
        _run(
            self.writer,
            f"""
            CREATE OR REPLACE TEMP TABLE removed AS
            SELECT {keys} FROM {target} EXCEPT SELECT {keys} FROM staged
            """,
        )
        touched = [
            *_fetch(self.writer, f"SELECT {keys} FROM changed"),
            *_fetch(self.writer, f"SELECT {keys} FROM removed"),
        ]
        self.touched[target] = touched
        self.tracker.reference_changed(target, touched)
        on = " AND ".join(f"{target}.{k} = r.{k}" for k in key)
        _run(self.writer, f"DELETE FROM {target} USING removed r WHERE {on}")
        if touched:
            _run(self.writer, f"INSERT OR REPLACE INTO {target} BY NAME SELECT * FROM changed")
        return len(touched)

    # -- derived tables -----------------------------------------------------------------

    def resolve_survivors(self) -> int:
        """Point every merged member at the end of its merge chain; returns members changed."""
        return self._scalar(
            """
            UPDATE dim_member SET survivor_id = chains.survivor_id
            FROM (
                WITH RECURSIVE chain(member_id, survivor_id, depth) AS (
                    SELECT member_id, merged_into_id, 1 FROM dim_member
                    WHERE merged_into_id IS NOT NULL
                    UNION ALL
                    SELECT chain.member_id, nxt.merged_into_id, chain.depth + 1
                    FROM chain JOIN dim_member nxt ON nxt.member_id = chain.survivor_id
                    WHERE nxt.merged_into_id IS NOT NULL AND chain.depth < 64
                )
                SELECT member_id, arg_max(survivor_id, depth) AS survivor_id
                FROM chain GROUP BY member_id
            ) chains
            WHERE dim_member.member_id = chains.member_id
              AND dim_member.survivor_id <> chains.survivor_id
            """
        )

    def campaign_members(self) -> int:
        """Every member registered by a campaign's last day, in its holdout or not.

        A campaign whose definition changed has its members drawn again; otherwise
        only members not yet listed are added.
        """
        redrawn = [code for (code,) in self.touched.get("dim_campaign", [])]
        removed = 0
        if redrawn:
            removed = self._scalar(
                "DELETE FROM dim_campaign_member WHERE campaign_code IN "
                "(SELECT unnest($codes::VARCHAR[]))",
                {"codes": redrawn},
            )
        _run(
            self.writer,
            """
            CREATE OR REPLACE TEMP TABLE campaign_members_added AS
            SELECT c.code AS campaign_code, m.member_id,
                   in_holdout(c.code, m.member_id, c.holdout_pct) AS in_holdout
            FROM dim_campaign c
            JOIN dim_member m ON m.registered_date_key <= day_key(c.ends_on)
            ANTI JOIN dim_campaign_member p
                ON p.campaign_code = c.code AND p.member_id = m.member_id
            """,
        )
        added = self._scalar("INSERT INTO dim_campaign_member SELECT * FROM campaign_members_added")
        if added:
            # Their groups grew: the campaigns' rollups count them.
            self.tracker.campaigns_changed(
                [
                    code
                    for (code,) in _fetch(
                        self.writer, "SELECT DISTINCT campaign_code FROM campaign_members_added"
                    )
                ]
            )
        return removed + added

    def member_scores(self) -> int:
        """Scores of the runs in `dim_insight_run`, loaded once per run; returns rows
        written or removed.

        A run never changes once stored; a re-train of the same day deletes the run and
        stores a new one, which may get the old id back (SQLite reuses the highest
        rowid). So the scores of a run removed or changed this sync are dropped, and
        every run without scores here is read whole from the source.
        """
        touched = [int(run_id) for (run_id,) in self.touched.get("dim_insight_run", [])]
        removed = self._scalar(
            """
            DELETE FROM fact_member_score
            WHERE run_id IN (SELECT unnest($runs::BIGINT[]))
               OR run_id NOT IN (SELECT run_id FROM dim_insight_run)
            """,
            {"runs": touched},
        )
        missing = _fetch(
            self.writer,
            """
            SELECT r.run_id FROM dim_insight_run r
            ANTI JOIN (SELECT DISTINCT run_id FROM fact_member_score) s ON s.run_id = r.run_id
            ORDER BY r.run_id
            """,
        )
        self.read.setdefault("crm_member_score", 0)
        added = 0
        for (run_id,) in missing:
            result = self.source.execution_options(yield_per=self.batch_size).execute(
                _times_as_text(MEMBER_SCORES), {"run_id": int(run_id)}
            )
            names = list(result.keys())
            for rows in result.partitions():
                self._register(rows, names)
                try:
                    added += self._scalar(
                        f"INSERT INTO fact_member_score BY NAME {MEMBER_SCORES_TRANSFORM}"
                    )
                finally:
                    self.writer.unregister("batch")
                self.read["crm_member_score"] += len(rows)
                if self.progress is not None:
                    self.progress("fact_member_score", len(rows))
            result.close()
        return removed + added

    def clearing(self) -> dict[str, int]:
        """Reload the rows of every cleared day whose day row changed or vanished this
        sync; returns rows written or removed per table.

        A run of an open day deletes its rows and writes new ones with new ids, so rows
        are replaced per day, never matched by id; `fact_clearing_day` (read whole, see
        feeds.CLEARING_DAYS) says which days changed. A closed day is read once.
        """
        days = [day for (day,) in self.touched.get("fact_clearing_day", [])]
        counts: dict[str, int] = {}
        for part in CLEARING_PARTS:
            counts[part.target] = self._scalar(
                f"DELETE FROM {part.target} WHERE cleared_on IN (SELECT unnest($days::DATE[]))",
                {"days": days},
            )
            self.read.setdefault(part.source, 0)
        present = [
            day
            for (day,) in _fetch(
                self.writer,
                "SELECT business_date FROM fact_clearing_day "
                "WHERE business_date IN (SELECT unnest($days::DATE[])) ORDER BY 1",
                {"days": days},
            )
        ]
        for start in range(0, len(present), CLEARING_DAYS_PER_QUERY):
            chunk = present[start : start + CLEARING_DAYS_PER_QUERY]
            for part in CLEARING_PARTS:
                result = self.source.execution_options(yield_per=self.batch_size).execute(
                    _times_as_text(part.query), {"days": chunk}
                )
                names = list(result.keys())
                for rows in result.partitions():
                    self._register(rows, names)
                    try:
                        counts[part.target] += self._scalar(
                            f"INSERT INTO {part.target} BY NAME {part.transform}"
                        )
                    finally:
                        self.writer.unregister("batch")
                    self.read[part.source] += len(rows)
                    if self.progress is not None:
                        self.progress(part.target, len(rows))
                result.close()
        return counts

    def calendar(self) -> int:
        days = list(calendar.calendar_days())
        frame = pd.DataFrame([vars(day) for day in days])
        self.writer.register("batch", frame)
        try:
            self._stage(
                "dim_date",
                """
                SELECT date_key::INTEGER AS date_key, CAST(day AS DATE) AS day,
                       year::SMALLINT AS year, quarter::TINYINT AS quarter,
                       month::TINYINT AS month, iso_week::TINYINT AS iso_week,
                       weekday::TINYINT AS weekday, is_weekend, holiday_zh, holiday_en,
                       is_workday, festival
                FROM batch
                """,
                append=False,
            )
        finally:
            self.writer.unregister("batch")
        return self._replace_all("dim_date", ("date_key",))

    # -- bookkeeping ----------------------------------------------------------------

    def _count(self, target: str, rows: int) -> None:
        self.written[target] = self.written.get(target, 0) + rows

    def _scalar(self, sql: str, params: Mapping[str, object] | None = None) -> int:
        rows = _fetch(self.writer, sql, params)
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def _is_empty(self, table: str) -> bool:
        return not _fetch(self.writer, f"SELECT 1 FROM {table} LIMIT 1")

    def _table_columns(self, table: str) -> list[str]:
        if table not in self._columns:
            self._columns[table] = [
                name
                for (name,) in _fetch(
                    self.writer,
                    "SELECT column_name FROM duckdb_columns() "
                    "WHERE table_name = $table AND schema_name = 'main' ORDER BY column_index",
                    {"table": table},
                )
            ]
        return self._columns[table]

    def _mark(self, source: str) -> _Mark:
        rows = _fetch(
            self.writer,
            "SELECT last_id, last_updated_at, rows_loaded FROM sync_state WHERE source = $source",
            {"source": source},
        )
        if not rows:
            return _Mark()
        return _Mark(*rows[0])

    def _save_mark(self, source: str, mark: _Mark) -> None:
        _run(
            self.writer,
            "INSERT OR REPLACE INTO sync_state VALUES ($source, $id, $updated, $rows, $at)",
            {
                "source": source,
                "id": mark.last_id,
                "updated": mark.last_updated_at,
                "rows": mark.rows_loaded,
                "at": self.started_at,
            },
        )
