"""Named segments: rules on RFM scores, tenure and recency, kept as data and applied in order.

A rule is a set of ranges, all of which must hold: `{"r": [4, 5], "tenure_days": [null,
90]}` (inclusive bounds, null for open). The fields a rule may name are `r`, `f`, `m`
(1..5), `tenure_days`, `recency_days` (never bought counts as longer than any bound) and
`frequency`. Rules are tried by `priority`, lowest first; a member falls in the first that
matches, and the last rule (no conditions) catches everyone else, so every member is in
exactly one segment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.errors import Invalid

if TYPE_CHECKING:
    import pandas as pd

RULE_FIELDS = frozenset({"r", "f", "m", "tenure_days", "recency_days", "frequency"})
Bounds = tuple[int | None, int | None]


@dataclass(frozen=True)
class SegmentRule:
    code: str
    name: str  # Chinese
    name_en: str
    priority: int
    conditions: Mapping[str, Bounds]
    description: str = ""

    def as_json(self) -> str:
        return json.dumps({k: list(v) for k, v in sorted(self.conditions.items())})


def parse_conditions(text: str) -> dict[str, Bounds]:
    """A rule's conditions from their JSON form; Invalid names what is wrong."""
    try:
        raw: Any = json.loads(text)
    except ValueError as error:
        raise Invalid.field("rule", f"not JSON: {error}") from error
    if not isinstance(raw, dict):
        raise Invalid.field("rule", "must be an object of field: [low, high]")
    conditions: dict[str, Bounds] = {}
    for name, bounds in raw.items():
        if name not in RULE_FIELDS:
            raise Invalid.field(f"rule.{name}", f"unknown field; one of {sorted(RULE_FIELDS)}")
        if (
            not isinstance(bounds, list)
            or len(bounds) != 2
            or not all(
                b is None or (isinstance(b, int) and not isinstance(b, bool)) for b in bounds
            )
        ):
            raise Invalid.field(f"rule.{name}", "must be [low, high], integers or null")
        low, high = bounds
        if low is not None and high is not None and low > high:
            raise Invalid.field(f"rule.{name}", "low is above high")
        conditions[name] = (low, high)
    return conditions


DEFAULT_SEGMENTS: tuple[SegmentRule, ...] = (
    SegmentRule(
        "new",
        "新客",
        "New",
        10,
        {"tenure_days": (None, 90)},
        "registered in the last 90 days",
    ),
    SegmentRule(
        "lost",
        "已流失",
        "Lost",
        20,
        {"recency_days": (181, None)},
        "no purchase for more than 180 days (or never)",
    ),
    SegmentRule(
        "champions",
        "高价值忠诚",
        "High-value loyal",
        30,
        {"r": (4, 5), "f": (4, 5), "m": (4, 5)},
        "recent, frequent and high-spending: the top fifths of all three",
    ),
    SegmentRule(
        "at_risk",
        "流失风险",
        "At risk",
        40,
        {"r": (1, 3), "f": (3, 5)},
        "used to buy often, not lately",
    ),
    SegmentRule(
        "potential",
        "潜力",
        "Potential",
        50,
        {"r": (4, 5), "f": (1, 3)},
        "bought lately, not yet often",
    ),
    SegmentRule("regular", "一般", "Regular", 90, {}, "everyone else"),
)


def _holds(values: pd.Series, bounds: Bounds, *, missing_is_high: bool) -> pd.Series:
    import numpy as np  # the rules themselves are read without loading numpy and pandas
    import pandas as pd

    low, high = bounds
    filled = values.astype("float64").fillna(np.inf if missing_is_high else -np.inf)
    held = pd.Series(True, index=values.index)
    if low is not None:
        held &= filled >= low
    if high is not None:
        held &= filled <= high
    return held


def assign_segments(frame: pd.DataFrame, rules: Sequence[SegmentRule]) -> pd.Series:
    """The code of the first rule (by priority) each row meets; rows meeting none get
    the last rule's code. `frame` holds every field the rules name."""
    if not rules:
        raise Invalid.field("segments", "no segment rules: run `memberhub init-db`")
    import pandas as pd

    ordered = sorted(rules, key=lambda rule: (rule.priority, rule.code))
    codes = pd.Series(ordered[-1].code, index=frame.index, dtype="object")
    unassigned = pd.Series(True, index=frame.index)
    for rule in ordered:
        held = unassigned.copy()
        for name, bounds in rule.conditions.items():
            held &= _holds(frame[name], bounds, missing_is_high=name == "recency_days")
        codes[held] = rule.code
        unassigned &= ~held
    return codes
