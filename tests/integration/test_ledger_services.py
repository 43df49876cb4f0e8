"""The points ledger through its facade on a real database: earn, release, expire, spend, refund."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import pytest
from sqlalchemy import text

import crm
import points_engine
from common.clock import SHANGHAI
from common.db import read_session
from common.errors import Conflict
from common.idempotency import as_answer
from common.unit_of_work import UnitOfWork
from memberhub.runtime import Runtime
from tests.answers import answered

Uow = Callable[[], UnitOfWork]

DIRECTORY = crm.CrmMemberDirectory()
SHOP = "SH-HP-0001"
_phones = itertools.count(1)
_ids = itertools.count(1)


@dataclass(frozen=True)
class Member:
    no: str
    id: int


def at(day: date, hour: int = 12) -> datetime:
    """A moment on a Shanghai business day."""
    return datetime.combine(day, time(hour), SHANGHAI)


def register(uow: Uow) -> Member:
    phone = f"139{next(_phones):08d}"
    with uow() as unit:
        body = crm.register_member(unit, crm.RegisterCommand(phone=phone, name="测试会员"))
    with uow() as unit:
        member_id = crm.queries.active_member_id(unit.session, body["member_no"])
    return Member(body["member_no"], member_id)


def accrue(
    uow: Uow,
    member_no: str,
    amount_fen: int,
    *,
    on: date | None = None,
    moment: datetime | None = None,
    channel: str = "counter",
    external_id: str | None = None,
    business_type: str = "goods",
    category: str | None = None,
    sku: str = "SKU-1",
) -> points_engine.Written:
    command = points_engine.AccrualCommand(
        external_id=external_id or f"ext-{next(_ids)}",
        member=points_engine.MemberRef(member_no=member_no),
        institution_code=SHOP,
        occurred_at=moment or at(on or date(2024, 3, 10)),
        business_type=business_type,
        lines=(points_engine.AccrualLine(sku, 1, amount_fen, category),),
        total_fen=amount_fen,
    )
    with uow() as unit:
        return answered(points_engine.accrue_points(unit, DIRECTORY, channel, command))


def refund(
    uow: Uow,
    original: str,
    amount_fen: int,
    *,
    channel: str = "counter",
    external_id: str | None = None,
) -> points_engine.Written:
    command = points_engine.RefundCommand(external_id or f"rf-{next(_ids)}", original, amount_fen)
    with uow() as unit:
        return answered(points_engine.refund_purchase(unit, channel, command))


def redeem(
    uow: Uow,
    member_no: str,
    reward: str,
    as_of: date,
    *,
    quantity: int = 1,
    external_id: str | None = None,
) -> points_engine.Written:
    command = points_engine.RedemptionCommand(
        external_id or f"rd-{next(_ids)}", member_no, reward, quantity
    )
    with uow() as unit:
        return answered(
            points_engine.redeem_reward(
                unit, DIRECTORY, command, scope="channel:app", channel="app", as_of=as_of
            )
        )


def cancel(uow: Uow, redemption_no: str, as_of: date) -> dict[str, Any]:
    with uow() as unit:
        return as_answer(
            points_engine.cancel_redemption(unit, DIRECTORY, redemption_no, as_of=as_of)
        )


def release(uow: Uow, as_of: date) -> points_engine.JobReport:
    with uow() as unit:
        due = points_engine.due_pending_lots(unit, as_of)
    with uow() as unit:
        return points_engine.release_due_pending(unit, due, as_of)


def expire(uow: Uow, as_of: date) -> tuple[int, int]:
    with uow() as unit:
        accounts = points_engine.accounts_with_expiring_lots(unit, as_of)
    lots = points = 0
    for account_id in accounts:
        with uow() as unit:
            report = points_engine.expire_due_lots(unit, account_id, as_of)
        lots += report.expired_lots
        points += report.expired_points
    return lots, points


def summary(db: Runtime, member: Member, as_of: date = date(2024, 3, 10)) -> dict[str, Any]:
    with read_session(db.session_factory) as session:
        return points_engine.queries.points_summary(session, member.id, as_of)


def balance(db: Runtime, member: Member) -> tuple[int, int, int]:
    """(available, pending, negative_debt)"""
    found = summary(db, member)
    return found["available"], found["pending"], found["negative_debt"]


def expiring(db: Runtime, member: Member) -> list[tuple[str, int]]:
    return [(e["expires_on"], e["points"]) for e in summary(db, member)["expiring"]]


def postings(db: Runtime) -> int:
    with read_session(db.session_factory) as session:
        return points_engine.queries.posting_count(session)


def breaches(db: Runtime) -> list[points_engine.Breach]:
    with read_session(db.session_factory) as session:
        return points_engine.find_breaches(session)


def budget_left(db: Runtime, code: str) -> int:
    with read_session(db.session_factory) as session:
        return next(
            left for row, left in points_engine.queries.list_campaigns(session) if row.code == code
        )


def add_reward(uow: Uow, code: str, points_cost: int, stock: int | None = None) -> None:
    with uow() as unit:
        points_engine.add_reward(
            unit,
            code=code,
            name=code,
            name_en=code,
            kind="goods",
            points_cost=points_cost,
            cash_fen=0,
            stock=stock,
        )


def campaign(uow: Uow, code: str, **changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "code": code,
        "name": code,
        "name_en": code,
        "starts_on": date(2024, 9, 1),
        "ends_on": date(2024, 9, 30),
        "budget_points": 1_000_000,
        **changes,
    }
    with uow() as unit:
        return points_engine.create_campaign(unit, points_engine.CampaignCommand(**fields))


def campaign_item(written: points_engine.Written, code: str) -> dict[str, Any]:
    items = [i for i in written.body["breakdown"] if i["rule"] == f"campaign:{code}"]
    assert len(items) == 1, written.body["breakdown"]
    return dict(items[0])


# -- pending points -------------------------------------------------------------------


def test_online_goods_are_pending_until_the_return_window_closes(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    written = accrue(uow, member.no, 12_345, channel="web")
    assert written.body["points"] == 123
    assert written.body["status"] == "pending"
    assert written.body["available_on"] == "2024-03-17"
    assert written.body["balance"] == {"available": 0, "pending": 123}
    assert balance(db, member) == (0, 123, 0)

    with pytest.raises(points_engine.InsufficientPoints):
        redeem(uow, member.no, "VOUCHER-MAILING-5", date(2024, 3, 12))
    assert release(uow, date(2024, 3, 16)) == points_engine.JobReport()
    assert balance(db, member) == (0, 123, 0)

    report = release(uow, date(2024, 3, 17))
    assert (report.released_lots, report.released_points) == (1, 123)
    assert balance(db, member) == (123, 0, 0)
    assert expiring(db, member) == [("2025-12-31", 123)]
    assert breaches(db) == []


def test_counter_goods_are_available_at_once(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    written = accrue(uow, member.no, 50_099)
    assert (written.body["points"], written.body["status"]) == (500, "available")
    assert "available_on" not in written.body
    assert balance(db, member) == (500, 0, 0)
    assert release(uow, date(2024, 12, 31)) == points_engine.JobReport()


# -- expiry ---------------------------------------------------------------------------


def test_points_expire_after_the_end_of_the_calendar_year_after_earning(
    db: Runtime, uow: Uow
) -> None:
    member = register(uow)
    accrue(uow, member.no, 60_000, on=date(2024, 1, 2))
    accrue(uow, member.no, 40_000, on=date(2024, 12, 30))
    accrue(uow, member.no, 25_000, on=date(2025, 1, 1))
    assert expiring(db, member) == [("2025-12-31", 1_000), ("2026-12-31", 250)]

    assert expire(uow, date(2025, 12, 31)) == (0, 0)
    assert balance(db, member) == (1_250, 0, 0)
    # Past the expiry date but before the job has run, the lot can no longer be spent.
    with pytest.raises(points_engine.InsufficientPoints):
        redeem(uow, member.no, "VOUCHER-MALL-10", date(2026, 1, 1))

    assert expire(uow, date(2026, 1, 1)) == (2, 1_000)
    assert balance(db, member) == (250, 0, 0)
    assert expiring(db, member) == [("2026-12-31", 250)]
    assert breaches(db) == []


def test_the_expiry_year_follows_the_shanghai_business_day(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    # 23:30 on 31 December in Shanghai is still 2024; 00:30 on 1 January is 2025,
    # though both are 31 December in UTC.
    accrue(
        uow, member.no, 10_000, moment=datetime.combine(date(2024, 12, 31), time(23, 30), SHANGHAI)
    )
    accrue(uow, member.no, 20_000, moment=datetime.combine(date(2025, 1, 1), time(0, 30), SHANGHAI))
    assert expiring(db, member) == [("2025-12-31", 100), ("2026-12-31", 200)]


# -- redemption -----------------------------------------------------------------------


def three_lots(uow: Uow, member: Member) -> None:
    accrue(uow, member.no, 50_000, on=date(2023, 6, 1))  # 500, expires 2024-12-31
    accrue(uow, member.no, 80_000, on=date(2024, 2, 1))  # 800, expires 2025-12-31
    accrue(uow, member.no, 30_000, on=date(2023, 11, 1))  # 300, expires 2024-12-31


def test_redemption_spends_the_lots_that_expire_first(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    three_lots(uow, member)
    written = redeem(uow, member.no, "VOUCHER-MALL-10", date(2024, 3, 1))
    assert written.body["points_spent"] == 1_000
    assert written.body["balance"] == {"available": 600, "pending": 0}
    assert expiring(db, member) == [("2025-12-31", 600)]

    second = redeem(uow, member.no, "VOUCHER-MAILING-5", date(2024, 3, 1))
    assert second.body["balance"]["available"] == 100
    with pytest.raises(points_engine.InsufficientPoints):
        redeem(uow, member.no, "VOUCHER-MAILING-5", date(2024, 3, 1))
    assert breaches(db) == []


def test_a_failed_redemption_changes_nothing(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    accrue(uow, member.no, 200_000)
    add_reward(uow, "TEST-LAST-ONE", 100, stock=1)
    redeem(uow, member.no, "TEST-LAST-ONE", date(2024, 3, 10))
    before = (postings(db), balance(db, member), expiring(db, member))
    with pytest.raises(points_engine.OutOfStock):
        redeem(uow, member.no, "TEST-LAST-ONE", date(2024, 3, 10))
    with pytest.raises(points_engine.InsufficientPoints):
        redeem(uow, member.no, "VOUCHER-MALL-50", date(2024, 3, 10))
    with pytest.raises(points_engine.UnknownReward):
        redeem(uow, member.no, "NO-SUCH-REWARD", date(2024, 3, 10))
    assert (postings(db), balance(db, member), expiring(db, member)) == before


def test_cancelling_a_redemption_returns_the_points_to_the_same_lots(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    three_lots(uow, member)
    written = redeem(uow, member.no, "VOUCHER-MALL-10", date(2024, 3, 1))
    body = cancel(uow, written.body["redemption_id"], date(2024, 3, 5))
    assert (body["status"], body["points_returned"], body["points_expired"]) == (
        "cancelled",
        1_000,
        0,
    )
    assert body["balance"] == {"available": 1_600, "pending": 0}
    assert expiring(db, member) == [("2024-12-31", 800), ("2025-12-31", 800)]
    with pytest.raises(points_engine.AlreadyCancelled):
        cancel(uow, written.body["redemption_id"], date(2024, 3, 5))
    assert balance(db, member) == (1_600, 0, 0)
    assert breaches(db) == []


@pytest.mark.parametrize("expiry_job_ran", [False, True])
def test_points_of_a_lot_that_expired_meanwhile_go_to_expiry_on_cancel(
    db: Runtime, uow: Uow, expiry_job_ran: bool
) -> None:
    member = register(uow)
    three_lots(uow, member)
    written = redeem(uow, member.no, "VOUCHER-MALL-10", date(2024, 3, 1))
    if expiry_job_ran:
        # The two 2023 lots were spent to 0 by the redemption: nothing left to expire.
        assert expire(uow, date(2025, 1, 2)) == (2, 0)
    body = cancel(uow, written.body["redemption_id"], date(2025, 1, 5))
    assert (body["points_returned"], body["points_expired"]) == (200, 800)
    assert balance(db, member) == (800, 0, 0)
    assert expiring(db, member) == [("2025-12-31", 800)]
    assert expire(uow, date(2025, 1, 5)) == ((0, 0) if expiry_job_ran else (2, 0))
    assert balance(db, member) == (800, 0, 0)
    assert breaches(db) == []


# -- refunds --------------------------------------------------------------------------


def test_a_refund_cancels_pending_points_of_that_purchase_first(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    accrue(uow, member.no, 100_000, external_id="counter-1")
    accrue(uow, member.no, 50_000, channel="web", external_id="web-1")
    assert balance(db, member) == (1_000, 500, 0)

    first = refund(uow, "web-1", 20_000, channel="web")
    assert first.body["points_reversed"] == 200
    assert balance(db, member) == (1_000, 300, 0)
    rest = refund(uow, "web-1", 30_000, channel="web")
    assert rest.body["points_reversed"] == 300
    assert balance(db, member) == (1_000, 0, 0)
    assert release(uow, date(2024, 3, 31)) == points_engine.JobReport(released_lots=0)
    with pytest.raises(points_engine.RefundExceedsOriginal):
        refund(uow, "web-1", 1, channel="web")
    assert breaches(db) == []


def test_partial_refunds_reverse_in_proportion_and_never_drift(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    accrue(uow, member.no, 123_400, external_id="big")
    steps = [refund(uow, "big", part).body["points_reversed"] for part in (41_133, 41_133, 41_134)]
    assert steps == [411, 411, 412]
    assert balance(db, member) == (0, 0, 0)


def test_a_refund_of_spent_points_leaves_a_debt_that_blocks_redemption(
    db: Runtime, uow: Uow
) -> None:
    member = register(uow)
    accrue(uow, member.no, 100_000, external_id="tv")
    accrue(uow, member.no, 30_000, channel="web", external_id="web-pending")
    redeem(uow, member.no, "GIFT-POSTCARD-SET", date(2024, 3, 10))
    assert balance(db, member) == (200, 300, 0)

    written = refund(uow, "tv", 100_000)
    assert written.body["points_reversed"] == 1_000
    assert written.body["balance"] == {"available": 0, "pending": 300, "negative_debt": 800}
    assert balance(db, member) == (0, 300, 800)

    before = postings(db)
    with pytest.raises(points_engine.PointsDebtOutstanding):
        redeem(uow, member.no, "VOUCHER-MAILING-5", date(2024, 3, 10))
    assert postings(db) == before

    # Points that become available pay the debt off first.
    release(uow, date(2024, 3, 17))
    assert balance(db, member) == (0, 0, 500)
    accrue(uow, member.no, 70_000)
    assert balance(db, member) == (200, 0, 0)
    assert expiring(db, member) == [("2025-12-31", 200)]
    add_reward(uow, "TEST-200", 200)
    assert redeem(uow, member.no, "TEST-200", date(2024, 3, 20)).body["balance"]["available"] == 0
    assert breaches(db) == []


def test_a_refund_takes_from_other_lots_before_going_into_debt(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    accrue(uow, member.no, 40_000, on=date(2024, 5, 1), external_id="later")
    accrue(uow, member.no, 60_000, on=date(2023, 5, 1), external_id="older")
    redeem(uow, member.no, "GIFT-POSTCARD-SET", date(2024, 5, 2))
    # FIFO spent the 600 older points and 200 of the later lot.
    assert expiring(db, member) == [("2025-12-31", 200)]
    refund(uow, "older", 30_000)
    assert balance(db, member) == (0, 0, 100)
    refund(uow, "older", 30_000)
    assert balance(db, member) == (0, 0, 400)
    assert breaches(db) == []


def test_refunds_are_refused_for_unknown_or_foreign_purchases(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    accrue(uow, member.no, 10_000, external_id="own")
    with pytest.raises(points_engine.UnknownAccrual):
        refund(uow, "nobody", 100)
    with pytest.raises(points_engine.UnknownAccrual):
        refund(uow, "own", 100, channel="web")
    with pytest.raises(points_engine.RefundExceedsOriginal):
        refund(uow, "own", 10_001)
    assert balance(db, member) == (100, 0, 0)


# -- merge ----------------------------------------------------------------------------


def test_merge_moves_lots_with_their_expiry_and_the_absorbed_number_follows(
    db: Runtime, uow: Uow
) -> None:
    survivor, absorbed = register(uow), register(uow)
    accrue(uow, survivor.no, 30_000, on=date(2024, 2, 1))
    accrue(uow, absorbed.no, 50_000, on=date(2023, 7, 1))
    accrue(uow, absorbed.no, 20_000, on=date(2024, 3, 1), channel="web")
    with uow() as unit:
        body = crm.merge_members(unit, survivor.no, absorbed.no)
    assert body["points_moved"] == 500
    assert balance(db, survivor) == (800, 200, 0)
    assert expiring(db, survivor) == [("2024-12-31", 500), ("2025-12-31", 300)]
    assert balance(db, absorbed) == (0, 0, 0)

    with uow() as unit:
        assert crm.queries.active_member_id(unit.session, absorbed.no) == survivor.id
    written = accrue(uow, absorbed.no, 10_000, on=date(2024, 3, 5))
    assert written.body["member_no"] == survivor.no
    assert release(uow, date(2024, 3, 8)).released_points == 200
    assert balance(db, survivor) == (1_100, 0, 0)

    spent = redeem(uow, absorbed.no, "VOUCHER-MAILING-5", date(2024, 3, 10))
    assert spent.body["member_no"] == survivor.no
    assert expiring(db, survivor) == [("2025-12-31", 600)]
    with uow() as unit, pytest.raises(crm.AlreadyMerged):
        crm.merge_members(unit, survivor.no, absorbed.no)
    assert breaches(db) == []


def test_merge_carries_a_debt_over_and_settles_it_against_the_survivor(
    db: Runtime, uow: Uow
) -> None:
    survivor, absorbed = register(uow), register(uow)
    accrue(uow, survivor.no, 100_000)
    accrue(uow, absorbed.no, 80_000, external_id="absorbed-buy")
    redeem(uow, absorbed.no, "GIFT-POSTCARD-SET", date(2024, 3, 10))
    refund(uow, "absorbed-buy", 80_000)
    assert balance(db, absorbed) == (0, 0, 800)
    with uow() as unit:
        crm.merge_members(unit, survivor.no, absorbed.no)
    assert balance(db, survivor) == (200, 0, 0)
    assert expiring(db, survivor) == [("2025-12-31", 200)]
    assert breaches(db) == []


# -- campaigns ------------------------------------------------------------------------


def test_a_spent_campaign_budget_gives_nothing_and_says_so(db: Runtime, uow: Uow) -> None:
    campaign(uow, "MOONCAKE", bonus_points=100, budget_points=250)
    member = register(uow)
    autumn = date(2024, 9, 10)
    first = accrue(uow, member.no, 1_000, on=autumn)
    assert first.body["points"] == 110
    assert campaign_item(first, "MOONCAKE")["points"] == 100
    accrue(uow, member.no, 1_000, on=autumn)
    partly = accrue(uow, member.no, 1_000, on=autumn)
    assert partly.body["points"] == 60
    assert campaign_item(partly, "MOONCAKE")["limited_by"] == "budget"
    assert budget_left(db, "MOONCAKE") == 0

    spent = accrue(uow, member.no, 1_000, on=autumn)
    assert spent.body["points"] == 10
    item = campaign_item(spent, "MOONCAKE")
    assert (item["points"], item["limited_by"]) == (0, "budget_exhausted")
    assert "budget spent" in item["detail"]
    assert balance(db, member) == (290, 0, 0)

    outside = accrue(uow, member.no, 1_000, on=date(2024, 10, 1))
    assert all(i["kind"] != "campaign" for i in outside.body["breakdown"])
    assert breaches(db) == []


def test_a_spent_budget_is_reported_even_when_another_campaign_pays(db: Runtime, uow: Uow) -> None:
    campaign(uow, "A-SPENT", bonus_points=10, budget_points=10)
    campaign(uow, "B-DOUBLE", multiplier_bp=20_000)
    member = register(uow)
    accrue(uow, member.no, 500, on=date(2024, 9, 10))
    assert budget_left(db, "A-SPENT") == 0
    written = accrue(uow, member.no, 500, on=date(2024, 9, 11))
    assert written.body["points"] == 10
    assert campaign_item(written, "B-DOUBLE")["points"] == 5
    assert campaign_item(written, "A-SPENT")["limited_by"] == "budget_exhausted"


def test_a_campaign_pays_each_member_up_to_the_cap(db: Runtime, uow: Uow) -> None:
    campaign(uow, "DOUBLE", multiplier_bp=20_000, per_member_cap=150)
    member, other = register(uow), register(uow)
    autumn = date(2024, 9, 10)
    assert accrue(uow, member.no, 10_000, on=autumn).body["points"] == 200
    second = accrue(uow, member.no, 10_000, on=autumn)
    assert second.body["points"] == 150
    assert campaign_item(second, "DOUBLE") | {"detail": ""} == {
        "rule": "campaign:DOUBLE",
        "kind": "campaign",
        "points": 50,
        "detail": "",
        "limited_by": "member_cap",
    }
    third = accrue(uow, member.no, 10_000, on=autumn)
    assert third.body["points"] == 100
    assert campaign_item(third, "DOUBLE")["limited_by"] == "member_cap"
    assert accrue(uow, other.no, 10_000, on=autumn).body["points"] == 200
    assert balance(db, member) == (450, 0, 0)
    assert budget_left(db, "DOUBLE") == 1_000_000 - 150 - 100


def test_refunding_campaign_points_refills_the_budget_and_the_cap(db: Runtime, uow: Uow) -> None:
    campaign(uow, "DOUBLE", multiplier_bp=20_000, per_member_cap=100, budget_points=500)
    member = register(uow)
    autumn = date(2024, 9, 10)
    accrue(uow, member.no, 10_000, on=autumn, external_id="autumn-1")
    assert budget_left(db, "DOUBLE") == 400
    assert refund(uow, "autumn-1", 5_000).body["points_reversed"] == 100
    assert budget_left(db, "DOUBLE") == 450
    again = accrue(uow, member.no, 10_000, on=autumn)
    assert campaign_item(again, "DOUBLE")["points"] == 50
    assert balance(db, member) == (250, 0, 0)
    assert breaches(db) == []


# -- idempotency ----------------------------------------------------------------------


def test_replaying_a_write_returns_the_first_answer_and_posts_nothing(
    db: Runtime, uow: Uow
) -> None:
    member = register(uow)
    first = accrue(uow, member.no, 88_800, external_id="pos-42")
    before = postings(db)
    again = accrue(uow, member.no, 88_800, external_id="pos-42")
    assert (first.replayed, again.replayed) == (False, True)
    assert again.body == first.body
    assert postings(db) == before
    assert balance(db, member) == (888, 0, 0)

    refunded = refund(uow, "pos-42", 800, external_id="rf-pos-42")
    assert refund(uow, "pos-42", 800, external_id="rf-pos-42").body == refunded.body
    spent = redeem(uow, member.no, "VOUCHER-MAILING-5", date(2024, 3, 10), external_id="rd-1")
    replay = redeem(uow, member.no, "VOUCHER-MAILING-5", date(2024, 3, 10), external_id="rd-1")
    assert replay.replayed and replay.body == spent.body
    assert balance(db, member) == (380, 0, 0)


def test_the_same_external_id_with_another_payload_is_a_conflict(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    accrue(uow, member.no, 100_000, external_id="pos-7")
    before = postings(db)
    with pytest.raises(Conflict):
        accrue(uow, member.no, 100_001, external_id="pos-7")
    refund(uow, "pos-7", 100, external_id="rf-7")
    with pytest.raises(Conflict):
        refund(uow, "pos-7", 200, external_id="rf-7")
    redeem(uow, member.no, "VOUCHER-MAILING-5", date(2024, 3, 10), external_id="rd-7")
    with pytest.raises(Conflict):
        redeem(
            uow, member.no, "VOUCHER-MAILING-5", date(2024, 3, 10), external_id="rd-7", quantity=2
        )
    assert postings(db) == before + 2
    assert balance(db, member) == (499, 0, 0)


def test_the_same_external_id_from_another_channel_is_another_purchase(
    db: Runtime, uow: Uow
) -> None:
    member = register(uow)
    accrue(uow, member.no, 10_000, external_id="shared-7")
    second = accrue(uow, member.no, 10_000, external_id="shared-7", channel="retail")
    assert not second.replayed
    assert balance(db, member) == (200, 0, 0)


# -- jobs -----------------------------------------------------------------------------


def test_release_and_expiry_jobs_are_idempotent(db: Runtime, uow: Uow) -> None:
    one, two = register(uow), register(uow)
    accrue(uow, one.no, 10_000, channel="web", on=date(2024, 12, 20))
    accrue(uow, two.no, 20_000, channel="app", on=date(2024, 12, 28))
    accrue(uow, one.no, 30_000, on=date(2023, 5, 5))
    accrue(uow, two.no, 40_000, on=date(2023, 8, 8))

    day = date(2025, 1, 3)
    first_release, first_expiry = release(uow, day), expire(uow, day)
    assert (first_release.released_lots, first_release.released_points) == (1, 100)
    assert first_expiry == (2, 700)
    before = postings(db), balance(db, one), balance(db, two)
    assert release(uow, day) == points_engine.JobReport()
    assert expire(uow, day) == (0, 0)
    assert (postings(db), balance(db, one), balance(db, two)) == before
    assert before[1:] == ((100, 0, 0), (0, 200, 0))
    assert release(uow, date(2025, 1, 4)).released_points == 200
    assert breaches(db) == []


def test_a_refund_of_points_that_already_expired_takes_them_from_breakage(
    db: Runtime, uow: Uow
) -> None:
    member = register(uow)
    accrue(uow, member.no, 60_000, on=date(2024, 3, 1), external_id="expired-purchase")
    accrue(uow, member.no, 20_000, on=date(2025, 3, 1), external_id="fresh-purchase")
    assert expire(uow, date(2026, 1, 1)) == (1, 600)
    assert balance(db, member) == (200, 0, 0)
    # The 600 points of the refunded purchase are gone to expiry already; the member's
    # other points are not taken a second time.
    refund(uow, "expired-purchase", 30_000)
    assert balance(db, member) == (200, 0, 0)
    refund(uow, "expired-purchase", 30_000)
    assert balance(db, member) == (200, 0, 0)
    assert breaches(db) == []


def test_a_goodwill_credit_pays_a_debt_first(db: Runtime, uow: Uow) -> None:
    member = register(uow)
    accrue(uow, member.no, 50_000, external_id="bought")
    redeem(uow, member.no, "VOUCHER-MAILING-5", date(2024, 3, 10))
    refund(uow, "bought", 50_000)
    _, _, debt = balance(db, member)
    assert debt > 0
    command = points_engine.AdjustmentCommand("GOODWILL-1", member.no, debt + 50, "补偿")
    with uow() as unit:
        written = answered(
            points_engine.adjust_points(
                unit, DIRECTORY, command, actor="finance", as_of=date(2024, 3, 11)
            )
        )
    assert written.body["balance"] == {"available": 50, "pending": 0}
    assert expiring(db, member) == [("2025-12-31", 50)]
    assert breaches(db) == []


def test_airline_miles_go_to_the_partner_account_and_come_back_on_cancel(
    db: Runtime, uow: Uow
) -> None:
    def partner_balance() -> int:
        with db.engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT COALESCE(SUM(CASE WHEN p.to_account_id = a.id THEN p.points"
                        " ELSE -p.points END), 0) FROM points_engine_posting p"
                        " JOIN points_engine_account a"
                        " ON a.id IN (p.to_account_id, p.from_account_id)"
                        " WHERE a.code = 'partner:MILES-MU-500' AND a.kind = 'partner'"
                    )
                ).scalar_one()
            )

    member = register(uow)
    accrue(uow, member.no, 500_000)
    redeemed = redeem(uow, member.no, "MILES-MU-500", date(2024, 3, 10))
    assert partner_balance() == 4_000
    cancel(uow, redeemed.body["redemption_id"], date(2024, 3, 11))
    assert partner_balance() == 0
    assert balance(db, member) == (5_000, 0, 0)
    assert breaches(db) == []
