"""The partners the platform exchanges points with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PartnerSeed:
    code: str
    name: str
    name_en: str
    kind: str
    reward_code: str
    unit_name: str
    out_points_per_unit: int | None
    out_min_points: int
    out_daily_limit_points: int
    in_partner_units: int | None
    in_points: int | None


@dataclass(frozen=True)
class PartnerRewardSeed:
    reward_code: str
    partner_code: str
    units: int


# Catalogue rewards that arrive as a partner's currency (see memberhub.reference_data).
PARTNER_REWARDS: tuple[PartnerRewardSeed, ...] = (PartnerRewardSeed("MILES-MU-500", "MU", 500),)

PARTNERS: tuple[PartnerSeed, ...] = (
    # 10 points = 1 mile; at least 1,000 points, at most 20,000 a day per member.
    PartnerSeed(
        "MU",
        "东方航空东方万里行",
        "China Eastern Eastern Miles",
        "airline",
        "PARTNER-MU",
        "里程",
        10,
        1_000,
        20_000,
        None,
        None,
    ),
    # 10 bank reward points buy 1 programme point; nothing goes out to the bank.
    PartnerSeed(
        "PSBC",
        "邮储银行信用卡积分",
        "Postal Savings Bank card points",
        "bank",
        "PARTNER-PSBC",
        "积分",
        None,
        0,
        0,
        10,
        1,
    ),
)
