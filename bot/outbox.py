"""The transactional outbox: messages are rows written in the same transaction as the business change.

`Outbox` resolves people to their platform addresses and adds rows; the `Dispatcher` (dispatcher.py)
delivers them later. Nothing is sent while a transaction is open, and nothing is lost if the process dies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cards.model import Card
from bot.ports import ReplyTarget
from bot.records import OutboxMessage
from domain.models import PlatformIdentity, User
from domain.types import utcnow


class Outbox:
    def __init__(self, platforms: Callable[[], Iterable[str]], clock: Callable[[], datetime] = utcnow) -> None:
        self._platforms = platforms  # platforms with a registered deliverer, read at enqueue time
        self._clock = clock  # the dispatcher compares next_attempt_at with the same clock

    def addresses(self, session: Session, user: User) -> list[tuple[str, str]]:
        enabled = set(self._platforms())
        found = [("console", str(user.id))] if "console" in enabled else []
        for ident in session.scalars(select(PlatformIdentity).where(PlatformIdentity.user_id == user.id)):
            if ident.platform in enabled:
                found.append((ident.platform, ident.external_id))
        return found

    def add(self, session: Session, platform: str, recipient: str, *, kind: str = "user", op: str = "send",
            card: Card | None = None, text: str | None = None, cards: list[Card] | None = None,
            user_id: int | None = None, thread: str | None = None, ephemeral_user: str | None = None,
            extra: dict[str, str] | None = None, alert: bool = False) -> OutboxMessage:
        payload: dict[str, Any] = {
            "recipient_kind": kind, "user_id": user_id, "text": text, "thread": thread,
            "ephemeral_user": ephemeral_user, "extra": extra or {}, "alert": alert,
            "card": card.model_dump(mode="json") if card else None,
            "cards": [c.model_dump(mode="json") for c in cards or []],
        }
        now = self._clock()
        row = OutboxMessage(
            platform=platform, recipient=recipient, conversation=f"{platform}:{kind}:{recipient}", op=op,
            card_key=card.key if card else None, payload=payload, next_attempt_at=now, created_at=now,
        )
        session.add(row)
        return row

    def to_user(self, session: Session, user: User, card: Card | None = None, text: str | None = None,
                alert: bool = False) -> list[OutboxMessage]:
        return [self.add(session, p, r, card=card, text=text, user_id=user.id, alert=alert)
                for p, r in self.addresses(session, user)]

    def to_group(self, session: Session, platform: str, chat_id: str, card: Card | None = None,
                 text: str | None = None) -> OutboxMessage | None:
        if platform not in set(self._platforms()):
            return None
        return self.add(session, platform, chat_id, kind="group", card=card, text=text)

    def reply(self, session: Session, platform: str, target: ReplyTarget, user_id: int | None,
              card: Card | None = None, text: str | None = None) -> OutboxMessage:
        return self.add(session, platform, target.recipient, kind=target.kind, card=card, text=text, user_id=user_id,
                        thread=target.thread, ephemeral_user=target.ephemeral_user, extra=target.extra)

    def update_everywhere(self, session: Session, card_key: str, build: Callable[[int | None], Card | None]) -> int:
        """Replace every copy of a card (every platform, every recipient) with what `build(user_id)` returns."""
        sent = session.execute(
            select(OutboxMessage.platform, OutboxMessage.recipient, OutboxMessage.payload)
            .where(OutboxMessage.card_key == card_key, OutboxMessage.op == "send")
            .order_by(OutboxMessage.id)
        ).all()
        seen: set[tuple[str, str]] = set()
        n = 0
        for platform, recipient, payload in sent:
            if (platform, recipient) in seen:
                continue
            seen.add((platform, recipient))
            card = build(payload.get("user_id"))
            if card is None:
                continue
            card.key = card_key
            self.add(session, platform, recipient, kind=payload.get("recipient_kind", "user"), op="update",
                     card=card, user_id=payload.get("user_id"))
            n += 1
        return n
