"""Typed ORM model of saved dashboard views (table `storefront_saved_view`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, Date, ForeignKey, SmallInteger, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, utc_datetime


class SavedView(Base):
    """A page's filters under a name. With a cadence it is also a scheduled report:
    `report_last_sent_on` is the last run day that wrote it, so a run repeated on the same
    day writes nothing twice."""

    __tablename__ = "storefront_saved_view"
    __table_args__ = (UniqueConstraint("owner_id", "page", "name"),)

    id: Mapped[intpk]
    view_no: Mapped[str] = mapped_column(String(24), unique=True)
    owner_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("storefront_api_staff_user.id"), index=True
    )
    page: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(60))
    query: Mapped[str] = mapped_column(String(1000), default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    report_cadence: Mapped[str | None] = mapped_column(String(8))
    report_weekday: Mapped[int | None] = mapped_column(SmallInteger)
    report_format: Mapped[str] = mapped_column(String(4), default="csv")
    report_recipients: Mapped[str] = mapped_column(String(1000), default="")
    report_last_sent_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[utc_datetime]
