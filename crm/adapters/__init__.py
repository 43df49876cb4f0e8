"""Persistence of members: typed ORM models and password hashing."""
