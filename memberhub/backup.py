"""Portable logical backups of the operational database and the warehouse, and their restore.

A backup directory holds `manifest.json`, `tables/<table>.jsonl.gz` for every table of
`memberhub.models.metadata`, and `warehouse.duckdb` when a warehouse had been published.
A table file starts with a line naming its columns, then holds one JSON array per row in
primary-key order. The manifest names each column's kind, and the files hold values in
a form neither database owns, so a backup of SQLite restores into PostgreSQL and back:

- int, str, bool: JSON numbers, strings and booleans; SQL NULL is null in every kind;
- date: "YYYY-MM-DD"; datetime: ISO 8601 in UTC with its offset (SQLite hands back naive
  values, which are UTC by the service's storage convention, see common.clock);
- json: the stored document as a JSON string, so a SQL NULL (null) and a stored JSON
  null ("null") stay apart.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    cast,
    column,
    func,
    insert,
    inspect,
    literal,
    select,
    table,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import TableClause
from sqlalchemy.types import TypeEngine
from tqdm import tqdm

import points_engine
import warehouse
from common.clock import as_utc
from common.db import make_session_factory, read_session, read_snapshot, sqlite_triggers_set_aside
from common.errors import Conflict, Invalid, RuleViolation
from memberhub.models import metadata
from memberhub.schema import current_revision, known_revisions, upgrade
from storefront_api import prepaid

FORMAT = "memberhub-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
TABLES = "tables"
WAREHOUSE = "warehouse.duckdb"
BATCH_ROWS = 5_000
CHUNK_BYTES = 1 << 20
# Table names from a manifest end up in file names and SQL statements.
TABLE_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")

KIND_TYPES: dict[str, Callable[[], TypeEngine[Any]]] = {
    "int": BigInteger,
    "str": String,
    "bool": Boolean,
    "date": Date,
    "datetime": lambda: DateTime(timezone=True),
    "naive_datetime": DateTime,
    # none_as_null: None goes in as SQL NULL; JSON.NULL stands for a stored JSON null.
    "json": lambda: JSON(none_as_null=True),
}
ENCODERS: dict[str, Callable[[Any], Any]] = {
    "date": lambda value: value.isoformat(),
    "datetime": lambda value: as_utc(value).isoformat(),
    "naive_datetime": lambda value: value.isoformat(),
}
DECODERS: dict[str, Callable[[Any], Any]] = {
    "date": date.fromisoformat,
    "datetime": datetime.fromisoformat,
    "naive_datetime": datetime.fromisoformat,
    "json": lambda text: JSON.NULL if (value := json.loads(text)) is None else value,
}

Bars = bool | None  # True: always; False: never; None: when stderr is a terminal


class BackupRefused(Conflict):
    code = "backup-refused"
    title = "Backup or restore refused"


class BackupCorrupt(Invalid):
    code = "backup-corrupt"
    title = "Backup does not match its manifest"


class RestoredLedgerBreach(RuleViolation):
    code = "restored-ledger-breach"
    title = "The restored ledger breaks an invariant"


@dataclass(frozen=True)
class TablePart:
    """One table's file in a backup: its columns and their kinds, rows and checksum."""

    name: str
    columns: tuple[str, ...]
    kinds: tuple[str, ...]
    primary_key: tuple[str, ...]
    # Nullable columns that refer to a row of the same table. A restore fills them in a
    # second pass: in primary-key order a row may refer to one further on (a member
    # merged into a newer member), which PostgreSQL's immediate foreign keys refuse.
    self_references: tuple[str, ...]
    rows: int = 0
    sha256: str = ""

    @property
    def file(self) -> str:
        return f"{TABLES}/{self.name}.jsonl.gz"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "rows": self.rows,
            "sha256": self.sha256,
            "columns": [
                {"name": n, "kind": k} for n, k in zip(self.columns, self.kinds, strict=True)
            ],
            "primary_key": list(self.primary_key),
            "self_references": list(self.self_references),
        }

    @classmethod
    def from_json(cls, entry: dict[str, Any]) -> TablePart:
        part = cls(
            name=str(entry["name"]),
            columns=tuple(str(c["name"]) for c in entry["columns"]),
            kinds=tuple(str(c["kind"]) for c in entry["columns"]),
            primary_key=tuple(str(c) for c in entry["primary_key"]),
            self_references=tuple(str(c) for c in entry["self_references"]),
            rows=int(entry["rows"]),
            sha256=str(entry["sha256"]),
        )
        names = {part.name, *part.columns}
        if not all(TABLE_NAME.match(name) for name in names) or entry["file"] != part.file:
            raise BackupCorrupt(f"{MANIFEST}: table {part.name!r} is not named as backups name it")
        if not set(part.kinds) <= KIND_TYPES.keys():
            raise BackupCorrupt(f"{MANIFEST}: table {part.name} has a column of unknown kind")
        if not {*part.primary_key, *part.self_references} <= set(part.columns):
            raise BackupCorrupt(f"{MANIFEST}: table {part.name} names keys it does not hold")
        return part


