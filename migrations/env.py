"""Alembic environment: runs migrations on the connection the caller passes, or on DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from common.db import make_engine
from common.settings import load_settings
from memberhub.models import metadata

config = context.config


def run_migrations_offline() -> None:
    context.configure(
        url=load_settings().database_url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(load_settings().database_url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        _run(connection)


def _run(connection: object) -> None:
    # render_as_batch: SQLite cannot ALTER most constraints, so later migrations
    # rebuild tables there; PostgreSQL gets plain ALTERs.
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
