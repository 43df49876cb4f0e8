"""The billers `init-db` loads: one sandbox biller per kind, named after Shanghai's real ones."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BillerSeed:
    code: str
    name: str
    name_en: str
    kind: str
    adapter: str = "sandbox"


BILLERS = (
    BillerSeed(
        "SH-WATER-CTWS",
        "上海城投水务（集团）有限公司",
        "Shanghai Chengtou Water Group",
        "water",
    ),
    BillerSeed(
        "SH-POWER-SGCC",
        "国网上海市电力公司",
        "State Grid Shanghai Municipal Electric Power Company",
        "electricity",
    ),
    BillerSeed("SH-GAS", "上海燃气有限公司", "Shanghai Gas Co., Ltd.", "gas"),
    BillerSeed(
        "SH-CT-BROADBAND",
        "中国电信上海公司（宽带）",
        "China Telecom Shanghai (broadband)",
        "broadband",
    ),
    BillerSeed(
        "SH-CU-LANDLINE",
        "中国联通上海市分公司（固话）",
        "China Unicom Shanghai (landline)",
        "landline",
    ),
)
