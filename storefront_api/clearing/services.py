"""Clearing use cases: clear a business day, close it, take a channel's control totals.

A run takes every money and points movement of the day that no run has taken yet, plus
those of closed days that arrived after the close: they go on adjustment lines that name
their own day. What each run took is kept as id ranges per kind and day
(`storefront_clearing_take`), disjoint for each day, so a movement is taken once. An open
day may be run again (its lines are rebuilt); a closed day is locked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    Table,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import points_engine
from common.clock import business_date, start_of_day, utcnow
from common.codes import COMPANY_CODE
from common.db import ids_settled_through, insert_rows, is_postgres
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
    ClearingLiability,
    ClearingLine,
    ClearingPosition,
    ClearingTake,
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
    _one_run_at_a_time(session)
    # Before locking the day: a writer in flight may be waiting for that lock.
    ids = points_engine.movements.id_columns()
    through = dict(zip(ids, ids_settled_through(session, list(ids.values())), strict=True))
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
    # An open day is cleared again from its own movements up; the late events of closed
    # days it took stay with it, as those days' marks have passed them.
    session.execute(
        delete(ClearingTake).where(
            ClearingTake.cleared_on == day, ClearingTake.business_date == day
        )
    )
    for table in (ClearingLine, ClearingPosition, ClearingTransfer, ClearingLiability):
        session.execute(delete(table).where(table.cleared_on == day))
    record.runs += 1
    record.run_at, record.run_by, record.fen_per_point = now, actor, fen_per_point
    taken, late, lines = _clear(session, day, fen_per_point, through)
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
        # This run took every movement of the day up to `through`.
        record.sale_id_through = through["sale"]
        record.refund_id_through = through["refund"]
        record.posting_id_through = through["posting"]
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


def _clear(
    session: Session, day: date, fen_per_point: int, through: dict[str, int]
) -> tuple[int, int, int]:
    """Take the day's movements; store lines, positions and transfers. (taken, late, lines)

    Set-based: a run records what it took as a few id ranges (`ClearingTake`), and the
    lines, the points flows and the positions are sums over the movements in those
    ranges, one GROUP BY per kind and range.
    """
    _take_own_movements(session, day, through)
    _take_late_movements(session, day, through)
    totals: dict[LineKey, LineTotals] = defaultdict(LineTotals)
    flows: list[PointsFlow] = []
    taken = late = 0
    takes = session.scalars(
        select(ClearingTake).where(ClearingTake.cleared_on == day).order_by(ClearingTake.id)
    ).all()
    for take in takes:
        original = None if take.business_date == day else take.business_date
        if take.source_kind == "posting":
            count = _add_points(session, take, original, totals)
            flows.extend(_points_flows(session, take))
        else:
            count = _add_money(session, take, original, totals)
        taken += count
        late += count if original is not None else 0
    net_takings: dict[str, int] = defaultdict(int)
    for key, line in totals.items():
        net_takings[key.institution_code] += line.net_fen
    positions = net_positions(net_takings, flows, company=COMPANY_CODE, fen_per_point=fen_per_point)
    transfers = transfer_instructions(positions)
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
    return taken, late, len(totals)


def _within(source: Any, take: ClearingTake) -> tuple[Any, ...]:
    """The conditions that pick the movements of `take` out of `source` (a subquery of
    `points_engine.movements` with `source_id` and `occurred_at`)."""
    happened = (
        source.c.occurred_at >= take.happened_from,
        source.c.occurred_at < take.happened_until,
    )
    if take.id_above == 0:
        # A day's own take: its time is what narrows it down. Ids from the first up look
        # to SQLite like a narrow range of the primary key, so it would read every row
        # ever written; `+ 0` keeps it on the index of the time.
        return (*happened, source.c.source_id + 0 <= take.id_through)
    return (*happened, source.c.source_id > take.id_above, source.c.source_id <= take.id_through)


def _add_money(
    session: Session,
    take: ClearingTake,
    original: date | None,
    totals: dict[LineKey, LineTotals],
) -> int:
    """Add the sales (with the points they issued) or refunds of `take` to their lines;
    how many there were."""
    source = _movements(take.source_kind).subquery()
    line_of = (source.c.institution_code, source.c.channel, source.c.business_type)
    sale = take.source_kind == "sale"
    issued = func.sum(source.c.points) if sale else literal(0)
    counted = 0
    for institution, channel, business_type, count, fen, points in session.connection().execute(
        select(*line_of, func.count(), func.sum(source.c.amount_fen), issued)
        .where(*_within(source, take))
        .group_by(*line_of)
    ):
        line = totals[LineKey(institution, channel, business_type, original)]
        if sale:
            line.sales += int(count)
            line.gross_fen += int(fen)
            line.points_issued += int(points)
        else:
            line.refunds += int(count)
            line.refunds_fen += int(fen)
        counted += int(count)
    return counted


def _add_points(
    session: Session,
    take: ClearingTake,
    original: date | None,
    totals: dict[LineKey, LineTotals],
) -> int:
    """Add the member postings of `take` to their lines; how many there were."""
    postings = points_engine.movements.attributed_postings().subquery()
    unattributed = case((postings.c.business_type.is_(None), postings.c.reference))

    def points_of(*types: str) -> Any:
        return func.sum(case((postings.c.type.in_(types), postings.c.points), else_=0))

    line_of = (
        postings.c.institution_code,
        postings.c.channel,
        postings.c.business_type,
        unattributed,
    )
    counted = 0
    for row in session.connection().execute(
        select(
            *line_of,
            func.count(),
            points_of("partner_in"),
            points_of("reversal"),
            points_of("redemption", "redemption_cancel"),
            points_of("expiry"),
            func.sum(postings.c.points),
        )
        .where(*_within(postings, take))
        .group_by(*line_of)
    ):
        institution, channel, business_type, reference = row[:4]
        if reference is not None:
            institution, channel, business_type = points_engine.movements.unattributed(reference)
        issued, reversed_, redeemed, expired, every = (int(v) for v in row[5:])
        line = totals[LineKey(institution, channel, business_type, original)]
        line.points_issued += issued
        line.points_reversed -= reversed_
        line.points_redeemed -= redeemed
        line.points_expired -= expired
        line.points_adjusted += every - issued - reversed_ - redeemed - expired
        counted += int(row[4])
    return counted


def _points_flows(session: Session, take: ClearingTake) -> list[PointsFlow]:
    """Where the points redeemed by the postings of `take` were earned and spent."""
    source = points_engine.movements.redemption_flows().subquery()
    return [
        PointsFlow(earned_at, spent_at, int(points))
        for earned_at, spent_at, points in session.execute(
            select(source.c.earned_at, source.c.spent_at, func.sum(source.c.points))
            .where(*_within(source, take))
            .group_by(source.c.earned_at, source.c.spent_at)
        )
    ]


MOVEMENT_KINDS = ("sale", "refund", "posting")
CLEARING_LOCK = 0x6D68_636C  # "mhcl": the advisory lock clearing runs take turns on


def _movements(kind: str) -> Any:
    if kind == "sale":
        return points_engine.movements.sales()
    if kind == "refund":
        return points_engine.movements.refunds()
    return points_engine.movements.member_postings()


def _take(kind: str, happened: date, day: date, above: int, through: int) -> dict[str, Any]:
    return {
        "source_kind": kind,
        "business_date": happened,
        "cleared_on": day,
        "id_above": above,
        "id_through": through,
        "happened_from": start_of_day(happened),
        "happened_until": start_of_day(happened + timedelta(days=1)),
    }


def _take_own_movements(session: Session, day: date, through: dict[str, int]) -> None:
    """Take every movement of `day` with an id up to `through`: one range a kind. An open
    day's run took only its own, and those takes were just deleted; later movements of
    the day are taken by the next run of it, or as late events once it is closed."""
    _record_takes(
        session,
        [_take(kind, day, day, 0, through[kind]) for kind in MOVEMENT_KINDS if through[kind]],
    )


def _take_late_movements(session: Session, day: date, through: dict[str, int]) -> None:
    """Take the movements of closed days before `day` that arrived after their close:
    they are cleared on `day`, on lines naming their own day.

    The takes of a closed day cover its movements up to its mark, so only movements above
    the lowest mark are read; each closed day that has some gets a range from its mark up
    to `through`, and every closed day's mark moves up to `through`.
    """
    closed = {
        row.business_date: row
        for row in session.execute(
            select(
                ClearingDay.business_date,
                ClearingDay.sale_id_through,
                ClearingDay.refund_id_through,
                ClearingDay.posting_id_through,
            ).where(ClearingDay.status == CLOSED, ClearingDay.business_date < day)
        )
    }
    if not closed:
        return
    since, until = start_of_day(min(closed)), start_of_day(day)
    unmarked = any(
        getattr(row, f"{kind}_id_through") is None
        for row in closed.values()
        for kind in MOVEMENT_KINDS
    )
    ends = _last_takes(session, day) if unmarked else {}
    rows: list[dict[str, Any]] = []
    for kind in MOVEMENT_KINDS:
        marks = {
            d: int(mark if mark is not None else ends.get((kind, d), 0))
            for d, row in closed.items()
            for mark in [getattr(row, f"{kind}_id_through")]
        }
        source = _movements(kind).subquery()
        found: set[date] = set()
        for source_id, occurred_at in session.execute(
            select(source.c.source_id, source.c.occurred_at).where(
                source.c.source_id > min(marks.values()),
                source.c.source_id <= through[kind],
                source.c.occurred_at >= since,
                source.c.occurred_at < until,
            )
        ):
            happened = business_date(occurred_at)
            if happened in marks and source_id > marks[happened]:
                found.add(happened)
        rows.extend(_take(kind, d, day, marks[d], through[kind]) for d in sorted(found))
    _record_takes(session, rows)
    session.execute(
        update(ClearingDay)
        .where(ClearingDay.status == CLOSED, ClearingDay.business_date < day)
        .values(
            sale_id_through=through["sale"],
            refund_id_through=through["refund"],
            posting_id_through=through["posting"],
        )
        .execution_options(synchronize_session=False)
    )


def _last_takes(session: Session, day: date) -> dict[tuple[str, date], int]:
    """Where the takes of each kind and day before `day` end: a day closed before marks
    were kept has its mark there."""
    return {
        (kind, happened): int(end)
        for kind, happened, end in session.execute(
            select(
                ClearingTake.source_kind,
                ClearingTake.business_date,
                func.max(ClearingTake.id_through),
            )
            .where(ClearingTake.business_date < day)
            .group_by(ClearingTake.source_kind, ClearingTake.business_date)
        )
    }


def _record_takes(session: Session, rows: list[dict[str, Any]]) -> None:
    """Write `rows` of takes, undone as one if another run took the same range: the
    unique start and end of each day's ranges refuse a second taking."""
    if not rows:
        return
    try:
        with session.begin_nested():
            session.execute(insert(ClearingTake), rows)
    except IntegrityError:
        raise Conflict(
            "another clearing run took some of these movements meanwhile; run the day again"
        ) from None