@dataclass(frozen=True)
class Manifest:
    revision: str
    dialect: str
    created_at: str
    tables: tuple[TablePart, ...]
    warehouse_sha256: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "alembic_revision": self.revision,
            "source_dialect": self.dialect,
            "created_at": self.created_at,
            "tables": [part.as_json() for part in self.tables],
            "warehouse": (
                None
                if self.warehouse_sha256 is None
                else {"file": WAREHOUSE, "sha256": self.warehouse_sha256}
            ),
        }

    @property
    def rows(self) -> int:
        return sum(part.rows for part in self.tables)

    @property
    def source_label(self) -> str:
        return f"{self.dialect}, revision {self.revision}, made {self.created_at}"


@dataclass(frozen=True)
class BackupReport:
    directory: Path
    manifest: Manifest
    seconds: float

    def __str__(self) -> str:
        copied = "and the warehouse" if self.manifest.warehouse_sha256 else "(no warehouse yet)"
        return (
            f"backed up {self.manifest.rows:,} rows of {len(self.manifest.tables)} tables "
            f"{copied} at schema revision {self.manifest.revision} to {self.directory} "
            f"in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class RestoreReport:
    directory: Path
    manifest: Manifest
    postings: int
    seconds: float

    def __str__(self) -> str:
        manifest = self.manifest
        restored = "and the warehouse" if manifest.warehouse_sha256 else "(no warehouse in it)"
        return (
            f"restored {manifest.rows:,} rows of {len(manifest.tables)} tables {restored} "
            f"from {self.directory} ({manifest.source_label}) in {self.seconds:.1f} s; "
            f"ledger ok over {self.postings} postings"
        )


# -- backup ------------------------------------------------------------------------------


def create_backup(
    engine: Engine,
    warehouse_path: Path,
    directory: Path,
    *,
    bars: Bars = False,
    batch_rows: int = BATCH_ROWS,
) -> BackupReport:
    """Write a consistent snapshot of the database at `engine` and a copy of the warehouse.

    `directory` is created, or must be empty. Raises BackupRefused (a directory that holds
    files, a database at another schema revision than this code's), SQLAlchemyError or
    OSError; on failure what was written into `directory` is removed again.
    """
    started = time.perf_counter()
    directory = Path(directory)
    created = _claim(directory)
    try:
        manifest = _write_backup(engine, Path(warehouse_path), directory, bars, batch_rows)
    except BaseException:
        _discard(directory, created)
        raise
    return BackupReport(directory, manifest, time.perf_counter() - started)


def _claim(directory: Path) -> bool:
    """Make the backup's directory or accept an empty one; True when it was made here."""
    if directory.is_dir():
        if any(directory.iterdir()):
            raise BackupRefused(f"{directory} is not empty: back up into a new or empty directory")
        return False
    directory.mkdir(parents=True)
    return True


def _discard(directory: Path, created: bool) -> None:
    if created:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for child in directory.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _write_backup(
    engine: Engine, warehouse_path: Path, directory: Path, bars: Bars, batch_rows: int
) -> Manifest:
    (directory / TABLES).mkdir()
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    # The warehouse is opened before the snapshot's first read. A sync publishes by renaming
    # a new file over it, so the open file stays whole; and it was loaded from an earlier
    # moment than the snapshot, so after a restore the next sync only catches up, never
    # keeping rows the restored database does not have.
    with _open_published(warehouse_path) as published:
        with read_snapshot(engine) as connection:
            revision = _revision_to_back_up(connection)
            parts = tuple(
                _dump_table(connection, table, directory, bars, batch_rows)
                for table in metadata.sorted_tables
            )
        digest = None if published is None else _copy(published, directory / WAREHOUSE)
    manifest = Manifest(revision, engine.dialect.name, created_at, parts, digest)
    _write_manifest(directory, manifest)
    return manifest


@contextmanager
def _open_published(path: Path) -> Iterator[IO[bytes] | None]:
    """The published warehouse file, open; None when no sync has published one yet."""
    with ExitStack() as stack:
        try:
            published: IO[bytes] | None = stack.enter_context(open(path, "rb"))
        except FileNotFoundError:
            published = None
        yield published


def _revision_to_back_up(connection: Connection) -> str:
    revision = current_revision(connection)
    head = known_revisions()[-1]
    if revision is None:
        raise BackupRefused("the database has no Member Hub schema (see `memberhub init-db`)")
    if revision != head:
        raise BackupRefused(
            f"the database is at schema revision {revision} and this code at {head}: back it "
            "up with the code of its revision, or upgrade it first (`memberhub init-db`)"
        )
    return revision


def _describe(table: Table) -> TablePart:
    self_references = tuple(
        key.parent.name
        for key in table.foreign_keys
        if key.column.table is table and key.parent.nullable
    )
    return TablePart(
        name=table.name,
        columns=tuple(c.name for c in table.columns),
        kinds=tuple(_kind(c) for c in table.columns),
        primary_key=tuple(c.name for c in table.primary_key.columns),
        self_references=self_references,
    )


def _kind(column: Column[Any]) -> str:
    kind = column.type
    if isinstance(kind, JSON):
        return "json"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, DateTime):
        return "datetime" if kind.timezone else "naive_datetime"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, Integer):
        return "int"
    if isinstance(kind, String):
        return "str"
    raise BackupRefused(f"{column.table.name}.{column.name}: no lossless form for {kind!r}")


