"""The file store behind report charts: one row per key whoever stores it first, inside the caller's transaction,
read back by key from another session; old files go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot import files
from bot.records import StoredFile

NOW = datetime(2026, 11, 23, 2, tzinfo=UTC)


def _png(n: int) -> files.Rendered:
    return files.Rendered(b"\x89PNG" + bytes([n]) * 10, "image/png", f"chart-{n}.png", 1200, 900)


def test_stored_once_and_read_by_key_from_another_session(session_factory):
    drawn = []
    with session_factory() as s:
        info = files.ensure(s, "chart-a", lambda: drawn.append(1) or _png(1), NOW)
        again = files.ensure(s, "chart-a", lambda: drawn.append(2) or _png(2), NOW)
        s.commit()
    assert drawn == [1] and info == again and (info.width, info.height, info.size) == (1200, 900, 14)
    with session_factory() as other:
        meta, data = files.get(other, "chart-a")
        assert data == _png(1).data and meta.mime == "image/png" and files.get(other, "chart-b") is None


def test_someone_else_storing_the_same_key_meanwhile_is_no_failure(session_factory, monkeypatch):
    with session_factory() as first:
        files.ensure(first, "chart-race", lambda: _png(1), NOW)
        first.commit()
    monkeypatch.setattr(files, "info", lambda session, key: None)  # as if the other process had not committed yet
    with session_factory() as s:
        got = files.ensure(s, "chart-race", lambda: _png(1), NOW)  # the insert collides; the savepoint absorbs it
        s.add(StoredFile(key="chart-after", mime="image/png", filename="x.png", size=1, data=b"x", created_at=NOW))
        s.commit()  # the caller's own work still commits
        assert got.key == "chart-race"
        assert s.scalar(select(func.count()).select_from(StoredFile)) == 2


def test_files_older_than_a_month_are_deleted_as_new_ones_come(session_factory):
    with session_factory() as s:
        files.ensure(s, "chart-old", lambda: _png(1), NOW - files.KEEP - timedelta(days=1))
        files.ensure(s, "chart-new", lambda: _png(2), NOW)
        s.commit()
        assert s.scalars(select(StoredFile.key)).all() == ["chart-new"]
