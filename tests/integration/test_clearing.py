"""Daily clearing of a generated history, checked against independent SQL.

The module generates its own history (SQLite, or an empty PostgreSQL schema), clears and
closes every business day of it, and proves per day: the lines equal plain SQL over the
operational tables, every movement is taken exactly once, positions sum to zero and the
transfers settle them. Then it injects what goes wrong in practice: a sale the channel
never received, a sale the platform has twice, a late event for a closed day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Date, DateTime, Engine, bindparam, text

import crm
import points_engine
from common.clock import SHANGHAI, start_of_day
from common.db import make_engine, make_session_factory, read_session
from common.settings import normalise_database_url
from common.unit_of_work import transaction
from memberhub.cli import cli
from storefront_api import clearing
from tests.conftest import empty_database
from tests.integration.clearing_takes import takes_of, takings
from tests.integration.test_demo import END, _generate, _use

# From 21 December: the year-end expiry, a festival campaign, redemptions, every flow.
MEMBERS, DAYS = 1000, 70
FIRST = END - timedelta(days=DAYS - 1)
FEN_PER_POINT = 1
# The checks read the days no test below changes: those tests add events to the last
# three days (the last two stay open).
CHECKED = DAYS - 3
SHOP = "SH-HP-0001"


@dataclass(frozen=True)
class History:
    engine: Engine
    var: Path
    url: str


def _window(query: str) -> Any:
    return text(query).bindparams(
        bindparam("start", type_=DateTime(timezone=True)),
        bindparam("end", type_=DateTime(timezone=True)),
    )


SALES_BY_LINE = _window(
    "SELECT institution_code, channel, business_type, COUNT(*), SUM(total_fen) "
    "FROM points_engine_accrual WHERE occurred_at >= :start AND occurred_at < :end "
    "GROUP BY institution_code, channel, business_type"
)
REFUNDS = _window(
    "SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM points_engine_refund "
    "WHERE created_at >= :start AND created_at < :end"
)
# Signed towards members; only postings with a member account on exactly one side.
MEMBER_POINTS = _window(
    "SELECT p.type, SUM(CASE WHEN t.kind IN ('member', 'member_pending') "
    "THEN p.points ELSE -p.points END) "
    "FROM points_engine_posting p "
    "JOIN points_engine_account f ON f.id = p.from_account_id "
    "JOIN points_engine_account t ON t.id = p.to_account_id "
    "WHERE p.occurred_at >= :start AND p.occurred_at < :end "
    "AND (f.kind IN ('member', 'member_pending')) <> (t.kind IN ('member', 'member_pending')) "
    "AND p.type IN ('accrual', 'reversal', 'redemption', 'redemption_cancel', 'expiry', "
    "'adjustment', 'partner_in') GROUP BY p.type"
)
# Points spent at one institution that were earned at another: (earned at, spent at, points).
POINTS_CARRIED = _window(
    "SELECT l.institution_code, COALESCE(r.institution_code, 'SH'), "
    "SUM(CASE WHEN p.type = 'redemption' THEN c.points ELSE -c.points END) "
    "FROM points_engine_posting p "
    "JOIN points_engine_account f ON f.id = p.from_account_id "
    "JOIN points_engine_account t ON t.id = p.to_account_id "
    "JOIN points_engine_redemption r "
    "ON p.reference IN ('redemption:' || r.redemption_no, 'redemption_cancel:' || r.redemption_no) "
    "JOIN points_engine_lot_consumption c ON c.redemption_id = r.id "
    "JOIN points_engine_lot l ON l.id = c.lot_id "
    "WHERE p.occurred_at >= :start AND p.occurred_at < :end "
    "AND (f.kind IN ('member', 'member_pending')) <> (t.kind IN ('member', 'member_pending')) "
    "AND p.type IN ('redemption', 'redemption_cancel') "
    "GROUP BY l.institution_code, COALESCE(r.institution_code, 'SH')"
)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    var = tmp_path_factory.mktemp("clearing")
    with empty_database(var, "_clearing") as url:
        _generate(var, members=MEMBERS, days=DAYS, seed=2, database_url=url)
        engine = make_engine(normalise_database_url(url))
        factory = make_session_factory(engine)
        for offset in range(DAYS):
            with transaction(factory) as uow:
                clearing.run_day(
                    uow,
                    FIRST + timedelta(days=offset),
                    actor="staff:finance",
                    fen_per_point=FEN_PER_POINT,
                    close=offset < DAYS - 2,  # the last two days stay open
                )
        yield History(engine, var, url)
        engine.dispose()


def _report(history: History, day: date) -> clearing.DayReport:
    with read_session(make_session_factory(history.engine)) as session:
        return clearing.day_report(session, day)


def test_every_day_equals_plain_sql_over_the_operational_tables(history: History) -> None:
    movements = redeemed = expired = 0
    with history.engine.connect() as connection:
        for offset in range(CHECKED):
            day = FIRST + timedelta(days=offset)
            window = {"start": start_of_day(day), "end": start_of_day(day + timedelta(days=1))}
            report = _report(history, day)
            own = [line for line in report.tables["lines"] if line["original_date"] is None]
            by_line: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
            for line in own:
                if line["sales"]:
                    key = (line["institution_code"], line["channel"], line["business_type"])
                    by_line[key][0] += line["sales"]
                    by_line[key][1] += line["gross_fen"]
            expected = {
                (row[0], row[1], row[2]): [row[3], row[4]]
                for row in connection.execute(SALES_BY_LINE, window)
            }
            assert dict(by_line) == expected, day
            refunds, refunds_fen = connection.execute(REFUNDS, window).one()
            assert sum(line["refunds"] for line in own) == refunds
            assert sum(line["refunds_fen"] for line in own) == refunds_fen
            points = dict(connection.execute(MEMBER_POINTS, window).all())
            assert sum(line["points_issued"] for line in own) == points.get(
                "accrual", 0
            ) + points.get("partner_in", 0)
            assert sum(line["points_reversed"] for line in own) == -points.get("reversal", 0)
            assert sum(line["points_redeemed"] for line in own) == -(
                points.get("redemption", 0) + points.get("redemption_cancel", 0)
            )
            assert sum(line["points_expired"] for line in own) == -points.get("expiry", 0)
            assert sum(line["points_adjusted"] for line in own) == points.get("adjustment", 0)
            for kind in ("sale", "refund"):
                held: dict[int, int] = dict(connection.execute(takings(kind), window).all())
                assert set(held.values()) <= {1}, (day, kind)
            movements += sum(line["sales"] + line["refunds"] for line in own)
            redeemed += sum(line["points_redeemed"] for line in own)
            expired += sum(line["points_expired"] for line in own)
    # The history is worth testing on: money, refunds and points of every kind moved.
    assert movements > 400 and redeemed > 0 and expired > 0


def test_every_movement_is_taken_once_and_by_its_own_day(history: History) -> None:
    last = FIRST + timedelta(days=CHECKED)
    window = {"start": start_of_day(FIRST), "end": start_of_day(last)}
    with history.engine.connect() as connection:
        held: dict[str, dict[int, int]] = {
            kind: dict(connection.execute(takings(kind), window).all())
            for kind in ("sale", "refund", "posting")
        }
        elsewhere = connection.execute(
            text(
                "SELECT COUNT(*) FROM storefront_clearing_take "
                "WHERE business_date <> cleared_on AND cleared_on < :last"
            ).bindparams(bindparam("last", type_=Date)),
            {"last": last},
        ).scalar()
        sales = connection.execute(
            _window(
                "SELECT COUNT(*) FROM points_engine_accrual "
                "WHERE occurred_at >= :start AND occurred_at < :end"
            ),
            window,
        ).scalar()
    assert len(held["sale"]) == sales
    for kind, counts in held.items():
        assert counts and set(counts.values()) == {1}, kind
    assert elsewhere == 0


def test_positions_balance_and_transfers_settle_every_day(history: History) -> None:
    redeemed_elsewhere = 0
    for offset in range(CHECKED):
        day = FIRST + timedelta(days=offset)
        report = _report(history, day)
        assert report.balanced
        # The points part of each position, from plain SQL over the lots each spent.
        window = {"start": start_of_day(day), "end": start_of_day(day + timedelta(days=1))}
        with history.engine.connect() as connection:
            carried = connection.execute(POINTS_CARRIED, window).all()
        expected: dict[str, int] = defaultdict(int)
        for earned_at, spent_at, points in carried:
            if earned_at != spent_at:
                expected[earned_at] -= int(points) * FEN_PER_POINT
                expected[spent_at] += int(points) * FEN_PER_POINT
        got = {p["institution_code"]: p["points_cost_fen"] for p in report.tables["positions"]}
        assert {k: v for k, v in got.items() if v} == {k: v for k, v in expected.items() if v}
        left = {p["institution_code"]: p["net_fen"] for p in report.tables["positions"]}
        for transfer in report.tables["transfers"]:
            left[transfer["payer"]] += transfer["amount_fen"]
            left[transfer["payee"]] -= transfer["amount_fen"]
        assert set(left.values()) <= {0}
        redeemed_elsewhere += sum(abs(p["points_cost_fen"]) for p in report.tables["positions"])
        # Rolled up to districts, the same day still balances and settles.
        district = _district_report(history, FIRST + timedelta(days=offset))
        assert district.balanced
        assert sum(p["net_fen"] for p in district.tables["positions"]) == 0
    assert redeemed_elsewhere > 0  # points earned at outlets were spent online


def _district_report(history: History, day: date) -> clearing.DayReport:
    with read_session(make_session_factory(history.engine)) as session:
        return clearing.day_report(session, day, "district")


def test_a_closed_day_changes_nothing_and_a_late_event_lands_on_the_next_open_day(
    history: History,
) -> None:
    factory = make_session_factory(history.engine)
    closed_day, next_open = END - timedelta(days=2), END - timedelta(days=1)
    before = _report(history, closed_day)
    member_no = _some_member(history)
    late = _sale(history, member_no, closed_day, "LATE-1")
    with transaction(factory) as uow:
        again = clearing.run_day(uow, closed_day, actor="staff:finance", fen_per_point=1)
    assert not again.changed and "nothing changed" in again.message
    assert _report(history, closed_day).tables == before.tables
    with transaction(factory) as uow:
        result = clearing.run_day(uow, next_open, actor="staff:finance", fen_per_point=1)
    assert result.late == 1  # the sale, with the points it issued
    adjustment = [
        line for line in _report(history, next_open).tables["lines"] if line["original_date"]
    ]
    assert adjustment == [
        {
            **adjustment[0],
            "original_date": closed_day,
            "sales": 1,
            "gross_fen": 4321,
        }
    ]
    assert adjustment[0]["points_issued"] > 0
    with history.engine.connect() as connection:
        row = connection.execute(takes_of("sale"), {"id": late}).one()
    assert (_as_date(row[0]), _as_date(row[1])) == (closed_day, next_open)


def test_control_totals_name_the_missing_and_the_duplicated_transaction(
    history: History,
) -> None:
    factory = make_session_factory(history.engine)
    day = END
    member_no = _some_member(history)
    _sale(history, member_no, day, "POS-TWICE-1")
    with transaction(factory) as uow:
        clearing.run_day(uow, day, actor="staff:finance", fen_per_point=1)
    with read_session(factory) as session:
        ours = [m for m in clearing.mismatches(session, day) if m.institution_code == SHOP]
    assert len(ours) == 1 and ours[0].reported_sales is None  # nothing reported yet
    with history.engine.connect() as connection:
        ids = [
            row[0]
            for row in connection.execute(
                _window(
                    "SELECT external_id FROM points_engine_accrual WHERE channel = 'counter' "
                    "AND institution_code = :shop AND occurred_at >= :start "
                    "AND occurred_at < :end"
                ),
                {
                    "shop": SHOP,
                    "start": start_of_day(day),
                    "end": start_of_day(day + timedelta(days=1)),
                },
            )
        ]
    # The till never sent one of its sales; the platform took another one twice (the
    # till's retry under a new id): the channel's list has the first, not the second.
    _sale(history, member_no, day, "POS-TWICE-2")
    theirs = [*(i for i in ids), "POS-NEVER-ARRIVED"]
    command = clearing.ControlTotalCommand(
        day, SHOP, len(theirs), 4321 * len(ids) + 999, tuple(theirs)
    )
    with transaction(factory) as uow:
        clearing.submit_control_total(uow, command, channel="counter", actor="channel:counter")
    with transaction(factory) as uow:
        clearing.run_day(uow, day, actor="staff:finance", fen_per_point=1)
    with read_session(factory) as session:
        found = [m for m in clearing.mismatches(session, day) if m.institution_code == SHOP]
    assert len(found) == 1
    assert found[0].missing == ("POS-NEVER-ARRIVED",)
    assert found[0].extra == ("POS-TWICE-2",)
    with pytest.raises(clearing.UnexplainedMismatches), transaction(factory) as uow:
        clearing.run_day(uow, day, actor="staff:finance", fen_per_point=1, close=True)
    with transaction(factory) as uow:
        closed = clearing.run_day(
            uow,
            day,
            actor="staff:finance",
            fen_per_point=1,
            close=True,
            reason="POS-TWICE-2 is a till retry; refunded tomorrow",
        )
    assert closed.status == "closed"
    with pytest.raises(clearing.DayClosed), transaction(factory) as uow:
        clearing.submit_control_total(uow, command, channel="counter", actor="channel:counter")
    report = _report(history, day)
    assert report.close_reason == "POS-TWICE-2 is a till retry; refunded tomorrow"
    assert "POS-NEVER-ARRIVED" in clearing.report_csv(report, "mismatches")


def test_the_command_line_clears_a_range_and_writes_its_reports(
    history: History, tmp_path: Path
) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        _use(monkeypatch, history.var, history.url)
        out = tmp_path / "reports"
        result = CliRunner().invoke(
            cli,
            [
                "clearing",
                "run",
                "--date",
                str(FIRST),
                "--through",
                str(FIRST + timedelta(1)),
                "--level",
                "district",
                "--out",
                str(out),
            ],
        )
    assert result.exit_code == 0, result.output
    assert "nothing changed" in result.output  # closed days stay as they were
    lines = (out / str(FIRST) / "lines.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("institution_code,channel,business_type,original_date,sales")
    assert all(row.split(",")[0].count("-") <= 1 for row in lines[1:])  # districts only
    assert {p.name for p in (out / str(FIRST)).iterdir()} == {
        f"{name}.csv" for name in clearing.REPORTS
    }


def _some_member(history: History) -> str:
    with read_session(make_session_factory(history.engine)) as session:
        return crm.queries.member_numbers(session, 1)[0]


def _sale(history: History, member_no: str, day: date, external_id: str) -> int:
    """A counter sale of 43.21 元 at SHOP during `day`, reported now; its accrual id."""
    factory = make_session_factory(history.engine)
    command = points_engine.AccrualCommand(
        external_id=external_id,
        member=points_engine.MemberRef(member_no=member_no),
        institution_code=SHOP,
        occurred_at=datetime.combine(day, time(12), SHANGHAI),
        business_type="goods",
        lines=(points_engine.AccrualLine("SKU-LATE", 1, 4321),),
        total_fen=4321,
    )
    with transaction(factory) as uow:
        points_engine.accrue_points(uow, crm.CrmMemberDirectory(), "counter", command)
    with history.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT id FROM points_engine_accrual WHERE external_id = :e"),
                {"e": external_id},
            ).scalar_one()
        )


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def test_the_monthly_journal_balances_and_books_every_closed_day(history: History) -> None:
    january = date(2026, 1, 1)
    with read_session(make_session_factory(history.engine)) as session:
        journal = clearing.monthly_journal(session, january, END)
        net = sum(
            line["net_fen"]
            for offset in range(31)
            for line in clearing.day_report(session, january + timedelta(days=offset)).tables[
                "lines"
            ]
        )
    assert len(journal.closed_days) == 31 and journal.not_closed == []
    assert journal.debit_fen == journal.credit_fen > 0
    revenue = [line for line in journal.lines if line.account.startswith("6001")]
    assert sum(line.credit_fen - line.debit_fen for line in revenue) == net
    expired = 0
    with read_session(make_session_factory(history.engine)) as session:
        for month in (date(2025, 12, 1), january, date(2026, 2, 1)):
            booked = clearing.monthly_journal(session, month, END)
            assert booked.debit_fen == booked.credit_fen
            expired += sum(line.credit_fen for line in booked.lines if "积分失效" in line.account)
    assert expired > 0  # last year's points expired at the turn of the year
    with pytest.MonkeyPatch.context() as monkeypatch:
        _use(monkeypatch, history.var, history.url)
        done = CliRunner().invoke(cli, ["clearing", "journal", "--month", "2026-02"])
    assert done.exit_code == 0, done.output
    assert "not closed (not booked): 2026-02-27" in done.output  # (and 28th, unless closed)
    written = (history.var / "clearing" / "journal-2026-02.csv").read_text(encoding="utf-8")
    assert written.splitlines()[0] == (
        "month,account,sub_account,debit_fen,credit_fen,debit_yuan,credit_yuan"
    )
