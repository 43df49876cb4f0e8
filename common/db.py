"""Database base: declarative base with a naming convention, reusable column types, engines."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from common.errors import Conflict

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BigInteger ids on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

intpk = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]
code_str = Annotated[str, mapped_column(String(64))]
name_str = Annotated[str, mapped_column(String(200))]
utc_datetime = Annotated[datetime, mapped_column(DateTime(timezone=True))]
json_value = Annotated[Any, mapped_column(JSON)]


READ_ONLY_OPTION = "memberhub_read_only"
CONNECT_TIMEOUT_SECONDS = 5


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str, *, scratch_sqlite: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`. `scratch_sqlite` is for a throw-away SQLite file that its
    writer regenerates from nothing if it is lost (the demo's): it skips the fsyncs and
    keeps more pages in memory. Never for a database that holds anything of value."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine, scratch=scratch_sqlite)
        return engine
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        # After a database restart every pooled connection is dead: the ping at checkout
        # replaces each one, so no request fails on a connection that died while idle. One
        # that dies mid-request raises a disconnect error, on which SQLAlchemy discards it
        # and every connection opened before it, so a restart needs no pool_recycle.
        kwargs.setdefault("pool_pre_ping", True)
    if "connect_timeout" not in make_url(url).query:
        # libpq waits as long as TCP does for a host that does not answer; a request
        # should fail over to a 503 within seconds instead of holding its worker.
        connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        kwargs["connect_args"] = connect_args | kwargs.get("connect_args", {})
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine, *, scratch: bool = False) -> None:
    # pysqlite's implicit transactions start as readers and upgrade late, which
    # deadlocks concurrent writers; take the write lock at BEGIN instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if scratch:
            # A crash may corrupt the file; the demo deletes and rebuilds it on every run,
            # so it needs no fsync at each WAL checkpoint, and a bigger page cache (64 MB)
            # saves re-reading the indexes it keeps updating.
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-65536")
        else:
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@contextmanager
def read_session(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A short session for queries; it never commits."""
    session = factory()
    # On SQLite a plain BEGIN lets readers run beside the one writer (WAL).
    session.connection(execution_options={READ_ONLY_OPTION: True})
    try:
        yield session
    finally:
        session.rollback()
        session.close()


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection in one read-only transaction, so every table reads as of the same moment.

    PostgreSQL: REPEATABLE READ, READ ONLY. SQLite: a plain BEGIN, whose WAL snapshot is
    taken at the first read and kept until the transaction ends.
    """
    if engine.dialect.name == "postgresql":
        options: dict[str, Any] = {
            "isolation_level": "REPEATABLE READ",
            "postgresql_readonly": True,
        }
    else:
        options = {READ_ONLY_OPTION: True}
    with engine.connect().execution_options(**options) as connection, connection.begin():
        yield connection


@contextmanager
def sqlite_triggers_set_aside(connection: Connection) -> Iterator[None]:
    """Drop SQLite's triggers for the block and put them back after it (same transaction).

    For the few places that must empty the append-only audit log: a test's reset and
    `memberhub restore --force`, which replaces the whole database with a backup.
    PostgreSQL needs none of this: TRUNCATE does not fire row triggers.
    """
    triggers = connection.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    ).all()
    for name, _ in triggers:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _, sql in triggers:
        connection.execute(text(sql))


def insert_rows(target: Session | Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows of one shape in the transaction of `target` (a session or a
    connection): COPY on PostgreSQL (psycopg's executemany sends them one statement
    each), executemany on SQLite.

    A constraint broken by a row raises sqlalchemy's IntegrityError on both. Column
    defaults computed in Python are not applied: rows carry every column the database
    does not fill itself.
    """
    if not rows:
        return
    connection = target.connection() if isinstance(target, Session) else target
    if connection.dialect.name != "postgresql":
        for start in range(0, len(rows), _ROWS_PER_EXECUTEMANY):
            connection.execute(insert(table), list(rows[start : start + _ROWS_PER_EXECUTEMANY]))
        return
    import psycopg  # only PostgreSQL deployments have a psycopg connection here

    columns = list(rows[0])
    as_json = [isinstance(table.c[column].type, JSON) for column in columns]
    copy = "COPY {} ({}) FROM STDIN".format(
        table.name, ", ".join(f'"{column}"' for column in columns)
    )
    driver = connection.connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(copy) as writer:  # type: ignore[union-attr]
            for row in rows:
                writer.write_row(
                    [
                        json.dumps(row[column])
                        if is_json and row[column] is not None
                        else row[column]
                        for column, is_json in zip(columns, as_json, strict=True)
                    ]
                )
    except psycopg.errors.IntegrityError as error:
        raise IntegrityError(copy, None, error) from error


_ROWS_PER_EXECUTEMANY = 5_000


class WritersStillRunning(Conflict):
    code = "writers-still-running"
    title = "Writes begun earlier are still running"


def ids_settled_through(
    session: Session, ids: Sequence[Any], *, wait_seconds: float = 30.0
) -> list[int]:
    """For each id column in `ids`, its largest id such that every row up to it is now
    visible to `session`'s transaction, or will never exist (0 for an empty table).

    Ids come from sequences that hand out values in increasing order (SQLAlchemy's
    default, cache 1), so a row with a smaller id was begun before the largest visible
    one committed. On SQLite the write lock taken at BEGIN means no such row can still
    be uncommitted. On PostgreSQL it may be: this waits until every transaction running
    at the time has ended, and raises WritersStillRunning after `wait_seconds`. Call it
    before this transaction locks anything another writer might wait for.
    """
    through = [int(session.scalar(select(func.max(column))) or 0) for column in ids]
    if session.get_bind().dialect.name != "postgresql":
        return through
    running = (
        session.execute(
            text(
                "SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x "
                "WHERE x IS DISTINCT FROM pg_current_xact_id_if_assigned()"
            )
        )
        .scalars()
        .all()
    )
    deadline = time.monotonic() + wait_seconds
    still = text(
        "SELECT count(*) FROM unnest(CAST(:xids AS xid8[])) AS x "
        "WHERE pg_xact_status(x) = 'in progress'"
    )
    while running and session.scalar(still, {"xids": list(running)}):
        if time.monotonic() > deadline:
            raise WritersStillRunning(
                f"writes begun before this one have run for over {wait_seconds:.0f} s; "
                "try again when they have finished"
            )
        time.sleep(0.02)
    return through
