"""Typed ORM model of pickup codes (stored hashed, bound to their outlet)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, utc_datetime


class PickupCode(Base):
    __tablename__ = "storefront_pickup_code"

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(BigId, unique=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    outlet_code: Mapped[str] = mapped_column(String(64))
    expires_on: Mapped[date] = mapped_column(Date)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[utc_datetime]
