"""Imports every ORM module so that `Base.metadata` knows the whole operational schema."""

from __future__ import annotations

import common.audit
import common.idempotency
import common.organisation
import common.throttle
import crm.adapters.orm
import crm.insights.orm
import points_engine.adapters.orm
import storefront_api.auth.orm
import storefront_api.bills.orm
import storefront_api.catalogue.orm
import storefront_api.clearing.orm
import storefront_api.mail.orm
import storefront_api.orders.orm
import storefront_api.partners.orm
import storefront_api.pickup.orm
import storefront_api.prepaid.orm
import storefront_api.saved_views.orm
import storefront_api.subscriptions.orm
import storefront_api.vouchers.orm
from common.db import Base

metadata = Base.metadata

__all__ = [
    "common",
    "crm",
    "metadata",
    "points_engine",
    "storefront_api",
]
