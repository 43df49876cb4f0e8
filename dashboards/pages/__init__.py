"""The dashboard pages, one module each: layout(**query) and register(app, context)."""
