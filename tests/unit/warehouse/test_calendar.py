"""The date dimension's holidays, adjusted working days and festival seasons."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from warehouse.calendar import (
    FIRST_DAY,
    HOLIDAY_DAYS,
    LAST_DAY,
    LUNAR_FESTIVALS,
    calendar_day,
    calendar_days,
    festival_on,
    is_workday,
)


def test_spring_festival_2026_is_nine_days_with_two_saturdays_worked():
    off = [day for day, name in HOLIDAY_DAYS.items() if name == "春节" and day.year == 2026]
    assert min(off) == date(2026, 2, 15) and max(off) == date(2026, 2, 23)
    assert len(off) == 9
    assert is_workday(date(2026, 2, 14)) and is_workday(date(2026, 2, 28))
    assert not is_workday(date(2026, 2, 16))  # a Monday off


@pytest.mark.parametrize(
    ("day", "holiday"),
    [
        (date(2024, 1, 1), "元旦"),
        (date(2024, 2, 10), "春节"),
        (date(2024, 4, 4), "清明节"),
        (date(2024, 5, 3), "劳动节"),
        (date(2024, 6, 10), "端午节"),
        (date(2024, 9, 17), "中秋节"),
        (date(2024, 10, 7), "国庆节"),
        (date(2025, 1, 28), "春节"),
        (date(2025, 10, 6), "中秋节"),
        (date(2025, 10, 8), "国庆节"),
        (date(2026, 1, 2), "元旦"),
        (date(2026, 6, 19), "端午节"),
        (date(2026, 9, 25), "中秋节"),
        (date(2027, 2, 6), "春节"),
        (date(2027, 10, 1), "国庆节"),
    ],
)
def test_every_holiday_of_every_year_is_named_in_both_languages(day, holiday):
    row = calendar_day(day)
    assert row.holiday_zh == holiday
    assert row.holiday_en and row.holiday_en != holiday
    assert not row.is_workday


def test_each_year_has_all_seven_holidays():
    for year in (2024, 2025, 2026, 2027):
        names = {name for day, name in HOLIDAY_DAYS.items() if day.year == year}
        assert names == {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}, year


@pytest.mark.parametrize(
    "day",
    [date(2024, 2, 4), date(2024, 9, 14), date(2025, 1, 26), date(2025, 10, 11), date(2026, 1, 4)],
)
def test_adjusted_weekends_are_working_days(day):
    row = calendar_day(day)
    assert row.is_weekend and row.is_workday and row.holiday_zh is None


def test_ordinary_days():
    saturday, monday = calendar_day(date(2026, 11, 28)), calendar_day(date(2026, 11, 30))
    assert saturday.is_weekend and not saturday.is_workday and saturday.weekday == 6
    assert monday.is_workday and not monday.is_weekend and monday.weekday == 1
    assert (monday.date_key, monday.quarter, monday.month, monday.iso_week) == (20261130, 4, 11, 49)


def test_festival_seasons_follow_the_lunar_calendar():
    spring, dragon_boat, mid_autumn = LUNAR_FESTIVALS[2026]
    assert festival_on(spring - timedelta(days=21)) == "spring"
    assert festival_on(spring - timedelta(days=22)) is None
    assert festival_on(spring + timedelta(days=14)) == "spring"  # 元宵
    assert festival_on(spring + timedelta(days=15)) is None
    assert festival_on(dragon_boat - timedelta(days=21)) == "dragon_boat"
    assert festival_on(dragon_boat + timedelta(days=1)) is None
    assert festival_on(mid_autumn - timedelta(days=28)) == "mid_autumn"
    assert festival_on(date(2026, 7, 1)) == "summer" and festival_on(date(2026, 8, 27)) == "summer"
    assert festival_on(date(2026, 9, 26)) == "hairy_crab"
    assert festival_on(date(2026, 11, 30)) == "hairy_crab"
    assert festival_on(date(2026, 12, 1)) is None


def test_lunar_seasons_win_where_they_overlap_the_calendar_ones():
    # 2025's 中秋 is on 6 October: its season runs into the hairy-crab season.
    assert festival_on(date(2025, 9, 25)) == "mid_autumn"
    assert festival_on(date(2025, 10, 7)) == "hairy_crab"
    # 2026's season starts on 28 August, inside summer.
    assert festival_on(date(2026, 8, 28)) == "mid_autumn"


def test_the_dimension_covers_every_day_once():
    days = list(calendar_days())
    assert days[0].day == FIRST_DAY and days[-1].day == LAST_DAY
    assert len(days) == (LAST_DAY - FIRST_DAY).days + 1
    assert len({d.date_key for d in days}) == len(days)
