"""Read side of member insights: segments with their sizes, a segment's members, a member's
scores, always from the latest training run."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from common.errors import NotFound
from crm.adapters.orm import Member
from crm.insights.orm import InsightRun, MemberScore, Segment
from crm.insights.segments import parse_conditions
from crm.insights.store import PURCHASES_SCALE, RISK_SCALE


class UnknownSegment(NotFound):
    code = "unknown-segment"
    title = "No such segment"


class MemberNotScored(NotFound):
    code = "member-not-scored"
    title = "The member has no scores yet"


# Runs in the order "latest" reads them: by as-of day, the last trained of a day first.
LATEST_FIRST = (InsightRun.as_of.desc(), InsightRun.id.desc())


def latest_run(session: Session) -> InsightRun | None:
    """The run of the latest as-of day (the last trained of that day): a run trained later
    for an earlier day, a backfill, does not replace today's scores."""
    return session.scalars(select(InsightRun).order_by(*LATEST_FIRST).limit(1)).first()


def last_trained_on(session: Session) -> date | None:
    """The latest as-of day any run scored, None if insights were never trained."""
    return session.scalar(select(func.max(InsightRun.as_of)))


def segment_codes(session: Session) -> frozenset[str]:
    """The codes of the named segments (loaded by init-db)."""
    return frozenset(session.scalars(select(Segment.code)))


ScoreRow = tuple[str, int, int | None]  # segment code, churn risk (bp), expected value (fen)


def scores_of(
    session: Session, member_ids: Sequence[int], *, as_of: date | None = None
) -> dict[int, ScoreRow]:
    """`{member_id: (segment_code, churn_risk_bp, expected_value_fen)}` for these members
    in one run: the latest, or with `as_of` the latest run as of that day (else the
    latest at all, for a campaign that started before the first run). Members that run
    did not score are left out; nothing before any run. One query per 500 ids."""
    if not member_ids:
        return {}
    # The latest run as a subquery: an accrual's lookup is one round trip.
    run_id: Any = select(InsightRun.id).order_by(*LATEST_FIRST).limit(1).scalar_subquery()
    if as_of is not None:
        run_id = _run_as_of(session, as_of)
        if run_id is None:
            return {}
    found: dict[int, ScoreRow] = {}
    ids = sorted(set(member_ids))
    for start in range(0, len(ids), _IN_CHUNK):
        for member_id, segment, risk, value in session.execute(
            select(
                MemberScore.member_id,
                MemberScore.segment_code,
                MemberScore.churn_risk_bp,
                MemberScore.expected_value_fen,
            ).where(
                MemberScore.run_id == run_id,
                MemberScore.member_id.in_(ids[start : start + _IN_CHUNK]),
            )
        ):
            found[member_id] = (segment, risk, value)
    return found


_IN_CHUNK = 500


def _run_as_of(session: Session, as_of: date) -> int | None:
    run_id = session.scalar(
        select(InsightRun.id).where(InsightRun.as_of <= as_of).order_by(*LATEST_FIRST).limit(1)
    )
    if run_id is not None:
        return int(run_id)
    run = latest_run(session)
    return None if run is None else run.id


def _run_header(run: InsightRun | None) -> dict[str, Any]:
    return {
        "as_of": run.as_of.isoformat() if run else None,
        "model_version": run.model_version if run else None,
    }


def list_segments(session: Session) -> dict[str, Any]:
    """`{as_of, model_version, items: [{code, name, name_en, priority, rule, description,
    member_count}]}`: counts from the latest run (0 before any)."""
    run = latest_run(session)
    counts: dict[str, int] = {}
    if run is not None:
        counts = {
            code: count
            for code, count in session.execute(
                select(MemberScore.segment_code, func.count())
                .where(MemberScore.run_id == run.id)
                .group_by(MemberScore.segment_code)
            )
        }
    items = [
        {
            "code": row.code,
            "name": row.name,
            "name_en": row.name_en,
            "priority": row.priority,
            "rule": {k: list(v) for k, v in parse_conditions(row.rule).items()},
            "description": row.description,
            "member_count": counts.get(row.code, 0),
        }
        for row in session.scalars(select(Segment).order_by(Segment.priority, Segment.code))
    ]
    return {**_run_header(run), "items": items}


