"""Clearing use cases: clear a business day, close it, take a channel's control totals.

A run takes every money and points movement of the day that no run has taken yet
(`storefront_clearing_entry` holds each movement's day, unique per movement), plus those
of closed days that arrived after the close: they go on adjustment lines that name their
own day. An open day may be run again (its lines are rebuilt); a closed day is locked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import points_engine
from common.clock import as_utc, business_date, start_of_day, utcnow
from common.codes import COMPANY_CODE
from common.db import insert_rows
from common.errors import Conflict, Invalid, UnknownReference
from common.organisation import institution_codes
from common.settlement import (
    Mismatch,
    ReportedTotal,
    check_control_totals,
    transfer_instructions,
)
from common.unit_of_work import UnitOfWork
from storefront_api.clearing.domain import (
    EARLIEST_DAY,
    DayBeforeRecords,
    DayClosed,
    DayNotBegun,
    LineKey,
    LineTotals,
    PointsFlow,
    UnexplainedMismatches,
    net_positions,
)
from storefront_api.clearing.orm import (
    ClearingDay,
    ClearingEntry,
    ClearingLiability,
    ClearingLine,
    ClearingPosition,
    ClearingTransfer,
    ControlTotal,
)

OPEN, CLOSED = "open", "closed"
MAX_TRANSACTION_IDS = 100_000


@dataclass(frozen=True)
class ClearingRun:
    business_date: date
    status: str
    changed: bool  # False: the day was closed already and nothing was touched
    movements: int  # movements this run took (0 when nothing changed)
    late: int  # of which events of earlier, closed days
    lines: int
    message: str


@dataclass(frozen=True)
class ControlTotalCommand:
    business_date: date
    institution_code: str
    sales: int
    amount_fen: int
    transaction_ids: tuple[str, ...] | None = None


def run_day(
    uow: UnitOfWork,
    day: date,
    *,
    actor: str,
    fen_per_point: int,
    close: bool = False,
    reason: str | None = None,
) -> ClearingRun:
    """Clear `day` (and with `close`, lock it). A closed day changes nothing and says so.

    Raises UnexplainedMismatches when closing a day whose control totals disagree, unless
    `reason` records why finance accepts them.
    """
    _check_date(day)
    session = uow.session
    now = utcnow()
    record = _locked_day(session, day, actor, now)
    if record.status == CLOSED:
        assert record.closed_at is not None
        return ClearingRun(
            day,
            CLOSED,
            False,
            0,
            0,
            _count_lines(session, day),
            f"{day} was closed at {record.closed_at:%Y-%m-%d %H:%M} UTC by {record.closed_by}; "
            "nothing changed (late events go to the next open day)",
        )
    for table in (
        ClearingEntry,
        ClearingLine,
        ClearingPosition,
        ClearingTransfer,
        ClearingLiability,
    ):
        session.execute(delete(table).where(table.cleared_on == day))
    record.runs += 1
    record.run_at, record.run_by, record.fen_per_point = now, actor, fen_per_point
    taken, late, lines = _clear(session, day, fen_per_point)
    message = f"{day} cleared: {taken:,} movements on {lines:,} lines"
    if late:
        message += f", {late:,} of them late events of closed days"
    if close:
        problems = [m for m in mismatches(session, day) if m.reported_sales is not None]
        if problems and not (reason and reason.strip()):
            raise UnexplainedMismatches(
                f"{len(problems)} control total(s) of {day} disagree with the cleared sales "
                "(first: "
                f"{problems[0].channel} at {problems[0].institution_code}); record a reason "
                "to close anyway",
                Invalid.field("reason", "required while control totals disagree").errors,
            )
        record.status = CLOSED
        record.closed_at, record.closed_by = now, actor
        record.close_reason = reason.strip() if reason else None
        message += "; closed"
    session.flush()
    return ClearingRun(day, record.status, True, taken, late, lines, message)


def _locked_day(session: Session, day: date, actor: str, now: datetime) -> ClearingDay:
    """The day's row, locked for this transaction (created open when it is new): two runs
    of the same day take turns."""
    query = select(ClearingDay).where(ClearingDay.business_date == day).with_for_update()
    record = session.scalars(query).one_or_none()
    if record is None:
        try:
            with session.begin_nested():
                session.add(
                    ClearingDay(
                        business_date=day,
                        status=OPEN,
                        runs=0,
                        run_at=now,
                        run_by=actor,
                        fen_per_point=0,
                    )
                )
        except IntegrityError:
            pass  # created meanwhile by a concurrent run: wait for its lock below
        record = session.scalars(query.execution_options(populate_existing=True)).one()
    return record


def _check_date(day: date) -> None:
    if day < EARLIEST_DAY:
        raise DayBeforeRecords(
            f"business_date: {day} is before any record",
            Invalid.field("business_date", f"cannot be before {EARLIEST_DAY}").errors,
        )
    if day > business_date(utcnow()):
        raise DayNotBegun(
            f"business_date: {day} has not begun",
            Invalid.field("business_date", "cannot be after today").errors,
        )


def _count_lines(session: Session, day: date) -> int:
    count = session.scalar(
        select(func.count()).select_from(ClearingLine).where(ClearingLine.cleared_on == day)
    )
    return int(count or 0)


def _clear(session: Session, day: date, fen_per_point: int) -> tuple[int, int, int]:
    """Take the day's movements; store lines, positions and transfers. (taken, late, lines)"""
    until = start_of_day(day + timedelta(days=1))
    closed = set(
        session.scalars(select(ClearingDay.business_date).where(ClearingDay.status == CLOSED))
    )
    since = start_of_day(min([*closed, day]))
    entries: list[dict[str, Any]] = []
    totals: dict[LineKey, LineTotals] = defaultdict(LineTotals)
    late = 0

    opens = start_of_day(day)

    def belongs(moment: Any) -> tuple[bool, date | None]:
        """(taken by this run, the closed day a late event belongs to)."""
        if opens <= as_utc(moment) < until:
            return True, None  # the day's own movements: nearly all of them
        happened = business_date(moment)
        if happened == day:
            return True, None
        return (True, happened) if happened in closed else (False, None)

    def take(kind: str, source_id: int, original_date: date | None) -> None:
        nonlocal late
        entries.append(
            {
                "source_kind": kind,
                "source_id": source_id,
                "business_date": original_date or day,
                "cleared_on": day,
            }
        )
        late += original_date is not None

    for kind, query in (
        ("sale", points_engine.movements.sales()),
        ("refund", points_engine.movements.refunds()),
    ):
        for row in _untaken(session, kind, query, since, until):
            taken, original_date = belongs(row.occurred_at)
            if not taken:
                continue
            take(kind, row.source_id, original_date)
            line = totals[
                LineKey(row.institution_code, row.channel, row.business_type, original_date)
            ]
            if kind == "sale":
                line.sales += 1
                line.gross_fen += row.amount_fen
            else:
                line.refunds += 1
                line.refunds_fen += row.amount_fen
    postings = [
        (row, original_date)
        for row in _untaken(
            session, "posting", points_engine.movements.member_postings(), since, until
        )
        for taken, original_date in [belongs(row.occurred_at)]
        if taken
    ]
    attributed = points_engine.movements.attribute(
        session, [(row.source_id, row.type, row.reference) for row, _ in postings]
    )
    flows: list[PointsFlow] = []
    for row, original_date in postings:
        take("posting", row.source_id, original_date)
        where = attributed[row.source_id]
        line = totals[
            LineKey(where.institution_code, where.channel, where.business_type, original_date)
        ]
        points = int(row.points)
        if row.type in ("accrual", "partner_in"):
            line.points_issued += points
        elif row.type == "reversal":
            line.points_reversed -= points
        elif row.type in ("redemption", "redemption_cancel"):
            line.points_redeemed -= points
            sign = 1 if row.type == "redemption" else -1
            flows.extend(
                PointsFlow(earned_at, where.institution_code, sign * spent)
                for earned_at, spent in where.earned_at
            )
        elif row.type == "expiry":
            line.points_expired -= points
        else:
            line.points_adjusted += points
    net_takings: dict[str, int] = defaultdict(int)
    for key, line in totals.items():
        net_takings[key.institution_code] += line.net_fen
    positions = net_positions(net_takings, flows, company=COMPANY_CODE, fen_per_point=fen_per_point)
    transfers = transfer_instructions(positions)
    try:
        with session.begin_nested():
            insert_rows(session, cast(Table, ClearingEntry.__table__), entries)
    except IntegrityError:
        raise Conflict(
            "another clearing run took some of these movements meanwhile; run the day again"
        ) from None
    if totals:
        insert_rows(
            session,
            cast(Table, ClearingLine.__table__),
            [
                {
                    "cleared_on": day,
                    "institution_code": key.institution_code,
                    "channel": key.channel,
                    "business_type": key.business_type,
                    "original_date": key.original_date,
                    "sales": line.sales,
                    "gross_fen": line.gross_fen,
                    "refunds": line.refunds,
                    "refunds_fen": line.refunds_fen,
                    "net_fen": line.net_fen,
                    "points_issued": line.points_issued,
                    "points_reversed": line.points_reversed,
                    "points_redeemed": line.points_redeemed,
                    "points_expired": line.points_expired,
                    "points_adjusted": line.points_adjusted,
                }
                for key, line in sorted(totals.items(), key=lambda item: _sort_key(item[0]))
            ],
        )
    if positions:
        session.execute(
            insert(ClearingPosition),
            [
                {
                    "cleared_on": day,
                    "institution_code": p.institution_code,
                    "money_fen": p.money_fen,
                    "points_cost_fen": p.points_cost_fen,
                    "net_fen": p.net_fen,
                }
                for p in positions
            ],
        )
    if transfers:
        session.execute(
            insert(ClearingTransfer),
            [
                {"cleared_on": day, "payer": t.payer, "payee": t.payee, "amount_fen": t.amount_fen}
                for t in transfers
            ],
        )
    liability = points_engine.queries.liability_by_institution(session)
    if liability:
        session.execute(
            insert(ClearingLiability),
            [{"cleared_on": day, "institution_code": c, "points": p} for c, p in liability],
        )
    return len(entries), late, len(totals)


