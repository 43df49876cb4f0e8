"""The engine and session factory built from settings: what every CLI verb, job and the
web app share. Kept apart from `memberhub.wiring` so that a verb which never serves HTTP
does not load Flask and Dash."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from common.db import make_engine, make_session_factory
from common.settings import Settings, load_settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]


def build_runtime(settings: Settings | None = None, *, scratch_sqlite: bool = False) -> Runtime:
    """`scratch_sqlite`: see common.db.make_engine; only for a database made to throw away."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url, scratch_sqlite=scratch_sqlite)
    return Runtime(settings, engine, make_session_factory(engine))