def _one_run_at_a_time(session: Session) -> None:
    """Runs take turns (on PostgreSQL; SQLite has one writer anyway): each waits for the
    writes in flight when it starts, and two runs must not wait for each other."""
    if is_postgres(session):
        session.execute(select(func.pg_advisory_xact_lock(CLEARING_LOCK)))


def _sort_key(key: LineKey) -> tuple[str, str, str, date]:
    return (key.institution_code, key.channel, key.business_type, key.original_date or date.min)


def mismatches(session: Session, day: date) -> list[Mismatch]:
    """Each channel's control totals of `day` against the sales cleared for that day, and
    the (channel, institution) pairs with sales that sent no control total."""
    reported = {
        (c.channel, c.institution_code): ReportedTotal(c.sales, c.amount_fen, c.transaction_ids)
        for c in session.scalars(select(ControlTotal).where(ControlTotal.business_date == day))
    }
    ours: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    own = session.scalars(
        select(ClearingTake).where(
            ClearingTake.source_kind == "sale",
            ClearingTake.business_date == day,
            ClearingTake.cleared_on == day,
        )
    ).one_or_none()
    if own is not None:
        source = points_engine.movements.sales().subquery()
        for row in session.execute(
            select(
                source.c.channel,
                source.c.institution_code,
                source.c.external_id,
                source.c.amount_fen,
            ).where(*_within(source, own))
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
