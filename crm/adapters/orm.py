"""Typed ORM models of the member hub (tables `crm_*`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.clock import utcnow
from common.db import Base, BigId, intpk, name_str, utc_datetime


class Member(Base):
    __tablename__ = "crm_member"

    id: Mapped[intpk]
    member_no: Mapped[str] = mapped_column(String(16), unique=True)
    phone: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    birthday: Mapped[date | None] = mapped_column(Date)
    tier: Mapped[str] = mapped_column(String(32))
    tier_reviewed_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    merged_into_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crm_member.id"))
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    data_sharing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    registered_channel: Mapped[str | None] = mapped_column(String(32))
    registered_institution: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[utc_datetime]
    merged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The warehouse re-reads members changed since its last sync (tier, merge, consent).
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, index=True
    )


class Identifier(Base):
    __tablename__ = "crm_identifier"
    __table_args__ = (UniqueConstraint("type", "value"),)

    id: Mapped[intpk]
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("crm_member.id"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(String(80))
    linked_at: Mapped[utc_datetime]


class Tier(Base):
    __tablename__ = "crm_tier"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    min_points_12m: Mapped[int] = mapped_column(Integer)


class VerificationCode(Base):
    """A one-time code sent to a phone to prove the person holds it (stored as an HMAC).

    `purpose` says what the code may be used for and `subject` binds it to one thing
    (the identifier being linked), so a code sent for one action cannot authorise another.
    """

    __tablename__ = "crm_verification_code"

    id: Mapped[intpk]
    phone: Mapped[str] = mapped_column(String(16), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(120), default="")
    code_sha256: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[utc_datetime]
    expires_at: Mapped[utc_datetime]
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
