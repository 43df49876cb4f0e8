"""Business time: Asia/Shanghai business days, UTC storage."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    return datetime.now(UTC)


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
