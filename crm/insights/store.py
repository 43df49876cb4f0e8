"""Writes of member insights: segment rules (init-db) and one training's scores."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from common.clock import utcnow
from common.unit_of_work import UnitOfWork
from crm.insights.orm import InsightRun, MemberScore, Segment
from crm.insights.segments import SegmentRule, parse_conditions

SCORE_COLUMNS = ("member_id", "r", "f", "m", "segment_code", "churn_risk")
VALUE_COLUMNS = ("alive", "expected_purchases", "expected_value_fen")
RISK_SCALE = 10_000  # churn risk and probability alive are stored in basis points
PURCHASES_SCALE = 100  # expected purchases are stored in hundredths


def load_segments(uow: UnitOfWork, rules: Iterable[SegmentRule]) -> None:
    """Add the segments that are missing; rules already there (perhaps edited) stay."""
    session = uow.session
    for rule in rules:
        if session.get(Segment, rule.code) is None:
            session.add(
                Segment(
                    code=rule.code,
                    name=rule.name,
                    name_en=rule.name_en,
                    priority=rule.priority,
                    rule=rule.as_json(),
                    description=rule.description,
                )
            )


def segment_rules(session: Session) -> list[SegmentRule]:
    """The stored segments as rules, by priority."""
    rows = session.scalars(select(Segment).order_by(Segment.priority, Segment.code))
    return [
        SegmentRule(
            code=row.code,
            name=row.name,
            name_en=row.name_en,
            priority=row.priority,
            conditions=parse_conditions(row.rule),
            description=row.description,
        )
        for row in rows
    ]


def store_scores(
    uow: UnitOfWork,
    *,
    as_of: date,
    model_version: str,
    metrics: Mapping[str, Any],
    scores: Sequence[Mapping[str, Any]],
) -> int:
    """Replace the run of (as_of, model_version) and its scores with these; the run's id.

    Everything happens in the caller's transaction, so readers see the old run or the
    new one, never half of either; training twice for the same day and version leaves
    one run. Rows are inserted with Core (one executemany) rather than as ORM objects.
    """
    session = uow.session
    previous = session.scalars(
        select(InsightRun.id).where(
            InsightRun.as_of == as_of, InsightRun.model_version == model_version
        )
    ).all()
    if previous:
        session.execute(delete(MemberScore).where(MemberScore.run_id.in_(previous)))
        session.execute(delete(InsightRun).where(InsightRun.id.in_(previous)))
    run_id = session.execute(
        insert(InsightRun)
        .values(
            as_of=as_of,
            model_version=model_version,
            trained_at=utcnow(),
            members=len(scores),
            # Through JSON once, so numpy numbers fail here rather than in the driver.
            metrics=json.loads(json.dumps(metrics)),
        )
        .returning(InsightRun.id)
    ).scalar_one()
    if scores:
        session.execute(
            insert(MemberScore),
            [
                {
                    "run_id": run_id,
                    "as_of": as_of,
                    "model_version": model_version,
                    "member_id": int(row["member_id"]),
                    "r": int(row["r"]),
                    "f": int(row["f"]),
                    "m": int(row["m"]),
                    "segment_code": str(row["segment_code"]),
                    "churn_risk_bp": round(float(row["churn_risk"]) * RISK_SCALE),
                    "alive_bp": _scaled(row.get("alive"), RISK_SCALE),
                    "expected_purchases_x100": _scaled(
                        row.get("expected_purchases"), PURCHASES_SCALE
                    ),
                    "expected_value_fen": _scaled(row.get("expected_value_fen"), 1),
                }
                for row in scores
            ],
        )
    return int(run_id)


def _scaled(value: object, scale: int) -> int | None:
    """An integer of `value` × `scale`; None for a missing value (None or NaN)."""
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else round(number * scale)