def _segment(session: Session, code: str) -> Segment:
    segment = session.get(Segment, code)
    if segment is None:
        raise UnknownSegment(f"no segment {code!r}; see GET /segments")
    return segment


def segment_members(
    session: Session,
    code: str,
    *,
    after_member_id: int | None = None,
    limit: int | None = None,
    min_churn_risk: float | None = None,
    max_churn_risk: float | None = None,
) -> Iterator[dict[str, Any]]:
    """Members of a segment in the latest run, by member id: `{id, member_no, phone, name,
    r, f, m, churn_risk, alive, expected_purchases, expected_value_fen}` (the last three
    None for a member who has not bought). Raises UnknownSegment. Nothing before the first run."""
    _segment(session, code)
    run = latest_run(session)
    if run is None:
        return iter(())
    query = (
        select(
            MemberScore.member_id,
            Member.member_no,
            Member.phone,
            Member.name,
            MemberScore.r,
            MemberScore.f,
            MemberScore.m,
            MemberScore.churn_risk_bp,
            MemberScore.alive_bp,
            MemberScore.expected_purchases_x100,
            MemberScore.expected_value_fen,
        )
        .join(Member, Member.id == MemberScore.member_id)
        .where(MemberScore.run_id == run.id, MemberScore.segment_code == code)
        .order_by(MemberScore.member_id)
    )
    if after_member_id is not None:
        query = query.where(MemberScore.member_id > after_member_id)
    # Bounds in basis points, rounded inwards: 0.6 keeps 6000 and above.
    if min_churn_risk is not None:
        low = math.ceil(round(min_churn_risk * RISK_SCALE, 6))
        query = query.where(MemberScore.churn_risk_bp >= low)
    if max_churn_risk is not None:
        high = math.floor(round(max_churn_risk * RISK_SCALE, 6))
        query = query.where(MemberScore.churn_risk_bp <= high)
    if limit is not None:
        query = query.limit(limit)
    return (
        {
            "id": row.member_id,
            "member_no": row.member_no,
            "phone": row.phone,
            "name": row.name,
            "r": row.r,
            "f": row.f,
            "m": row.m,
            "churn_risk": row.churn_risk_bp / RISK_SCALE,
            **_value(row.alive_bp, row.expected_purchases_x100, row.expected_value_fen),
        }
        for row in session.execute(query.execution_options(yield_per=1000))
    )


def member_scores(session: Session, member_id: int) -> dict[str, Any] | None:
    """The member's scores in the latest run, None if that run did not score them."""
    run = latest_run(session)
    if run is None:
        return None
    row = session.execute(
        select(MemberScore, Segment)
        .join(Segment, Segment.code == MemberScore.segment_code)
        .where(MemberScore.run_id == run.id, MemberScore.member_id == member_id)
    ).first()
    if row is None:
        return None
    score, segment = row
    return {
        **_run_header(run),
        "segment": {"code": segment.code, "name": segment.name, "name_en": segment.name_en},
        "rfm": {"r": score.r, "f": score.f, "m": score.m},
        "churn_risk": score.churn_risk_bp / RISK_SCALE,
        **_value(score.alive_bp, score.expected_purchases_x100, score.expected_value_fen),
    }


def _value(
    alive_bp: int | None, purchases_x100: int | None, value_fen: int | None
) -> dict[str, Any]:
    return {
        "alive": None if alive_bp is None else alive_bp / RISK_SCALE,
        "expected_purchases": None if purchases_x100 is None else purchases_x100 / PURCHASES_SCALE,
        "expected_value_fen": value_fen,
    }
