"""Files addressed by key, kept in the database: a report's chart (PNG) and its numbers (XLSX).

A key names the content (a digest of what was drawn), so the same chart for the same figures is one row however many
people receive it, and any process — the web app answering a link, a worker uploading to a platform — reads the bytes
with the key alone (`get`). Rows older than `KEEP` are deleted as new ones come (the signed links to them expire
sooner).

Deliverers read the files through a `FileStore` (handed to each adapter by the composition root): the bytes, and the
id a platform gave an earlier upload of the same file (`with_media`), so a chart that goes to ten people on WeCom is
uploaded once while WeCom keeps it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.ports import PermanentFailure
from bot.records import PlatformMedia, StoredFile
from bot.singleflight import KeyedLocks
from domain.types import utcnow

log = logging.getLogger(__name__)
R = TypeVar("R")

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


class FileStore:
    """Stored files as a deliverer sees them, each call in its own short transaction (a deliverer holds none)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Callable[[], datetime] = utcnow) -> None:
        self._sessions = sessions
        self._clock = clock
        self._uploading = KeyedLocks()  # (platform, file key): one upload of a file at a time in this process

    def read(self, key: str) -> tuple[FileInfo, bytes] | None:
        with self._sessions() as s:
            return get(s, key)

    def media_id(self, platform: str, key: str) -> str | None:
        """The platform's id for its copy of the file, while the platform still keeps it."""
        with self._sessions() as s:
            row = s.get(PlatformMedia, (platform, key))
            return row.media_id if row is not None and row.expires_at > self._clock() else None

    def remember(self, platform: str, key: str, media_id: str, lifetime: timedelta) -> None:
        now = self._clock()
        with self._sessions() as s:
            s.execute(delete(PlatformMedia).where(PlatformMedia.expires_at <= now))
            row = s.get(PlatformMedia, (platform, key))
            if row is None:
                s.add(PlatformMedia(platform=platform, file_key=key, media_id=media_id, expires_at=now + lifetime,
                                    created_at=now))
            else:  # a newer upload (the old one expired, or two workers uploaded at once): the last one is kept
                row.media_id, row.expires_at, row.created_at = media_id, now + lifetime, now
            try:
                s.commit()
            except IntegrityError:  # another worker stored its upload of the same file first: theirs is as good
                s.rollback()

    def forget(self, platform: str, key: str, media_id: str | None = None) -> None:
        """Drop the kept id (only if it is still `media_id`, when given: another worker may have replaced it)."""
        with self._sessions() as s:
            q = delete(PlatformMedia).where(PlatformMedia.platform == platform, PlatformMedia.file_key == key)
            s.execute(q if media_id is None else q.where(PlatformMedia.media_id == media_id))
            s.commit()

    def with_media(self, platform: str, key: str, lifetime: timedelta, upload: Callable[[FileInfo, bytes], str],
                   send: Callable[[str], R]) -> R:
        """`send(media_id)` with the platform's id for the stored file `key`: the one an earlier upload got while it
        lasts, else `upload(info, data)`'s (kept for `lifetime`). A send the platform refuses with a remembered id is
        tried once more with a fresh upload (the platform may forget media before it said it would).

        Deliveries of one chart to many people run side by side (the dispatcher's send threads): the file is
        uploaded by one of them at a time; the others wait for it and send with its id, so one chart is one upload.
        The sends themselves are not held up by each other."""
        media, uploaded = self._media(platform, key, lifetime, upload)
        if not uploaded:
            try:
                return send(media)
            except PermanentFailure as exc:
                log.info("%s refused the stored upload of %s (%s); uploading it again", platform, key, exc.reason)
            media, _ = self._media(platform, key, lifetime, upload, refused=media)
        return send(media)  # refused again: a PermanentFailure for the dispatcher, no third try

    def _media(self, platform: str, key: str, lifetime: timedelta, upload: Callable[[FileInfo, bytes], str],
               refused: str | None = None) -> tuple[str, bool]:
        """The kept id (unless it is the `refused` one), else a new upload's; and whether it was uploaded here."""
        with self._uploading.hold((platform, key)):
            cached = self.media_id(platform, key)
            if cached is not None and cached != refused:
                return cached, False  # kept meanwhile, or uploaded anew by a thread that was refused before us
            if cached is not None:
                self.forget(platform, key, cached)
            found = self.read(key)
            if found is None:
                raise PermanentFailure(f"{platform}: stored file {key} is gone (files are kept {KEEP.days} days)")
            media = upload(*found)
            self.remember(platform, key, media, lifetime)
            return media, True
