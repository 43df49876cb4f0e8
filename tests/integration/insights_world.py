"""A small warehouse written by hand for the insights tests: members and their purchases
(a buy-till-you-die population with a planted churn signal), plus a row of every other
fact the features read, so that a test can add events after a day and see nothing move."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import insert

from common.clock import SHANGHAI, utcnow
from crm.adapters.orm import Member
from warehouse.schema import DDL

_DEFAULTS = {
    "VARCHAR": "x",
    "BIGINT": 0,
    "INTEGER": 0,
    "SMALLINT": 0,
    "TINYINT": 0,
    "BOOLEAN": False,
    "DATE": "2026-01-01",
    "TIMESTAMP WITH TIME ZONE": "2026-01-01T00:00:00+00:00",
    "BIGINT[]": [],
}


def key(day: date) -> int:
    return day.year * 10_000 + day.month * 100 + day.day


def at(day: date, hour: int = 12, minute: int = 0) -> str:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).isoformat()


class Warehouse:
    """Rows put straight into a DuckDB file with the warehouse's own DDL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.connection = duckdb.connect(str(path))
        self.connection.execute("SET TimeZone = 'UTC'")
        for statement in DDL:
            self.connection.execute(statement)
        self._ids = iter(range(1, 10**9))

    def add(self, table: str, **values: Any) -> None:
        columns = self.connection.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
        row = []
        for name, kind, nullable in columns:
            if name in values:
                row.append(values[name])
            elif name.endswith("_id") and kind == "BIGINT" and nullable == "NO":
                row.append(next(self._ids))
            else:
                row.append(None if nullable == "YES" else _DEFAULTS[kind])
        marks = ", ".join("?" for _ in row)
        self.connection.execute(f"INSERT INTO {table} VALUES ({marks})", row)

    def member(self, member_id: int, registered: date, survivor_id: int | None = None) -> None:
        self.add(
            "dim_member",
            member_id=member_id,
            member_no=f"{member_id:012d}",
            status="active" if survivor_id is None else "merged",
            survivor_id=survivor_id or member_id,
            registered_at=at(registered),
            registered_date_key=key(registered),
        )

    def purchase(self, member_id: int, day: date, fen: int = 10_000, **more: Any) -> None:
        self.add(
            "fact_accrual",
            member_id=member_id,
            occurred_at=at(day, more.pop("hour", 12), more.pop("minute", 0)),
            date_key=key(day),
            total_fen=fen,
            net_fen=fen,
            channel=more.pop("channel", "counter"),
            **more,
        )

    def query(self, sql: str, params: Any) -> Any:
        """The warehouse's Reader protocol, on the writing connection itself."""
        cursor = self.connection.cursor()
        cursor.execute("USE " + self.path.stem)
        return cursor.execute(sql, params).df()

    def close(self) -> None:
        self.connection.execute("CHECKPOINT")
        self.connection.close()


@dataclass
class Population:
    end: date
    member_ids: list[int] = field(default_factory=list)


def add_crm_members(session_factory: Any, count: int, start_id: int = 70_000_000) -> list[int]:
    """Members in the operational database (scores refer to them), ids from start_id: far
    above any sequence, so PostgreSQL never hands one of them out again."""
    now = utcnow()
    rows = [
        {
            "id": start_id + i,
            "member_no": f"{start_id + i:012d}",
            "phone": f"139{start_id + i:08d}",
            "name": "王小明",
            "tier": "standard",
            "status": "active",
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    with session_factory() as session, session.begin():
        session.execute(insert(Member), rows)
    return [row["id"] for row in rows]


def btyd_population(
    warehouse: Warehouse, member_ids: list[int], end: date, days: int = 400, seed: int = 7
) -> None:
    """Each member buys at their own rate (a few weekly, most a few times a year) until
    they stop for good; how long a silence means "gone" depends on the rate."""
    rng = random.Random(seed)
    start = end - timedelta(days=days)
    for member_id in member_ids:
        registered = start + timedelta(days=rng.randrange(0, 120))
        warehouse.member(member_id, registered)
        rate = rng.gammavariate(0.9, 1 / 20)  # purchases per day
        stops = registered + timedelta(days=rng.randrange(30, days + 200))
        day = registered
        while True:
            day += timedelta(days=max(1, round(rng.expovariate(rate)))) if rate > 0 else end
            if day > end or day > stops:
                break
            warehouse.purchase(member_id, day, rng.randrange(1_000, 50_000))
