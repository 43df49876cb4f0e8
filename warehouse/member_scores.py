"""Queries on member insights in the warehouse: segments over time, members at risk, the
lifetime-value distribution, segments compared, and the paginated member list.

"The latest run" is the run with the highest id, as `crm.insights.queries` has it.
Members are the member stock the page's institution and channel filters choose
(`fact_queries.member_scope`: home institution, registration channel, merged members
left out); scores are as of their run, not of the period. Phone and name come masked
unless `reveal_personal_data`. Churn risk and probability alive are fractions (0..1),
money is BIGINT fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from warehouse.fact_queries import (
    Filters,
    Reader,
    accrual_scope,
    day_of,
    ints,
    member_scope,
    sum_of,
)

__all__ = [
    "CLV_EDGES_FEN",
    "LIST_COLUMNS",
    "Condition",
    "ListRequest",
    "at_risk_members",
    "clv_distribution",
    "latest_run",
    "member_list",
    "segment_comparison",
    "segments_over_time",
]

# Lower edges of the lifetime-value buckets (fen): 0-50 元, 50-100 元, ... 5,000 元 and up.
CLV_EDGES_FEN: tuple[int, ...] = (0, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000)
# The run of the latest as-of day (the last trained of that day), as crm.insights reads it.
LATEST = "(SELECT run_id FROM dim_insight_run ORDER BY as_of DESC, run_id DESC LIMIT 1)"


def _personal(reveal_personal_data: bool) -> str:
    return (
        "m.name AS name, m.phone AS phone"
        if reveal_personal_data
        else "m.name_masked AS name, m.phone_masked AS phone"
    )


def latest_run(reader: Reader) -> pd.DataFrame:
    """The latest run, no row before the first. Columns: run_id, as_of, model_version,
    members."""
    return reader.query(
        "SELECT run_id, as_of, model_version, members FROM dim_insight_run "
        f"WHERE run_id = {LATEST}",
        {},
    )


def segments_over_time(reader: Reader, f: Filters) -> pd.DataFrame:
    """Members per segment at each as-of day that has a run (the latest run of that day
    when several model versions scored it), segments in rule order.

    Columns: as_of (DATE), segment_code, name, name_en, priority, members.
    """
    members = member_scope(f)
    sql = f"""
        WITH runs AS (
            SELECT as_of, max(run_id) AS run_id FROM dim_insight_run GROUP BY as_of
        )
        SELECT r.as_of, s.segment_code, g.name, g.name_en, g.priority, count(*) AS members
        FROM runs r
        JOIN fact_member_score s ON s.run_id = r.run_id
        JOIN dim_member m ON m.member_id = s.member_id
        LEFT JOIN dim_segment g ON g.code = s.segment_code
        WHERE {members.sql}
        GROUP BY ALL
        ORDER BY r.as_of, g.priority NULLS LAST, s.segment_code
    """
    return ints(reader.query(sql, members.params), ("members", "priority"))


def at_risk_members(
    reader: Reader,
    f: Filters,
    *,
    reveal_personal_data: bool,
    min_churn_risk: float = 0.5,
    segment: str | None = None,
    limit: int | None = 500,
) -> pd.DataFrame:
    """Members of the latest run with churn risk at least `min_churn_risk` (and in
    `segment`), the value at stake first: churn risk × expected value, largest first;
    members without an expected value (never bought) after them by churn risk.

    Columns: member_no, name, phone, tier, segment_code, segment_name, segment_name_en,
    churn_risk, alive, expected_value_fen, value_at_risk_fen (rounded to the fen).
    """
    members = member_scope(f)
    where = [members.sql, "s.churn_risk >= $min_risk"]
    params: dict[str, object] = {**members.params, "min_risk": min_churn_risk}
    if segment:
        where.append("s.segment_code = $segment")
        params["segment"] = segment
    limited = ""
    if limit is not None:
        limited = "LIMIT $limit"
        params["limit"] = limit
    sql = f"""
        SELECT m.member_no, {_personal(reveal_personal_data)}, m.tier, s.segment_code,
               g.name AS segment_name, g.name_en AS segment_name_en,
               s.churn_risk, s.alive, s.expected_value_fen,
               CAST(round(s.churn_risk * s.expected_value_fen) AS BIGINT) AS value_at_risk_fen
        FROM fact_member_score s
        JOIN dim_member m ON m.member_id = s.member_id
        LEFT JOIN dim_segment g ON g.code = s.segment_code
        WHERE s.run_id = {LATEST} AND {" AND ".join(where)}
        ORDER BY value_at_risk_fen DESC NULLS LAST, s.churn_risk DESC, m.member_no
        {limited}
    """
    return reader.query(sql, params)


def clv_distribution(
    reader: Reader, f: Filters, edges: Sequence[int] = CLV_EDGES_FEN
) -> pd.DataFrame:
    """How many members of the latest run have an expected value in each bucket
    [low, high) of `edges` (fen, ascending; the last bucket is open). Members without an
    expected value are not counted; a negative value falls in the first bucket.

    Columns: low_fen, high_fen (NULL for the last), members; one row per bucket, empty
    buckets included.
    """
    if not edges or list(edges) != sorted(set(edges)):
        raise ValueError("edges must be ascending and distinct")
    members = member_scope(f)
    sql = f"""
        WITH buckets AS (
            SELECT unnest($edges::BIGINT[]) AS low_fen,
                   unnest(list_concat($edges[2:], [NULL])::BIGINT[]) AS high_fen
        ),
        valued AS (
            SELECT s.expected_value_fen AS value
            FROM fact_member_score s JOIN dim_member m ON m.member_id = s.member_id
            WHERE s.run_id = {LATEST} AND s.expected_value_fen IS NOT NULL AND {members.sql}
        )
        SELECT b.low_fen, b.high_fen,
               count(v.value) AS members
        FROM buckets b
        LEFT JOIN valued v
            ON (v.value >= b.low_fen OR b.low_fen = $first)
           AND (b.high_fen IS NULL OR v.value < b.high_fen)
        GROUP BY b.low_fen, b.high_fen
        ORDER BY b.low_fen
    """
    frame = reader.query(sql, {**members.params, "edges": list(edges), "first": edges[0]})
    return ints(frame, ("low_fen", "members"))


def segment_comparison(reader: Reader, f: Filters) -> pd.DataFrame:
    """Each segment of the latest run side by side, in rule order: members, average R, F
    and M scores, average churn risk, average expected value (of members who have one,
    rounded to the fen) and the segment's total expected value.

    Columns: segment_code, name, name_en, members, avg_r, avg_f, avg_m, avg_churn_risk,
    avg_expected_value_fen, total_expected_value_fen.
    """
    members = member_scope(f)
    sql = f"""
        SELECT s.segment_code, g.name, g.name_en, count(*) AS members,
               avg(s.r) AS avg_r, avg(s.f) AS avg_f, avg(s.m) AS avg_m,
               avg(s.churn_risk) AS avg_churn_risk,
               CAST(round(avg(s.expected_value_fen)) AS BIGINT) AS avg_expected_value_fen,
               {sum_of("s.expected_value_fen")} AS total_expected_value_fen
        FROM fact_member_score s
        JOIN dim_member m ON m.member_id = s.member_id
        LEFT JOIN dim_segment g ON g.code = s.segment_code
        WHERE s.run_id = {LATEST} AND {members.sql}
        GROUP BY s.segment_code, g.name, g.name_en, g.priority
        ORDER BY g.priority NULLS LAST, s.segment_code
    """
    return ints(reader.query(sql, members.params), ("members", "total_expected_value_fen"))


# -- the member list --------------------------------------------------------------------

# The columns the list may be sorted and filtered by, and the SQL of each.
LIST_COLUMNS: dict[str, str] = {
    "member_no": "m.member_no",
    "tier": "m.tier",
    "registered_on": "m.registered_date_key",
    "registered_channel": "m.registered_channel",
    "purchases": "COALESCE(p.purchases, 0)",
    "spend_fen": "COALESCE(p.spend_fen, 0)",
    "segment_code": "s.segment_code",
    "segment_name": "g.name",
    "segment_name_en": "g.name_en",
    "r": "s.r",
    "f": "s.f",
    "m": "s.m",
    "churn_risk": "s.churn_risk",
    "expected_value_fen": "s.expected_value_fen",
}
TEXT_COLUMNS = frozenset(
    {"member_no", "tier", "registered_channel", "segment_code", "segment_name", "segment_name_en"}
)
Op = Literal["contains", "equals", "starts_with", ">=", "<=", ">", "<"]
_NUMBER_OPS = {">=": ">=", "<=": "<=", ">": ">", "<": "<", "equals": "="}


@dataclass(frozen=True)
class Condition:
    """One filter of the list: `column` (a key of LIST_COLUMNS) `op` `value`. Text
    columns take contains, equals and starts_with (case-insensitive); the others
    equals and comparisons. Registration days are yyyymmdd integers."""

    column: str
    op: Op
    value: str | int | float


@dataclass(frozen=True)
class ListRequest:
    """A page of the list: rows [offset, offset + limit) in the order of `sort` (column,
    descending?) pairs, then member number; only rows meeting every condition."""

    offset: int = 0
    limit: int = 100
    sort: tuple[tuple[str, bool], ...] = ()
    conditions: tuple[Condition, ...] = field(default_factory=tuple)


def _condition(index: int, condition: Condition) -> tuple[str, dict[str, object]]:
    if condition.column not in LIST_COLUMNS:
        raise ValueError(f"cannot filter by {condition.column!r}")
    expression, name = LIST_COLUMNS[condition.column], f"c{index}"
    if condition.column in TEXT_COLUMNS:
        text = str(condition.value).lower()
        if condition.op == "contains":
            return f"contains(lower({expression}), ${name})", {name: text}
        if condition.op == "starts_with":
            return f"starts_with(lower({expression}), ${name})", {name: text}
        if condition.op == "equals":
            return f"lower({expression}) = ${name}", {name: text}
        raise ValueError(f"{condition.op!r} does not apply to text column {condition.column!r}")
    if condition.op not in _NUMBER_OPS:
        raise ValueError(f"{condition.op!r} does not apply to number column {condition.column!r}")
    return f"{expression} {_NUMBER_OPS[condition.op]} ${name}", {name: float(condition.value)}


def member_list(
    reader: Reader, f: Filters, request: ListRequest, *, reveal_personal_data: bool
) -> tuple[pd.DataFrame, int]:
    """One page of every member in the filters' member stock with their tier,
    registration, purchases and spend in the period (net GMV, fen) and their scores in
    the latest run (NULL for a member it did not score), and how many rows match in all.

    Columns: member_no, name, phone, tier, registered_on (DATE), registered_channel,
    purchases, spend_fen, segment_code, segment_name, segment_name_en, r, f, m,
    churn_risk, expected_value_fen. Raises ValueError for an unknown column or
    operator: sort and filter columns are chosen from LIST_COLUMNS, never taken as SQL.
    """
    if request.offset < 0 or request.limit < 1:
        raise ValueError("offset must be 0 or more and limit at least 1")
    members = member_scope(f)
    purchases = accrual_scope(f, prefix="p_")
    where = [members.sql]
    params: dict[str, object] = {**members.params, **purchases.params}
    for index, condition in enumerate(request.conditions):
        sql, values = _condition(index, condition)
        where.append(sql)
        params.update(values)
    order = []
    for column, descending in request.sort:
        if column not in LIST_COLUMNS:
            raise ValueError(f"cannot sort by {column!r}")
        order.append(f"{LIST_COLUMNS[column]} {'DESC' if descending else 'ASC'} NULLS LAST")
    order.append("m.member_no")
    body = f"""
        FROM dim_member m
        LEFT JOIN (
            SELECT a.member_id, count(*) AS purchases, {sum_of("a.net_fen")} AS spend_fen
            FROM fact_accrual a WHERE {purchases.sql} GROUP BY a.member_id
        ) p ON p.member_id = m.member_id
        LEFT JOIN fact_member_score s ON s.member_id = m.member_id AND s.run_id = {LATEST}
        LEFT JOIN dim_segment g ON g.code = s.segment_code
        WHERE {" AND ".join(where)}
    """
    sql = f"""
        SELECT m.member_no, {_personal(reveal_personal_data)}, m.tier,
               {day_of("m.registered_date_key")} AS registered_on,
               m.registered_channel,
               COALESCE(p.purchases, 0) AS purchases, COALESCE(p.spend_fen, 0) AS spend_fen,
               s.segment_code, g.name AS segment_name, g.name_en AS segment_name_en,
               s.r, s.f, s.m, s.churn_risk, s.expected_value_fen,
               count(*) OVER () AS total_rows
        {body}
        ORDER BY {", ".join(order)}
        LIMIT $limit OFFSET $offset
    """
    frame = reader.query(sql, {**params, "limit": request.limit, "offset": request.offset})
    if frame.empty:
        total = int(reader.query(f"SELECT count(*) AS n {body}", params)["n"].iloc[0])
    else:
        total = int(frame["total_rows"].iloc[0])
    frame = ints(frame.drop(columns=["total_rows"]), ("purchases", "spend_fen"))
    return frame, total
