"""Read side of the catalogue: product pages and single products."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storefront_api.catalogue.orm import Product


def product_body(product: Product) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": product.sku,
        "name": product.name,
        "name_en": product.name_en,
        "category": product.category,
        "price_fen": product.price_fen,
        "brand": product.brand,
        "business_type": product.business_type,
        "stock": product.stock,
        "per_member_limit": product.per_member_limit,
        "festival": product.festival,
        "member_prices": dict(product.member_prices or {}),
        "active": product.active,
    }
    return body


def get_product(session: Session, sku: str) -> Product | None:
    return session.scalars(select(Product).where(Product.sku == sku)).one_or_none()


def list_products(
    session: Session,
    *,
    category: str | None = None,
    business_type: str | None = None,
    festival: str | None = None,
    after_id: int | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], int | None]:
    """Active products in id order; returns the page and the last id when more follow."""
    query = select(Product).where(Product.active.is_(True)).order_by(Product.id).limit(limit + 1)
    if category is not None:
        query = query.where(Product.category == category)
    if business_type is not None:
        query = query.where(Product.business_type == business_type)
    if festival is not None:
        query = query.where(Product.festival == festival)
    if after_id is not None:
        query = query.where(Product.id > after_id)
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return [product_body(row) for row in rows], (rows[-1].id if more and rows else None)
