"""A cleared day's results for the Clearing page, from the warehouse's clearing tables.

Each function answers what `storefront_api.clearing.day_report` answers for the same day
and level: the warehouse cannot import it (`storefront_api` sits above `warehouse`), so
both take the tree roll-up, the transfer instructions and the control-total check from
`common.settlement`; the tests compare the two day by day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

import pandas as pd

from common.settlement import (
    LEVELS,
    LINE_AMOUNTS,
    LINE_KEYS,
    Position,
    ReportedTotal,
    check_control_totals,
    roll_up,
    transfer_instructions,
    tree_level,
)
from warehouse.fact_queries import Reader


@dataclass(frozen=True)
class ClearingDay:
    business_date: date
    status: str  # open or closed
    runs: int
    run_at: datetime
    run_by: str
    fen_per_point: int
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None


def cleared_days(reader: Reader) -> pd.DataFrame:
    """Every cleared day, newest first: business_date, status, runs, run_at, closed_by."""
    return reader.query(
        "SELECT business_date, status, runs, run_at, run_by, closed_at, closed_by "
        "FROM fact_clearing_day ORDER BY business_date DESC",
        {},
    )


def latest_day(reader: Reader) -> date | None:
    frame = reader.query("SELECT max(business_date) AS day FROM fact_clearing_day", {})
    value = frame["day"].iloc[0] if len(frame) else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def clearing_day(reader: Reader, day: date) -> ClearingDay | None:
    """The day's run and close, or None when it was never cleared."""
    frame = reader.query(
        "SELECT business_date, status, runs, run_at, run_by, fen_per_point, closed_at, "
        "closed_by, close_reason FROM fact_clearing_day WHERE business_date = $day",
        {"day": day},
    )
    if frame.empty:
        return None
    row = frame.iloc[0]
    return ClearingDay(
        business_date=pd.Timestamp(row["business_date"]).date(),
        status=str(row["status"]),
        runs=int(row["runs"]),
        run_at=pd.Timestamp(row["run_at"]).to_pydatetime(),
        run_by=str(row["run_by"]),
        fen_per_point=int(row["fen_per_point"]),
        closed_at=_moment(row["closed_at"]),
        closed_by=_text(row["closed_by"]),
        close_reason=_text(row["close_reason"]),
    )


def synced_at(reader: Reader) -> datetime | None:
    """When the warehouse was last synced: what the page's figures are as of."""
    frame = reader.query("SELECT value FROM meta WHERE key = 'synced_at'", {})
    return None if frame.empty else datetime.fromisoformat(str(frame["value"].iloc[0]))


# -- the institution tree -------------------------------------------------------------


def _tree(reader: Reader) -> tuple[dict[str, str | None], dict[str, str]]:
    frame = reader.query("SELECT code, kind, parent_code FROM dim_institution", {})
    parent_of = {str(r.code): _text(r.parent_code) for r in frame.itertuples()}
    kind_of = {str(r.code): tree_level(str(r.kind)) for r in frame.itertuples()}
    return parent_of, kind_of


