"""Members in bulk: a batch registration follows the one-by-one rules; the tier review in bulk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

import crm
import points_engine
from common.clock import as_utc, simulated_time
from common.errors import DomainError
from common.unit_of_work import UnitOfWork
from crm.adapters.orm import Identifier, Member, TierChange

AS_OF = date(2026, 6, 30)
JOINED = datetime(2025, 3, 1, 2, 30, tzinfo=UTC)

Uow = Callable[[], UnitOfWork]


def _commands(count: int, first: int = 0) -> list[crm.RegisterCommand]:
    return [
        crm.RegisterCommand(
            phone=f"1390000{first + i:04d}",
            name=f"会员{first + i}",
            card_no=f"622188{first + i:010d}" if i % 2 == 0 else None,
            birthday=date(1980, 1, 1 + i % 28),
            marketing_consent=i % 3 == 0,
            channel="counter",
            institution_code="SH-HP-0001",
        )
        for i in range(count)
    ]


def _member_count(uow: Uow) -> int:
    with uow() as unit:
        return int(unit.session.scalar(select(func.count()).select_from(Member)) or 0)


def test_a_batch_registers_members_at_their_own_moments_with_open_accounts(uow: Uow) -> None:
    moments = [JOINED + timedelta(days=i) for i in range(5)]
    with uow() as unit:
        infos = crm.register_members(unit, _commands(5), registered_at=moments)
        unit.commit()
    assert [info.tier for info in infos] == ["regular"] * 5
    assert len({info.member_no for info in infos}) == 5
    assert [info.member_id for info in infos] == sorted(info.member_id for info in infos)
    with uow() as unit:
        members = unit.session.scalars(select(Member).order_by(Member.id)).all()
        assert [as_utc(m.created_at) for m in members] == moments
        assert [m.registered_channel for m in members] == ["counter"] * 5
        assert [m.marketing_consent for m in members] == [True, False, False, True, False]
        kinds = unit.session.execute(
            select(Identifier.type, func.count()).group_by(Identifier.type)
        ).all()
        assert dict(kinds) == {"phone": 5, "card_no": 3}
        # Each is found by phone and card like a member registered one by one.
        directory = crm.CrmMemberDirectory()
        by_card = directory.resolve(unit, points_engine.MemberRef(card_no="6221880000000002"), "m")
        assert by_card == infos[2]
    with uow() as unit:
        earned = points_engine.accrue_points(
            unit,
            crm.CrmMemberDirectory(),
            "counter",
            points_engine.AccrualCommand(
                external_id="BATCH-1",
                member=points_engine.MemberRef(phone="13900000004"),
                institution_code="SH-HP-0001",
                occurred_at=JOINED + timedelta(days=10),
                business_type="goods",
                lines=(points_engine.AccrualLine("X", 1, 5000, "food"),),
                total_fen=5000,
            ),
        )
    assert earned.body.points == 50 and earned.body.member_no == infos[4].member_no


@pytest.mark.parametrize(
    ("commands", "field"),
    [
        (_commands(2, first=0), "[0].phone"),  # taken by the first batch
        ([*_commands(2, first=10), _commands(1, first=10)[0]], "[2].phone"),  # twice here
        ([crm.RegisterCommand("13900009999", "  ")], "[0].name"),
        (  # a card given twice: named by its place in the batch
            [
                crm.RegisterCommand("13900000020", "甲", card_no="6221880000000099"),
                crm.RegisterCommand("13900000021", "乙"),
                crm.RegisterCommand("13900000022", "丙", card_no="6221880000000099"),
            ],
            "[2].card_no",
        ),
        ([crm.RegisterCommand("13900000023", "丁", card_no="6221880000000000")], "[0].card_no"),
        ([crm.RegisterCommand("12345", "某人")], "[0].phone"),
    ],
)
def test_a_batch_with_one_bad_registration_writes_nothing(
    uow: Uow, commands: list[crm.RegisterCommand], field: str
) -> None:
    with uow() as unit:
        crm.register_members(unit, _commands(2, first=0))
        unit.commit()
    before = _member_count(uow)
    with uow() as unit, pytest.raises(DomainError) as raised:
        crm.register_members(unit, commands)
        unit.commit()
    assert [error.field for error in raised.value.errors] == [field]
    assert _member_count(uow) == before


def _earn(uow: Uow, phone: str, yuan: int, on: datetime, external_id: str) -> None:
    # Reported an hour after the sale: a tier the year now earns is the member's at once.
    with simulated_time(on + timedelta(hours=1)), uow() as unit:
        points_engine.accrue_points(
            unit,
            crm.CrmMemberDirectory(),
            "counter",
            points_engine.AccrualCommand(
                external_id=external_id,
                member=points_engine.MemberRef(phone=phone),
                institution_code="SH-HP-0001",
                occurred_at=on,
                business_type="goods",
                lines=(points_engine.AccrualLine("X", 1, yuan * 100, "food"),),
                total_fen=yuan * 100,
            ),
        )


def test_tiers_rise_at_once_and_fall_at_a_review_after_the_grace(uow: Uow) -> None:
    with uow() as unit:
        silver, gold, idle, absorbed = crm.register_members(unit, _commands(4))
        unit.commit()
    recently = datetime(2026, 5, 1, 3, tzinfo=UTC)
    _earn(uow, "13900000000", 2_500, recently, "T-1")
    _earn(uow, "13900000001", 5_000, recently, "T-2")
    _earn(uow, "13900000003", 3_500, recently, "T-3")
    _earn(uow, "13900000002", 9_000, datetime(2025, 5, 1, 3, tzinfo=UTC), "T-4")  # too long ago
    with simulated_time(recently + timedelta(days=1)), uow() as unit:
        crm.merge_members(unit, gold.member_no, absorbed.member_no)
    with uow() as unit:
        tiers = dict(unit.session.execute(select(Member.id, Member.tier)).all())
    # Up at once: silver with 2,500 points; gold when the merge added the absorbed 3,500;
    # gold for the idle member back when its 9,000 were recent.
    assert (tiers[silver.member_id], tiers[gold.member_id], tiers[idle.member_id]) == (
        "silver",
        "gold",
        "gold",
    )
    with uow() as unit:
        assert crm.review_tiers(unit, AS_OF) == {
            "reviewed": 3,
            "changed": 0,
            "upgraded": 0,
            "downgraded": 0,
            "in_grace": 1,  # the idle member's year fell short: 90 days' grace from today
        }
    with uow() as unit:
        rows = unit.session.execute(
            select(Member.id, Member.tier, Member.tier_reviewed_on, Member.status)
        ).all()
    reviewed = {member_id: (tier, on) for member_id, tier, on, status in rows if status == "active"}
    assert reviewed == {
        silver.member_id: ("silver", AS_OF),
        gold.member_id: ("gold", AS_OF),  # 5,000 of its own and 3,500 of the absorbed record
        idle.member_id: ("gold", AS_OF),
    }
    # A year later nothing was earned in the trailing year: both keep their tier for the
    # 90 days of grace from that review, and drop back at the first review after them.
    year_later = AS_OF + timedelta(days=366)
    for on, changed, in_grace in (
        (year_later, 1, 2),  # the idle member's grace ran out long ago
        (year_later + timedelta(days=89), 0, 0),
        (year_later + timedelta(days=90), 2, 0),
    ):
        with uow() as unit:
            review = crm.review_tiers(unit, on)
        assert (review["changed"], review["downgraded"], review["in_grace"]) == (
            changed,
            changed,
            in_grace,
        ), on
    with uow() as unit:
        history = unit.session.execute(
            select(
                TierChange.member_id, TierChange.from_tier, TierChange.to_tier, TierChange.reason
            ).order_by(TierChange.id)
        ).all()
    assert sorted(tuple(row) for row in history) == sorted(
        [
            (silver.member_id, "regular", "silver", "upgrade"),
            (gold.member_id, "regular", "silver", "upgrade"),
            (absorbed.member_id, "regular", "silver", "upgrade"),
            (idle.member_id, "regular", "gold", "upgrade"),
            (gold.member_id, "silver", "gold", "upgrade"),
            (idle.member_id, "gold", "regular", "downgrade"),
            (silver.member_id, "silver", "regular", "downgrade"),
            (gold.member_id, "gold", "regular", "downgrade"),
        ]
    )
