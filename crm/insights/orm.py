"""Typed ORM models of member insights: segment rules, model runs and per-member scores."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, name_str, utc_datetime


class Segment(Base):
    """A named segment and its rule (crm.insights.segments), loaded by init-db."""

    __tablename__ = "crm_segment"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    priority: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(1000))  # JSON: {"r": [4, 5], ...}
    description: Mapped[str] = mapped_column(String(400), default="")


class InsightRun(Base):
    """One `insights train`: its as-of day, model version and metrics (JSON)."""

    __tablename__ = "crm_insight_run"
    __table_args__ = (
        Index("uq_crm_insight_run_as_of_model_version", "as_of", "model_version", unique=True),
    )

    id: Mapped[intpk]
    as_of: Mapped[date] = mapped_column(Date)
    model_version: Mapped[str] = mapped_column(String(40))
    trained_at: Mapped[utc_datetime]
    members: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[Any] = mapped_column(JSON)


class MemberScore(Base):
    """A member's scores of one run: RFM quintiles, segment, churn risk and, from the
    lifetime-value models, probability alive, expected purchases and expected value
    (empty for a member who has not bought yet)."""

    __tablename__ = "crm_member_score"
    __table_args__ = (
        # A segment's members of one run, in member order (GET /segments/{code}/members).
        Index("ix_crm_member_score_run_segment", "run_id", "segment_code", "member_id"),
    )

    run_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("crm_insight_run.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("crm_member.id"), primary_key=True, index=True
    )
    as_of: Mapped[date] = mapped_column(Date)
    model_version: Mapped[str] = mapped_column(String(40))
    r: Mapped[int] = mapped_column(SmallInteger)
    f: Mapped[int] = mapped_column(SmallInteger)
    m: Mapped[int] = mapped_column(SmallInteger)
    segment_code: Mapped[str] = mapped_column(String(32), ForeignKey("crm_segment.code"))
    # Basis points (0 to 10,000): integers keep backups lossless across both databases
    # (memberhub.backup has no float kind), and 0.01 % is finer than the model is sure.
    churn_risk_bp: Mapped[int] = mapped_column(Integer)
    expected_value_fen: Mapped[int | None] = mapped_column(BigId)
    alive_bp: Mapped[int | None] = mapped_column(Integer)
    expected_purchases_x100: Mapped[int | None] = mapped_column(Integer)


__all__ = ["InsightRun", "MemberScore", "Segment"]
