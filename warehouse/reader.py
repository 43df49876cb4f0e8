"""Read-only access to the published warehouse that follows each sync's swap of the file.

DuckDB caches one database instance per file path within a process, so opening the
path again after a swap would return the old file. Each generation of the file is
therefore attached read-only to its own in-memory instance; a query runs on a fresh
cursor of the current generation. When the file's inode or modification time changes,
the next query opens the new generation; queries still running finish on the old one,
which is closed when the last of them lets go of it.

A generation keeps the results of its recent queries: the file never changes under it,
so the same query with the same parameters has the same answer until the next sync
opens a new generation (dashboards ask the same questions again with every page load).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from common.errors import NotFound

ALIAS = "warehouse"
Params = Sequence[object] | Mapping[str, object]
# How many results a generation keeps, and the largest it keeps (rows): dashboards' answers
# are aggregates; a long list is read once (a download) and not worth holding.
KEPT_RESULTS = 512
KEPT_ROWS = 5_000


class WarehouseNotReady(NotFound):
    code = "warehouse-not-ready"
    title = "The warehouse has not been built yet"


class _Generation:
    """One published file, attached read-only to its own DuckDB instance."""

    def __init__(self, path: Path, stamp: tuple[int, int], threads: int | None) -> None:
        self.stamp = stamp
        config: dict[str, str | bool | int | float | list[str]] = {
            "autoinstall_known_extensions": False
        }
        if threads is not None:
            config["threads"] = threads
        self.connection = duckdb.connect(":memory:", config=config)
        self.connection.execute("SET GLOBAL TimeZone = 'UTC'").complete()
        # ATTACH takes no parameters; the path is ours (settings), quoted as a literal.
        literal = str(path).replace("'", "''")
        self.connection.execute(f"ATTACH '{literal}' AS {ALIAS} (READ_ONLY)").complete()
        self._results: OrderedDict[Hashable, pd.DataFrame] = OrderedDict()
        self._results_lock = threading.Lock()

    def kept(self, key: Hashable) -> pd.DataFrame | None:
        with self._results_lock:
            frame = self._results.get(key)
            if frame is not None:
                self._results.move_to_end(key)
            return frame

    def keep(self, key: Hashable, frame: pd.DataFrame) -> None:
        if len(frame) > KEPT_ROWS:
            return
        with self._results_lock:
            self._results[key] = frame
            while len(self._results) > KEPT_RESULTS:
                self._results.popitem(last=False)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = self.connection.cursor()
        cursor.execute(f"USE {ALIAS}").complete()
        return cursor


class WarehouseReader:
    """Parameterised queries on the published warehouse, safe to share between threads.

    `query(sql, params)` returns a pandas DataFrame; `params` is a list for `?`/`$1`
    placeholders or a dict for `$name` ones. Raises WarehouseNotReady while no sync has
    published a file yet, and duckdb.Error for a bad query.
    """

    def __init__(
        self, path: Path, *, threads: int | None = None, keep_results: bool = True
    ) -> None:
        self.path = Path(path)
        self._threads = threads
        # Off for a benchmark, which must time every query rather than a kept answer.
        self._keep_results = keep_results
        self._lock = threading.Lock()
        self._generation: _Generation | None = None

    def query(self, sql: str, params: Params) -> pd.DataFrame:
        if not isinstance(params, Sequence | Mapping) or isinstance(params, str | bytes):
            raise TypeError("params must be a list or a dict: SQL is parameterised, never built")
        generation = self._current()
        key = _result_key(sql, params) if self._keep_results else None
        kept = generation.kept(key) if key is not None else None
        if kept is None:
            cursor = generation.cursor()
            try:
                kept = cursor.execute(sql, params).df()
            finally:
                cursor.close()
            if key is not None:
                generation.keep(key, kept)
        # A copy: callers may change their frame, never the kept one.
        return kept.copy()

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the current file, for work beyond one query (an export)."""
        cursor = self._current().cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    @property
    def version(self) -> str:
        """Identifies the published file's contents (changes with every sync); for caches."""
        inode, mtime = self._stamp()
        return f"{inode}:{mtime}"

    def close(self) -> None:
        with self._lock:
            generation, self._generation = self._generation, None
        if generation is not None:
            generation.connection.close()

    def _stamp(self) -> tuple[int, int]:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            raise WarehouseNotReady(
                f"no warehouse at {self.path}: run `memberhub warehouse sync`"
            ) from None
        return stat.st_ino, stat.st_mtime_ns

    def _current(self) -> _Generation:
        stamp = self._stamp()
        with self._lock:
            if self._generation is None or self._generation.stamp != stamp:
                # The old generation stays open while running queries hold it.
                self._generation = _Generation(self.path, stamp, self._threads)
            return self._generation


def _result_key(sql: str, params: Params) -> Hashable | None:
    """What identifies a query's result within one generation; None when a parameter
    cannot be a key (such a query is simply not kept)."""
    pairs = sorted(params.items()) if isinstance(params, Mapping) else enumerate(params)
    values = tuple(
        (name, tuple(value) if isinstance(value, list) else value) for name, value in pairs
    )
    key = (sql, values)
    try:
        hash(key)
    except TypeError:
        return None
    return key
