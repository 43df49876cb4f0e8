"""Daily clearing facade: clear and close a business day, control totals, day reports."""

from common.settlement import LEVELS, Mismatch, Position, Transfer, transfer_instructions
from storefront_api.clearing.domain import (
    DayClosed,
    DayNotBegun,
    DayNotRun,
    PointsFlow,
    UnexplainedMismatches,
    net_positions,
)
from storefront_api.clearing.reports import (
    REPORTS,
    DayReport,
    MonthlyJournal,
    day_report,
    journal_csv,
    monthly_journal,
    report_csv,
    write_reports,
)
from storefront_api.clearing.services import (
    ClearingRun,
    ControlTotalCommand,
    mismatches,
    run_day,
    submit_control_total,
)

__all__ = [
    "LEVELS",
    "REPORTS",
    "ClearingRun",
    "ControlTotalCommand",
    "DayClosed",
    "DayNotBegun",
    "DayNotRun",
    "DayReport",
    "Mismatch",
    "MonthlyJournal",
    "PointsFlow",
    "Position",
    "Transfer",
    "UnexplainedMismatches",
    "day_report",
    "journal_csv",
    "mismatches",
    "monthly_journal",
    "net_positions",
    "report_csv",
    "run_day",
    "submit_control_total",
    "transfer_instructions",
    "write_reports",
]
