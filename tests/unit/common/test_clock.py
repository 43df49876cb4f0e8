"""The clock: real UTC time, unless a history being generated has set its own instant."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

from common.clock import business_date, simulated_time, today, utcnow

MOMENT = datetime(2025, 12, 31, 23, 30, tzinfo=timezone(timedelta(hours=8)))


def test_the_clock_is_real_time_in_utc() -> None:
    before = datetime.now(UTC)
    now = utcnow()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_a_simulated_instant_holds_within_its_block_and_ends_with_it() -> None:
    with simulated_time(MOMENT):
        assert utcnow() == MOMENT and utcnow().tzinfo == UTC
        assert today() == business_date(MOMENT) == MOMENT.date()
        with simulated_time(MOMENT + timedelta(days=1)):
            assert utcnow() == MOMENT + timedelta(days=1)
        assert utcnow() == MOMENT
    assert utcnow() - datetime.now(UTC) < timedelta(seconds=5)


def test_a_simulated_instant_is_not_seen_by_other_threads() -> None:
    seen: list[datetime] = []
    with simulated_time(MOMENT):
        worker = threading.Thread(target=lambda: seen.append(utcnow()))
        worker.start()
        worker.join()
    assert seen and seen[0] != MOMENT
