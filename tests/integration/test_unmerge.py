"""Undoing a wrong merge: the restored member gets back what the merge moved, as it stands,
and what the survivor used of it meanwhile is named."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import crm
from common.errors import Conflict, NotFound
from memberhub.runtime import Runtime
from points_engine.adapters import orm
from tests.integration.test_ledger_services import (
    Member,
    Uow,
    accrue,
    add_reward,
    balance,
    breaches,
    cancel,
    expiring,
    redeem,
    refund,
    register,
)

SPEND_DAY = date(2024, 3, 10)
_rewards = itertools.count(1)


def merge(uow: Uow, survivor: Member, absorbed: Member) -> str:
    with uow() as unit:
        return str(crm.merge_members(unit, survivor.no, absorbed.no)["merge_no"])


def unmerge(uow: Uow, merge_no: str) -> dict:
    with uow() as unit:
        return crm.unmerge_members(unit, merge_no, by="staff:admin-test")


def test_the_restored_member_gets_its_lots_back_and_the_survivors_spending_is_named(
    db: Runtime, uow: Uow
) -> None:
    survivor, absorbed = register(uow), register(uow)
    accrue(uow, survivor.no, 80_000, on=date(2024, 2, 1))  # 800, expires 2025-12-31
    accrue(uow, absorbed.no, 50_000, on=date(2023, 7, 1))  # 500, expires 2024-12-31
    accrue(uow, absorbed.no, 20_000, on=date(2024, 3, 1), channel="web")  # 200 pending
    merge_no = merge(uow, survivor, absorbed)
    spent = redeem(uow, survivor.no, "VOUCHER-MAILING-5", SPEND_DAY)  # 500: the 2024 lot

    body = unmerge(uow, merge_no)

    assert body["restored"]["member_no"] == absorbed.no
    assert body["restored"]["status"] == "active"
    assert (body["points_returned"], body["pending_points_returned"]) == (0, 200)
    assert body["spent_by_survivor"] == {
        "points": 500,
        "redemptions": [{"redemption_id": spent.body["redemption_id"], "points": 500}],
    }
    assert balance(db, absorbed) == (0, 200, 0)
    assert balance(db, survivor) == (800, 0, 0)
    assert expiring(db, survivor) == [("2025-12-31", 800)]
    with uow() as unit:
        assert crm.queries.active_member_id(unit.session, absorbed.no) == absorbed.id
    # The restored member's next purchase is its own again.
    assert accrue(uow, absorbed.no, 10_000, on=SPEND_DAY).body["member_no"] == absorbed.no
    assert breaches(db) == []


def test_a_redemption_cancelled_after_the_unmerge_gives_the_points_to_the_lots_owner(
    db: Runtime, uow: Uow
) -> None:
    survivor, absorbed = register(uow), register(uow)
    accrue(uow, survivor.no, 80_000, on=date(2024, 2, 1))
    accrue(uow, absorbed.no, 50_000, on=date(2023, 7, 1))
    merge_no = merge(uow, survivor, absorbed)
    spent = redeem(uow, survivor.no, "VOUCHER-MALL-10", SPEND_DAY)  # 1,000: 500 + 500
    unmerge(uow, merge_no)
    assert (balance(db, absorbed), balance(db, survivor)) == ((0, 0, 0), (300, 0, 0))

    body = cancel(uow, spent.body["redemption_id"], SPEND_DAY)

    assert body["points_returned"] == 1_000
    assert balance(db, absorbed) == (500, 0, 0)
    assert balance(db, survivor) == (800, 0, 0)
    assert expiring(db, absorbed) == [("2024-12-31", 500)]
    assert breaches(db) == []


def test_a_debt_the_survivor_paid_goes_back_to_the_restored_member(db: Runtime, uow: Uow) -> None:
    survivor, absorbed = register(uow), register(uow)
    accrue(uow, survivor.no, 100_000)
    accrue(uow, absorbed.no, 80_000, external_id="unmerge-debt-buy")
    redeem(uow, absorbed.no, "GIFT-POSTCARD-SET", SPEND_DAY)
    refund(uow, "unmerge-debt-buy", 80_000)
    merge_no = merge(uow, survivor, absorbed)
    assert balance(db, survivor) == (200, 0, 0)

    body = unmerge(uow, merge_no)

    assert body["debt_returned"] == 800
    assert balance(db, absorbed) == (0, 0, 800)
    assert balance(db, survivor) == (1_000, 0, 0)
    assert breaches(db) == []


def test_identifiers_and_campaign_totals_go_back(db: Runtime, uow: Uow) -> None:
    survivor, absorbed = register(uow), register(uow)
    with uow() as unit:
        crm.link_identifier(unit, absorbed.no, "card_no", "6221880000123456")
        held = len(crm.queries.member_profile(unit.session, absorbed.no)["identifiers"])
    merge_no = merge(uow, survivor, absorbed)
    with uow() as unit:
        assert crm.queries.lookup(unit.session, "card_no", "6221880000123456")["member_no"] == (
            survivor.no
        )

    body = unmerge(uow, merge_no)

    assert (body["identifiers_returned"], body["identifiers_kept"]) == (held, 0)
    with uow() as unit:
        found = crm.queries.lookup(unit.session, "card_no", "6221880000123456")
        assert found["member_no"] == absorbed.no
        merges = crm.queries.merges_of(unit.session, survivor.no)
    assert [(m["merge_no"], m["undone_by"]) for m in merges] == [(merge_no, "staff:admin-test")]


def test_an_unmerge_is_refused_when_unknown_done_already_or_the_survivor_merged_since(
    db: Runtime, uow: Uow
) -> None:
    first, second, third = register(uow), register(uow), register(uow)
    accrue(uow, second.no, 50_000)
    with pytest.raises(NotFound):
        unmerge(uow, "MG00000000000000000000")
    merge_no = merge(uow, second, first)
    merge(uow, third, second)
    with pytest.raises(Conflict, match="undo that merge first"):
        unmerge(uow, merge_no)
    assert balance(db, third) == (500, 0, 0)
    later = crm.queries.merges_of
    with uow() as unit:
        undo_first = later(unit.session, third.no)[0]["merge_no"]
    unmerge(uow, undo_first)
    unmerge(uow, merge_no)
    with pytest.raises(Conflict, match="undone"):
        unmerge(uow, merge_no)
    assert (balance(db, first), balance(db, second), balance(db, third)) == (
        (0, 0, 0),
        (500, 0, 0),
        (0, 0, 0),
    )
    assert breaches(db) == []


# -- the model ------------------------------------------------------------------------


@dataclass
class ModelLot:
    owner: str  # "survivor" or "absorbed"
    remaining: int
    expires_on: date
    order: int  # creation order, which is lot-id order


def _spend(lots: list[ModelLot], points: int) -> dict[int, int]:
    """FIFO by expiry, ties by age: what each lot (by order) gave."""
    taken: dict[int, int] = {}
    for lot in sorted(lots, key=lambda lot: (lot.expires_on, lot.order)):
        part = min(lot.remaining, points)
        lot.remaining -= part
        points -= part
        taken[lot.order] = part
    assert points == 0
    return taken


lot_spec = st.tuples(
    st.sampled_from(["survivor", "absorbed"]),
    # 10 to 300 points a lot: the two together stay below silver's 2,000 qualifying
    # points, so no tier multiplier changes what a later purchase earns.
    st.integers(min_value=1, max_value=30).map(lambda tens: tens * 1_000),
    st.sampled_from([date(2023, 5, 1), date(2023, 11, 1), date(2024, 1, 15)]),
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=st.lists(lot_spec, min_size=1, max_size=6),
    spends=st.lists(st.integers(min_value=1, max_value=60), max_size=3),
)
def test_balances_and_lots_after_an_unmerge_equal_an_independent_model(
    db: Runtime, uow: Uow, specs: list[tuple[str, int, date]], spends: list[int]
) -> None:
    members = {"survivor": register(uow), "absorbed": register(uow)}
    model: list[ModelLot] = []
    for order, (owner, amount_fen, earned) in enumerate(specs):
        accrue(uow, members[owner].no, amount_fen, on=earned)
        model.append(ModelLot(owner, amount_fen // 100, date(earned.year + 1, 12, 31), order))
    merge_no = merge(uow, members["survivor"], members["absorbed"])
    used = 0
    for tens in spends:
        cost = tens * 10
        if cost > sum(lot.remaining for lot in model):
            continue
        code = f"UNMERGE-MODEL-{next(_rewards)}"
        add_reward(uow, code, cost)
        redeem(uow, members["survivor"].no, code, SPEND_DAY)
        taken = _spend(model, cost)
        used += sum(p for order, p in taken.items() if model[order].owner == "absorbed")

    body = unmerge(uow, merge_no)

    def held(owner: str) -> list[tuple[str, int]]:
        by_day: dict[str, int] = {}
        for lot in model:
            if lot.owner == owner and lot.remaining:
                day = lot.expires_on.isoformat()
                by_day[day] = by_day.get(day, 0) + lot.remaining
        return sorted(by_day.items())

    for owner, member in members.items():
        assert expiring(db, member) == held(owner)
        assert balance(db, member) == (sum(p for _, p in held(owner)), 0, 0)
    assert body["spent_by_survivor"]["points"] == used
    assert body["points_returned"] == sum(p for _, p in held("absorbed"))
    assert breaches(db) == []


def test_merges_record_every_lot_they_move(db: Runtime, uow: Uow) -> None:
    survivor, absorbed = register(uow), register(uow)
    accrue(uow, absorbed.no, 50_000)
    accrue(uow, absorbed.no, 20_000, channel="web")
    merge(uow, survivor, absorbed)
    with uow() as unit:
        recorded = unit.session.scalars(
            select(orm.MergedLot.remaining_at_merge)
            .join(orm.AccountMerge)
            .where(orm.AccountMerge.absorbed_member_id == absorbed.id)
            .order_by(orm.MergedLot.lot_id)
        ).all()
    assert recorded == [500, 200]
