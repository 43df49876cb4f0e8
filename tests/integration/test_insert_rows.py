"""common.db.insert_rows: COPY on PostgreSQL, executemany on SQLite; the same rows either
way, and a broken constraint is sqlalchemy's IntegrityError that a savepoint undoes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import cast

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.exc import IntegrityError

from common.clock import start_of_day, utcnow
from common.db import insert_rows
from memberhub.runtime import Runtime
from storefront_api.clearing.orm import ClearingDay, ClearingTake

TAKES = cast(Table, ClearingTake.__table__)
DAY = date(2031, 1, 2)


def _take(above: int) -> dict[str, object]:
    return {
        "source_kind": "sale",
        "business_date": DAY,
        "cleared_on": DAY,
        "id_above": above,
        "id_through": above + 1,
        "happened_from": start_of_day(DAY),
        "happened_until": start_of_day(DAY + timedelta(days=1)),
    }


def test_rows_are_written_and_a_duplicate_is_an_integrity_error(db: Runtime) -> None:
    with db.session_factory() as session, session.begin():
        session.add(
            ClearingDay(
                business_date=DAY, status="open", run_at=utcnow(), run_by="test", fen_per_point=1
            )
        )
        session.flush()
        insert_rows(session, TAKES, [_take(n) for n in range(1, 12_001)])
        with pytest.raises(IntegrityError), session.begin_nested():
            insert_rows(session, TAKES, [_take(12_001), _take(5)])
        count = select(func.count()).select_from(TAKES).where(TAKES.c.cleared_on == DAY)
        kept = session.scalar(count)
        ids = session.scalars(
            select(TAKES.c.id_above).where(TAKES.c.cleared_on == DAY).order_by("id_above")
        ).all()
        session.rollback()
    assert kept == 12_000
    assert ids == list(range(1, 12_001))
