"""The shared attempt counters: one upsert per attempt, exact under parallel bursts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from common import throttle
from common.unit_of_work import UnitOfWork

LIMIT = throttle.Limit(attempts=3, window=timedelta(minutes=10))
NOW = datetime(2026, 11, 25, 8, tzinfo=UTC)


def _hit(db, key, now=NOW):
    with UnitOfWork(db.session_factory) as uow:
        result = throttle.hit(uow.session, key, LIMIT, now=now)
        uow.commit()
    return result


def test_attempts_count_up_and_say_when_the_window_ends(db):
    hits = [_hit(db, "k", NOW + timedelta(minutes=minute)) for minute in (0, 1, 2, 3)]
    assert [h.count for h in hits] == [1, 2, 3, 4]
    assert [h.over(LIMIT) for h in hits] == [False, False, False, True]
    assert hits[-1].retry_after == 7 * 60
    # A new window starts once the old one is over.
    assert _hit(db, "k", NOW + timedelta(minutes=10)).count == 1


def test_keys_are_counted_apart_and_a_given_back_attempt_does_not_count(db):
    _hit(db, "a")
    _hit(db, "a")
    _hit(db, "b")
    with UnitOfWork(db.session_factory) as uow:
        throttle.give_back(uow.session, "a")
        uow.commit()
    assert _hit(db, "a").count == 2
    with UnitOfWork(db.session_factory) as uow:
        throttle.forgive(uow.session, "a")
        uow.commit()
    assert _hit(db, "a").count == 1
    assert _hit(db, "b").count == 2


def test_a_parallel_burst_is_counted_one_by_one(db):
    counts: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def attempt() -> None:
        start.wait()
        count = _hit(db, "burst").count
        with lock:
            counts.append(count)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Every attempt saw its own place in the queue: exactly LIMIT.attempts got through.
    assert sorted(counts) == list(range(1, 13))
    assert sum(count <= LIMIT.attempts for count in counts) == LIMIT.attempts
