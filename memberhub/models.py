"""Imports every ORM module so that `Base.metadata` knows the whole operational schema."""

from __future__ import annotations

import common.idempotency
import common.organisation
import crm.adapters.orm
import points_engine.adapters.orm
import storefront_api.auth.orm
from common.db import Base

metadata = Base.metadata

__all__ = [
    "common",
    "crm",
    "metadata",
    "points_engine",
    "storefront_api",
]
