"""Typed ORM models of press titles and subscriptions (tables `storefront_press_title`, ...)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, name_str, utc_datetime


class PressTitle(Base):
    __tablename__ = "storefront_press_title"
    __table_args__ = (CheckConstraint("monthly_price_fen > 0", name="price_positive"),)

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    publisher: Mapped[name_str]
    frequency: Mapped[str] = mapped_column(String(16))
    monthly_price_fen: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[utc_datetime]


class Subscription(Base):
    """One paid term of one title for one member; prices are as sold, in fen."""

    __tablename__ = "storefront_subscription"
    __table_args__ = (
        CheckConstraint("total_fen > 0", name="total_positive"),
        CheckConstraint("refund_fen >= 0 AND refund_fen <= total_fen", name="refund_in_range"),
        CheckConstraint(
            "points_reversed >= 0 AND points_reversed <= points", name="reversed_in_range"
        ),
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        CheckConstraint(
            "(delivery_type = 'address' AND delivery_address IS NOT NULL"
            " AND outlet_code IS NULL) OR "
            "(delivery_type = 'outlet' AND outlet_code IS NOT NULL"
            " AND delivery_address IS NULL)",
            name="delivery_complete",
        ),
    )

    id: Mapped[intpk]
    subscription_no: Mapped[str] = mapped_column(String(24), unique=True)
    external_id: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(32), ForeignKey("common_channel.code"))
    institution_code: Mapped[str] = mapped_column(String(32), ForeignKey("common_institution.code"))
    member_id: Mapped[int] = mapped_column(BigId, index=True)
    member_no: Mapped[str] = mapped_column(String(16))
    title_code: Mapped[str] = mapped_column(String(32), ForeignKey("storefront_press_title.code"))
    term: Mapped[str] = mapped_column(String(16))
    months: Mapped[int] = mapped_column(Integer)
    monthly_price_fen: Mapped[int] = mapped_column(BigInteger)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    delivery_type: Mapped[str] = mapped_column(String(16))
    delivery_address: Mapped[str | None] = mapped_column(String(300))
    outlet_code: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("common_institution.code")
    )
    payment_method: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    cancelled_on: Mapped[date | None] = mapped_column(Date)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[utc_datetime]
