"""Files addressed by key, kept in the database: a report's chart (PNG) and its numbers (XLSX).

A key names the content (a digest of what was drawn), so the same chart for the same figures is one row however many
people receive it, and any process — the web app answering a link, a worker uploading to a platform — reads the bytes
with the key alone (`FileStore.get`). Rows older than `KEEP` are deleted as new ones come (the signed links to them
expire sooner).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.records import StoredFile

KEEP = timedelta(days=31)


@dataclass(frozen=True)
class FileInfo:
    key: str
    mime: str
    filename: str
    size: int
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Rendered:
    data: bytes
    mime: str
    filename: str
    width: int | None = None
    height: int | None = None


def info(session: Session, key: str) -> FileInfo | None:
    row = session.execute(select(StoredFile.key, StoredFile.mime, StoredFile.filename, StoredFile.size,
                                 StoredFile.width, StoredFile.height).where(StoredFile.key == key)).first()
    return FileInfo(*row) if row else None


def get(session: Session, key: str) -> tuple[FileInfo, bytes] | None:
    """The file's description and bytes, for a deliverer or a download."""
    row = session.execute(select(StoredFile.key, StoredFile.mime, StoredFile.filename, StoredFile.size,
                                 StoredFile.width, StoredFile.height, StoredFile.data).where(StoredFile.key == key)).first()
    return (FileInfo(*row[:6]), bytes(row[6])) if row else None


def ensure(session: Session, key: str, render: Callable[[], Rendered], now: datetime) -> FileInfo:
    """The file under `key`, rendered and stored only if nobody has yet. Runs inside the caller's transaction, in a
    savepoint: two processes storing the same key at once both end up with the one row, neither fails."""
    found = info(session, key)
    if found is not None:
        return found
    out = render()
    try:
        with session.begin_nested():
            session.add(StoredFile(key=key, mime=out.mime, filename=out.filename, size=len(out.data), width=out.width,
                                   height=out.height, data=out.data, created_at=now))
    except IntegrityError:
        pass  # stored meanwhile by someone else: the same content under the same key
    with session.begin_nested():
        session.execute(delete(StoredFile).where(StoredFile.created_at < now - KEEP))
    return FileInfo(key, out.mime, out.filename, len(out.data), out.width, out.height)
