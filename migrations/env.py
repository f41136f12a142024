"""Alembic environment. The URL comes from the caller (ordertalk db upgrade) or ORDERTALK_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

import adapters.console.models  # noqa: F401  (registers the sandbox table)
import bot.inbox  # noqa: F401  (registers the inbox table)
import bot.ratelimit  # noqa: F401  (registers the rate buckets)
import bot.records  # noqa: F401  (registers the bot tables)
from domain.db import make_engine
from domain.db_guard import DbTimeouts
from domain.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    # An index build or a backfill over a million rows may take minutes: migrations get an hour per statement, not the
    # 30 s of an application statement (server-side statement_timeout and the client-side watchdog alike).
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool,
                         timeouts=DbTimeouts(statement=3600.0))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)  # type: ignore[arg-type]
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