def _sort_key(key: LineKey) -> tuple[str, str, str, date]:
    return (key.institution_code, key.channel, key.business_type, key.original_date or date.min)


def _untaken(session: Session, kind: str, query: Any, since: Any, until: Any) -> Sequence[Any]:
    source = query.subquery()
    taken = exists().where(
        ClearingEntry.source_kind == kind, ClearingEntry.source_id == source.c.source_id
    )
    return session.execute(
        select(source)
        .where(source.c.occurred_at >= since, source.c.occurred_at < until, ~taken)
        .order_by(source.c.source_id)
    ).all()


def mismatches(session: Session, day: date) -> list[Mismatch]:
    """Each channel's control totals of `day` against the sales cleared for that day, and
    the (channel, institution) pairs with sales that sent no control total."""
    reported = {
        (c.channel, c.institution_code): ReportedTotal(c.sales, c.amount_fen, c.transaction_ids)
        for c in session.scalars(select(ControlTotal).where(ControlTotal.business_date == day))
    }
    source = points_engine.movements.sales().subquery()
    ours: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    for row in session.execute(
        select(
            source.c.channel, source.c.institution_code, source.c.external_id, source.c.amount_fen
        )
        .join(
            ClearingEntry,
            (ClearingEntry.source_kind == "sale") & (ClearingEntry.source_id == source.c.source_id),
        )
        .where(ClearingEntry.cleared_on == day, ClearingEntry.business_date == day)
    ):
        ours[(row.channel, row.institution_code)].append((row.external_id, int(row.amount_fen)))
    return check_control_totals(reported, ours)


