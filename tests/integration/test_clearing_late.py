"""Late events of closed days are found above each day's marks, and a close waits for
the writes in flight when it starts, so that nothing falls below a mark untaken.

A closed day records how far its movements are known to be taken (`*_id_through`); a run
looks for late events only above those marks. These tests check that the marks never
pass over a movement no run took: on days closed before the marks existed, and (on
PostgreSQL, where ids are not handed out in commit order) with a sale still being
written while its day closes.
"""

from __future__ import annotations

import threading
import time as wall
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

import crm
import points_engine
from common.clock import SHANGHAI, business_date, utcnow
from common.settings import Settings, normalise_database_url
from common.unit_of_work import transaction
from memberhub import schema
from memberhub.operations import prepare_database
from memberhub.runtime import build_runtime
from storefront_api import clearing
from tests.conftest import IS_POSTGRES, empty_database
from tests.integration.clearing_takes import takes_of

SHOP = "SH-HP-0001"
FINANCE = "staff:finance"


def _member(db, phone: str) -> str:
    with transaction(db.session_factory) as uow:
        return str(
            crm.register_member(uow, crm.RegisterCommand(phone=phone, name="清分"))["member_no"]
        )


def _command(member_no: str, day: date, external_id: str) -> points_engine.AccrualCommand:
    return points_engine.AccrualCommand(
        external_id=external_id,
        member=points_engine.MemberRef(member_no=member_no),
        institution_code=SHOP,
        occurred_at=datetime.combine(day, time(12), SHANGHAI),
        business_type="goods",
        lines=(points_engine.AccrualLine("SKU-1", 1, 1000),),
        total_fen=1000,
    )


def _sale(db, member_no: str, day: date, external_id: str) -> int:
    with transaction(db.session_factory) as uow:
        points_engine.accrue_points(
            uow, crm.CrmMemberDirectory(), "counter", _command(member_no, day, external_id)
        )
    return _accrual_id(db, external_id)


def _accrual_id(db, external_id: str) -> int:
    with db.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT id FROM points_engine_accrual WHERE external_id = :e"),
                {"e": external_id},
            ).scalar_one()
        )


def _run(db, day: date, *, close: bool = False) -> clearing.ClearingRun:
    with transaction(db.session_factory) as uow:
        return clearing.run_day(uow, day, actor=FINANCE, fen_per_point=1, close=close)


def _taken(db, accrual_id: int) -> list[tuple[str, str]]:
    """(business_date, cleared_on) of each take holding the sale: exactly one when taken."""
    with db.engine.connect() as connection:
        rows = connection.execute(takes_of("sale"), {"id": accrual_id}).all()
    return [(str(a), str(b)) for a, b in rows]


def _marks(db, day: date) -> tuple[int | None, int | None, int | None]:
    with db.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT sale_id_through, refund_id_through, posting_id_through "
                "FROM storefront_clearing_day WHERE business_date = :d"
            ),
            {"d": day},
        ).one()
    return row[0], row[1], row[2]


def test_marks_follow_the_runs_and_late_sales_are_found_above_them(db) -> None:
    today = business_date(utcnow())
    first, second, third = (today - timedelta(days=n) for n in (3, 2, 1))
    member = _member(db, "13900000301")
    own = _sale(db, member, first, "OWN-1")
    closed = _run(db, first, close=True)
    assert closed.status == "closed" and _taken(db, own) == [(str(first), str(first))]
    sale_mark, _, posting_mark = _marks(db, first)
    assert sale_mark == own and posting_mark is not None
    late = _sale(db, member, first, "LATE-1")
    assert late > own  # above the mark: the next run looks there
    result = _run(db, second, close=True)
    assert result.late == 1  # the sale, with the points it issued
    assert _taken(db, late) == [(str(first), str(second))]
    # Both closed days are now known to be taken up to the newest sale.
    assert _marks(db, first)[0] == _marks(db, second)[0] == late
    again = _sale(db, member, second, "LATE-2")
    assert _run(db, third).late == 1
    assert _taken(db, again) == [(str(second), str(third))]
    assert _run(db, third).late == 1  # run again, the open day keeps the late ones it took


