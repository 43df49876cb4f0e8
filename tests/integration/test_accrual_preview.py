"""The points preview: the same engine as an accrual, writing nothing.

For any purchase (business type, channel, categories, amounts, a campaign with a cap
and a small budget, a member's earlier purchases), what the preview says equals what
posting the same purchase then answers, and the preview changes no row.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

import crm
import points_engine
from common.clock import SHANGHAI
from common.db import read_session
from common.errors import DomainError
from common.idempotency import as_answer
from common.unit_of_work import ReadOnlyUnitOfWork, UnitOfWork
from memberhub.runtime import Runtime

Uow = Callable[[], UnitOfWork]

DIRECTORY = crm.CrmMemberDirectory()
SHOP = "SH-HP-0001"
DAY = date(2024, 9, 10)
_numbers = itertools.count(1)
LEDGER_TABLES = (
    "points_engine_posting",
    "points_engine_lot",
    "points_engine_accrual",
    "points_engine_campaign_award",
    "common_idempotency",
)

purchases = st.lists(
    st.tuples(
        st.sampled_from([None, "food", "farm", "home", "digital"]),
        st.integers(min_value=1, max_value=500_000),
        st.integers(min_value=1, max_value=3),
    ),
    min_size=1,
    max_size=4,
)
purchase = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(["counter", "web", "app", "retail"]),
        "business_type": st.sampled_from(["goods", "philately"]),
        "lines": purchases,
        "hour": st.integers(min_value=0, max_value=23),
    }
)


def _command(member_no: str, spec: dict[str, Any]) -> points_engine.AccrualCommand:
    lines = tuple(
        points_engine.AccrualLine(f"SKU-{n}", quantity, amount, category)
        for n, (category, amount, quantity) in enumerate(spec["lines"])
    )
    return points_engine.AccrualCommand(
        external_id=f"PV-{next(_numbers)}",
        member=points_engine.MemberRef(member_no=member_no),
        institution_code=SHOP,
        occurred_at=datetime.combine(DAY, time(spec["hour"]), SHANGHAI),
        business_type=spec["business_type"],
        lines=lines,
        total_fen=sum(line.amount_fen for line in lines),
    )


def _counts(db: Runtime) -> dict[str, int]:
    with read_session(db.session_factory) as session:
        return {
            table: int(session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
            for table in (*LEDGER_TABLES, "points_engine_account")
        } | {
            "balances": int(
                session.execute(
                    text("SELECT COALESCE(SUM(ABS(balance)), 0) FROM points_engine_account")
                ).scalar_one()
            )
        }


def _preview(db: Runtime, channel: str, command: points_engine.AccrualCommand) -> Any:
    with ReadOnlyUnitOfWork(db.session_factory) as unit:
        return points_engine.preview_accrual(unit, DIRECTORY, channel, command)


@pytest.fixture
def member_no(uow: Uow) -> str:
    phone = f"137{next(_numbers):08d}"
    with uow() as unit:
        return str(
            crm.register_member(unit, crm.RegisterCommand(phone=phone, name="预览"))["member_no"]
        )


@pytest.fixture
def festival(uow: Uow) -> str:
    """Double points on food with a per-member cap and a budget that runs out, and a
    philately bonus with a holdout group."""
    common: dict[str, Any] = {"starts_on": date(2024, 9, 1), "ends_on": date(2024, 9, 30)}
    with uow() as unit:
        points_engine.create_campaign(
            unit,
            points_engine.CampaignCommand(
                code="PREVIEW-DOUBLE",
                name="预览双倍",
                name_en="Preview double",
                budget_points=3_000,
                multiplier_bp=20_000,
                per_member_cap=2_000,
                categories=("food",),
                **common,
            ),
        )
        points_engine.create_campaign(
            unit,
            points_engine.CampaignCommand(
                code="PREVIEW-STAMPS",
                name="集邮有礼",
                name_en="Stamp bonus",
                budget_points=10_000,
                bonus_points=50,
                holdout_pct=30,
                business_types=("philately",),
                **common,
            ),
        )
    return "PREVIEW-DOUBLE"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(purchase, min_size=1, max_size=5))
def test_a_preview_equals_the_accrual_it_previews_and_writes_nothing(
    db: Runtime, uow: Uow, member_no: str, festival: str, specs: list[dict[str, Any]]
) -> None:
    for spec in specs:
        command = _command(member_no, spec)
        before = _counts(db)
        try:
            preview = _preview(db, spec["channel"], command)
        except DomainError as refused:
            with pytest.raises(type(refused)), uow() as unit:
                points_engine.accrue_points(unit, DIRECTORY, spec["channel"], command)
            continue
        assert _counts(db) == before
        with uow() as unit:
            accrued = points_engine.accrue_points(unit, DIRECTORY, spec["channel"], command).body
        assert preview.points == accrued.points
        assert preview.status == accrued.status
        assert preview.available_on == accrued.available_on
        assert preview.breakdown == accrued.breakdown
        assert preview.balance == accrued.balance
        assert preview.member_no == accrued.member_no
        drawn = {draw.campaign_code: draw.points for draw in preview.budgets}
        awarded = {
            item["rule"].removeprefix("campaign:"): item["points"]
            for item in accrued.breakdown
            if item["rule"].startswith("campaign:") and item["points"] > 0
        }
        assert drawn == awarded


def test_a_preview_names_the_budget_it_would_draw(
    db: Runtime, uow: Uow, member_no: str, festival: str
) -> None:
    command = _command(
        member_no,
        {
            "channel": "counter",
            "business_type": "goods",
            "lines": [("food", 50_000, 1)],
            "hour": 10,
        },
    )
    preview = _preview(db, "counter", command)
    (draw,) = preview.budgets
    assert draw.campaign_code == festival
    assert draw.budget_before == 3_000
    assert draw.budget_after == 3_000 - draw.points
    assert draw.points > 0
    answer = as_answer(preview)
    assert answer["budgets"][0]["campaign_code"] == festival


def test_a_preview_refuses_what_an_accrual_refuses(db: Runtime, member_no: str) -> None:
    command = _command(
        member_no,
        {"channel": "counter", "business_type": "goods", "lines": [("food", 100, 1)], "hour": 10},
    )
    wrong_total = points_engine.AccrualCommand(**{**command.__dict__, "total_fen": 99})
    with pytest.raises(DomainError) as refused:
        _preview(db, "counter", wrong_total)
    assert [error.field for error in refused.value.errors] == ["total_fen"]
