"""Member scores in the warehouse: the sync loads each run once, follows a re-train that
replaces a run, drops deleted runs; the queries answer a small hand-built dataset with
numbers worked out by hand."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import delete

import crm.insights
from common.unit_of_work import transaction
from crm.insights.orm import InsightRun
from memberhub.runtime import Runtime
from tests.integration.insights_world import Warehouse, add_crm_members, at, key
from warehouse import WarehouseReader, member_scores, sync_warehouse
from warehouse.member_scores import Condition, ListRequest
from warehouse.queries import Filters

D0, D1, D2 = date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28)
ALL = Filters(date(2026, 1, 1), date(2026, 2, 28))


def _score(member_id: int, segment: str, risk: float, value: int | None) -> dict[str, Any]:
    return {
        "member_id": member_id,
        "r": 3,
        "f": 2,
        "m": 4,
        "segment_code": segment,
        "churn_risk": risk,
        "alive": None if value is None else 1 - risk,
        "expected_purchases": None if value is None else 1.5,
        "expected_value_fen": value,
    }


def _train(db: Runtime, as_of: date, scores: list[dict[str, Any]]) -> int:
    with transaction(db.session_factory) as uow:
        return crm.insights.store_scores(
            uow, as_of=as_of, model_version="test", metrics={}, scores=scores
        )


def _rows(path: Path) -> list[tuple[Any, ...]]:
    reader = WarehouseReader(path)
    try:
        with reader.cursor() as cursor:
            return cursor.execute(
                "SELECT r.as_of, s.member_id, s.segment_code, s.churn_risk, s.alive, "
                "s.expected_purchases, s.expected_value_fen "
                "FROM fact_member_score s JOIN dim_insight_run r USING (run_id) ORDER BY ALL"
            ).fetchall()
    finally:
        reader.close()


def test_runs_are_loaded_once_and_a_retrain_replaces_its_run(db: Runtime, tmp_path: Path) -> None:
    a, b = add_crm_members(db.session_factory, 2, start_id=72_000_000)
    path = tmp_path / "wh.duckdb"
    _train(db, D1, [_score(a, "lost", 0.9, 12_345), _score(b, "new", 0.1234, None)])
    first = sync_warehouse(db.engine, path)
    assert first.rows["fact_member_score"] == 2
    assert first.rows["dim_segment"] >= 6
    assert _rows(path) == [
        (D1, a, "lost", 0.9, pytest.approx(0.1), 1.5, 12_345),
        (D1, b, "new", 0.1234, None, None, None),
    ]
    # Nothing new: nothing written, and the scores are not read again.
    again = sync_warehouse(db.engine, path)
    assert again.rows["fact_member_score"] == 0 and again.read["crm_member_score"] == 0

    _train(db, D2, [_score(a, "lost", 0.95, 100)])
    assert sync_warehouse(db.engine, path).rows["fact_member_score"] == 1
    # A re-train of D2 replaces that run: its old scores go, the new ones come.
    _train(db, D2, [_score(a, "regular", 0.2, 200), _score(b, "regular", 0.3, 300)])
    report = sync_warehouse(db.engine, path)
    assert report.rows["fact_member_score"] == 1 + 2
    day2 = [row for row in _rows(path) if row[0] == D2]
    assert [(r[1], r[2], r[6]) for r in day2] == [(a, "regular", 200), (b, "regular", 300)]
    assert len(_rows(path)) == 4

    # A run deleted at the source leaves the warehouse too.
    with db.engine.begin() as connection:
        connection.execute(delete(InsightRun).where(InsightRun.as_of == D1))
    sync_warehouse(db.engine, path)
    assert {row[0] for row in _rows(path)} == {D2}
    # And a rebuild holds exactly what the incremental syncs left.
    rebuilt = tmp_path / "rebuilt.duckdb"
    sync_warehouse(db.engine, rebuilt)
    assert _rows(rebuilt) == _rows(path)


# -- the queries, on a warehouse written by hand ------------------------------------------


@pytest.fixture
def world(tmp_path: Path) -> Any:
    w = Warehouse(tmp_path / "scores.duckdb")
    for code, name, name_en, priority in (
        ("lost", "已流失", "Lost", 20),
        ("champions", "高价值忠诚", "High-value loyal", 30),
        ("regular", "一般", "Regular", 90),
    ):
        w.add("dim_segment", code=code, name=name, name_en=name_en, priority=priority)
    w.add(
        "dim_institution",
        code="SH",
        name="上海",
        name_en="SH",
        kind="company",
        level=0,
        company_code="SH",
    )
    w.add(
        "dim_institution",
        code="HP",
        name="黄浦",
        name_en="HP",
        kind="outlet",
        level=2,
        company_code="SH",
        parent_code="SH",
    )
    # Members 1..5 (5 merged away), two homes, two channels.
    homes = {1: "HP", 2: "HP", 3: "SH", 4: "SH", 5: "HP"}
    for member_id, home in homes.items():
        w.add(
            "dim_member",
            member_id=member_id,
            member_no=f"M{member_id}",
            phone=f"1390000000{member_id}",
            phone_masked=f"139****000{member_id}",
            name=f"王{member_id}",
            name_masked="王*",
            tier="gold" if member_id % 2 else "silver",
            status="merged" if member_id == 5 else "active",
            survivor_id=1 if member_id == 5 else member_id,
            registered_at=at(date(2025, member_id, 1)),
            registered_date_key=key(date(2025, member_id, 1)),
            registered_channel="web" if member_id <= 2 else "counter",
            registered_institution=home,
        )
    w.purchase(1, date(2026, 1, 10), 30_000)
    w.purchase(1, date(2026, 2, 10), 20_000)
    w.purchase(3, date(2026, 2, 11), 7_000)
    w.purchase(3, date(2025, 6, 1), 99_999)  # before the period
    # Run 1 (D1) and run 2 (D2); run 3 scores D2 again under another model version.
    w.add("dim_insight_run", run_id=1, as_of=D1, model_version="v1", trained_at=at(D1), members=4)
    w.add("dim_insight_run", run_id=2, as_of=D2, model_version="v1", trained_at=at(D2), members=1)
    w.add("dim_insight_run", run_id=3, as_of=D2, model_version="v2", trained_at=at(D2), members=5)
    old = {1: "regular", 2: "regular", 3: "lost", 4: "champions"}
    for member_id, segment in old.items():
        w.add(
            "fact_member_score",
            run_id=1,
            member_id=member_id,
            as_of=D1,
            r=1,
            f=1,
            m=1,
            segment_code=segment,
            churn_risk=0.5,
        )
    w.add(
        "fact_member_score",
        run_id=2,
        member_id=1,
        as_of=D2,
        r=1,
        f=1,
        m=1,
        segment_code="lost",
        churn_risk=0.5,
    )
    latest = {
        # member: segment, r, f, m, churn risk, expected value (fen)
        1: ("champions", 5, 5, 4, 0.2, 600_000),
        2: ("lost", 1, 2, 3, 0.9, 10_000),
        3: ("lost", 2, 1, 1, 0.6, 40_000),
        4: ("regular", 3, 3, 3, 0.7, None),
        5: ("lost", 1, 1, 1, 0.99, 1_000_000),  # merged: never counted
    }
    for member_id, (segment, r, f, m, risk, value) in latest.items():
        w.add(
            "fact_member_score",
            run_id=3,
            member_id=member_id,
            as_of=D2,
            r=r,
            f=f,
            m=m,
            segment_code=segment,
            churn_risk=risk,
            expected_value_fen=value,
            alive=None if value is None else 1 - risk,
        )
    # Run 4: a backfill, trained last for a day before both; it is not the latest run.
    w.add("dim_insight_run", run_id=4, as_of=D0, model_version="v2", trained_at=at(D2), members=1)
    w.add(
        "fact_member_score",
        run_id=4,
        member_id=2,
        as_of=D0,
        r=5,
        f=5,
        m=5,
        segment_code="champions",
        churn_risk=0.95,
        expected_value_fen=9_000_000,
    )
    yield w
    w.close()


def test_segments_over_time_take_each_day_s_latest_run(world: Warehouse) -> None:
    frame = member_scores.segments_over_time(world, ALL)
    rows = [(str(r.as_of)[:10], r.segment_code, r.members) for r in frame.itertuples()]
    assert rows == [
        ("2025-12-31", "champions", 1),
        ("2026-01-31", "lost", 1),
        ("2026-01-31", "champions", 1),
        ("2026-01-31", "regular", 2),
        ("2026-02-28", "lost", 2),
        ("2026-02-28", "champions", 1),
        ("2026-02-28", "regular", 1),
    ]
    home = member_scores.segments_over_time(world, Filters(ALL.start, ALL.end, inst="HP"))
    assert list(zip(home["segment_code"], home["members"], strict=True)) == [
        ("champions", 1),
        ("regular", 2),
        ("lost", 1),
        ("champions", 1),
    ]


def test_at_risk_members_put_the_value_at_stake_first(world: Warehouse) -> None:
    frame = member_scores.at_risk_members(world, ALL, reveal_personal_data=False)
    assert list(frame["member_no"]) == ["M3", "M2", "M4"]
    assert list(frame["value_at_risk_fen"].fillna(-1)) == [24_000, 9_000, -1]
    assert list(frame["phone"]) == ["139****0003", "139****0002", "139****0004"]
    assert list(frame["segment_name_en"]) == ["Lost", "Lost", "Regular"]
    whole = member_scores.at_risk_members(world, ALL, reveal_personal_data=True)
    assert list(whole["phone"]) == ["13900000003", "13900000002", "13900000004"]
    strict = member_scores.at_risk_members(
        world, ALL, reveal_personal_data=False, min_churn_risk=0.8, segment="lost"
    )
    assert list(strict["member_no"]) == ["M2"]
    assert list(
        member_scores.at_risk_members(world, ALL, reveal_personal_data=False, limit=1)["member_no"]
    ) == ["M3"]


def test_the_clv_histogram_counts_every_bucket(world: Warehouse) -> None:
    frame = member_scores.clv_distribution(world, ALL, edges=(0, 20_000, 100_000))
    assert [tuple(r) for r in frame[["low_fen", "members"]].itertuples(index=False)] == [
        (0, 1),
        (20_000, 1),
        (100_000, 1),
    ]
    assert frame["high_fen"].isna().tolist() == [False, False, True]
    default = member_scores.clv_distribution(world, ALL)
    assert len(default) == len(member_scores.CLV_EDGES_FEN) and default["members"].sum() == 3
    with pytest.raises(ValueError):
        member_scores.clv_distribution(world, ALL, edges=(10, 5))


def test_segments_compared_side_by_side(world: Warehouse) -> None:
    frame = member_scores.segment_comparison(world, ALL).set_index("segment_code")
    assert list(frame.index) == ["lost", "champions", "regular"]
    lost = frame.loc["lost"]
    assert lost["members"] == 2
    assert (lost["avg_r"], lost["avg_f"], lost["avg_m"]) == (1.5, 1.5, 2.0)
    assert lost["avg_churn_risk"] == pytest.approx(0.75)
    assert lost["avg_expected_value_fen"] == 25_000
    assert lost["total_expected_value_fen"] == 50_000
    regular = frame.loc["regular"]
    assert regular["total_expected_value_fen"] == 0
    assert pd.isna(regular["avg_expected_value_fen"])


def test_the_member_list_pages_sorts_and_filters(world: Warehouse) -> None:
    page, total = member_scores.member_list(
        world, ALL, ListRequest(limit=2), reveal_personal_data=False
    )
    assert total == 4 and list(page["member_no"]) == ["M1", "M2"]
    assert list(page["name"]) == ["王*", "王*"]
    first = page.iloc[0]
    assert (first["purchases"], first["spend_fen"], first["segment_code"]) == (
        2,
        50_000,
        "champions",
    )
    assert str(first["registered_on"])[:10] == "2025-01-01"
    rest, _ = member_scores.member_list(
        world, ALL, ListRequest(offset=2, limit=2), reveal_personal_data=True
    )
    assert list(rest["member_no"]) == ["M3", "M4"] and rest.iloc[0]["phone"] == "13900000003"
    assert rest.iloc[0]["spend_fen"] == 7_000  # the purchase before the period is not spend

    by_value, _ = member_scores.member_list(
        world, ALL, ListRequest(sort=(("expected_value_fen", True),)), reveal_personal_data=False
    )
    assert list(by_value["member_no"]) == ["M1", "M3", "M2", "M4"]
    risky, total = member_scores.member_list(
        world,
        ALL,
        ListRequest(
            conditions=(Condition("churn_risk", ">=", 0.6), Condition("tier", "equals", "GOLD")),
            sort=(("churn_risk", False),),
        ),
        reveal_personal_data=False,
    )
    assert total == 1 and list(risky["member_no"]) == ["M3"]
    nothing, total = member_scores.member_list(
        world,
        ALL,
        ListRequest(conditions=(Condition("member_no", "contains", "x"),)),
        reveal_personal_data=False,
    )
    assert nothing.empty and total == 0
    web, total = member_scores.member_list(
        world, Filters(ALL.start, ALL.end, channel="web"), ListRequest(), reveal_personal_data=False
    )
    assert total == 2 and set(web["member_no"]) == {"M1", "M2"}
    with pytest.raises(ValueError):
        member_scores.member_list(
            world,
            ALL,
            ListRequest(sort=(("phone; DROP TABLE x", True),)),
            reveal_personal_data=False,
        )
    with pytest.raises(ValueError):
        member_scores.member_list(
            world,
            ALL,
            ListRequest(conditions=(Condition("tier", ">", 1),)),
            reveal_personal_data=False,
        )


def test_before_any_run_the_queries_answer_nothing(tmp_path: Path) -> None:
    w = Warehouse(tmp_path / "empty.duckdb")
    try:
        assert member_scores.latest_run(w).empty
        assert member_scores.segments_over_time(w, ALL).empty
        assert member_scores.at_risk_members(w, ALL, reveal_personal_data=False).empty
        assert member_scores.segment_comparison(w, ALL).empty
        assert member_scores.clv_distribution(w, ALL)["members"].sum() == 0
    finally:
        w.close()
