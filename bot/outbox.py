"""The transactional outbox: messages are rows written in the same transaction as the business change.

`Outbox` resolves people to their platform addresses and adds rows; the `Dispatcher` (dispatcher.py)
delivers them later. Nothing is sent while a transaction is open, and nothing is lost if the process dies.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from bot.cards.model import Attachment, Card, Reply
from bot.ports import CopyTicket, ReplyTarget
from bot.records import CardCopy, OutboxMessage
from domain.models import PlatformIdentity, User
from domain.types import utcnow


class Outbox:
    def __init__(self, platforms: Callable[[], Iterable[str]], clock: Callable[[], datetime] = utcnow, *,
                 by_user_id: Iterable[str] = ()) -> None:
        self._platforms = platforms  # platforms with a registered deliverer, read at enqueue time
        self._by_user_id = tuple(by_user_id)  # platforms whose address for a person is their user id (the sandbox)
        self._clock = clock  # the dispatcher compares next_attempt_at with the same clock

    def addresses(self, session: Session, user: User) -> list[tuple[str, str]]:
        enabled = set(self._platforms())
        found = [(p, str(user.id)) for p in self._by_user_id if p in enabled]
        for ident in _identities(session, user):
            if ident.platform in enabled:
                found.append((ident.platform, ident.external_id))
        return found

    def add(self, session: Session, platform: str, recipient: str, *, kind: str = "user", op: str = "send",
            card: Card | None = None, text: str | None = None, cards: list[Card] | None = None,
            user_id: int | None = None, thread: str | None = None, ephemeral_user: str | None = None,
            extra: dict[str, str] | None = None, alert: bool = False,
            replies: list[Reply] | None = None) -> OutboxMessage:
        payload: dict[str, Any] = {
            "recipient_kind": kind, "user_id": user_id, "text": text, "thread": thread,
            "ephemeral_user": ephemeral_user, "extra": extra or {}, "alert": alert,
            "card": card.model_dump(mode="json") if card else None,
            "cards": [c.model_dump(mode="json") for c in cards or []],
        }
        if replies:
            payload["replies"] = [r.model_dump(mode="json") for r in replies]
        now = self._clock()
        row = OutboxMessage(
            platform=platform, recipient=recipient, conversation=f"{platform}:{kind}:{recipient}", op=op,
            card_key=card.key if card else None, payload=payload, next_attempt_at=now, created_at=now,
        )
        session.add(row)
        if op == "send" and card is not None and card.key:
            # Who holds a copy is recorded with the send: an update made before it is delivered reaches it too.
            session.add(CardCopy(card_key=card.key, platform=platform, recipient=recipient, recipient_kind=kind,
                                 user_id=user_id, send=row, created_at=now))
        if op == "send":  # a card's pictures follow it, each its own row in the same conversation (Delivery.op)
            for image in _images(card, replies):
                session.add(OutboxMessage(
                    platform=platform, recipient=recipient, conversation=row.conversation, op="image",
                    payload={**payload, "card": None, "cards": [], "replies": [], "text": None,
                             "attachment": image.model_dump(mode="json")},
                    next_attempt_at=now, created_at=now))
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

    def replies(self, session: Session, platform: str, target: ReplyTarget, user_id: int | None,
                replies: list[Reply]) -> list[OutboxMessage]:
        """The answers to one inbound event: one row each, or one row for all where the target takes few posts
        (those cards are then one message, not copies kept up to date)."""
        if target.one_message and len(replies) > 1:
            return [self.add(session, platform, target.recipient, kind=target.kind, user_id=user_id,
                             thread=target.thread, ephemeral_user=target.ephemeral_user, extra=target.extra,
                             replies=replies)]
        return [self.reply(session, platform, target, user_id, card=r.card, text=r.text) for r in replies]

    def update_everywhere(self, session: Session, card_key: str, build: Callable[[int | None], Card | None]) -> int:
        """Replace every copy of a card (every platform, every recipient) with what `build(user_id)` returns. The
        card is built once per person (their language and view), not once per copy."""
        copies: list[Any] = list(session.execute(
            select(CardCopy.platform, CardCopy.recipient, CardCopy.recipient_kind, CardCopy.user_id)
            .where(CardCopy.card_key == card_key)
            .order_by(CardCopy.id)
        ).all())
        # and the copies sent in this transaction but not flushed yet (the answers to the event, see UnitOfWork.batched)
        copies += [(c.platform, c.recipient, c.recipient_kind, c.user_id) for c in sorted(
            (o for o in session.new if isinstance(o, CardCopy) and o.card_key == card_key),
            key=lambda o: inspect(o).insert_order or 0)]
        seen: set[tuple[str, str]] = set()
        built: dict[int | None, Card | None] = {}
        n = 0
        for platform, recipient, kind, user_id in copies:
            if (platform, recipient) in seen:
                continue
            seen.add((platform, recipient))
            if user_id not in built:
                card = build(user_id)
                if card is not None:
                    card.key = card_key
                built[user_id] = card
            card = built[user_id]
            if card is None:
                continue
            self.add(session, platform, recipient, kind=kind or "user", op="update", card=card, user_id=user_id)
            n += 1
        return n

    def note_ticket(self, session: Session, platform: str, recipient: str | None, ticket: CopyTicket,
                    now: datetime) -> bool:
        """Keep a click's single-use update permission with the copy it belongs to, in the database so the web
        process that received the click and the worker that delivers the update both see it. An unused earlier
        ticket of the copy is kept too (a row of its own): each one is good for one update."""
        q = select(CardCopy).where(CardCopy.platform == platform, CardCopy.delivered_at.is_not(None))
        if ticket.handle:
            q = q.where(CardCopy.handle == ticket.handle)
        elif ticket.card_key and recipient:
            q = q.where(CardCopy.card_key == ticket.card_key, CardCopy.recipient == recipient)
        else:
            return False
        latest = session.scalars(q.order_by(CardCopy.id.desc()).limit(1)).first()
        if latest is None:
            return False  # a copy we never recorded (sent by an older version, or not a card of ours)
        if latest.ticket is None:
            latest.ticket, latest.ticket_at = ticket.code, now
        elif latest.ticket != ticket.code:
            session.add(CardCopy(card_key=latest.card_key, platform=latest.platform, recipient=latest.recipient,
                                 recipient_kind=latest.recipient_kind, ref=latest.ref, outbox_id=latest.outbox_id,
                                 handle=latest.handle, ticket=ticket.code, ticket_at=now, created_at=now,
                                 user_id=latest.user_id, delivered_at=latest.delivered_at))
        return True


_ACCOUNTS_WRITTEN = "ordertalk.outbox.accounts_written"


def _identities(session: Session, user: User) -> list[PlatformIdentity]:
    """The user's accounts: the ones loaded with the user (the recipient queries and the decision's read load them, a
    statement fewer per recipient), unless this session has added, moved or removed an account (written or not: a
    collection loaded before would not show it); else read."""
    if ("identities" not in inspect(user).unloaded and not session.info.get(_ACCOUNTS_WRITTEN)
            and not _accounts_touched(session)):
        return list(user.identities)
    return list(session.scalars(select(PlatformIdentity).where(PlatformIdentity.user_id == user.id)))


def _accounts_touched(session: Session) -> bool:
    return any(isinstance(o, PlatformIdentity) for o in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(Session, "before_flush")
def _note_accounts(session: Session, *_: Any) -> None:
    if not session.info.get(_ACCOUNTS_WRITTEN) and _accounts_touched(session):
        session.info[_ACCOUNTS_WRITTEN] = True  # for the session's life: loaded collections may predate the write


def _images(card: Card | None, replies: list[Reply] | None) -> list[Attachment]:
    cards = [card] if card is not None else [r.card for r in replies or [] if r.card is not None]
    return [a for c in cards for a in c.attachments if a.kind == "image"]
