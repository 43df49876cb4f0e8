"""The club's birthday benefit: a tier's birthday points, credited by `jobs run-due` once a
year in the member's birthday week, not counting towards a tier."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

import crm
import points_engine
from common.db import read_session
from crm.adapters.orm import Member as MemberRow
from crm.adapters.orm import Tier
from crm.birthdays import this_years_birthday
from memberhub.operations import run_due_jobs
from memberhub.runtime import Runtime
from points_engine.adapters import orm as ledger
from tests.integration.test_ledger_services import register


def _set(db: Runtime, member_no: str, *, birthday: date | None, tier: str) -> None:
    with db.session_factory() as session, session.begin():
        session.execute(
            update(MemberRow)
            .where(MemberRow.member_no == member_no)
            .values(birthday=birthday, tier=tier)
        )


def _balance(db: Runtime, member_no: str, on: date) -> int:
    with read_session(db.session_factory) as session:
        member_id = crm.queries.active_member_id(session, member_no)
        return int(points_engine.queries.points_summary(session, member_id, on)["available"])


def _adjustments(db: Runtime) -> list[tuple[str, int]]:
    with read_session(db.session_factory) as session:
        rows = session.execute(
            select(ledger.Posting.type, ledger.Posting.points).where(
                ledger.Posting.type == "adjustment"
            )
        ).all()
    return [(str(kind), int(points)) for kind, points in rows]


def test_each_tier_s_birthday_points_arrive_once_in_the_birthday_week(db: Runtime, uow) -> None:
    run_day = date(2026, 9, 10)
    gold, silver, regular, later, gone = (register(uow) for _ in range(5))
    _set(db, gold.no, birthday=date(1980, 9, 10), tier="gold")
    _set(db, silver.no, birthday=date(1991, 9, 4), tier="silver")  # 6 days ago
    _set(db, regular.no, birthday=date(1985, 9, 9), tier="regular")  # no bonus
    _set(db, later.no, birthday=date(1970, 9, 11), tier="diamond")  # tomorrow
    _set(db, gone.no, birthday=date(1970, 9, 3), tier="gold")  # 7 days ago

    totals = run_due_jobs(db, run_day, tiers=False)
    assert (totals["birthday_bonuses"], totals["birthday_points"]) == (2, 700)
    assert _balance(db, gold.no, run_day) == 500
    assert _balance(db, silver.no, run_day) == 200
    for member in (regular, later, gone):
        assert _balance(db, member.no, run_day) == 0

    # The next days find the same members in their week again: nothing twice. Tomorrow's
    # birthday arrives tomorrow.
    again = run_due_jobs(db, run_day + timedelta(days=1), tiers=False)
    assert (again["birthday_bonuses"], again["birthday_points"]) == (1, 1000)
    assert _balance(db, gold.no, run_day + timedelta(days=1)) == 500
    assert sorted(points for _, points in _adjustments(db)) == [200, 500, 1000]

    # A year later the bonus comes again; the points never counted towards a tier.
    next_year = run_day.replace(year=2027)
    run_due_jobs(db, next_year, tiers=False)
    assert _balance(db, gold.no, next_year) >= 500
    # silver (4 September) is in the week too
    assert sorted(points for _, points in _adjustments(db)) == [200, 200, 500, 500, 1000]
    with read_session(db.session_factory) as session:
        member = session.scalar(select(MemberRow).where(MemberRow.member_no == gold.no))
        assert member is not None
        standing = crm.club.tier_status(session, member, run_day)
    assert standing["qualifying_points_12m"] == 0


def test_a_tier_without_a_bonus_and_a_changed_bonus_are_data(db: Runtime, uow) -> None:
    member = register(uow)
    _set(db, member.no, birthday=date(1990, 3, 1), tier="silver")
    with db.session_factory() as session, session.begin():
        session.execute(update(Tier).where(Tier.code == "silver").values(birthday_bonus_points=0))
    assert run_due_jobs(db, date(2026, 3, 1), tiers=False)["birthday_bonuses"] == 0
    with db.session_factory() as session, session.begin():
        session.execute(update(Tier).where(Tier.code == "silver").values(birthday_bonus_points=88))
    assert run_due_jobs(db, date(2026, 3, 2), tiers=False)["birthday_points"] == 88


@pytest.mark.parametrize(
    ("birthday", "run_day", "due"),
    [
        (date(2000, 2, 29), date(2026, 2, 28), date(2026, 2, 28)),  # not a leap year
        (date(2000, 2, 29), date(2028, 2, 29), date(2028, 2, 29)),
        (date(2000, 2, 29), date(2028, 2, 28), None),  # a leap year: on the 29th
        (date(1999, 12, 30), date(2027, 1, 2), date(2026, 12, 30)),  # across New Year
        (date(1999, 1, 1), date(2026, 12, 31), None),
    ],
)
def test_birthday_weeks_at_the_edges_of_the_calendar(
    db: Runtime, uow, birthday: date, run_day: date, due: date | None
) -> None:
    member = register(uow)
    _set(db, member.no, birthday=birthday, tier="gold")
    with read_session(db.session_factory) as session:
        found = crm.birthday_bonuses_due(session, run_day)
    assert [bonus.birthday_on for bonus in found] == ([due] if due else [])
    assert this_years_birthday(date(2004, 2, 29), 2025) == date(2025, 2, 28)