def _readable(column: Column[Any]) -> ColumnElement[Any]:
    # JSON as its stored text: decoded, a SQL NULL and a JSON null both read as None.
    return cast(column, Text).label(column.name) if isinstance(column.type, JSON) else column


def _dump_table(
    connection: Connection, table: Table, directory: Path, bars: Bars, batch_rows: int
) -> TablePart:
    part = _describe(table)
    total = connection.scalar(select(func.count()).select_from(table)) or 0
    query = select(*(_readable(c) for c in table.columns)).order_by(*table.primary_key.columns)
    encoders = [ENCODERS.get(kind) for kind in part.kinds]
    rows = 0
    path = directory / part.file
    with open(path, "wb") as raw, _bar(part.name, total, bars) as bar:
        # mtime=0: the same rows make the same file, and so the same checksum.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as out:
            out.write(_line(part.columns))
            result = connection.execute(query.execution_options(yield_per=batch_rows))
            for batch in result.partitions():
                out.write(b"".join(_line(_encoded(row, encoders)) for row in batch))
                rows += len(batch)
                bar.update(len(batch))
        _flush(raw)
    return replace(part, rows=rows, sha256=_sha256(path))


def _encoded(row: Iterable[Any], encoders: list[Callable[[Any], Any] | None]) -> list[Any]:
    return [
        value if value is None or encode is None else encode(value)
        for value, encode in zip(row, encoders, strict=True)
    ]


def _line(cells: Iterable[Any]) -> bytes:
    return json.dumps(list(cells), ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def _write_manifest(directory: Path, manifest: Manifest) -> None:
    # Written last and renamed into place: a directory with a manifest is a whole backup.
    staged = directory / f"{MANIFEST}.tmp"
    with open(staged, "w", encoding="utf-8") as handle:
        json.dump(manifest.as_json(), handle, indent=2, ensure_ascii=False)
        handle.write("\n")
        _flush(handle)
    os.replace(staged, directory / MANIFEST)
    _sync_directory(directory)


# -- restore -----------------------------------------------------------------------------


def restore_backup(
    engine: Engine,
    warehouse_path: Path,
    directory: Path,
    *,
    force: bool = False,
    bars: Bars = False,
    batch_rows: int = BATCH_ROWS,
) -> RestoreReport:
    """Restore the backup in `directory` into the database at `engine` and the warehouse.

    Every checksum is verified before anything is written. The schema is brought to the
    backup's revision, every table is loaded in one transaction (emptied first with
    `force`), then later migrations carry the data to this code's head, the warehouse
    file is put in place, and the ledger invariants are checked. Raises BackupCorrupt,
    BackupRefused (a database that holds data without `force`, a revision this code
    does not know or a database newer than the backup), RestoredLedgerBreach (the data
    stays restored), SQLAlchemyError or OSError.
    """
    started = time.perf_counter()
    directory = Path(directory)
    manifest = read_manifest(directory)
    verify_backup(directory, manifest)
    _check_target(engine, manifest, force)
    upgrade(engine, manifest.revision)
    with engine.begin() as connection:
        if force:
            _empty(connection, manifest.tables)
        for part in manifest.tables:
            _load_table(connection, directory, part, bars, batch_rows)
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection, manifest.tables)
    upgrade(engine)
    if manifest.warehouse_sha256 is not None:
        _restore_warehouse(directory, manifest.warehouse_sha256, Path(warehouse_path))
    breaches, postings = ledger_breaches(engine)
    if breaches:
        raise RestoredLedgerBreach(f"restored, but the ledger breaks: {breaches[0]}")
    return RestoreReport(directory, manifest, postings, time.perf_counter() - started)


