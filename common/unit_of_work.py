"""One unit of work = one session = one transaction; it rolls back unless committed."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from common import audit
from common.errors import Conflict

T = TypeVar("T")

# PostgreSQL serialization_failure and deadlock_detected: the transaction did
# nothing durable, so running the whole use case again is safe.
RETRYABLE_SQLSTATES = {"40001", "40P01"}


class UnitOfWork:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self._session: Session | None = None

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

    def commit(self) -> None:
        audit.write_pending(self.session)
        self.session.commit()
        audit.mark_committed()

    def rollback(self) -> None:
        self.session.rollback()


def run_in_transaction(
    session_factory: sessionmaker[Session],
    use_case: Callable[[UnitOfWork], T],
    attempts: int = 5,
) -> T:
    """Run `use_case` in a fresh unit of work, retrying on deadlock or serialization failure."""
    for attempt in range(attempts):
        try:
            with UnitOfWork(session_factory) as uow:
                return use_case(uow)
        except DBAPIError as error:
            sqlstate = getattr(error.orig, "sqlstate", None)
            if sqlstate not in RETRYABLE_SQLSTATES or attempt == attempts - 1:
                raise
    raise Conflict("the request kept conflicting with concurrent ones; try again")
