"""The 自邮一族 club on the real services: which points qualify for a tier (not a
campaign's bonus unless the club says so, never points bought from a partner), spend as
a second path, upgrades at once and the tier history."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

import crm
from common.clock import simulated_time
from crm.adapters.orm import Member, TierChange
from points_engine.adapters import orm as ledger
from storefront_api import partners
from tests.integration.test_ledger_services import (
    DIRECTORY,
    accrue,
    at,
    campaign,
    refund,
    register,
)

ON = date(2026, 9, 10)


def _status(uow, member_no: str, on: date = ON) -> dict:
    with uow() as unit:
        member = crm.resolve_member_no(unit, member_no)
        return crm.club.tier_status(unit.session, member, on)


def test_a_campaign_bonus_does_not_qualify_unless_the_club_says_so(db, uow) -> None:
    member = register(uow)
    with simulated_time(at(ON, 9)):
        campaign(uow, "CLUB-DOUBLE", starts_on=ON, ends_on=ON, multiplier_bp=20_000)
    with simulated_time(at(ON, 13)):
        earned = accrue(uow, member.no, 150_000, moment=at(ON))
    assert earned.body["points"] == 3_000  # 1,500 of the rule, 1,500 of the campaign
    status = _status(uow, member.no)
    assert (status["tier"], status["qualifying_points_12m"]) == ("regular", 1_500)
    assert status["next_tier"] == {
        "tier": "silver",
        "points_needed": 500,
        "spend_fen_needed": 150_000,
    }
    with uow() as unit:
        crm.club.set_policy(unit, campaign_bonus_qualifies=True)
    with uow() as unit:
        review = crm.review_tiers(unit, ON)
    assert review["upgraded"] >= 1
    status = _status(uow, member.no)
    assert (status["tier"], status["qualifying_points_12m"]) == ("silver", 3_000)
    assert [(c["from_tier"], c["to_tier"], c["reason"]) for c in status["history"]] == [
        ("regular", "silver", "upgrade")
    ]


def test_points_bought_from_a_partner_never_qualify(db, uow) -> None:
    member = register(uow)
    bought = partners.ExchangeInCommand("PSBC-CLUB-1", member.no, "PSBC", 300_000, "62170000")
    with simulated_time(at(ON)), uow() as unit:
        assert partners.exchange_in(unit, DIRECTORY, bought).body.points == 30_000
    status = _status(uow, member.no)
    assert (status["tier"], status["qualifying_points_12m"], status["spend_fen_12m"]) == (
        "regular",
        0,
        0,
    )


def test_spend_moves_a_member_up_at_once_and_a_refund_takes_it_out_of_the_year(db, uow) -> None:
    member = register(uow)
    # Bills earn a point per 2 yuan: 3,000 yuan of them are 1,500 points, but silver spend.
    with simulated_time(at(ON, 13)):
        paid = accrue(uow, member.no, 300_000, moment=at(ON), business_type="bill_payment")
    assert paid.body["points"] == 1_500
    status = _status(uow, member.no)
    assert (status["tier"], status["spend_fen_12m"], status["tier_since"]) == (
        "silver",
        300_000,
        ON.isoformat(),
    )
    with simulated_time(at(ON + timedelta(days=1), 10)):
        refund(uow, _external_id(db, paid.body["accrual_id"]), 100_000)
    status = _status(uow, member.no, ON + timedelta(days=1))
    assert (status["qualifying_points_12m"], status["spend_fen_12m"]) == (1_000, 200_000)
    assert status["tier"] == "silver"  # down only at a review, after the grace
    with uow() as unit:
        review = crm.review_tiers(unit, ON + timedelta(days=1))
    assert review["in_grace"] >= 1
    with uow() as unit:
        row = unit.session.execute(
            select(Member.tier, Member.tier_grace_until).where(Member.member_no == member.no)
        ).one()
        changes = unit.session.scalars(
            select(TierChange.reason).where(TierChange.member_id == member.id)
        ).all()
    assert tuple(row) == ("silver", ON + timedelta(days=90))
    assert list(changes) == ["upgrade"]


def _external_id(db, accrual_no: str) -> str:
    with db.engine.connect() as connection:
        return str(
            connection.execute(
                select(ledger.Accrual.external_id).where(ledger.Accrual.accrual_no == accrual_no)
            ).scalar_one()
        )
