"""The demo's finance office: every day of the year cleared, the tills' control totals,
days closed.

The till channels (counter, retail) send their own totals for the last week, one per
institution and day, with their transaction ids; on one day a counter's till lost a
sale from its own records, so that day's check names it and finance closes the day with
a reason. Every day from the first of the history to the day before yesterday is
cleared and closed; yesterday is cleared and left open (the channels may still report),
today is not cleared yet. The last two weeks' reports are written as files.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select
from tqdm import tqdm

import points_engine
from common.clock import start_of_day
from common.db import read_session
from common.unit_of_work import transaction
from memberhub.runtime import Runtime
from storefront_api import clearing

FILED_DAYS = 14  # the days whose reports are written as files
REPORTED_DAYS = 7
TILL_CHANNELS = ("counter", "retail")
FINANCE = "staff:finance"
LOST_SALE_REASON = "柜台收银机漏记一笔（已补录）/ the till lost one sale from its own records"


def close_books(
    runtime: Runtime, first: date, last: date, directory: Path, show: bool = True
) -> str:
    """Clear the days from `first` to the day before `last` (the history's last day), send
    the tills' control totals, close all but the newest; the printed summary line."""
    days = [first + timedelta(days=n) for n in range((last - first).days)]
    if not days:
        return "clearing      no day to clear yet: the history has only today"
    filed = set(days[-FILED_DAYS:])
    reported = days[-REPORTED_DAYS:]
    lost_on = reported[len(reported) // 2]
    mismatched = 0
    for day in reported:
        totals = _till_totals(runtime, day)
        # On one day the busiest till's own records miss its first sale.
        busiest = max(totals, key=lambda pair: len(totals[pair])) if totals else None
        lossy = busiest if day == lost_on else None
        for (channel, institution), sales in sorted(totals.items()):
            if (channel, institution) == lossy:
                sales = sales[1:]
                mismatched += 1
            command = clearing.ControlTotalCommand(
                day,
                institution,
                len(sales),
                sum(fen for _, fen in sales),
                tuple(external_id for external_id, _ in sales),
            )
            with transaction(runtime.session_factory) as uow:
                clearing.submit_control_total(
                    uow, command, channel=channel, actor=f"channel:{channel}"
                )
    closed = 0
    for day in tqdm(days, desc="clearing", unit="day", disable=not show):
        close = day < days[-1]
        with transaction(runtime.session_factory) as uow:
            result = clearing.run_day(
                uow,
                day,
                actor=FINANCE,
                fen_per_point=runtime.settings.fen_per_point,
                close=close,
                reason=LOST_SALE_REASON if day == lost_on else None,
            )
        closed += result.status == "closed"
        if day in filed:
            with read_session(runtime.session_factory) as session:
                clearing.write_reports(clearing.day_report(session, day), directory)
    return (
        f"clearing      {len(days)} days cleared from {days[0]} to {days[-1]} ({closed} "
        f"closed); tills reported {len(reported)} days ({mismatched} mismatch, explained, "
        f"on {lost_on}); the last {FILED_DAYS} days' reports in {directory}"
    )


def _till_totals(runtime: Runtime, day: date) -> dict[tuple[str, str], list[tuple[str, int]]]:
    """What each till channel's own books say it sold at each institution that day."""
    source = points_engine.movements.sales().subquery()
    found: dict[tuple[str, str], list[tuple[str, int]]] = defaultdict(list)
    with read_session(runtime.session_factory) as session:
        for channel, institution, external_id, amount in session.execute(
            select(
                source.c.channel,
                source.c.institution_code,
                source.c.external_id,
                source.c.amount_fen,
            )
            .where(
                source.c.channel.in_(TILL_CHANNELS),
                source.c.occurred_at >= start_of_day(day),
                source.c.occurred_at < start_of_day(day + timedelta(days=1)),
            )
            .order_by(source.c.source_id)
        ):
            found[(channel, institution)].append((external_id, int(amount)))
    return found
