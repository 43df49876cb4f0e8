"""Typed ORM models of orders: the order, its lines, status history, payments and refunds."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from common.db import Base, BigId, intpk, json_value, name_str, utc_datetime


class Order(Base):
    __tablename__ = "storefront_order"
    __table_args__ = (
        CheckConstraint("total_fen > 0", name="total_positive"),
        CheckConstraint("payable_fen >= 0", name="payable_not_negative"),
        CheckConstraint("points_used >= 0", name="points_not_negative"),
    )

    id: Mapped[intpk]
    order_no: Mapped[str] = mapped_column(String(32), unique=True)
    member_id: Mapped[int] = mapped_column(BigId, index=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(120))
    institution_code: Mapped[str] = mapped_column(String(64))
    fulfilment: Mapped[str] = mapped_column(String(16))
    outlet_code: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(300))
    payment_method: Mapped[str] = mapped_column(String(16))
    card_no: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24), index=True)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    points_used: Mapped[int] = mapped_column(BigInteger)
    points_offset_fen: Mapped[int] = mapped_column(BigInteger)
    # What the member's voucher took off (storefront_voucher_use names the voucher).
    voucher_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    payable_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    points_redemption_no: Mapped[str | None] = mapped_column(String(40), index=True)
    # A goods reward delivered as this order: the redemption above paid its points.
    reward_code: Mapped[str | None] = mapped_column(String(64))
    # [{"external_id", "amount_fen"}]: the ledger accruals this order earned, to reverse.
    accruals: Mapped[json_value]
    pickup_expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    fulfilled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.id", lazy="selectin")


class OrderLine(Base):
    __tablename__ = "storefront_order_line"

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("storefront_order.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[name_str]
    category: Mapped[str] = mapped_column(String(32))
    business_type: Mapped[str] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class OrderStatusChange(Base):
    __tablename__ = "storefront_order_status_change"

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("storefront_order.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(200))
    occurred_at: Mapped[utc_datetime]


class OrderPayment(Base):
    """Money received for an order (or owed back: refunded_fen), by where it came from."""

    __tablename__ = "storefront_order_payment"
    __table_args__ = (CheckConstraint("refunded_fen <= amount_fen", name="refund_within_amount"),)

    id: Mapped[intpk]
    order_id: Mapped[int] = mapped_column(BigId, ForeignKey("storefront_order.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(120))
    method: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    transaction_ref: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
