"""The Alembic migrations build exactly the schema the ORM models describe."""

from __future__ import annotations

from alembic import command

from memberhub.schema import alembic_config


def test_models_and_migrations_agree(db):
    config = alembic_config()
    with db.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.check(config)  # raises when autogenerate would add anything
