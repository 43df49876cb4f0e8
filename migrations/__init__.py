"""The one Alembic environment of the operational database."""
