"""Typed ORM models of the catalogue: products and what each member has bought of limited items."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from common.db import Base, BigId, intpk, json_value, name_str, utc_datetime


class Product(Base):
    __tablename__ = "storefront_product"
    __table_args__ = (
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_fen > 0", name="price_positive"),
    )

    id: Mapped[intpk]
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[name_str]
    name_en: Mapped[name_str]
    category: Mapped[str] = mapped_column(String(32))
    brand: Mapped[str | None] = mapped_column(String(64))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    business_type: Mapped[str] = mapped_column(String(32))
    # None: not limited. Orders take units off at order time and put them back on
    # cancel or expiry, so this is what can still be ordered.
    stock: Mapped[int | None] = mapped_column(BigInteger)
    per_member_limit: Mapped[int | None] = mapped_column(Integer)
    festival: Mapped[str | None] = mapped_column(String(32))
    # Club benefit: a lower price for members of a tier, {tier code: fen}. A member pays
    # the lowest price of their tier and the tiers below it (see catalogue.price_for).
    member_prices: Mapped[json_value | None]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[utc_datetime]
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MemberPurchase(Base):
    """Units of a limited product a member holds in live orders (for per-member limits)."""

    __tablename__ = "storefront_member_purchase"
    __table_args__ = (
        UniqueConstraint("member_id", "sku"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    )

    id: Mapped[intpk]
    member_id: Mapped[int] = mapped_column(BigId)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
