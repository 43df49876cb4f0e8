"""Partner exchange: points out to an airline within its rules, the settlement file and
the partner's answer (a rejection gives exactly the points back to their own lots), and
bank points bought in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

import crm
import points_engine
from common.clock import start_of_day, today
from common.errors import Conflict, Invalid
from common.unit_of_work import transaction
from points_engine.adapters import orm as ledger
from storefront_api import partners
from storefront_api.partners.orm import PartnerExchange
from tests.integration.test_ledger_services import accrue, register

DIRECTORY = crm.CrmMemberDirectory()
# A partner with small numbers: 10 points a unit, at least 100, at most 2,000 a day.
TEST_PARTNER = partners.PartnerSeed(
    "TSTAIR",
    "测试航空",
    "Test Air",
    "airline",
    "PARTNER-TSTAIR",
    "里程",
    10,
    100,
    2_000,
    None,
    None,
)


@pytest.fixture
def partner(uow):
    with uow() as unit:
        partners.load_partners(unit, (TEST_PARTNER,))
    return TEST_PARTNER.code


def _out(uow, member_no: str, points: int, external_id: str, code: str = "TSTAIR"):
    command = partners.ExchangeOutCommand(external_id, member_no, code, points, "MU12345678")
    with uow() as unit:
        return partners.exchange_out(
            unit, DIRECTORY, command, scope=f"member:{member_no}", channel=None
        )


def _lots(db, member_no: str) -> list[tuple[int, int, date]]:
    with transaction(db.session_factory) as unit:
        member_id = crm.queries.active_member_id(unit.session, member_no)
        accounts = points_engine.queries.member_account_ids(unit.session, member_id)[0]
        rows = unit.session.execute(
            select(ledger.Lot.id, ledger.Lot.remaining, ledger.Lot.expires_on)
            .where(ledger.Lot.account_id.in_(accounts))
            .order_by(ledger.Lot.id)
        ).all()
    return [tuple(row) for row in rows]


def _consumed(db, exchange_no: str) -> dict[int, int]:
    """What the exchange line's redemption took from each lot."""
    with transaction(db.session_factory) as unit:
        redemption_no = unit.session.scalar(
            select(PartnerExchange.redemption_no).where(PartnerExchange.exchange_no == exchange_no)
        )
        rows = unit.session.execute(
            select(ledger.LotConsumption.lot_id, ledger.LotConsumption.points)
            .join(ledger.Redemption, ledger.Redemption.id == ledger.LotConsumption.redemption_id)
            .where(ledger.Redemption.redemption_no == redemption_no)
        ).all()
    return {lot: points for lot, points in rows}


def _available(db, member_no: str) -> int:
    with transaction(db.session_factory) as unit:
        member_id = crm.queries.active_member_id(unit.session, member_no)
        return int(
            points_engine.queries.points_summary(unit.session, member_id, today())["available"]
        )


def test_points_out_follow_the_partners_rules(db, uow, partner) -> None:
    member = register(uow)
    accrue(uow, member.no, 300_000, on=today())  # 3,000 points
    for points, field in ((90, "points"), (105, "points")):
        with pytest.raises(Invalid) as refused:
            _out(uow, member.no, points, f"X-{points}")
        assert refused.value.errors[0].field == field
    first = _out(uow, member.no, 1_500, "X-1").body
    assert (first.points, first.partner_units, first.status) == (1_500, 150, "pending")
    assert first.available == 1_500
    # The same request again answers the same line; another one with that id is refused.
    again = _out(uow, member.no, 1_500, "X-1")
    assert again.replayed and again.body.exchange_no == first.exchange_no
    with pytest.raises(Conflict):
        _out(uow, member.no, 1_000, "X-1")
    # 1,500 today already: 500 more is the limit, 600 is refused and takes nothing.
    with pytest.raises(partners.DailyLimitReached):
        _out(uow, member.no, 600, "X-2")
    assert _available(db, member.no) == 1_500
    _out(uow, member.no, 500, "X-3")
    assert _available(db, member.no) == 1_000


