"""The date dimension: Chinese public holidays, their adjusted working days, festival seasons.

Holidays follow the State Council's yearly notices (国务院办公厅关于部分节假日安排的通知)
for 2024–2026. The 2027 notice is published in the November before, so 2027 is
projected from the 2025 rules (春节 4 statutory days from 除夕, 劳动节 2, 国庆节 3,
the rest 1, joined to weekends by swapping working days); replace it with the notice.
A holiday's days include the weekend days the notice joins to it ("与周末连休").

Festival seasons are the campaign windows marketers plan around: spring (three weeks
before 春节 to 元宵), dragon_boat (three weeks before 端午), summer (July and August),
mid_autumn (four weeks before 中秋) and hairy_crab (20 September to 30 November). Where
two overlap, the lunar festival's own season wins over summer and hairy_crab.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

FIRST_DAY = date(2020, 1, 1)
LAST_DAY = date(2030, 12, 31)

HOLIDAY_NAMES: dict[str, str] = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明节": "Qingming Festival",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival",
    "中秋节": "Mid-Autumn Festival",
    "国庆节": "National Day",
}

FESTIVALS = ("spring", "dragon_boat", "summer", "mid_autumn", "hairy_crab")


def _d(text: str) -> date:
    return date.fromisoformat(text)


# (holiday, first day off, last day off)
_HOLIDAYS: tuple[tuple[str, str, str], ...] = (
    # 2024
    ("元旦", "2023-12-30", "2024-01-01"),
    ("春节", "2024-02-10", "2024-02-17"),
    ("清明节", "2024-04-04", "2024-04-06"),
    ("劳动节", "2024-05-01", "2024-05-05"),
    ("端午节", "2024-06-08", "2024-06-10"),
    ("中秋节", "2024-09-15", "2024-09-17"),
    ("国庆节", "2024-10-01", "2024-10-07"),
    # 2025
    ("元旦", "2025-01-01", "2025-01-01"),
    ("春节", "2025-01-28", "2025-02-04"),
    ("清明节", "2025-04-04", "2025-04-06"),
    ("劳动节", "2025-05-01", "2025-05-05"),
    ("端午节", "2025-05-31", "2025-06-02"),
    ("国庆节", "2025-10-01", "2025-10-05"),
    ("中秋节", "2025-10-06", "2025-10-06"),
    ("国庆节", "2025-10-07", "2025-10-08"),
    # 2026
    ("元旦", "2026-01-01", "2026-01-03"),
    ("春节", "2026-02-15", "2026-02-23"),
    ("清明节", "2026-04-04", "2026-04-06"),
    ("劳动节", "2026-05-01", "2026-05-05"),
    ("端午节", "2026-06-19", "2026-06-21"),
    ("中秋节", "2026-09-25", "2026-09-27"),
    ("国庆节", "2026-10-01", "2026-10-07"),
    # 2027 (projected)
    ("元旦", "2027-01-01", "2027-01-03"),
    ("春节", "2027-02-05", "2027-02-12"),
    ("清明节", "2027-04-03", "2027-04-05"),
    ("劳动节", "2027-05-01", "2027-05-05"),
    ("端午节", "2027-06-09", "2027-06-09"),
    ("中秋节", "2027-09-15", "2027-09-15"),
    ("国庆节", "2027-10-01", "2027-10-07"),
)

# Weekend days worked in exchange for the days off above (调休上班).
ADJUSTED_WORKDAYS: frozenset[date] = frozenset(
    _d(text)
    for text in (
        "2024-02-04",
        "2024-02-18",
        "2024-04-07",
        "2024-04-28",
        "2024-05-11",
        "2024-09-14",
        "2024-09-29",
        "2024-10-12",
        "2025-01-26",
        "2025-02-08",
        "2025-04-27",
        "2025-09-28",
        "2025-10-11",
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
        "2027-01-31",
        "2027-02-20",
        "2027-05-08",
        "2027-09-26",
        "2027-10-09",
    )
)


def _holiday_days() -> dict[date, str]:
    days: dict[date, str] = {}
    for name, first, last in _HOLIDAYS:
        day, end = _d(first), _d(last)
        while day <= end:
            days[day] = name
            day += timedelta(days=1)
    return days


HOLIDAY_DAYS: dict[date, str] = _holiday_days()

# 春节 (正月初一), 端午 (五月初五) and 中秋 (八月十五) in the Gregorian calendar.
LUNAR_FESTIVALS: dict[int, tuple[date, date, date]] = {
    2020: (_d("2020-01-25"), _d("2020-06-25"), _d("2020-10-01")),
    2021: (_d("2021-02-12"), _d("2021-06-14"), _d("2021-09-21")),
    2022: (_d("2022-02-01"), _d("2022-06-03"), _d("2022-09-10")),
    2023: (_d("2023-01-22"), _d("2023-06-22"), _d("2023-09-29")),
    2024: (_d("2024-02-10"), _d("2024-06-10"), _d("2024-09-17")),
    2025: (_d("2025-01-29"), _d("2025-05-31"), _d("2025-10-06")),
    2026: (_d("2026-02-17"), _d("2026-06-19"), _d("2026-09-25")),
    2027: (_d("2027-02-06"), _d("2027-06-09"), _d("2027-09-15")),
    2028: (_d("2028-01-26"), _d("2028-05-28"), _d("2028-10-03")),
    2029: (_d("2029-02-13"), _d("2029-06-16"), _d("2029-09-22")),
    2030: (_d("2030-02-03"), _d("2030-06-05"), _d("2030-09-12")),
}


def festival_on(day: date) -> str | None:
    """The festival season a day falls in, or None (see the module docstring)."""
    lunar = LUNAR_FESTIVALS.get(day.year)
    if lunar is not None:
        spring, dragon_boat, mid_autumn = lunar
        if spring - timedelta(weeks=3) <= day <= spring + timedelta(days=14):
            return "spring"
        if dragon_boat - timedelta(weeks=3) <= day <= dragon_boat:
            return "dragon_boat"
        if mid_autumn - timedelta(weeks=4) <= day <= mid_autumn:
            return "mid_autumn"
    if date(day.year, 9, 20) <= day <= date(day.year, 11, 30):
        return "hairy_crab"
    if day.month in (7, 8):
        return "summer"
    return None


def is_workday(day: date) -> bool:
    """An official working day: a weekday that is not a holiday, or an adjusted weekend day."""
    if day in ADJUSTED_WORKDAYS:
        return True
    return day.isoweekday() <= 5 and day not in HOLIDAY_DAYS


@dataclass(frozen=True)
class CalendarDay:
    date_key: int
    day: date
    year: int
    quarter: int
    month: int
    iso_week: int
    weekday: int
    is_weekend: bool
    holiday_zh: str | None
    holiday_en: str | None
    is_workday: bool
    festival: str | None


def date_key(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def calendar_day(day: date) -> CalendarDay:
    holiday = HOLIDAY_DAYS.get(day)
    return CalendarDay(
        date_key=date_key(day),
        day=day,
        year=day.year,
        quarter=(day.month - 1) // 3 + 1,
        month=day.month,
        iso_week=day.isocalendar().week,
        weekday=day.isoweekday(),
        is_weekend=day.isoweekday() >= 6,
        holiday_zh=holiday,
        holiday_en=HOLIDAY_NAMES[holiday] if holiday is not None else None,
        is_workday=is_workday(day),
        festival=festival_on(day),
    )


def calendar_days(first: date = FIRST_DAY, last: date = LAST_DAY) -> Iterator[CalendarDay]:
    day = first
    while day <= last:
        yield calendar_day(day)
        day += timedelta(days=1)
