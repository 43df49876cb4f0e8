"""The Dash app for marketers and finance, mounted in the API server under /dashboards/."""

from dashboards.app import mount

__all__ = ["mount"]
