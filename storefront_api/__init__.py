"""Commerce flows around the centre and the HTTP API; `register_api` mounts it on a Flask app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from storefront_api.http import ApiContext, register_api

__all__ = ["ApiContext", "register_api"]

# Flask loads with the HTTP layer, not with every commerce package a CLI verb imports.
__getattr__ = lazy_exports(__name__, {"ApiContext": "http", "register_api": "http"})
