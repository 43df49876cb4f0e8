"""The demo's partner exchanges: members who hold many points turn some into 东方航空
miles on the history's second-to-last day, one buys points in with bank card points, the
day's settlement file goes to the airline and its answer comes back with one line
rejected (those points return to their lots)."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import crm
import points_engine
from common.clock import simulated_time
from common.db import read_session
from common.unit_of_work import transaction
from memberhub.demo.people import at
from memberhub.demo.rewarding import airline_number
from memberhub.runtime import Runtime
from storefront_api import partners

AIRLINE, BANK = "MU", "PSBC"
EXCHANGERS = 12
POINTS_OUT = 2_000


def exchange_with_partners(runtime: Runtime, last: date) -> str:
    """Run the exchanges and the airline's settlement; the printed summary line."""
    day = last - timedelta(days=1)
    directory = crm.CrmMemberDirectory()
    with read_session(runtime.session_factory) as session:
        richest = points_engine.queries.richest_members(session, EXCHANGERS)
        numbers = {
            member_id: crm.queries.member_no_of(session, member_id) for member_id, _ in richest
        }
    earlier = _settle_earlier_days(runtime, directory, day)
    lines = []
    with simulated_time(at(day, 10.0)):
        for number, (member_id, balance) in enumerate(richest):
            if balance < POINTS_OUT:
                continue
            command = partners.ExchangeOutCommand(
                f"APP-MILES-{day:%Y%m%d}-{number:03d}",
                numbers[member_id],
                AIRLINE,
                POINTS_OUT,
                airline_number(member_id),
            )
            with transaction(runtime.session_factory) as uow:
                lines.append(
                    partners.exchange_out(
                        uow, directory, command, scope=f"member:{numbers[member_id]}", channel=None
                    ).body
                )
        bought = 0
        if richest:
            member_no = numbers[richest[0][0]]
            bank_file_line = partners.ExchangeInCommand(
                f"PSBC-{day:%Y%m%d}-0001", member_no, BANK, 50_000, "6217000012345678"
            )
            with transaction(runtime.session_factory) as uow:
                bought = partners.exchange_in(uow, directory, bank_file_line).body.points
    with simulated_time(at(last, 2.0)):
        with transaction(runtime.session_factory) as uow:
            sent = partners.settlement_file(uow, AIRLINE, day)
        # The airline rejects the line of the lowest airline number (exchange numbers are
        # random; the seed must decide what happens).
        rows = sorted(csv.DictReader(io.StringIO(sent)), key=lambda r: r["partner_member_no"])
        answers = [
            partners.Answer(
                row["exchange_no"],
                "rejected" if index == 0 else "settled",
                "会员号与姓名不符 / member number does not match the name" if index == 0 else None,
            )
            for index, row in enumerate(rows)
        ]
        done = partners.Acknowledged(0, 0, 0, 0)
        if answers:
            with transaction(runtime.session_factory) as uow:
                done = partners.acknowledge(uow, directory, AIRLINE, answers)
    return (
        f"partners      {len(lines)} exchanges of {POINTS_OUT} points into {AIRLINE} miles on "
        f"{day}: {done.settled} settled, {done.rejected} rejected ({done.points_returned} "
        f"points back to their lots); {bought} points bought in with {BANK} card points; "
        f"{earlier} miles rewards redeemed to then settled"
    )


def _settle_earlier_days(runtime: Runtime, directory: crm.CrmMemberDirectory, day: date) -> int:
    """The airline settles every line of the year's miles rewards (to `day`) in its file of
    the next day; returns how many. Run first, so the exchanges made on `day` after them
    go in a file of their own."""
    with read_session(runtime.session_factory) as session:
        days = partners.days_with_pending_lines(session, AIRLINE, before=day + timedelta(days=1))
    settled = 0
    for pending in days:
        with simulated_time(at(pending + timedelta(days=1), 2.0)):
            with transaction(runtime.session_factory) as uow:
                sent = partners.settlement_file(uow, AIRLINE, pending)
            answers = [
                partners.Answer(row["exchange_no"], "settled", None)
                for row in csv.DictReader(io.StringIO(sent))
            ]
            with transaction(runtime.session_factory) as uow:
                settled += partners.acknowledge(uow, directory, AIRLINE, answers).settled
    return settled
