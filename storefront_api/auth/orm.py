"""Typed ORM models for channel API keys and staff users (tables `storefront_api_*`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, utc_datetime


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
    # A rotated key keeps working until `expires_at`, so the channel can roll the new
    # one out to its tills without a minute of refused requests.
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replaced_by: Mapped[str | None] = mapped_column(String(24))


class StaffUser(Base):
    __tablename__ = "storefront_api_staff_user"

    id: Mapped[intpk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[utc_datetime]


class StaffSession(Base):
    """A staff login (API token or dashboards cookie); checked on every request, so a
    logout, a disabled account or a password reset ends it at once."""

    __tablename__ = "storefront_api_staff_session"

    id: Mapped[intpk]
    session_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    staff_user_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("storefront_api_staff_user.id"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[utc_datetime]
    expires_at: Mapped[utc_datetime]
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
