"""Daily clearing: what each institution took, what it owes or is owed, and who pays whom.

Pure rules over plain values; the service reads the day's movements and stores the result.

Two things make institutions owe each other:
- money: every institution below the company remits its net takings (sales less refunds)
  to the company, whose treasury holds the platform's funds;
- points: points are a liability of the institution where they were earned; when a member
  spends them at another institution (online rewards are given by the company), the
  earning institution pays the redeeming one `fen_per_point` per point. A cancelled
  redemption undoes that payment in full: no reward was given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from common.errors import Conflict, Invalid, RuleViolation
from common.settlement import Position, Transfer


class DayClosed(Conflict):
    code = "clearing-day-closed"
    title = "The business day is closed"


class DayNotRun(Conflict):
    code = "clearing-day-not-run"
    title = "The business day has not been cleared yet"


class DayNotBegun(Invalid):
    """A business day after today: a rule of the clock, not of the request's shape."""

    code = "date-in-the-future"
    title = "The business day has not begun"


class DayBeforeRecords(Invalid):
    """A business day before the platform kept any record (before 2000): nothing to clear,
    and no instant of it that the clock can name in UTC for the earliest dates."""

    code = "date-before-records"
    title = "The business day is before any record"


EARLIEST_DAY = date(2000, 1, 1)


class UnexplainedMismatches(RuleViolation):
    code = "clearing-unexplained-mismatches"
    title = "Control totals disagree and no reason was recorded"


class LineKey(NamedTuple):
    """One line of a day's clearing: an institution, a channel and a business type; a late
    event for an already closed day gets a line of its own that names that day. (A named
    tuple: a run looks one up for each of tens of thousands of grouped rows.)"""

    institution_code: str
    channel: str
    business_type: str
    original_date: date | None = None


@dataclass
class LineTotals:
    sales: int = 0
    gross_fen: int = 0
    refunds: int = 0
    refunds_fen: int = 0
    points_issued: int = 0
    points_reversed: int = 0
    points_redeemed: int = 0
    points_expired: int = 0
    points_adjusted: int = 0

    @property
    def net_fen(self) -> int:
        return self.gross_fen - self.refunds_fen


@dataclass(frozen=True)
class PointsFlow:
    """Points earned at `earned_at` and spent at `spent_at` (negative when cancelled)."""

    earned_at: str
    spent_at: str
    points: int


def net_positions(
    net_takings: Mapping[str, int],
    flows: Iterable[PointsFlow],
    *,
    company: str,
    fen_per_point: int,
) -> list[Position]:
    """Each institution's position for the day; the positions sum to zero."""
    money: dict[str, int] = defaultdict(int)
    for institution, net in net_takings.items():
        if institution != company and net:
            money[institution] -= net
            money[company] += net
    points: dict[str, int] = defaultdict(int)
    for flow in flows:
        if flow.earned_at != flow.spent_at and flow.points:
            cost = flow.points * fen_per_point
            points[flow.earned_at] -= cost
            points[flow.spent_at] += cost
    return [
        Position(code, money.get(code, 0), points.get(code, 0), money.get(code, 0) + points[code])
        for code in sorted(set(money) | set(points))
        if money.get(code, 0) or points.get(code, 0)
    ]


# -- the monthly accounting journal ------------------------------------------------------

RECEIVABLE = "1122 应收账款-营业款"  # takings an institution holds for the company
BANK = "1002 银行存款"
REVENUE = "6001 主营业务收入"
POINTS_LIABILITY = "2205 合同负债-积分"
LOYALTY_EXPENSE = "6601 销售费用-积分"
REWARD_COST = "6401 主营业务成本-积分兑换"
BREAKAGE = "6051 其他业务收入-积分失效"


@dataclass(frozen=True)
class JournalLine:
    account: str
    sub_account: str  # the institution or business type the amount belongs to
    debit_fen: int
    credit_fen: int


def journal_entries(
    lines: Iterable[tuple[str, str, LineTotals]],
    transfers: Iterable[Transfer],
    fen_per_point: int,
    company: str,
) -> list[JournalLine]:
    """Double-entry lines for cleared lines `(institution, business type, totals)` and the
    day's transfers: every amount is debited once and credited once, so they balance.

    Sales: receivable at the institution / revenue of the business type (refunds the
    other way). Points valued at `fen_per_point`: issued as an expense against the
    liability of the issuing institution; redeemed from the liability to the reward
    cost; expired from the liability to breakage income; adjustments like issuance. The
    liability is the company's (members spend points anywhere); expense, cost and breakage
    are booked to the institution of the line.
    Transfers: bank of the payee / bank of the payer.
    """
    entries: list[JournalLine] = []

    def post(debit: tuple[str, str], credit: tuple[str, str], fen: int) -> None:
        if fen < 0:
            debit, credit, fen = credit, debit, -fen
        if fen:
            entries.append(JournalLine(*debit, fen, 0))
            entries.append(JournalLine(*credit, 0, fen))

    for institution, business_type, t in lines:
        post((RECEIVABLE, institution), (REVENUE, business_type), t.gross_fen)
        post((REVENUE, business_type), (RECEIVABLE, institution), t.refunds_fen)
        issued = (t.points_issued - t.points_reversed + t.points_adjusted) * fen_per_point
        post((LOYALTY_EXPENSE, institution), (POINTS_LIABILITY, company), issued)
        post(
            (POINTS_LIABILITY, company),
            (REWARD_COST, institution),
            t.points_redeemed * fen_per_point,
        )
        post(
            (POINTS_LIABILITY, company),
            (BREAKAGE, institution),
            t.points_expired * fen_per_point,
        )
    for transfer in transfers:
        post((BANK, transfer.payee), (BANK, transfer.payer), transfer.amount_fen)
    return entries


def summarise_journal(entries: Iterable[JournalLine]) -> list[JournalLine]:
    """One line per account and sub-account with its debit and credit totals."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for entry in entries:
        totals[(entry.account, entry.sub_account)][0] += entry.debit_fen
        totals[(entry.account, entry.sub_account)][1] += entry.credit_fen
    return [JournalLine(a, s, d, c) for (a, s), (d, c) in sorted(totals.items())]
