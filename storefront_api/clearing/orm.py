"""Typed ORM models of daily clearing (tables `storefront_clearing_*`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, intpk, json_value, utc_datetime


class ClearingDay(Base):
    """A cleared business day: open (may be run again) or closed (locked)."""

    __tablename__ = "storefront_clearing_day"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    runs: Mapped[int] = mapped_column(Integer, default=1)
    run_at: Mapped[utc_datetime]
    run_by: Mapped[str] = mapped_column(String(120))
    fen_per_point: Mapped[int] = mapped_column(Integer)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(120))
    close_reason: Mapped[str | None] = mapped_column(String(500))
    # The takes of a closed day cover its movements with an id up to these, so a run
    # looks for its late events only above them.
    sale_id_through: Mapped[int | None] = mapped_column(BigInteger)
    refund_id_through: Mapped[int | None] = mapped_column(BigInteger)
    posting_id_through: Mapped[int | None] = mapped_column(BigInteger)


class ClearingTake(Base):
    """What a cleared day took: the movements of one kind that happened on `business_date`
    with an id in (`id_above`, `id_through`]. The takes of one kind and day hold disjoint
    id ranges (each starts where the day's mark stood), so every movement is taken once;
    a run writes a few of these, not a row per movement."""

    __tablename__ = "storefront_clearing_take"
    __table_args__ = (
        UniqueConstraint("source_kind", "business_date", "id_above"),
        UniqueConstraint("source_kind", "business_date", "id_through"),
        CheckConstraint("id_through > id_above", name="ids_ascending"),
    )

    id: Mapped[intpk]
    source_kind: Mapped[str] = mapped_column(String(16))  # sale, refund, posting
    business_date: Mapped[date] = mapped_column(Date)  # the day the movements happened
    cleared_on: Mapped[date] = mapped_column(
        Date, ForeignKey("storefront_clearing_day.business_date"), index=True
    )
    id_above: Mapped[int] = mapped_column(BigInteger)
    id_through: Mapped[int] = mapped_column(BigInteger)
    # `business_date` in UTC, so that SQL finds the movements without time zone rules.
    happened_from: Mapped[utc_datetime]
    happened_until: Mapped[utc_datetime]


class ClearingLine(Base):
    __tablename__ = "storefront_clearing_line"

    id: Mapped[intpk]
    cleared_on: Mapped[date] = mapped_column(
        Date, ForeignKey("storefront_clearing_day.business_date"), index=True
    )
    institution_code: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    business_type: Mapped[str] = mapped_column(String(32))
    # Set on the adjustment line of events that arrived after their own day was closed.
    original_date: Mapped[date | None] = mapped_column(Date)
    sales: Mapped[int] = mapped_column(Integer)
    gross_fen: Mapped[int] = mapped_column(BigInteger)
    refunds: Mapped[int] = mapped_column(Integer)
    refunds_fen: Mapped[int] = mapped_column(BigInteger)
    net_fen: Mapped[int] = mapped_column(BigInteger)
    points_issued: Mapped[int] = mapped_column(BigInteger)
    points_reversed: Mapped[int] = mapped_column(BigInteger)
    points_redeemed: Mapped[int] = mapped_column(BigInteger)
    points_expired: Mapped[int] = mapped_column(BigInteger)
    points_adjusted: Mapped[int] = mapped_column(BigInteger)


class ClearingPosition(Base):
    __tablename__ = "storefront_clearing_position"

    id: Mapped[intpk]
    cleared_on: Mapped[date] = mapped_column(
        Date, ForeignKey("storefront_clearing_day.business_date"), index=True
    )
    institution_code: Mapped[str] = mapped_column(String(32))
    money_fen: Mapped[int] = mapped_column(BigInteger)
    points_cost_fen: Mapped[int] = mapped_column(BigInteger)
    net_fen: Mapped[int] = mapped_column(BigInteger)


class ClearingTransfer(Base):
    __tablename__ = "storefront_clearing_transfer"

    id: Mapped[intpk]
    cleared_on: Mapped[date] = mapped_column(
        Date, ForeignKey("storefront_clearing_day.business_date"), index=True
    )
    payer: Mapped[str] = mapped_column(String(32))
    payee: Mapped[str] = mapped_column(String(32))
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class ClearingLiability(Base):
    """Points members held when the day was (last) run, by the institution that issued
    them: a closed day keeps the figures it was closed with."""

    __tablename__ = "storefront_clearing_liability"

    id: Mapped[intpk]
    cleared_on: Mapped[date] = mapped_column(
        Date, ForeignKey("storefront_clearing_day.business_date"), index=True
    )
    institution_code: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(BigInteger)


class ControlTotal(Base):
    """A channel's own count and amount of its sales at one institution on one day."""

    __tablename__ = "storefront_clearing_control_total"
    __table_args__ = (UniqueConstraint("business_date", "channel", "institution_code"),)

    id: Mapped[intpk]
    business_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(32))
    institution_code: Mapped[str] = mapped_column(String(32))
    sales: Mapped[int] = mapped_column(Integer)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # The channel's transaction ids (external ids), when it sent them: mismatches then
    # name the missing and extra transactions.
    transaction_ids: Mapped[json_value | None]
    submitted_at: Mapped[utc_datetime]
    submitted_by: Mapped[str] = mapped_column(String(120))
