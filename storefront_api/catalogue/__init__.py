"""Catalogue facade: products, stock reservation and per-member purchase limits."""

from storefront_api.catalogue.queries import get_product, list_products, product_body
from storefront_api.catalogue.reference import PRODUCTS, ProductSeed
from storefront_api.catalogue.services import (
    OutOfStock,
    PerMemberLimitReached,
    ProductCommand,
    ProductPatch,
    UnknownProduct,
    add_product,
    load_products,
    price_for,
    release_stock,
    reserve_stock,
    tier_ranks,
    update_product,
)

__all__ = [
    "PRODUCTS",
    "OutOfStock",
    "PerMemberLimitReached",
    "ProductCommand",
    "ProductPatch",
    "ProductSeed",
    "UnknownProduct",
    "add_product",
    "get_product",
    "list_products",
    "load_products",
    "price_for",
    "product_body",
    "release_stock",
    "reserve_stock",
    "tier_ranks",
    "update_product",
]
