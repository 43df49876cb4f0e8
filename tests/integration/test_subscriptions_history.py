"""Subscriptions through the service layer on a real database, at chosen business days."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

import crm
import points_engine
from common.clock import SHANGHAI
from common.db import read_session
from storefront_api import subscriptions

DIRECTORY = crm.CrmMemberDirectory()
HOTLINE = subscriptions.Caller("channel", channel="hotline")


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), SHANGHAI)


@pytest.fixture
def member_no(uow):
    with uow() as unit:
        return crm.register_member(unit, crm.RegisterCommand(phone="13911112222", name="周杰"))[
            "member_no"
        ]


def sell(uow, member_no, *, on, start, term="quarterly", external_id="HL-1", title="XMWB"):
    command = subscriptions.SubscribeCommand(
        external_id=external_id,
        member=points_engine.MemberRef(member_no=member_no),
        title_code=title,
        term=term,
        start_date=start,
        delivery=subscriptions.Delivery("outlet", outlet_code="SH-PD-0001"),
        payment_method="cash",
    )
    with uow() as unit:
        return subscriptions.subscribe(unit, DIRECTORY, HOTLINE, command, now=at(on)).body


def cancel(uow, number, *, on, caller=HOTLINE, as_of=None):
    with uow() as unit:
        return subscriptions.cancel_subscription(
            unit, DIRECTORY, caller, subscriptions.CancelCommand(number, as_of=as_of), now=at(on)
        ).body


def test_a_quarter_over_new_year_cancelled_on_the_last_day_of_january(uow, member_no):
    sold = sell(uow, member_no, on=date(2026, 11, 20), start=date(2026, 12, 1))
    assert (sold["starts_on"], sold["ends_on"]) == ("2026-12-01", "2027-02-28")
    assert (sold["total_fen"], sold["points"]) == (9900, 99)
    body = cancel(uow, sold["subscription_no"], on=date(2027, 1, 31))
    # 90 days, 62 delivered (Dec + Jan), 28 refunded: 9900 x 28 / 90 = 3080 exactly
    assert (body["delivered_days"], body["undelivered_days"]) == (62, 28)
    assert (body["refund_fen"], body["kept_fen"]) == (3080, 6820)
    assert body["points_reversed"] == 30  # floor(99 x 3080 / 9900) = floor(30.8)


def test_the_member_may_cancel_their_own_and_is_refunded_in_the_ledger(db, uow, member_no):
    sold = sell(uow, member_no, on=date(2027, 2, 10), start=date(2027, 3, 1), term="annual")
    body = cancel(
        uow,
        sold["subscription_no"],
        on=date(2027, 2, 11),
        caller=subscriptions.Caller("member", member_no=member_no),
    )
    assert body["refund_fen"] == sold["total_fen"]
    assert body["points_reversed"] == sold["points"] > 0
    with read_session(db.session_factory) as session:
        member_id = crm.queries.active_member_id(session, member_no)
        summary = points_engine.queries.points_summary(session, member_id, date(2027, 2, 11))
    assert (summary["available"], summary["pending"]) == (0, 0)


def test_cancelling_after_the_end_conflicts(uow, member_no):
    sold = sell(uow, member_no, on=date(2027, 3, 5), start=date(2027, 4, 1), term="monthly")
    assert sold["ends_on"] == "2027-04-30"
    with pytest.raises(subscriptions.SubscriptionFullyDelivered):
        cancel(uow, sold["subscription_no"], on=date(2027, 5, 2))
    with pytest.raises(subscriptions.SubscriptionFullyDelivered):
        cancel(uow, sold["subscription_no"], on=date(2027, 4, 30))
    assert cancel(uow, sold["subscription_no"], on=date(2027, 4, 29))["refund_fen"] == 110
