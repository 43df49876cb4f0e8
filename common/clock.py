"""Business time: Asia/Shanghai business days, UTC storage, and a clock a history can set."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_simulated_now: ContextVar[datetime | None] = ContextVar("simulated_now", default=None)


def utcnow() -> datetime:
    """The current instant in UTC, or the one `simulated_time` has set."""
    moment = _simulated_now.get()
    return moment if moment is not None else datetime.now(UTC)


@contextmanager
def simulated_time(moment: datetime) -> Iterator[None]:
    """Within the block, `utcnow` answers `moment` (in this thread or task only).

    For writing a dated history through the use cases (`memberhub demo`): every
    timestamp they take from the clock (created_at, recorded_at, updated_at, a
    biller's receipt) is then the simulated one. Serving code never sets it.
    """
    token = _simulated_now.set(to_utc(moment))
    try:
        yield
    finally:
        _simulated_now.reset(token)


def to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("datetime without offset")
    return moment.astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """Attach UTC to naive values read back from SQLite, which drops the offset."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def business_date(moment: datetime) -> date:
    return as_utc(moment).astimezone(SHANGHAI).date()


def today() -> date:
    return business_date(utcnow())


def start_of_day(day: date) -> datetime:
    """The UTC instant a Shanghai business day begins."""
    return datetime.combine(day, time.min, SHANGHAI).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    return start_of_day(day + timedelta(days=1)) - timedelta(microseconds=1)


def end_of_next_year(day: date) -> date:
    return date(day.year + 1, 12, 31)
