"""A cleared day's reports: lines (at any level of the institution tree), net positions,
fund-transfer instructions, points liability by institution and the control-total check.

Each report is a table of plain values (integers for fen and points, 元 as a decimal with
two places), served as JSON by the API and written as CSV files by the command line.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common.codes import COMPANY_CODE
from common.errors import Invalid, NotFound
from common.organisation import Institution
from common.settlement import (
    LEVELS,
    LINE_AMOUNTS,
    LINE_KEYS,
    Position,
    Transfer,
    roll_up,
    transfer_instructions,
    tree_level,
)
from storefront_api.clearing.domain import (
    DayNotRun,
    JournalLine,
    LineTotals,
    journal_entries,
    summarise_journal,
)
from storefront_api.clearing.orm import (
    ClearingDay,
    ClearingLiability,
    ClearingLine,
    ClearingPosition,
    ClearingTransfer,
)
from storefront_api.clearing.services import mismatches

LINE_COLUMNS = (*LINE_KEYS, *LINE_AMOUNTS)
REPORTS = ("lines", "positions", "transfers", "liability", "mismatches")


@dataclass(frozen=True)
class DayReport:
    business_date: date
    status: str
    runs: int
    run_at: datetime
    run_by: str
    closed_at: datetime | None
    closed_by: str | None
    close_reason: str | None
    fen_per_point: int
    level: str
    tables: dict[str, list[dict[str, Any]]]
    totals: dict[str, int]
    balanced: bool


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def day_report(session: Session, day: date, level: str = "outlet") -> DayReport:
    """Raises DayNotRun when `day` has never been cleared; Invalid for an unknown level."""
    if level not in LEVELS:
        raise Invalid.field("level", f"one of {', '.join(LEVELS)}")
    record = session.get(ClearingDay, day)
    if record is None:
        raise DayNotRun(f"{day} has not been cleared; run it first")
    tree = {
        code: (kind, parent)
        for code, kind, parent in session.execute(
            select(Institution.code, Institution.kind, Institution.parent_code)
        )
    }
    parent_of = {code: parent for code, (_, parent) in tree.items()}
    kind_of = {code: tree_level(kind) for code, (kind, _) in tree.items()}
    rows = session.scalars(
        select(ClearingLine).where(ClearingLine.cleared_on == day).order_by(ClearingLine.id)
    ).all()
    rolled: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        code = roll_up(row.institution_code, parent_of, kind_of, level)
        key = (code, row.channel, row.business_type, row.original_date)
        line = rolled.setdefault(
            key,
            dict(
                zip(
                    LINE_KEYS,
                    (code, row.channel, row.business_type, row.original_date),
                    strict=True,
                )
            )
            | dict.fromkeys(LINE_AMOUNTS, 0),
        )
        for column in LINE_AMOUNTS:
            line[column] += getattr(row, column)
    lines = sorted(
        rolled.values(),
        key=lambda r: (
            r["institution_code"],
            r["channel"],
            r["business_type"],
            r["original_date"] or date.min,
        ),
    )
    stored = session.scalars(
        select(ClearingPosition).where(ClearingPosition.cleared_on == day)
    ).all()
    rolled_positions: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for p in stored:
        totals_of = rolled_positions[roll_up(p.institution_code, parent_of, kind_of, level)]
        totals_of[0] += p.money_fen
        totals_of[1] += p.points_cost_fen
    at_level = [
        Position(code, money, points, money + points)
        for code, (money, points) in sorted(rolled_positions.items())
        if money + points or money or points
    ]
    positions = [
        {
            "institution_code": p.institution_code,
            "money_fen": p.money_fen,
            "points_cost_fen": p.points_cost_fen,
            "net_fen": p.net_fen,
            "net_yuan": yuan(p.net_fen),
        }
        for p in at_level
    ]
    # Stored instructions settle the outlets' positions; a higher level nets its own
    # members' positions first, so its instructions are worked out from the rolled ones.
    settle = (
        [
            (t.payer, t.payee, t.amount_fen)
            for t in session.scalars(
                select(ClearingTransfer)
                .where(ClearingTransfer.cleared_on == day)
                .order_by(ClearingTransfer.id)
            )
        ]
        if level == "outlet"
        else [(t.payer, t.payee, t.amount_fen) for t in transfer_instructions(at_level)]
    )
    transfers = [
        {"payer": payer, "payee": payee, "amount_fen": amount, "amount_yuan": yuan(amount)}
        for payer, payee, amount in settle
    ]
    liability_points: dict[str, int] = defaultdict(int)
    for code, points in session.execute(
        select(ClearingLiability.institution_code, ClearingLiability.points).where(
            ClearingLiability.cleared_on == day
        )
    ):
        liability_points[roll_up(code, parent_of, kind_of, level)] += points
    liability = [
        {
            "institution_code": code,
            "points": points,
            "fen": points * record.fen_per_point,
            "yuan": yuan(points * record.fen_per_point),
        }
        for code, points in sorted(liability_points.items())
    ]
    checks = [
        {
            "status": "not reported" if m.reported_sales is None else "mismatch",
            "channel": m.channel,
            "institution_code": m.institution_code,
            "reported_sales": m.reported_sales,
            "reported_fen": m.reported_fen,
            "cleared_sales": m.cleared_sales,
            "cleared_fen": m.cleared_fen,
            "missing": list(m.missing),
            "extra": list(m.extra),
        }
        for m in mismatches(session, day)
    ]
    totals = {column: sum(line[column] for line in lines) for column in LINE_AMOUNTS}
    balanced = sum(p.net_fen for p in at_level) == 0
    return DayReport(
        business_date=day,
        status=record.status,
        runs=record.runs,
        run_at=record.run_at,
        run_by=record.run_by,
        closed_at=record.closed_at,
        closed_by=record.closed_by,
        close_reason=record.close_reason,
        fen_per_point=record.fen_per_point,
        level=level,
        tables={
            "lines": lines,
            "positions": positions,
            "transfers": transfers,
            "liability": liability,
            "mismatches": checks,
        },
        totals=totals,
        balanced=balanced,
    )


def report_csv(report: DayReport, name: str) -> str:
    """One report as CSV: a header row, then plain numbers (fen and points as integers)."""
    if name not in REPORTS:
        raise NotFound(f"no report {name!r}; reports: {', '.join(REPORTS)}")
    rows = report.tables[name]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = list(rows[0]) if rows else _EMPTY_HEADERS[name]
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            ["|".join(v) if isinstance(v, list) else ("" if v is None else v) for v in row.values()]
        )
    return out.getvalue()


_EMPTY_HEADERS = {
    "lines": list(LINE_COLUMNS),
    "positions": ["institution_code", "money_fen", "points_cost_fen", "net_fen", "net_yuan"],
    "transfers": ["payer", "payee", "amount_fen", "amount_yuan"],
    "liability": ["institution_code", "points", "fen", "yuan"],
    "mismatches": [
        "status",
        "channel",
        "institution_code",
        "reported_sales",
        "reported_fen",
        "cleared_sales",
        "cleared_fen",
        "missing",
        "extra",
    ],
}


def write_reports(report: DayReport, directory: Path) -> list[Path]:
    """Write every report of the day as `<directory>/<date>/<name>.csv`."""
    folder = directory / report.business_date.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in REPORTS:
        path = folder / f"{name}.csv"
        path.write_text(report_csv(report, name), encoding="utf-8")
        written.append(path)
    return written


@dataclass(frozen=True)
class MonthlyJournal:
    month: str  # YYYY-MM
    closed_days: list[date]  # the days whose lines it books
    not_closed: list[date]  # days of the month (up to today) that are open or never run
    lines: list[JournalLine]  # per account and sub-account
    debit_fen: int
    credit_fen: int


def monthly_journal(session: Session, month: date, until: date) -> MonthlyJournal:
    """The accounting journal of the closed days in `month` (its first day), debit and
    credit totals per account; days up to `until` that are not closed are named.
    Raises DayNotRun when no day of the month is closed."""
    first = month.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    days = {
        record.business_date: record
        for record in session.scalars(
            select(ClearingDay).where(
                ClearingDay.business_date >= first, ClearingDay.business_date < after
            )
        )
    }
    closed = sorted(day for day, record in days.items() if record.status == "closed")
    if not closed:
        raise DayNotRun(f"no day of {first:%Y-%m} is closed yet")
    last = min(after - timedelta(days=1), until)
    not_closed = [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if first + timedelta(days=n) not in closed
    ]
    entries = []
    for day in closed:
        rows = session.scalars(select(ClearingLine).where(ClearingLine.cleared_on == day))
        lines = [
            (
                row.institution_code,
                row.business_type,
                LineTotals(
                    sales=row.sales,
                    gross_fen=row.gross_fen,
                    refunds=row.refunds,
                    refunds_fen=row.refunds_fen,
                    points_issued=row.points_issued,
                    points_reversed=row.points_reversed,
                    points_redeemed=row.points_redeemed,
                    points_expired=row.points_expired,
                    points_adjusted=row.points_adjusted,
                ),
            )
            for row in rows
        ]
        transfers = [
            Transfer(t.payer, t.payee, t.amount_fen)
            for t in session.scalars(
                select(ClearingTransfer).where(ClearingTransfer.cleared_on == day)
            )
        ]
        entries.extend(
            journal_entries(lines, transfers, days[day].fen_per_point, company=COMPANY_CODE)
        )
    summary = summarise_journal(entries)
    return MonthlyJournal(
        month=f"{first:%Y-%m}",
        closed_days=closed,
        not_closed=not_closed,
        lines=summary,
        debit_fen=sum(line.debit_fen for line in summary),
        credit_fen=sum(line.credit_fen for line in summary),
    )


def journal_csv(journal: MonthlyJournal) -> str:
    """The journal as CSV: account, sub-account, debit and credit in fen and in 元."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["month", "account", "sub_account", "debit_fen", "credit_fen", "debit_yuan", "credit_yuan"]
    )
    for line in journal.lines:
        writer.writerow(
            [
                journal.month,
                line.account,
                line.sub_account,
                line.debit_fen,
                line.credit_fen,
                yuan(line.debit_fen),
                yuan(line.credit_fen),
            ]
        )
    return out.getvalue()