def submit_control_total(
    uow: UnitOfWork, command: ControlTotalCommand, *, channel: str, actor: str
) -> None:
    """Record (or correct) a channel's count and amount for an institution and day.

    Raises DayClosed once the day is closed, UnknownReference for an unknown institution.
    """
    _check_date(command.business_date)
    session = uow.session
    if command.institution_code not in institution_codes(session):
        raise UnknownReference.field("institution_code", "unknown institution")
    if command.transaction_ids is not None:
        if len(set(command.transaction_ids)) != len(command.transaction_ids):
            raise Invalid.field("transaction_ids", "lists a transaction id twice")
        if len(command.transaction_ids) != command.sales:
            raise Invalid.field("transaction_ids", "must hold exactly `sales` ids")
    day = session.scalars(
        select(ClearingDay)
        .where(ClearingDay.business_date == command.business_date)
        .with_for_update()
    ).one_or_none()
    if day is not None and day.status == CLOSED:
        raise DayClosed(f"{command.business_date} is closed; control totals can no longer change")
    existing = session.scalars(
        select(ControlTotal).where(
            ControlTotal.business_date == command.business_date,
            ControlTotal.channel == channel,
            ControlTotal.institution_code == command.institution_code,
        )
    ).one_or_none()
    if existing is None:
        existing = ControlTotal(
            business_date=command.business_date,
            channel=channel,
            institution_code=command.institution_code,
        )
        session.add(existing)
    existing.sales, existing.amount_fen = command.sales, command.amount_fen
    existing.transaction_ids = (
        list(command.transaction_ids) if command.transaction_ids is not None else None
    )
    existing.submitted_at, existing.submitted_by = utcnow(), actor
    session.flush()
