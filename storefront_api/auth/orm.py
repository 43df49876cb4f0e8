"""Typed ORM models for channel API keys and staff users (tables `storefront_api_*`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, intpk, utc_datetime


class ApiKey(Base):
    __tablename__ = "storefront_api_key"

    id: Mapped[intpk]
    key_id: Mapped[str] = mapped_column(String(24), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32), ForeignKey("common_channel.code"))
    institution_code: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("common_institution.code")
    )
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[utc_datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffUser(Base):
    __tablename__ = "storefront_api_staff_user"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[utc_datetime]