def test_a_rejected_line_gives_the_points_back_to_their_own_lots(db, uow, partner) -> None:
    member = register(uow)
    accrue(uow, member.no, 40_000, on=today() - timedelta(days=400))  # older lot
    accrue(uow, member.no, 100_000, on=today())
    before = _lots(db, member.no)
    kept = _out(uow, member.no, 300, "A-1").body
    lost = _out(uow, member.no, 700, "A-2").body
    spent = _lots(db, member.no)
    assert spent != before and sum(r for _, r, _ in spent) == sum(r for _, r, _ in before) - 1_000
    with uow() as unit:
        sent = partners.settlement_file(unit, partner, today())
    rows = sent.splitlines()
    assert rows[0] == "exchange_no,business_date,partner_member_no,units,points"
    assert sorted(r.split(",")[0] for r in rows[1:]) == sorted([kept.exchange_no, lost.exchange_no])
    answers = partners.parse_acknowledgement(
        "exchange_no,result,reason\n"
        f"{kept.exchange_no},settled,\n"
        f"{lost.exchange_no},rejected,unknown member number\n"
    )
    with uow() as unit:
        done = partners.acknowledge(unit, DIRECTORY, partner, answers)
    assert (done.settled, done.rejected, done.points_returned) == (1, 1, 700)
    after = _lots(db, member.no)
    # The 700 went back to exactly the lots they came from, with their own expiry.
    taken = _consumed(db, lost.exchange_no)
    assert sum(taken.values()) == 700
    assert after == [(lot, left + taken.get(lot, 0), expires) for lot, left, expires in spent]
    # The same file again changes nothing; a contradicting one is refused whole.
    with uow() as unit:
        again = partners.acknowledge(unit, DIRECTORY, partner, answers)
    assert (again.unchanged, again.rejected) == (2, 0)
    flipped = [partners.Answer(kept.exchange_no, "rejected", None)]
    with pytest.raises(partners.AcknowledgementRefused), uow() as unit:
        partners.acknowledge(unit, DIRECTORY, partner, flipped)
    assert _lots(db, member.no) == after


def test_an_unsent_line_or_a_bad_file_is_refused(db, uow, partner) -> None:
    member = register(uow)
    accrue(uow, member.no, 100_000, on=today())
    line = _out(uow, member.no, 200, "B-1").body
    with pytest.raises(partners.AcknowledgementRefused), uow() as unit:
        partners.acknowledge(
            unit, DIRECTORY, partner, [partners.Answer(line.exchange_no, "settled", None)]
        )
    for text in ("exchange,answer\nX,settled\n", f"exchange_no,result\n{line.exchange_no},maybe\n"):
        with pytest.raises(Invalid):
            partners.parse_acknowledgement(text)


def test_bank_points_buy_programme_points_that_do_not_count_for_tiers(db, uow) -> None:
    with uow() as unit:
        partners.load_partners(unit)
    member = register(uow)
    command = partners.ExchangeInCommand("PSBC-TX-1", member.no, "PSBC", 2_000, "62170000")
    with uow() as unit:
        first = partners.exchange_in(unit, DIRECTORY, command).body
    assert (first.points, first.status, first.available) == (200, "completed", 200)
    with uow() as unit:
        assert partners.exchange_in(unit, DIRECTORY, command).replayed
    with pytest.raises(Invalid), uow() as unit:
        partners.exchange_in(
            unit,
            DIRECTORY,
            partners.ExchangeInCommand("PSBC-TX-2", member.no, "PSBC", 15, "62170000"),
        )
    with pytest.raises(partners.ExchangeNotOffered), uow() as unit:
        partners.exchange_out(
            unit,
            DIRECTORY,
            partners.ExchangeOutCommand("O-1", member.no, "PSBC", 100, "62170000"),
            scope="test",
            channel=None,
        )
    with transaction(db.session_factory) as unit:
        earned = points_engine.queries.earned_since(
            unit.session,
            start_of_day(today() - timedelta(days=365)),
            start_of_day(today() + timedelta(days=1)),
        )
    assert _available(db, member.no) == 200
    assert member.id not in earned  # what tiers are reviewed on
