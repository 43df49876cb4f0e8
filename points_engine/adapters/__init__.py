"""Persistence for the points ledger: typed ORM models and repositories."""
