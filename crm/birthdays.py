"""Birthday bonuses: which members are due their tier's yearly birthday points.

A member is due when their birthday falls in the week ending on the run day (so a job
that runs weekly, or misses a few days, still finds everyone) and their tier gives a
bonus. A 29 February birthday counts as 28 February in other years. The ledger credits
the points once per member and year (its idempotency key names the year), so a member
found again on the next run is not credited twice.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, extract, or_, select
from sqlalchemy.orm import Session

from crm.adapters.orm import Member, Tier

WINDOW_DAYS = 7


@dataclass(frozen=True)
class BirthdayBonus:
    member_no: str
    tier: str
    points: int
    birthday_on: date  # this year's birthday (28 February for a 29 February one)

    @property
    def external_id(self) -> str:
        return f"BIRTHDAY-{self.birthday_on.year}-{self.member_no}"


def this_years_birthday(birthday: date, year: int) -> date:
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return birthday.replace(year=year)


def birthday_bonuses_due(session: Session, day: date) -> list[BirthdayBonus]:
    """Active members whose birthday is in the WINDOW_DAYS days up to `day`, with their
    tier's bonus (members of tiers without one are left out)."""
    days = [day - timedelta(days=back) for back in range(WINDOW_DAYS)]
    month_days = {(d.month, d.day) for d in days}
    if any((d.month, d.day) == (2, 28) and not calendar.isleap(d.year) for d in days):
        month_days.add((2, 29))
    matches = [
        and_(extract("month", Member.birthday) == m, extract("day", Member.birthday) == d)
        for m, d in sorted(month_days)
    ]
    rows = session.execute(
        select(Member.member_no, Member.tier, Member.birthday, Tier.birthday_bonus_points)
        .join(Tier, Tier.code == Member.tier)
        .where(
            Member.status == "active",
            Member.birthday.is_not(None),
            Tier.birthday_bonus_points > 0,
            or_(*matches),
        )
        .order_by(Member.id)
    ).all()
    due = []
    for member_no, tier, birthday, points in rows:
        assert birthday is not None  # selected so
        # The window may straddle New Year: the birthday of the window's year.
        on = next(
            when
            for when in (this_years_birthday(birthday, d.year) for d in days)
            if day - timedelta(days=WINDOW_DAYS) < when <= day
        )
        due.append(BirthdayBonus(member_no, tier, points, on))
    return due