def _check(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")


def _rolled(reader: Reader, frame: pd.DataFrame, column: str, level: str) -> pd.DataFrame:
    parent_of, kind_of = _tree(reader)
    codes = [roll_up(str(code), parent_of, kind_of, level) for code in frame[column]]
    return frame.assign(**{column: codes})


# -- the day's tables -------------------------------------------------------------------


def lines(reader: Reader, day: date, level: str = "outlet") -> pd.DataFrame:
    """Lines summed per institution (at `level`), channel, business type and original
    day (set on adjustment lines of closed days' late events), in day_report's order."""
    _check(level)
    frame = reader.query(
        f"SELECT {', '.join(LINE_KEYS)}, {', '.join(LINE_AMOUNTS)} FROM fact_clearing_line "
        "WHERE cleared_on = $day ORDER BY line_id",
        {"day": day},
    )
    columns = [*LINE_KEYS, *LINE_AMOUNTS]
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    frame = _rolled(reader, frame, "institution_code", level)
    frame["original_date"] = [
        None if pd.isna(v) else pd.Timestamp(v).date() for v in frame["original_date"]
    ]
    sums: dict[tuple[Any, ...], list[int]] = {}
    for row in frame.itertuples(index=False):
        key = tuple(getattr(row, k) for k in LINE_KEYS)
        totals = sums.setdefault(key, [0] * len(LINE_AMOUNTS))
        for i, column in enumerate(LINE_AMOUNTS):
            totals[i] += int(getattr(row, column))
    ordered = sorted(sums.items(), key=lambda item: (*item[0][:3], item[0][3] or date.min))
    return pd.DataFrame([[*key, *totals] for key, totals in ordered], columns=columns)


def totals(frame: pd.DataFrame) -> dict[str, int]:
    """The day's totals over its lines (the same at every level)."""
    return {column: int(frame[column].sum()) if len(frame) else 0 for column in LINE_AMOUNTS}


def positions(reader: Reader, day: date, level: str = "outlet") -> pd.DataFrame:
    """Net positions per institution at `level` (> 0 owed, < 0 pays); all-zero left out."""
    _check(level)
    frame = reader.query(
        "SELECT institution_code, money_fen, points_cost_fen FROM fact_clearing_position "
        "WHERE cleared_on = $day",
        {"day": day},
    )
    summed: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    if not frame.empty:
        for row in _rolled(reader, frame, "institution_code", level).itertuples(index=False):
            summed[str(row.institution_code)][0] += int(row.money_fen)
            summed[str(row.institution_code)][1] += int(row.points_cost_fen)
    rows = [
        (code, money, points, money + points)
        for code, (money, points) in sorted(summed.items())
        if money + points or money or points
    ]
    return pd.DataFrame(
        rows, columns=["institution_code", "money_fen", "points_cost_fen", "net_fen"]
    ).astype({"money_fen": "int64", "points_cost_fen": "int64", "net_fen": "int64"})


def settle(net: Iterable[tuple[str, int]]) -> list[tuple[str, str, int]]:
    """Who pays whom so that every position is settled (the clearing's own rule); nothing
    for an unbalanced day (the page says the day is not balanced)."""
    try:
        transfers = transfer_instructions(Position(code, 0, 0, amount) for code, amount in net)
    except ValueError:
        return []
    return [(t.payer, t.payee, t.amount_fen) for t in transfers]


def transfers(reader: Reader, day: date, level: str = "outlet") -> pd.DataFrame:
    """Fund-transfer instructions: at the outlets' level those the run stored; above it,
    worked out from the rolled-up positions (a district nets its own outlets first)."""
    _check(level)
    columns = ["payer", "payee", "amount_fen"]
    if level == "outlet":
        frame = reader.query(
            "SELECT payer, payee, amount_fen FROM fact_clearing_transfer "
            "WHERE cleared_on = $day ORDER BY transfer_id",
            {"day": day},
        )
        return frame[columns].astype({"amount_fen": "int64"})
    at_level = positions(reader, day, level)
    rows = settle(zip(at_level["institution_code"], at_level["net_fen"].astype(int), strict=True))
    return pd.DataFrame(rows, columns=columns).astype({"amount_fen": "int64"})


def liability(reader: Reader, day: date, level: str = "outlet") -> pd.DataFrame:
    """Points members held when the day was (last) run, by issuing institution at
    `level`, and in fen at the day's price of a point."""
    _check(level)
    record = clearing_day(reader, day)
    frame = reader.query(
        "SELECT institution_code, points FROM fact_clearing_liability WHERE cleared_on = $day",
        {"day": day},
    )
    summed: dict[str, int] = defaultdict(int)
    if not frame.empty:
        for row in _rolled(reader, frame, "institution_code", level).itertuples(index=False):
            summed[str(row.institution_code)] += int(row.points)
    fen_per_point = record.fen_per_point if record else 0
    rows = [(code, points, points * fen_per_point) for code, points in sorted(summed.items())]
    return pd.DataFrame(rows, columns=["institution_code", "points", "fen"]).astype(
        {"points": "int64", "fen": "int64"}
    )


MISMATCH_COLUMNS = [
    "status",
    "channel",
    "institution_code",
    "reported_sales",
    "reported_fen",
    "cleared_sales",
    "cleared_fen",
    "missing",
    "extra",
]


def mismatches(reader: Reader, day: date) -> pd.DataFrame:
    """Each channel's control totals of `day` that disagree with the sales the day
    cleared as its own (status `mismatch`, with the ids missing here or extra here when
    the channel sent its ids), and the (channel, institution) pairs with sales but no
    control total (status `not reported`), as storefront_api.clearing.mismatches."""
    reported = {
        (str(r.channel), str(r.institution_code)): ReportedTotal(
            int(r.sales), int(r.amount_fen), _ids(r.transaction_ids)
        )
        for r in reader.query(
            "SELECT channel, institution_code, sales, amount_fen, transaction_ids "
            "FROM fact_clearing_control_total WHERE business_date = $day",
            {"day": day},
        ).itertuples(index=False)
    }
    ours: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for r in reader.query(
        "SELECT channel, institution_code, external_id, amount_fen FROM fact_clearing_sale "
        "WHERE cleared_on = $day ORDER BY sale_id",
        {"day": day},
    ).itertuples(index=False):
        ours[(str(r.channel), str(r.institution_code))].append(
            (str(r.external_id), int(r.amount_fen))
        )
    found = [
        [
            "not reported" if m.reported_sales is None else "mismatch",
            m.channel,
            m.institution_code,
            m.reported_sales,
            m.reported_fen,
            m.cleared_sales,
            m.cleared_fen,
            list(m.missing),
            list(m.extra),
        ]
        for m in check_control_totals(reported, ours)
    ]
    frame = pd.DataFrame(found, columns=MISMATCH_COLUMNS)
    return frame.astype({"reported_sales": "Int64", "reported_fen": "Int64"})


def _ids(value: object) -> list[str] | None:
    """The channel's transaction ids as sent, None when it sent none."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return [str(i) for i in cast(Iterable[object], value)]


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _moment(value: object) -> datetime | None:
    if value is None or pd.isna(value):
        return None
    stamp: datetime = pd.Timestamp(value).to_pydatetime()
    return stamp
