"""tests/unit: domain commands on an in-memory SQLite database, fast and without PostgreSQL.

The schema is the migrations' (the same `alembic upgrade head` the other tests and production run), built once per
test session on one in-memory database that every session shares (StaticPool: one connection, so the data outlives
a session); each test starts from empty tables. What depends on the backend (concurrency, locks, PostgreSQL's SQL)
is tested in tests/integration on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from domain.db import make_engine, make_session_factory
from domain.migrate import alembic_config
from tests.conftest import _wipe

MEMORY_URL = "sqlite://"


@pytest.fixture(scope="session")
def memory_engine() -> Iterator[Engine]:
    engine = make_engine(MEMORY_URL, poolclass=StaticPool)
    cfg = alembic_config(MEMORY_URL)
    with engine.connect() as connection:
        cfg.attributes["connection"] = connection  # migrations/env.py runs on it instead of opening its own
        command.upgrade(cfg, "head")
        connection.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(memory_engine: Engine) -> sessionmaker[Session]:
    """Shadows the root conftest's (SQLite file and PostgreSQL): here, the in-memory database, emptied."""
    _wipe(memory_engine)
    return make_session_factory(memory_engine)
