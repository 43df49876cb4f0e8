"""Typed ORM models of the member hub (tables `crm_*`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from common.clock import utcnow
from common.db import Base, BigId, intpk, json_value, name_str, utc_datetime


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
    tier_since: Mapped[date | None] = mapped_column(Date)
    # The last day a member whose year fell short keeps the tier (None: not short).
    tier_grace_until: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("crm_member.id"), index=True
    )
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


class MergeRecord(Base):
    """A merge as it was done, so an admin can undo a wrong one."""

    __tablename__ = "crm_merge"

    id: Mapped[intpk]
    merge_no: Mapped[str] = mapped_column(String(24), unique=True)
    survivor_id: Mapped[int] = mapped_column(BigId, ForeignKey("crm_member.id"), index=True)
    absorbed_id: Mapped[int] = mapped_column(BigId, ForeignKey("crm_member.id"), index=True)
    identifier_ids: Mapped[json_value]  # the absorbed member's identifiers, moved
    survivor_marketing_consent: Mapped[bool] = mapped_column(Boolean)  # before the merge
    points_txn_id: Mapped[str] = mapped_column(String(40))
    merged_at: Mapped[utc_datetime]
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(120))


class Tier(Base):
    __tablename__ = "crm_tier"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    min_points_12m: Mapped[int] = mapped_column(Integer)
    # Spend in the trailing year that earns the tier on its own (None: points only).
    min_spend_fen_12m: Mapped[int | None] = mapped_column(BigInteger)
    # A benefit: points credited once a year in the member's birthday week (0: none).
    birthday_bonus_points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A benefit: delivered orders carry no delivery fee.
    free_delivery: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class ClubPolicy(Base):
    """The club's rules that are not per tier (one row): what qualifies, how long a
    member who fell short keeps the tier."""

    __tablename__ = "crm_club_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_bonus_qualifies: Mapped[bool] = mapped_column(Boolean, default=False)
    grace_days: Mapped[int] = mapped_column(Integer, default=90)


class TierChange(Base):
    """A member's tier history: each upgrade (at once) and downgrade (at a review)."""

    __tablename__ = "crm_tier_change"

    id: Mapped[intpk]
    member_id: Mapped[int] = mapped_column(BigId, ForeignKey("crm_member.id"), index=True)
    from_tier: Mapped[str | None] = mapped_column(String(32))
    to_tier: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(16))  # upgrade, downgrade
    qualifying_points: Mapped[int] = mapped_column(BigInteger)
    spend_fen: Mapped[int] = mapped_column(BigInteger)
    effective_on: Mapped[date] = mapped_column(Date)
    occurred_at: Mapped[utc_datetime]


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
