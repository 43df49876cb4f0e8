"""Attempt counters shared by every worker: login, pickup-code and one-time-code throttles.

A counter is one row per key holding the start of its window and the hits in it. A hit
is a single upsert that returns the new count, so parallel attempts are counted one by
one even when they arrive together: the k-th attempt of a window sees k, whatever the
interleaving. Callers hit *before* they check the secret and commit the hit on its own,
so a burst cannot slip many guesses past the limit while the first ones are checked.
Where a row lock already serialises the attempts (a card's PIN), `peek` before the check
and a `hit` committed with the failure are exact too, and spare right attempts the count.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Integer, String, Table, bindparam, case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from common.clock import as_utc, utcnow
from common.db import Base, utc_datetime


class ThrottleCounter(Base):
    __tablename__ = "common_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[utc_datetime]
    hits: Mapped[int] = mapped_column(Integer)


_COUNTERS = cast(Table, ThrottleCounter.__table__)


@dataclass(frozen=True)
class Limit:
    """At most `attempts` in a fixed window of `window` starting with the first attempt."""

    attempts: int
    window: timedelta


@dataclass(frozen=True)
class Hit:
    count: int
    retry_after: int  # seconds until the window ends

    def over(self, limit: Limit) -> bool:
        return self.count > limit.attempts


def hit(session: Session, key: str, limit: Limit, *, now: datetime | None = None) -> Hit:
    """Count one attempt for `key`; a window older than `limit.window` starts afresh."""
    now = now or utcnow()
    # The cut-off is computed here, not in SQL: SQLite has no interval arithmetic.
    row = session.execute(
        _upsert(session),
        {"key": key, "window_start": now, "hits": 1, "cutoff": now - limit.window},
    ).one()
    ends = as_utc(row.window_start) + limit.window
    return Hit(int(row.hits), max(1, int((ends - now).total_seconds() + 0.999)))


@functools.cache
def _upsert_statement(dialect: str) -> Any:
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(_COUNTERS)
    fresh = _COUNTERS.c.window_start <= bindparam("cutoff", type_=_COUNTERS.c.window_start.type)
    return statement.on_conflict_do_update(
        index_elements=["key"],
        set_={
            "hits": case((fresh, 1), else_=_COUNTERS.c.hits + 1),
            "window_start": case(
                (fresh, statement.excluded.window_start), else_=_COUNTERS.c.window_start
            ),
        },
    ).returning(_COUNTERS.c.hits, _COUNTERS.c.window_start)


def _upsert(session: Session) -> Any:
    return _upsert_statement(session.get_bind().dialect.name)


def peek(session: Session, key: str, limit: Limit, *, now: datetime | None = None) -> Hit | None:
    """The attempts of `key` in its current window, without counting one (None: none)."""
    now = now or utcnow()
    row = session.execute(
        select(_COUNTERS.c.hits, _COUNTERS.c.window_start).where(_COUNTERS.c.key == key)
    ).one_or_none()
    if row is None or as_utc(row.window_start) <= now - limit.window:
        return None
    ends = as_utc(row.window_start) + limit.window
    return Hit(int(row.hits), max(1, int((ends - now).total_seconds() + 0.999)))


def forgive(session: Session, key: str) -> None:
    """Forget the attempts of `key` (a right password ends an account's bad streak)."""
    session.execute(delete(_COUNTERS).where(_COUNTERS.c.key == key))


def give_back(session: Session, key: str) -> None:
    """Return one attempt of `key` (a right pickup code does not count against its outlet)."""
    session.execute(
        update(_COUNTERS)
        .where(_COUNTERS.c.key == key, _COUNTERS.c.hits > 0)
        .values(hits=_COUNTERS.c.hits - 1)
    )
