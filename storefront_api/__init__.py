"""Commerce flows around the centre and the HTTP API; `register_api` mounts it on a Flask app."""

from storefront_api.http import ApiContext, register_api

__all__ = ["ApiContext", "register_api"]
