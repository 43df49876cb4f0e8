"""Campaign simulation on a real database: exact cost, caps, budget run-out, holdout, no writes."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any

import pytest
from sqlalchemy import update

import crm
import points_engine
from common.clock import SHANGHAI
from common.errors import Invalid
from common.unit_of_work import UnitOfWork
from crm.adapters.orm import Member as MemberRow
from memberhub.runtime import Runtime
from points_engine import simulation
from tests.api.support import row_counts

Uow = Callable[[], UnitOfWork]

DIRECTORY = crm.CrmMemberDirectory()
SHOP = "SH-HP-0001"
SEPTEMBER = (date(2024, 9, 1), date(2024, 9, 30))
_phones = itertools.count(1)
_ids = itertools.count(1)


@dataclass(frozen=True)
class Member:
    no: str
    id: int


def register(uow: Uow) -> Member:
    phone = f"137{next(_phones):08d}"
    with uow() as unit:
        body = crm.register_member(unit, crm.RegisterCommand(phone=phone, name="模拟会员"))
    with uow() as unit:
        member_id = crm.queries.active_member_id(unit.session, body["member_no"])
    return Member(body["member_no"], member_id)


def accrue(
    uow: Uow,
    member: Member,
    moment: datetime,
    lines: Sequence[tuple[str, int]],
    *,
    channel: str = "counter",
) -> None:
    """One goods purchase; `lines` are (category, amount_fen)."""
    command = points_engine.AccrualCommand(
        external_id=f"sim-{next(_ids)}",
        member=points_engine.MemberRef(member_no=member.no),
        institution_code=SHOP,
        occurred_at=moment,
        business_type="goods",
        lines=tuple(
            points_engine.AccrualLine(f"SKU-{index}", 1, amount, category)
            for index, (category, amount) in enumerate(lines)
        ),
        total_fen=sum(amount for _, amount in lines),
    )
    with uow() as unit:
        points_engine.accrue_points(unit, DIRECTORY, channel, command)


def shanghai(day: date, hour: int = 12, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), SHANGHAI)


@dataclass(frozen=True)
class History:
    a: Member
    b: Member
    c: Member


@pytest.fixture
def history(uow: Uow) -> History:
    """Three regular members and their purchases around September 2024, in time order.

    | when (Shanghai)    | who | channel | lines (category fen)     |
    | 2024-08-31 12:00   | C   | counter | food 50000  (outside)    |
    | 2024-09-02 12:00   | A   | counter | food 25800               |
    | 2024-09-03 12:00   | B   | counter | home 9900                |
    | 2024-09-05 12:00   | A   | counter | food 10000 + home 5000   |
    | 2024-09-10 12:00   | B   | counter | food 12345               |
    | 2024-09-12 12:00   | B   | web     | food 5000                |
    | 2024-09-30 23:30   | C   | counter | food 7000  (15:30 UTC)   |
    | 2024-10-01 00:30   | C   | counter | food 9000  (outside)     |
    """
    a, b, c = register(uow), register(uow), register(uow)
    accrue(uow, c, shanghai(date(2024, 8, 31)), [("food", 50000)])
    accrue(uow, a, shanghai(date(2024, 9, 2)), [("food", 25800)])
    accrue(uow, b, shanghai(date(2024, 9, 3)), [("home", 9900)])
    accrue(uow, a, shanghai(date(2024, 9, 5)), [("food", 10000), ("home", 5000)])
    accrue(uow, b, shanghai(date(2024, 9, 10)), [("food", 12345)])
    accrue(uow, b, shanghai(date(2024, 9, 12)), [("food", 5000)], channel="web")
    accrue(uow, c, shanghai(date(2024, 9, 30), 23, 30), [("food", 7000)])
    accrue(uow, c, shanghai(date(2024, 10, 1), 0, 30), [("food", 9000)])
    return History(a, b, c)


def proposal(code: str = "SIM", **changes: Any) -> points_engine.CampaignCommand:
    fields: dict[str, Any] = {
        "code": code,
        "name": "模拟活动",
        "name_en": "Simulated",
        "starts_on": date(2025, 9, 1),
        "ends_on": date(2025, 9, 30),
        "budget_points": 10_000,
    }
    fields.update(changes)
    return points_engine.CampaignCommand(**fields)


def simulate(
    uow: Uow,
    command: points_engine.CampaignCommand,
    period: tuple[date, date] = SEPTEMBER,
    directory: Any = DIRECTORY,
) -> dict[str, Any]:
    with uow() as unit:
        return points_engine.simulate_campaign(unit, directory, command, *period)


def test_multiplier_campaign_costs_what_a_hand_computation_says(
    uow: Uow, db: Runtime, history: History
) -> None:
    # x1.5 on food at 1 point per yuan; every step floors; at most 150 points a member.
    # A 09-02: 258 eligible base -> 129; A 09-05: food 100 -> 50, cut to 150 - 129 = 21.
    # B 09-10: 123 -> 61; B 09-12 (web): 50 -> 25. C 09-30: 70 -> 35.
    command = proposal(multiplier_bp=15_000, categories=("food",), per_member_cap=150)
    before = row_counts(db)
    answer = simulate(uow, command)
    assert row_counts(db) == before
    assert answer == {
        "campaign": "SIM",
        "period": {"from": "2024-09-01", "to": "2024-09-30"},
        "accruals_examined": 6,
        "eligible_accruals": 5,
        "participants": 3,
        "holdout_members": 0,
        "eligible_gmv_fen": 25800 + 10000 + 12345 + 5000 + 7000,
        "points_cost": 129 + 21 + 61 + 25 + 35,
        "budget_points": 10_000,
        "budget_left": 10_000 - 271,
        "budget_exhausted_on": None,
        "members_capped": 1,
    }


def _holdout_code(only: Member, others: Sequence[Member], pct: int) -> str:
    for n in range(1000):
        code = f"BONUS-{n}"
        if points_engine.in_holdout(code, only.id, pct) and not any(
            points_engine.in_holdout(code, m.id, pct) for m in others
        ):
            return code
    raise AssertionError("no campaign code puts exactly that member in the holdout")


def test_bonus_campaign_caps_members_runs_out_of_budget_and_keeps_a_holdout(
    uow: Uow, db: Runtime, history: History
) -> None:
    code = _holdout_code(history.c, [history.a, history.b], 50)
    command = proposal(
        code,
        bonus_points=80,
        per_member_cap=100,
        budget_points=200,
        channels=("counter",),
        holdout_pct=50,
    )
    # In order: A 80 (120 left); B home 80 (40 left); A 20 (cap, 20 left); B food 20
    # (cap, 0 left on 2024-09-10); B web is not targeted; C is in the holdout.
    before = row_counts(db)
    answer = simulate(uow, command)
    assert row_counts(db) == before
    assert answer == {
        "campaign": code,
        "period": {"from": "2024-09-01", "to": "2024-09-30"},
        "accruals_examined": 6,
        "eligible_accruals": 5,
        "participants": 2,
        "holdout_members": 1,
        "eligible_gmv_fen": 25800 + 9900 + 15000 + 12345,
        "points_cost": 200,
        "budget_points": 200,
        "budget_left": 0,
        "budget_exhausted_on": "2024-09-10",
        "members_capped": 2,
    }


def test_budget_runs_out_mid_period_and_later_accruals_earn_nothing(
    uow: Uow, history: History
) -> None:
    answer = simulate(uow, proposal(bonus_points=80, budget_points=200))
    # A 80, B 80, A 40 (the last 40 on 2024-09-05); nothing after.
    assert answer["points_cost"] == 200
    assert answer["budget_left"] == 0
    assert answer["budget_exhausted_on"] == "2024-09-05"
    assert answer["participants"] == 2
    assert answer["eligible_accruals"] == 6
    assert answer["members_capped"] == 0


def test_tier_targets_use_the_members_current_tier(uow: Uow, history: History) -> None:
    with uow() as unit:
        unit.session.execute(
            update(MemberRow).where(MemberRow.id == history.b.id).values(tier="silver")
        )
        unit.commit()
    answer = simulate(uow, proposal(bonus_points=10, tiers=("silver",)))
    assert answer["eligible_accruals"] == 3
    assert answer["participants"] == 1
    assert answer["points_cost"] == 30
    assert answer["eligible_gmv_fen"] == 9900 + 12345 + 5000


class CountingDirectory:
    def __init__(self) -> None:
        self.chunks: list[list[int]] = []

    def tiers_of(self, uow: UnitOfWork, member_ids: Sequence[int]) -> dict[int, str]:
        self.chunks.append(list(member_ids))
        return DIRECTORY.tiers_of(uow, member_ids)


def test_accruals_stream_in_chunks_with_one_tier_lookup_each(
    uow: Uow, history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = proposal(multiplier_bp=15_000, categories=("food",), per_member_cap=150)
    whole = simulate(uow, command)
    monkeypatch.setattr(simulation, "CHUNK_SIZE", 2)
    directory = CountingDirectory()
    assert simulate(uow, command, directory=directory) == whole
    assert len(directory.chunks) == 3
    assert all(1 <= len(ids) <= 2 for ids in directory.chunks)
    a, b = history.a.id, history.b.id
    assert directory.chunks[0] == sorted({a, b})


def test_an_existing_campaign_replays_on_its_own_window_a_year_earlier(
    uow: Uow, db: Runtime, history: History
) -> None:
    command = proposal("DOUBLE-FOOD", multiplier_bp=20_000, categories=("food",))
    with uow() as unit:
        points_engine.create_campaign(unit, command)
    before = row_counts(db)
    with uow() as unit:
        stored = points_engine.stored_campaign(unit, "DOUBLE-FOOD")
        window = points_engine.history_window(stored)
        answer = points_engine.simulate_campaign(unit, DIRECTORY, stored, *window)
    assert row_counts(db) == before
    assert window == SEPTEMBER
    assert stored.categories == ("food",) and stored.multiplier_bp == 20_000
    assert answer == simulate(uow, command)
    assert answer["points_cost"] == 258 + 100 + 123 + 50 + 70
    with uow() as unit, pytest.raises(points_engine.UnknownCampaign):
        points_engine.stored_campaign(unit, "NO-SUCH")


@pytest.mark.parametrize(
    ("period", "changes", "field"),
    [
        ((date(2024, 9, 30), date(2024, 9, 1)), {}, "history_to"),
        ((date(2023, 1, 1), date(2024, 1, 2)), {}, "history_to"),
        (SEPTEMBER, {"ends_on": date(2025, 8, 1)}, "ends_on"),
        (SEPTEMBER, {"multiplier_bp": 20_000}, "multiplier_bp"),
        (SEPTEMBER, {"categories": ("toys",)}, "categories"),
    ],
)
def test_bad_periods_and_campaigns_are_invalid(
    uow: Uow, period: tuple[date, date], changes: dict[str, Any], field: str
) -> None:
    command = replace(proposal(bonus_points=10), **changes)
    with pytest.raises(Invalid) as raised:
        simulate(uow, command, period)
    assert [error.field for error in raised.value.errors] == [field]


def test_a_leap_year_of_history_is_allowed(uow: Uow) -> None:
    answer = simulate(uow, proposal(bonus_points=10), (date(2024, 1, 1), date(2024, 12, 31)))
    assert answer["period"] == {"from": "2024-01-01", "to": "2024-12-31"}
    assert answer["accruals_examined"] == 0


def test_default_window_moves_back_one_year() -> None:
    leap = proposal(starts_on=date(2028, 2, 29), ends_on=date(2028, 3, 31))
    assert points_engine.history_window(leap) == (date(2027, 2, 28), date(2027, 3, 31))
    assert points_engine.history_window(leap, history_to=date(2027, 4, 1)) == (
        date(2027, 2, 28),
        date(2027, 4, 1),
    )


def test_a_simulation_does_not_hold_up_writers(uow: Uow, history: History) -> None:
    # On SQLite a unit of work normally begins IMMEDIATE (the one write lock); a
    # simulation must not take it, or live accruals would queue behind a long replay.
    with uow() as unit:
        points_engine.create_campaign(unit, proposal("STORED", bonus_points=10))
    with uow() as reader:
        proposed = points_engine.simulate_campaign(
            reader, DIRECTORY, proposal(bonus_points=10), *SEPTEMBER
        )
        accrue(uow, history.a, shanghai(date(2024, 9, 20)), [("food", 1000)])
    with uow() as reader:
        stored = points_engine.stored_campaign(reader, "STORED")
        again = points_engine.simulate_campaign(reader, DIRECTORY, stored, *SEPTEMBER)
        accrue(uow, history.a, shanghai(date(2024, 9, 21)), [("food", 1000)])
    assert proposed["accruals_examined"] == 6
    assert again["accruals_examined"] == 7
    assert simulate(uow, stored)["accruals_examined"] == 8
