"""Typed ORM models of vouchers: each voucher a redemption issued, and each use of one."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, utc_datetime


class Voucher(Base):
    __tablename__ = "storefront_voucher"
    __table_args__ = (
        CheckConstraint("value_fen > 0", name="value_positive"),
        CheckConstraint("valid_until >= valid_from", name="dates_in_order"),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(16), unique=True)
    member_id: Mapped[int] = mapped_column(BigId, index=True)
    redemption_no: Mapped[str] = mapped_column(String(40), index=True)
    reward_code: Mapped[str] = mapped_column(String(64))
    value_fen: Mapped[int] = mapped_column(BigInteger)
    min_spend_fen: Mapped[int] = mapped_column(BigInteger)
    applies_to: Mapped[str | None] = mapped_column(String(32))
    biller_kind: Mapped[str | None] = mapped_column(String(16))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VoucherUse(Base):
    """One use of a voucher: on an order (order_no), a bill payment (bill_payment_no) or a
    counter sale; a returned use gave the voucher back."""

    __tablename__ = "storefront_voucher_use"
    __table_args__ = (Index("ix_storefront_voucher_use_order", "order_no"),)

    id: Mapped[intpk]
    use_no: Mapped[str] = mapped_column(String(40), unique=True)
    voucher_id: Mapped[int] = mapped_column(BigId, ForeignKey("storefront_voucher.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    institution_code: Mapped[str | None] = mapped_column(String(64))
    order_no: Mapped[str | None] = mapped_column(String(32))
    bill_payment_no: Mapped[str | None] = mapped_column(String(40), index=True)
    business_type: Mapped[str | None] = mapped_column(String(32))
    spend_fen: Mapped[int] = mapped_column(BigInteger)
    applied_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[utc_datetime]
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
