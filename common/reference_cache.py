"""A per-process cache for reference rows that change rarely (institutions, rules, keys).

Every accrual needs the same few reference rows; reading them each time was a third
of its statements. Entries live `ttl` seconds, so an admin's change reaches every
worker within that time. Keys include the engine, so tests and tools that open
several databases in one process never see another database's rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")


class ReferenceCache:
    def __init__(self, ttl_seconds: float = 60.0, max_entries: int = 20_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, owner: Session | object, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value of `key` for the database behind `owner` (a session, or any
        object that stands for one database, such as a session factory)."""
        scope = id(owner.get_bind()) if isinstance(owner, Session) else id(owner)
        full_key = (scope, key)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(full_key)
            if entry is not None and entry[0] > now:
                value: T = entry[1]
                return value
        value = load()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[full_key] = (now + self.ttl_seconds, value)
        return value

    def forget(self, owner: Session | object, key: Hashable) -> None:
        scope = id(owner.get_bind()) if isinstance(owner, Session) else id(owner)
        with self._lock:
            self._entries.pop((scope, key), None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


reference_cache = ReferenceCache()