def read_manifest(directory: Path) -> Manifest:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise BackupCorrupt(f"{directory} holds no {MANIFEST}: not a whole Member Hub backup")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if (document["format"], document["format_version"]) != (FORMAT, FORMAT_VERSION):
            raise BackupCorrupt(f"{MANIFEST}: not a {FORMAT} of version {FORMAT_VERSION}")
        stored = document["warehouse"]
        return Manifest(
            revision=str(document["alembic_revision"]),
            dialect=str(document["source_dialect"]),
            created_at=str(document["created_at"]),
            tables=tuple(TablePart.from_json(entry) for entry in document["tables"]),
            warehouse_sha256=None if stored is None else str(stored["sha256"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise BackupCorrupt(f"{MANIFEST} is malformed: {error!r}") from None


def verify_backup(directory: Path, manifest: Manifest) -> None:
    """Raise BackupCorrupt unless every file the manifest names is there with its checksum."""
    files = [(part.file, part.sha256) for part in manifest.tables]
    if manifest.warehouse_sha256 is not None:
        files.append((WAREHOUSE, manifest.warehouse_sha256))
    for name, expected in files:
        path = Path(directory) / name
        if not path.is_file():
            raise BackupCorrupt(f"{name} is missing from {directory}")
        if _sha256(path) != expected:
            raise BackupCorrupt(f"{name}: its sha256 does not match the manifest; nothing restored")


def _check_target(engine: Engine, manifest: Manifest, force: bool) -> None:
    revisions = known_revisions()
    if manifest.revision not in revisions:
        raise BackupRefused(
            f"the backup is at schema revision {manifest.revision}, which this code does not "
            f"know (its newest is {revisions[-1]}): restore it with the code that made it"
        )
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    with engine.connect() as connection:
        current = current_revision(connection)
        if current is not None and (
            current not in revisions
            or revisions.index(current) > revisions.index(manifest.revision)
        ):
            raise BackupRefused(
                f"the database is at schema revision {current}, newer than the backup's "
                f"{manifest.revision}: restore into a new database"
            )
        holding = [] if force else _tables_with_rows(connection, manifest)
    if holding:
        raise BackupRefused(
            f"the database already holds data ({len(holding)} tables with rows, such as "
            f"{holding[0]}): restore into an empty database, or pass --force to replace its data"
        )


def _tables_with_rows(connection: Connection, manifest: Manifest) -> list[str]:
    known = {part.name for part in manifest.tables} | set(metadata.tables)
    present = sorted(known & set(inspect(connection).get_table_names()))
    return [
        name
        for name in present
        if connection.execute(select(literal(1)).select_from(table(name)).limit(1)).first()
    ]


def _empty(connection: Connection, parts: tuple[TablePart, ...]) -> None:
    if connection.dialect.name == "postgresql":
        quote = connection.dialect.identifier_preparer.quote
        connection.execute(text(f"TRUNCATE {', '.join(quote(part.name) for part in parts)}"))
        return
    with sqlite_triggers_set_aside(connection):
        for part in reversed(parts):
            connection.execute(table(part.name).delete())


def _load_table(
    connection: Connection, directory: Path, part: TablePart, bars: Bars, batch_rows: int
) -> None:
    target = _table_clause(part)
    later = dict.fromkeys(part.self_references)
    inserted = referring = 0
    with _bar(part.name, part.rows, bars) as bar:
        for batch in _batches(_read_rows(directory, part), batch_rows):
            if later:
                referring += sum(1 for row in batch if _refers(row, part))
                batch = [{**row, **later} for row in batch]
            connection.execute(insert(target), batch)
            inserted += len(batch)
            bar.update(len(batch))
    if inserted != part.rows:
        raise BackupCorrupt(f"{part.file} holds {inserted} rows, the manifest says {part.rows}")
    if referring:
        _fill_self_references(connection, directory, part, target, batch_rows)


def _fill_self_references(
    connection: Connection, directory: Path, part: TablePart, target: TableClause, batch_rows: int
) -> None:
    statement = (
        update(target)
        .where(*(target.c[key] == bindparam(f"key_{key}") for key in part.primary_key))
        .values({name: bindparam(f"ref_{name}") for name in part.self_references})
    )
    for batch in _batches(_read_rows(directory, part), batch_rows):
        params = [
            {f"key_{key}": row[key] for key in part.primary_key}
            | {f"ref_{name}": row[name] for name in part.self_references}
            for row in batch
            if _refers(row, part)
        ]
        if params:
            connection.execute(statement, params)


def _refers(row: dict[str, Any], part: TablePart) -> bool:
    return any(row[name] is not None for name in part.self_references)


def _table_clause(part: TablePart) -> TableClause:
    # Built from the manifest, not from the models: the backup may be of an older revision.
    return table(
        part.name,
        *(
            column(name, KIND_TYPES[kind]())
            for name, kind in zip(part.columns, part.kinds, strict=True)
        ),
    )


def _read_rows(directory: Path, part: TablePart) -> Iterator[dict[str, Any]]:
    decoders = [DECODERS.get(kind) for kind in part.kinds]
    try:
        with gzip.open(Path(directory) / part.file, "rb") as packed:
            if json.loads(packed.readline() or b"null") != list(part.columns):
                raise BackupCorrupt(f"{part.file}: its columns are not the manifest's")
            for line in packed:
                yield {
                    name: value if value is None or decode is None else decode(value)
                    for name, value, decode in zip(
                        part.columns, json.loads(line), decoders, strict=True
                    )
                }
    except (ValueError, TypeError, EOFError, gzip.BadGzipFile) as error:
        raise BackupCorrupt(f"{part.file}: unreadable ({error})") from None


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _reset_sequences(connection: Connection, parts: tuple[TablePart, ...]) -> None:
    """Move every serial or identity sequence past the highest id restored."""
    quote = connection.dialect.identifier_preparer.quote
    for part in parts:
        for name, kind in zip(part.columns, part.kinds, strict=True):
            if kind != "int":
                continue
            sequence = connection.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": quote(part.name), "column": name},
            )
            if sequence is not None:
                connection.execute(
                    text(
                        f"SELECT setval(:sequence, COALESCE(MAX({quote(name)}), 0) + 1, false) "
                        f"FROM {quote(part.name)}"
                    ),
                    {"sequence": sequence},
                )


def _restore_warehouse(directory: Path, expected: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f"{path.name}.restore")
    try:
        with open(directory / WAREHOUSE, "rb") as source:
            if _copy(source, staged) != expected:
                raise BackupCorrupt(f"{WAREHOUSE} changed while it was being restored")
        warehouse.install_warehouse(staged, path)
    finally:
        staged.unlink(missing_ok=True)


def ledger_breaches(engine: Engine) -> tuple[list[str], int]:
    """What `memberhub ledger verify` checks: the first points-ledger breach and every
    prepaid-card one, and how many postings were checked."""
    with read_session(make_session_factory(engine)) as session:
        breaches = [str(b) for b in points_engine.find_breaches(session, first_only=True)]
        breaches += prepaid.find_breaches(session)
        return breaches, points_engine.queries.posting_count(session)


# -- files -------------------------------------------------------------------------------


def _bar(name: str, total: int, bars: Bars) -> tqdm[Any]:
    disable = None if bars is None else not bars
    return tqdm(total=total, desc=name, unit="row", unit_scale=True, disable=disable)


def _copy(source: IO[bytes], target: Path) -> str:
    """Copy an open file to `target`, durably; returns the sha256 of what was written."""
    digest = hashlib.sha256()
    with open(target, "wb") as out:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
            out.write(chunk)
        _flush(out)
    return digest.hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _flush(handle: IO[Any]) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
