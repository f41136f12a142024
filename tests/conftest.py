"""Shared fixtures: a migrated database per backend (temporary SQLite file, and PostgreSQL when
ORDERTALK_TEST_PG_URL is set: a throw-away database created for this run and dropped after it)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from domain.db import inbox_url, make_engine, make_session_factory
from domain.migrate import upgrade
from domain.models import Base
from tests.world import Clock

PG_URL = os.environ.get("ORDERTALK_TEST_PG_URL")
# A text without a translation fails the test that shows it (in production it falls back to English).
os.environ.setdefault("ORDERTALK_I18N_STRICT", "1")
# Apps built by tests process each stored inbound event in the request that received it, so a test can look at the
# effect as soon as the response is back. The asynchronous path (store, ack, worker) has its own tests
# (tests/integration/test_inbox.py, the kill -9 fault tests), which build with inbox_inline=False.
os.environ.setdefault("ORDERTALK_INBOX_INLINE", "1")
# Client-side rate limits pace real deliveries (seconds per update on Slack's Tier 3); tests of them turn them on.
os.environ.setdefault("ORDERTALK_RATE_LIMITS", "0")
TEST_SECRET_KEY = "ordertalk-test-secret-key-0123456789abcdef"  # >= 32 bytes, as Settings demands
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)]


def _pg_database() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("PostgreSQL tests need ORDERTALK_TEST_PG_URL")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"ordertalk_t_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    yield from _pg_database()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'ordertalk.db'}"


_migrated: dict[str, Engine] = {}
_inboxes: dict[str, Engine] = {}  # main url → the engine of the inbox's own file (SQLite files, bot.inbox)


def _engine_for(url: str) -> Engine:
    if url not in _migrated:
        from bot.inbox import prepare_store

        upgrade(url)
        _migrated[url] = make_engine(url)
        if (own := inbox_url(url)) is not None:
            _inboxes[url] = make_engine(own)
            prepare_store(_inboxes[url])
    return _migrated[url]


def inbox_engine_for(url: str) -> Engine | None:
    """The inbox's own file of a test database that `_engine_for` migrated, or None (it is in the main one)."""
    return _inboxes.get(url)


def _wipe(engine: Engine) -> None:
    from bot.inbox import InboxEvent

    with engine.begin() as c:
        for table in reversed(Base.metadata.sorted_tables):
            c.execute(table.delete())
    for url, eng in _migrated.items():
        if eng is engine and url in _inboxes:
            with _inboxes[url].begin() as c:
                c.execute(InboxEvent.__table__.delete())


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return str(request.getfixturevalue("sqlite_url"))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = _engine_for(db_url)
    _wipe(eng)
    yield eng


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    eng = _engine_for(sqlite_url)
    _wipe(eng)
    yield eng


@pytest.fixture
def session_factory(engine: Engine):  # type: ignore[no-untyped-def]
    return make_session_factory(engine)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # Monday 10:00 in Shanghai


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for eng in [*_migrated.values(), *_inboxes.values()]:
        eng.dispose()


@pytest.fixture
def ot(engine: Engine, db_url: str, clock: Clock, tmp_path):  # type: ignore[no-untyped-def]
    """The whole application (composition root) on the test database, sandbox on, no background threads."""
    from bot.bootstrap import build
    from bot.settings import Settings

    settings = Settings(_env_file=None, database_url=db_url, sandbox=True, run_dispatcher=False, run_scheduler=False,
                        secret_key=TEST_SECRET_KEY, data_dir=tmp_path)
    app = build(settings, clock=clock, engine=engine, inbox_engine=inbox_engine_for(db_url))
    yield app
