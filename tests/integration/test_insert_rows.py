"""common.db.insert_rows: COPY on PostgreSQL, executemany on SQLite; the same rows either
way, and a broken constraint is sqlalchemy's IntegrityError that a savepoint undoes."""

from __future__ import annotations

from datetime import date
from typing import cast

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError

from common.clock import utcnow
from common.db import insert_rows
from memberhub.runtime import Runtime
from storefront_api.clearing.orm import ClearingDay, ClearingEntry

ENTRIES = cast(Table, ClearingEntry.__table__)
DAY = date(2031, 1, 2)


def _entry(source_id: int) -> dict[str, object]:
    return {"source_kind": "sale", "source_id": source_id, "business_date": DAY, "cleared_on": DAY}


def test_rows_are_written_and_a_duplicate_is_an_integrity_error(db: Runtime) -> None:
    with db.session_factory() as session, session.begin():
        session.add(
            ClearingDay(
                business_date=DAY, status="open", run_at=utcnow(), run_by="test", fen_per_point=1
            )
        )
        session.flush()
        insert_rows(session, ENTRIES, [_entry(n) for n in range(1, 12_001)])
        with pytest.raises(IntegrityError), session.begin_nested():
            insert_rows(session, ENTRIES, [_entry(12_001), _entry(5)])
        count = select(func.count()).select_from(ENTRIES).where(ENTRIES.c.cleared_on == DAY)
        kept = session.scalar(count)
        ids = session.scalars(
            select(ENTRIES.c.source_id).where(ENTRIES.c.cleared_on == DAY).order_by("source_id")
        ).all()
        session.rollback()
    assert kept == 12_000
    assert ids == list(range(1, 12_001))
