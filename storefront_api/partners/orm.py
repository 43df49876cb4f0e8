"""Typed ORM models of partners and their exchange lines (tables `storefront_partner*`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, name_str, utc_datetime


class Partner(Base):
    __tablename__ = "storefront_partner"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    kind: Mapped[str] = mapped_column(String(16))  # airline, bank, insurer
    reward_code: Mapped[str] = mapped_column(String(64))
    unit_name: Mapped[str] = mapped_column(String(32))  # 里程 / miles, 积分 / points
    out_points_per_unit: Mapped[int | None] = mapped_column(Integer)
    out_min_points: Mapped[int] = mapped_column(Integer)
    out_daily_limit_points: Mapped[int] = mapped_column(Integer)
    in_partner_units: Mapped[int | None] = mapped_column(Integer)
    in_points: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PartnerReward(Base):
    """A catalogue reward redeemed into a partner's currency (东方航空 500 miles): its
    redemption becomes an exchange line of `units` for the member's partner number."""

    __tablename__ = "storefront_partner_reward"

    reward_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner_code: Mapped[str] = mapped_column(String(32), ForeignKey("storefront_partner.code"))
    units: Mapped[int] = mapped_column(Integer)


class PartnerExchange(Base):
    __tablename__ = "storefront_partner_exchange"
    __table_args__ = (
        Index(
            "ix_storefront_partner_exchange_partner_day",
            "partner_code",
            "business_date",
            "status",
        ),
        Index("ix_storefront_partner_exchange_member_day", "member_id", "business_date"),
    )

    id: Mapped[intpk]
    exchange_no: Mapped[str] = mapped_column(String(40), unique=True)
    direction: Mapped[str] = mapped_column(String(8))  # out, in
    partner_code: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[int] = mapped_column(BigId)
    partner_member_no: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(BigInteger)
    partner_units: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    business_date: Mapped[date] = mapped_column(Date)
    redemption_no: Mapped[str | None] = mapped_column(String(40))
    channel: Mapped[str | None] = mapped_column(String(32))  # None: the member themself
    external_id: Mapped[str] = mapped_column(String(120))
    reject_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[utc_datetime]
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