def test_a_day_closed_before_marks_existed_is_searched_in_full_once(db) -> None:
    today = business_date(utcnow())
    first, second = today - timedelta(days=2), today - timedelta(days=1)
    member = _member(db, "13900000302")
    _sale(db, member, first, "OWN-2")
    _run(db, first, close=True)
    late = _sale(db, member, first, "LATE-3")
    # As a day closed by a version without marks would be, with a mark that would hide
    # the late sale if it were trusted.
    with transaction(db.session_factory) as uow:
        uow.session.execute(
            text(
                "UPDATE storefront_clearing_day SET sale_id_through = NULL, "
                "refund_id_through = NULL, posting_id_through = NULL WHERE business_date = :d"
            ),
            {"d": first},
        )
    result = _run(db, second)
    assert result.late == 1
    assert _taken(db, late) == [(str(first), str(second))]
    assert _marks(db, first)[0] == late


@pytest.mark.skipif(not IS_POSTGRES, reason="SQLite has one writer: nothing is in flight")
def test_a_close_waits_for_a_sale_being_written_and_takes_it(db) -> None:
    """The sale in flight gets its id first; a later sale commits with a larger one. A
    close that did not wait would not see the first, mark the day past it, and no run
    would ever look for it again."""
    today = business_date(utcnow())
    day, next_day = today - timedelta(days=2), today - timedelta(days=1)
    slow_member, quick_member = _member(db, "13900000303"), _member(db, "13900000304")
    written, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def slow_till() -> None:
        try:
            with transaction(db.session_factory) as uow:
                points_engine.accrue_points(
                    uow,
                    crm.CrmMemberDirectory(),
                    "counter",
                    _command(slow_member, day, "SLOW-1"),
                )
                written.set()
                release.wait(30)
        except BaseException as error:
            failures.append(error)
            written.set()

    def close() -> None:
        try:
            _run(db, day, close=True)
        except BaseException as error:
            failures.append(error)

    till = threading.Thread(target=slow_till)
    till.start()
    assert written.wait(30) and not failures
    quick = _sale(db, quick_member, day, "QUICK-1")
    closing = threading.Thread(target=close)
    closing.start()
    wall.sleep(0.5)
    waited = closing.is_alive()  # it is waiting for the till's transaction
    release.set()
    till.join(30)
    closing.join(60)
    assert not failures, failures
    assert waited
    slow = _accrual_id(db, "SLOW-1")
    assert slow < quick
    assert _taken(db, slow) == [(str(day), str(day))]
    assert _taken(db, quick) == [(str(day), str(day))]
    assert _run(db, next_day).late == 0


def test_takes_become_entries_and_back_with_the_same_movements_taken(
    tmp_path: Path,
) -> None:
    """Revision 0028 turned the entry per movement into takes. Downgrading writes each
    take's movements as entries; upgrading turns them back into takes: every sale is
    taken by the same day as before, and the closed day keeps its marks."""
    today = business_date(utcnow())
    first, second = today - timedelta(days=2), today - timedelta(days=1)
    with empty_database(tmp_path, "_takes") as url:
        settings = Settings(
            database_url=normalise_database_url(url),
            secret_key="takes",
            warehouse_path=tmp_path / "warehouse.duckdb",
            var_dir=tmp_path,
        )
        runtime = build_runtime(settings)
        try:
            prepare_database(runtime)
            member = _member(runtime, "13900000305")
            sales = [_sale(runtime, member, first, f"ROUND-{n}") for n in range(3)]
            _run(runtime, first, close=True)
            sales.append(_sale(runtime, member, first, "ROUND-LATE"))
            sales.append(_sale(runtime, member, second, "ROUND-OWN"))
            _run(runtime, second)
            before = {sale: _taken(runtime, sale) for sale in sales}
            marks = _marks(runtime, first)
            assert before[sales[3]] == [(str(first), str(second))]
            config = schema.alembic_config()
            with runtime.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.downgrade(config, "0027")
            with runtime.engine.connect() as connection:
                entries = {
                    int(source_id): [(str(happened), str(cleared_on))]
                    for source_id, happened, cleared_on in connection.execute(
                        text(
                            "SELECT source_id, business_date, cleared_on "
                            "FROM storefront_clearing_entry WHERE source_kind = 'sale'"
                        )
                    )
                }
            assert entries == before
            with runtime.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            assert {sale: _taken(runtime, sale) for sale in sales} == before
            assert _marks(runtime, first) == marks
        finally:
            runtime.engine.dispose()
