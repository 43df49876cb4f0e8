"""Typed ORM models of bill payment: billers, bills, payments and the sandbox biller's books."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, name_str, utc_datetime


class Biller(Base):
    __tablename__ = "storefront_biller"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('water', 'electricity', 'gas', 'broadband', 'landline')", name="kind_known"
        ),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    kind: Mapped[str] = mapped_column(String(16))
    # Which adapter talks to this biller; "sandbox" is the built-in one.
    adapter: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[utc_datetime]


class Bill(Base):
    """A bill a caller looked up: one row per biller, account and period, re-used on each query."""

    __tablename__ = "storefront_bill"
    __table_args__ = (
        UniqueConstraint("biller_code", "account_no", "period"),
        CheckConstraint("amount_due_fen > 0", name="amount_due_positive"),
    )

    id: Mapped[intpk]
    bill_no: Mapped[str] = mapped_column(String(32), unique=True)
    biller_code: Mapped[str] = mapped_column(String(32), ForeignKey("storefront_biller.code"))
    account_no: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    # As the biller stated it at the last query; payments must match it.
    amount_due_fen: Mapped[int] = mapped_column(BigInteger)
    customer_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[utc_datetime]


class BillPayment(Base):
    __tablename__ = "storefront_bill_payment"
    __table_args__ = (
        UniqueConstraint("scope", "external_id"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(
            "status IN ('processing', 'paid', 'declined', 'unknown', 'failed', 'reversed')",
            name="status_known",
        ),
        # The status-check job looks for unresolved payments, oldest first.
        Index("ix_storefront_bill_payment_status_created", "status", "created_at"),
    )

    id: Mapped[intpk]
    payment_no: Mapped[str] = mapped_column(String(32), unique=True)
    bill_id: Mapped[int] = mapped_column(BigId, ForeignKey("storefront_bill.id"), index=True)
    biller_code: Mapped[str] = mapped_column(String(32))
    account_no: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    # What the member's bill credit paid of amount_fen; the member paid the rest.
    credit_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16))
    # The idempotency scope of the caller: "channel:<code>" or "member:<member_no>".
    scope: Mapped[str] = mapped_column(String(80))
    external_id: Mapped[str] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(32))
    institution_code: Mapped[str] = mapped_column(String(32))
    paid_by_member: Mapped[bool] = mapped_column(Boolean)
    member_id: Mapped[int | None] = mapped_column(BigId, index=True)
    member_no: Mapped[str | None] = mapped_column(String(16))
    # Set once points were earned: the ledger accrual to reverse with the payment.
    accrual_no: Mapped[str | None] = mapped_column(String(40))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    points_reversed: Mapped[int] = mapped_column(BigInteger, default=0)
    biller_ref: Mapped[str | None] = mapped_column(String(64))
    decline_reason: Mapped[str | None] = mapped_column(String(200))
    reversal_external_id: Mapped[str | None] = mapped_column(String(120))
    paid_at: Mapped[utc_datetime | None]
    reversed_at: Mapped[utc_datetime | None]
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[utc_datetime]


class SandboxBillerPayment(Base):
    """What the built-in sandbox biller received, kept apart from our own payment records.

    Like a biller that does not deduplicate, it books every pay call it gets, so a
    double charge would show here as two rows with one payment_ref.
    """

    __tablename__ = "storefront_sandbox_biller_payment"
    __table_args__ = (
        Index("ix_storefront_sandbox_biller_payment_bill", "biller_code", "account_no", "period"),
    )

    id: Mapped[intpk]
    biller_ref: Mapped[str] = mapped_column(String(32), unique=True)
    payment_ref: Mapped[str] = mapped_column(String(64), index=True)
    biller_code: Mapped[str] = mapped_column(String(32))
    account_no: Mapped[str] = mapped_column(String(16))
    period: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[utc_datetime]
