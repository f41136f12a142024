"""The state of a file sent in to import (`ImportCheck`), in the caller's unit of work: the bot's own conversation
state, like bot/state.py's prompts — what was received, what its check found, whether its Import button was used.
What an import writes is the domain's (bot.documents.imports runs the domain's commands); this module only moves a
check through received → checked / failed → applying → applied / failed, and records which job answered for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.records import ImportCheck


def answered_by(check: ImportCheck, job: str) -> bool:
    """Whether `job` has answered for this check already (its card or its answer committed)."""
    return job in check.summary.get("jobs", [])


def by_event(s: Session, event: str) -> ImportCheck | None:
    """The check a file's message led to (a job run again after a crash finds what it stored)."""
    return s.scalar(select(ImportCheck).where(ImportCheck.event_key == event))


def keep(s: Session, *, user_id: int, platform: str, filename: str, file_key: str, sha256: str, event: str,
         now: datetime) -> None:
    """A received file's check; its event key is unique, so a twin job's insert fails at commit."""
    s.add(ImportCheck(user_id=user_id, platform=platform, filename=filename[:200], file_key=file_key, sha256=sha256,
                      event_key=event, status="received", summary={}, created_at=now))


def answering(s: Session, check_id: int, job: str) -> ImportCheck | None:
    """The check, locked, when `job` has not answered for it yet — and marked answered by it (in the caller's
    transaction, with the card). None: answered already (this job ran before, up to its commit)."""
    row = s.get(ImportCheck, check_id, with_for_update=True)
    assert row is not None
    if answered_by(row, job):
        return None
    row.summary = {**row.summary, "jobs": [*row.summary.get("jobs", []), job]}
    return row


def start_applying(s: Session, check_id: int, user_id: int) -> bool:
    """The Import press: checked → applying, once (False: someone pressed it first)."""
    done = s.execute(update(ImportCheck).where(ImportCheck.id == check_id, ImportCheck.status == "checked")
                     .values(status="applying", applied_by_id=user_id))
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def applied(s: Session, check_id: int, now: datetime) -> bool:
    """applying → applied, in the import's own transaction (False: not applying any more)."""
    done = s.execute(update(ImportCheck).where(ImportCheck.id == check_id, ImportCheck.status == "applying")
                     .values(status="applied", applied_at=now))
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def apply_failed(s: Session, check_id: int) -> None:
    """Not left applying for ever when the import broke: the file can be sent again."""
    s.execute(update(ImportCheck).where(ImportCheck.id == check_id, ImportCheck.status == "applying")
              .values(status="failed"))
