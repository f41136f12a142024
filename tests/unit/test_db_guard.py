"""The database guard's listeners never raise: on a connection invalidated mid-transaction (a cut, a disconnect)
the rollback that follows must surface the error that caused it, not one of the guard's own."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from domain.db_guard import DbTimeouts, Guard


def _guarded():  # type: ignore[no-untyped-def]
    engine = create_engine("sqlite://")
    Guard(engine, DbTimeouts()).install()
    return engine


def test_the_error_that_invalidated_the_connection_is_the_one_raised() -> None:
    engine = _guarded()
    with pytest.raises(LookupError, match="the real error"):
        with Session(engine) as s, s.begin():
            s.execute(text("SELECT 1"))
            s.connection().invalidate()  # what a disconnect does to it
            raise LookupError("the real error")


def test_rolling_back_and_reconnecting_after_an_invalidation() -> None:
    engine = _guarded()
    with engine.connect() as c:
        tx = c.begin()
        c.execute(text("SELECT 1"))
        c.invalidate()
        tx.rollback()  # the rollback listener runs on a connection that has none
        assert c.execute(text("SELECT 2")).scalar() == 2  # and the next statement gets a fresh one
