"""The Dash app for marketers and finance, mounted in the API server (not built yet)."""
