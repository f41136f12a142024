"""The bot's own conversation state, in the caller's unit of work: once-only reminder keys, the prompt a person is
asked to answer (a rejection reason, a choice, a confirmation) and saved order searches. Business writes are the
domain's commands; this module and the core are the only places in bot/ that write through the session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.records import PendingPrompt, SavedSearch, SentReminder


def once(s: Session, key: str, now: datetime) -> bool:
    """True the first time a key is seen; the primary key makes this hold across processes (a second scheduler's
    insert of the same key fails at commit, and its whole transaction with it)."""
    if s.get(SentReminder, key) is not None:
        return False
    s.add(SentReminder(key=key, sent_at=now))
    s.flush()
    return True


def prompt_of(s: Session, user_id: int) -> PendingPrompt | None:
    return s.get(PendingPrompt, user_id)


def ask(s: Session, user_id: int, kind: str, token: str, expires_at: datetime, answer: str | None = None) -> PendingPrompt:
    """Replace whatever this person was asked before with a new question."""
    prompt = s.get(PendingPrompt, user_id) or PendingPrompt(user_id=user_id)
    prompt.kind, prompt.token, prompt.answer, prompt.expires_at = kind, token, answer, expires_at
    s.add(prompt)
    return prompt


def forget(s: Session, prompt: PendingPrompt) -> None:
    """The question is answered, cancelled or expired."""
    s.delete(prompt)


def save_search(s: Session, user_id: int, query: dict[str, Any], now: datetime) -> int:
    saved = SavedSearch(user_id=user_id, query=query, created_at=now)
    s.add(saved)
    s.flush()
    return saved.id


def saved_search(s: Session, search_id: int, user_id: int) -> dict[str, Any] | None:
    """A search this person saved (someone else's id reads as none)."""
    saved = s.get(SavedSearch, search_id)
    return saved.query if saved is not None and saved.user_id == user_id else None
