"""Catalogue use cases: add and change products, reserve and release stock and member limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

import crm
from common.clock import utcnow
from common.codes import BUSINESS_TYPES, DELIVERY_FEE_SKU
from common.errors import Conflict, Invalid, RuleViolation, UnknownReference
from common.organisation import category_codes
from common.unit_of_work import UnitOfWork
from storefront_api.catalogue.orm import MemberPurchase, Product
from storefront_api.catalogue.queries import product_body
from storefront_api.catalogue.reference import ProductSeed


class UnknownProduct(Invalid):
    code = "unknown-product"
    title = "Unknown product"


class OutOfStock(Conflict):
    code = "out-of-stock"
    title = "Out of stock"


class PerMemberLimitReached(RuleViolation):
    code = "per-member-limit"
    title = "Per-member purchase limit reached"


@dataclass(frozen=True)
class ProductCommand:
    sku: str
    name: str
    name_en: str
    category: str
    price_fen: int
    business_type: str
    brand: str | None = None
    stock: int | None = None
    per_member_limit: int | None = None
    festival: str | None = None
    member_prices: dict[str, int] | None = None


@dataclass(frozen=True)
class ProductPatch:
    price_fen: int | None = None
    stock: int | None = None
    active: bool | None = None
    per_member_limit: int | None = None
    member_prices: dict[str, int] | None = None  # replaces them all; {} removes them


def tier_ranks(session: Session) -> dict[str, int]:
    return {tier["code"]: tier["rank"] for tier in crm.queries.tiers(session)}


def price_for(product: Product, tier: str, ranks: dict[str, int]) -> int:
    """What a member of `tier` pays for one unit: the lowest of the list price and the
    member prices of their tier and the tiers below it (`ranks`: tier_ranks)."""
    mine = ranks.get(tier, -1)
    prices = product.member_prices or {}
    return min(
        [product.price_fen]
        + [int(price) for code, price in prices.items() if ranks.get(code, mine + 1) <= mine]
    )


def _check_member_prices(
    session: Session, prices: dict[str, int] | None, list_price: int
) -> dict[str, int] | None:
    if prices is None:
        return None
    known = tier_ranks(session)
    for code, price in prices.items():
        if code not in known:
            raise UnknownReference.field(f"member_prices.{code}", "unknown tier code")
        if not 0 < price < list_price:
            raise Invalid.field(
                f"member_prices.{code}", "must be more than 0 and less than the list price"
            )
    return dict(sorted(prices.items(), key=lambda item: known[item[0]])) or None


def _validate(session: Session, command: ProductCommand) -> None:
    if command.category not in category_codes(session):
        raise Invalid.field("category", "unknown category code")
    if command.business_type not in BUSINESS_TYPES:
        raise Invalid.field("business_type", f"must be one of {', '.join(BUSINESS_TYPES)}")
    if command.price_fen <= 0:
        raise Invalid.field("price_fen", "must be greater than 0")
    if command.stock is not None and command.stock < 0:
        raise Invalid.field("stock", "must not be negative")
    if command.per_member_limit is not None and command.per_member_limit <= 0:
        raise Invalid.field("per_member_limit", "must be greater than 0")


def add_product(uow: UnitOfWork, command: ProductCommand) -> dict[str, Any]:
    """Add a product. Raises Invalid (category, type, price, stock), Conflict (SKU taken)."""
    session = uow.session
    _validate(session, command)
    if command.sku == DELIVERY_FEE_SKU:
        raise Invalid.field("sku", "is reserved for the delivery fee's order line")
    member_prices = _check_member_prices(session, command.member_prices, command.price_fen)
    if session.scalar(select(Product.id).where(Product.sku == command.sku)) is not None:
        raise Conflict(f"product {command.sku!r} already exists")
    now = utcnow()
    fields = {**command.__dict__, "member_prices": member_prices}
    product = Product(**fields, active=True, created_at=now, updated_at=now)
    session.add(product)
    session.flush()
    body = product_body(product)
    return body


def update_product(uow: UnitOfWork, sku: str, patch: ProductPatch) -> dict[str, Any]:
    """Change price, stock, limit or availability. Raises UnknownProduct, Invalid."""
    session = uow.session
    product = session.scalars(
        select(Product).where(Product.sku == sku).with_for_update()
    ).one_or_none()
    if product is None:
        raise UnknownProduct(f"no product {sku!r}", Invalid.field("sku", "unknown SKU").errors)
    if patch.price_fen is not None:
        if patch.price_fen <= 0:
            raise Invalid.field("price_fen", "must be greater than 0")
        product.price_fen = patch.price_fen
    if patch.member_prices is not None:
        product.member_prices = _check_member_prices(
            session, patch.member_prices, product.price_fen
        )
    elif patch.price_fen is not None and product.member_prices:
        # A list price lowered to or below a member price leaves that price pointless.
        _check_member_prices(session, product.member_prices, product.price_fen)
    if patch.stock is not None:
        if patch.stock < 0:
            raise Invalid.field("stock", "must not be negative")
        product.stock = patch.stock
    if patch.per_member_limit is not None:
        if patch.per_member_limit <= 0:
            raise Invalid.field("per_member_limit", "must be greater than 0")
        product.per_member_limit = patch.per_member_limit
    if patch.active is not None:
        product.active = patch.active
    product.updated_at = utcnow()
    session.flush()
    body = product_body(product)
    return body


def reserve_stock(
    session: Session, product: Product, quantity: int, member_id: int, field: str
) -> None:
    """Take `quantity` units off the product's stock and the member's limit, or refuse.

    Both are single conditional statements, so parallel orders for the last units can
    never oversell: the database applies them one at a time and the loser sees no row.
    Raises OutOfStock, PerMemberLimitReached (naming `field`).
    """
    if product.per_member_limit is not None:
        limit = product.per_member_limit
        if quantity > limit:
            raise PerMemberLimitReached(
                f"at most {limit} of {product.sku} per member",
                Invalid.field(field, f"at most {limit} per member").errors,
            )
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(MemberPurchase).values(
            member_id=member_id, sku=product.sku, quantity=quantity
        )
        upsert = statement.on_conflict_do_update(
            index_elements=["member_id", "sku"],
            set_={"quantity": MemberPurchase.quantity + statement.excluded.quantity},
            where=MemberPurchase.quantity + statement.excluded.quantity <= limit,
        ).returning(MemberPurchase.quantity)
        if session.execute(upsert).scalar_one_or_none() is None:
            raise PerMemberLimitReached(
                f"at most {limit} of {product.sku} per member, counting orders not cancelled",
                Invalid.field(field, f"at most {limit} per member").errors,
            )
    if product.stock is not None:
        taken = session.execute(
            update(Product)
            .where(Product.id == product.id, Product.stock >= quantity)
            .values(stock=Product.stock - quantity, updated_at=utcnow())
            .returning(Product.stock)
        ).scalar_one_or_none()
        if taken is None:
            raise OutOfStock(
                f"not enough {product.sku} left for {quantity}",
                Invalid.field(field, "not enough stock").errors,
            )


def release_stock(session: Session, sku: str, quantity: int, member_id: int) -> None:
    """Put units back on stock and the member's limit (order cancelled or expired)."""
    session.execute(
        update(Product)
        .where(Product.sku == sku, Product.stock.is_not(None))
        .values(stock=Product.stock + quantity, updated_at=utcnow())
    )
    session.execute(
        update(MemberPurchase)
        .where(MemberPurchase.member_id == member_id, MemberPurchase.sku == sku)
        .values(quantity=MemberPurchase.quantity - quantity)
    )


def load_products(uow: UnitOfWork, seeds: tuple[ProductSeed, ...]) -> None:
    """Insert the default catalogue's missing products; changed ones are left as they are."""
    session = uow.session
    known = set(session.scalars(select(Product.sku)))
    now = utcnow()
    for seed in seeds:
        if seed.sku not in known:
            session.add(Product(**seed.__dict__, active=True, created_at=now, updated_at=now))
