"""The demo's calendar: festival seasons, when gift boxes sell, and the five festival campaigns.

Seasons are those the warehouse's date dimension marks (warehouse/calendar.py): 新春有礼
three weeks before 春节 to 元宵, 情邮独粽 three weeks before 端午, 夏日邮爽 in July and August,
浦江月 four weeks before 中秋, 香蟹驿舍 from 20 September to 30 November. Each season of the
history gets its campaign, created ten days before it starts, with a budget, a per-member cap
and a random holdout group (`points_engine.in_holdout`) that is not offered it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import points_engine
from storefront_api import catalogue

# 春节 (正月初一), 端午 (五月初五) and 中秋 (八月十五) in the Gregorian calendar.
LUNAR_FESTIVALS: dict[int, tuple[date, date, date]] = {
    2020: (date(2020, 1, 25), date(2020, 6, 25), date(2020, 10, 1)),
    2021: (date(2021, 2, 12), date(2021, 6, 14), date(2021, 9, 21)),
    2022: (date(2022, 2, 1), date(2022, 6, 3), date(2022, 9, 10)),
    2023: (date(2023, 1, 22), date(2023, 6, 22), date(2023, 9, 29)),
    2024: (date(2024, 2, 10), date(2024, 6, 10), date(2024, 9, 17)),
    2025: (date(2025, 1, 29), date(2025, 5, 31), date(2025, 10, 6)),
    2026: (date(2026, 2, 17), date(2026, 6, 19), date(2026, 9, 25)),
    2027: (date(2027, 2, 6), date(2027, 6, 9), date(2027, 9, 15)),
    2028: (date(2028, 1, 26), date(2028, 5, 28), date(2028, 10, 3)),
    2029: (date(2029, 2, 13), date(2029, 6, 16), date(2029, 9, 22)),
    2030: (date(2030, 2, 3), date(2030, 6, 5), date(2030, 9, 12)),
}
FESTIVALS = ("spring", "dragon_boat", "summer", "mid_autumn", "hairy_crab")
CAMPAIGN_LEAD_DAYS = 10


@dataclass(frozen=True)
class Offer:
    """A festival's campaign: what it gives, to whom, and how much it may spend per member."""

    code: str
    name: str
    name_en: str
    multiplier_bp: int = 10_000
    bonus_points: int = 0
    per_member_cap: int = 0
    budget_per_member: int = 0
    holdout_pct: int = 10


OFFERS: dict[str, Offer] = {
    "spring": Offer(
        "SPRING",
        "新春有礼·年货礼盒双倍积分",
        "Spring Festival gifts: double points",
        multiplier_bp=20_000,
        per_member_cap=600,
        budget_per_member=25,
    ),
    "dragon_boat": Offer(
        "DRAGONBOAT",
        "情邮独粽·每单加赠80分",
        "Dragon Boat zongzi: 80 bonus points per purchase",
        bonus_points=80,
        per_member_cap=240,
        budget_per_member=6,
    ),
    "summer": Offer(
        "SUMMER",
        "夏日邮爽·消暑好物1.5倍积分",
        "Summer specials: 1.5x points",
        multiplier_bp=15_000,
        per_member_cap=300,
        budget_per_member=15,
    ),
    # The season's big one, and the budget marketers watch run out before the festival.
    "mid_autumn": Offer(
        "MIDAUTUMN",
        "浦江月·中秋月饼三倍积分",
        "Pujiang Moon: triple points on mooncakes",
        multiplier_bp=30_000,
        per_member_cap=1500,
        budget_per_member=25,
        holdout_pct=15,
    ),
    "hairy_crab": Offer(
        "HAIRYCRAB",
        "香蟹驿舍·大闸蟹每单加赠200分",
        "Hairy-crab season: 200 bonus points per purchase",
        bonus_points=200,
        per_member_cap=600,
        budget_per_member=40,
    ),
}


@dataclass(frozen=True)
class Season:
    festival: str
    starts_on: date
    ends_on: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.starts_on <= day <= self.ends_on

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1


def season(festival: str, year: int) -> Season | None:
    """The festival's season in `year` (None where the lunar dates are not known)."""
    if festival == "summer":
        return Season(festival, date(year, 7, 1), date(year, 8, 31))
    if festival == "hairy_crab":
        return Season(festival, date(year, 9, 20), date(year, 11, 30))
    if year not in LUNAR_FESTIVALS:
        return None
    spring, dragon_boat, mid_autumn = LUNAR_FESTIVALS[year]
    if festival == "spring":
        return Season(festival, spring - timedelta(weeks=3), spring + timedelta(days=14))
    if festival == "dragon_boat":
        return Season(festival, dragon_boat - timedelta(weeks=3), dragon_boat)
    return Season(festival, mid_autumn - timedelta(weeks=4), mid_autumn)


def seasons_starting(first: date, last: date) -> Iterator[Season]:
    """Every festival season that starts between `first` and `last`, in date order."""
    found = [
        found
        for year in range(first.year, last.year + 1)
        for festival in FESTIVALS
        if (found := season(festival, year)) is not None and first <= found.starts_on <= last
    ]
    yield from sorted(found, key=lambda s: (s.starts_on, s.festival))


def festival_on(day: date) -> str | None:
    """The festival whose gift boxes are on sale on `day` (the lunar one where two overlap)."""
    for festival in ("spring", "dragon_boat", "mid_autumn", "hairy_crab", "summer"):
        found = season(festival, day.year)
        if found is not None and day in found:
            return festival
    return None


def festival_skus(festival: str) -> tuple[str, ...]:
    return tuple(p.sku for p in catalogue.PRODUCTS if p.festival == festival)


def campaign_code(found: Season) -> str:
    return f"{OFFERS[found.festival].code}-{found.starts_on.year}"


def campaign_command(found: Season, members: int) -> points_engine.CampaignCommand:
    """The season's campaign on the festival's gift SKUs, in every channel."""
    offer = OFFERS[found.festival]
    return points_engine.CampaignCommand(
        code=campaign_code(found),
        name=f"{offer.name} {found.starts_on.year}",
        name_en=f"{offer.name_en} {found.starts_on.year}",
        starts_on=found.starts_on,
        ends_on=found.ends_on,
        budget_points=max(offer.budget_per_member * members, 5 * offer.per_member_cap),
        multiplier_bp=offer.multiplier_bp,
        bonus_points=offer.bonus_points,
        per_member_cap=offer.per_member_cap,
        holdout_pct=offer.holdout_pct,
        business_types=("goods",),
        skus=festival_skus(found.festival),
    )
