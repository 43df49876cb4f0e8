"""Typed ORM models of mail items and their tracking events (tables `storefront_*`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, utc_datetime


class Mailing(Base):
    """One item accepted at a counter; `status` and `last_event_at` are its latest event's.

    Latest by `occurred_at`, of equal times the one recorded last (domain.latest_event):
    scans arrive late and out of order, so the one recorded last is not always the latest.
    """

    __tablename__ = "storefront_mailing"
    __table_args__ = (CheckConstraint("fee_fen > 0", name="fee_positive"),)

    id: Mapped[intpk]
    tracking_no: Mapped[str] = mapped_column(String(13), unique=True)
    service: Mapped[str] = mapped_column(String(16))
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(120))
    institution_code: Mapped[str] = mapped_column(String(32), ForeignKey("common_institution.code"))
    # The sender as named at the counter; ids, not relationships, across packages.
    member_id: Mapped[int | None] = mapped_column(BigId, index=True)
    member_no: Mapped[str | None] = mapped_column(String(16))
    accrual_no: Mapped[str | None] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted_at: Mapped[utc_datetime]
    last_event_at: Mapped[utc_datetime]
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[utc_datetime]


class MailEvent(Base):
    """One scan of a mail item, stored as it came; `sequence` is the order it was recorded."""

    __tablename__ = "storefront_mail_event"
    __table_args__ = (UniqueConstraint("mailing_id", "sequence"),)

    id: Mapped[intpk]
    mailing_id: Mapped[int] = mapped_column(BigId, ForeignKey("storefront_mailing.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    location: Mapped[str] = mapped_column(String(200))
    occurred_at: Mapped[utc_datetime]
    channel: Mapped[str] = mapped_column(String(32))
    institution_code: Mapped[str | None] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[utc_datetime]
