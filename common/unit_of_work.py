"""One unit of work = one session = one transaction; it rolls back unless committed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from common import audit
from common.db import READ_ONLY_OPTION
from common.errors import Conflict

T = TypeVar("T")

# PostgreSQL serialization_failure and deadlock_detected: the transaction did
# nothing durable, so running the whole use case again is safe.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None
        self._after_commit: list[Callable[[], None]] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session = self.session
        try:
            session.rollback()
        finally:
            session.close()
            self._session = None
            self._after_commit = []

    def commit(self) -> None:
        audit.write_pending(self.session)
        self.session.commit()
        audit.mark_committed()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once this unit of work's transaction is committed (a cache to
        forget, a message that must not go out for a write that never happened)."""
        self._after_commit.append(callback)

    def rollback(self) -> None:
        self.session.rollback()


@contextmanager
def transaction(session_factory: sessionmaker[Session]) -> Iterator[UnitOfWork]:
    """A unit of work that commits when the block ends normally (and rolls back if not).

    Use cases never commit: whoever runs them decides where the transaction ends, so
    one use case can call another inside the same transaction.
    """
    with UnitOfWork(session_factory) as uow:
        yield uow
        uow.commit()


class ReadOnlyUnitOfWork(UnitOfWork):
    """A unit of work for queries that need one (a port that takes a unit of work): on
    SQLite its transaction is a plain BEGIN, so it never waits for the write lock nor
    holds it, and it cannot commit."""

    def __enter__(self) -> ReadOnlyUnitOfWork:
        super().__enter__()
        self.session.connection(execution_options={READ_ONLY_OPTION: True})
        return self

    def commit(self) -> None:
        raise RuntimeError("a read-only unit of work cannot commit")


def run_in_transaction(
    session_factory: sessionmaker[Session],
    use_case: Callable[[UnitOfWork], T],
    attempts: int = 5,
) -> T:
    """Run `use_case` in a fresh unit of work and commit it, retrying the whole use case
    on deadlock or serialization failure (nothing of a failed attempt is durable)."""
    for attempt in range(attempts):
        try:
            with transaction(session_factory) as uow:
                return use_case(uow)
        except DBAPIError as error:
            sqlstate = getattr(error.orig, "sqlstate", None)
            if sqlstate not in RETRYABLE_SQLSTATES:
                raise
            if attempt == attempts - 1:
                raise Conflict(
                    "the request kept conflicting with concurrent ones; try again"
                ) from error
    raise AssertionError("unreachable")
