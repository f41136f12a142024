"""Tables the bot layer owns: the outbox, inbound idempotency keys, card copies, sent reminders, prompts, stored
files (report charts and spreadsheets), the platforms' ids for files uploaded to them, saved order searches (their
pages), files sent in to import and people who wrote in unlinked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    bindparam,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column, relationship

from domain.models import Base
from domain.types import UTCDateTime, utcnow

_PENDING = text("status = 'pending'")


class OutboxMessage(Base):
    """A message or card operation waiting for delivery; written in the same transaction as the change.

    Only a queue: who holds a copy of a card is `CardCopy`'s to answer, so delivered rows are pruned on a schedule
    (`Dispatcher.prune`). The claim reads `outbox_heads` (one row per conversation with pending rows) and the heads'
    rows through the partial index of pending rows, never a delivered one nor a row waiting behind its head."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "id", postgresql_where=_PENDING, sqlite_where=_PENDING),
        Index("ix_outbox_pending_conversation", "conversation", "id", postgresql_where=_PENDING, sqlite_where=_PENDING),
        Index("ix_outbox_delivered", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(128))
    conversation: Mapped[str] = mapped_column(String(160))  # deliveries of one conversation keep their order
    op: Mapped[str] = mapped_column(String(10), default="send")
    card_key: Mapped[str | None] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxHead(Base):
    """The head of a conversation with pending rows (its oldest pending row) and when it can be claimed: its next
    attempt, or its lease's end while a dispatcher holds it. Kept by database triggers (migration 0015) on every
    write to `outbox`, never written by the code; the claim reads the first due heads from ix_outbox_heads_due."""

    __tablename__ = "outbox_heads"
    __table_args__ = (Index("ix_outbox_heads_due", "due", "outbox_id"),)

    conversation: Mapped[str] = mapped_column(String(160), primary_key=True)
    outbox_id: Mapped[int] = mapped_column(Integer)
    due: Mapped[datetime] = mapped_column(UTCDateTime)


class InboundEvent(Base):
    """Every inbound event's idempotency key; a redelivery finds it and has no second effect."""

    __tablename__ = "inbound_events"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replies: Mapped[list[Any]] = mapped_column(JSON, default=list)


_first_inserts: dict[str, Any] = {}
_set_replies = (update(InboundEvent).where(InboundEvent.key == bindparam("k")).values(replies=bindparam("r"))
                .execution_options(synchronize_session=False))


def first_time(session: Session, key: str, at: datetime) -> bool:
    """Record an inbound event's key in the session's transaction: True the first time, False for a redelivery.
    One statement (INSERT … ON CONFLICT DO NOTHING RETURNING), not a look-up then an insert; a twin being processed
    right now makes it wait for that one's commit and then answer False (or go on, if the twin rolled back)."""
    dialect = session.get_bind().dialect.name
    stmt = _first_inserts.get(dialect)
    if stmt is None:
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = _first_inserts[dialect] = (insert(InboundEvent).on_conflict_do_nothing(index_elements=["key"])
                                          .returning(InboundEvent.key))
    return session.execute(stmt, {"key": key, "received_at": at, "replies": []}).first() is not None


def keep_replies(session: Session, key: str, replies: list[Any]) -> None:
    """What the event was answered, kept with its key (written with the event's change)."""
    session.execute(_set_replies, {"k": key, "r": replies})


class CardCopy(Base):
    """Where one copy of a card landed, so every copy can be updated after a decision.

    `handle` is the platform's own id of the copy that a click names (WeCom TaskId). `ticket` is the latest unused
    single-use permission to update this copy that the platform handed over (WeCom ResponseCode from the send answer
    or a click, Slack response_url of a click on an ephemeral copy); the dispatcher clears it once used.
    """

    __tablename__ = "card_copies"
    __table_args__ = (
        Index("ix_card_copies_key", "card_key", "platform", "recipient"),
        Index("ix_card_copies_handle", "platform", "handle"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    card_key: Mapped[str] = mapped_column(String(120))
    platform: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(128))
    recipient_kind: Mapped[str] = mapped_column(String(8), default="user")
    ref: Mapped[str | None] = mapped_column(String(300))
    outbox_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handle: Mapped[str | None] = mapped_column(String(160))
    ticket: Mapped[str | None] = mapped_column(Text)
    ticket_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(Integer)  # whose copy (their language, their view of the card)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: the send is still on its way

    send: Mapped[OutboxMessage | None] = relationship(
        primaryjoin="foreign(CardCopy.outbox_id) == OutboxMessage.id", viewonly=False)


class Receiver(Base):
    """How this deployment receives a platform's callbacks (e.g. DingTalk "stream" or "http"), recorded by the
    process that receives them, so every process sends cards whose clicks come back the same way."""

    __tablename__ = "receivers"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str] = mapped_column(String(200))


class SentReminder(Base):
    """One row per reminder ever sent: the unique key makes restarts and parallel schedulers harmless."""

    __tablename__ = "sent_reminders"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PendingPrompt(Base):
    """The bot asked this user for free text (e.g. a rejection reason on WeCom); their next message answers.

    kind "reject_reason": waiting for the reason (`token` is the signed reject token of the step);
    "reject_confirm": the reason is in `answer`, echoed back, waiting for 确认 / 取消; "quick_order": `token`
    holds the command whose ambiguous customer or product a choice button fills in."""

    __tablename__ = "pending_prompts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    token: Mapped[str] = mapped_column(String(300))
    answer: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StoredFile(Base):
    """A file a card refers to by key (a report's chart or spreadsheet): rendered once, read by every copy's
    deliverer and by the signed document link. The key names the content, so a key is never rewritten."""

    __tablename__ = "stored_files"
    __table_args__ = (Index("ix_stored_files_created", "created_at"),)

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    mime: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PlatformMedia(Base):
    """The id a platform gave a stored file we uploaded to it (WeCom and DingTalk media_id), so the same chart sent to
    several people is uploaded once, until the platform forgets it (`expires_at`: WeCom keeps media three days)."""

    __tablename__ = "platform_media"

    platform: Mapped[str] = mapped_column(String(20), primary_key=True)
    file_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    media_id: Mapped[str] = mapped_column(String(300))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedSearch(Base):
    """An order search someone ran, so its list card's page buttons can carry just an id (tokens hold no text)."""

    __tablename__ = "order_searches"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ImportCheck(Base):
    """A file someone sent the bot to import, and what its check found: the file is kept in stored_files under a
    key naming its bytes (`file_key`), the check's `digest` names exactly what it would write. The card's Import
    button applies it once (status checked → applying → applied) while it is valid, and only if the file and the
    data still mean that digest."""

    __tablename__ = "import_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    file_key: Mapped[str] = mapped_column(String(80))
    sha256: Mapped[str] = mapped_column(String(64))
    # the inbound event that brought the file (platform:event id): its check job, run again, finds this row
    event_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    kind: Mapped[str | None] = mapped_column(String(20))  # an import kind, or "bank" (a bank statement)
    digest: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="received")  # received|checked|failed|applying|applied
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
