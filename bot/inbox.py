"""The durable inbox: an inbound event is stored before the platform hears anything back, and processed from here.

A callback is verified by its adapter, then `Inbox.store` writes the event (parsed, or the platform's raw body for
an adapter that replays it) with its dedup key in one short transaction; only then does the adapter acknowledge. If
that transaction fails (database down) the adapter answers 5xx and the platform retries: nothing is acknowledged
that was not stored. A redelivery finds its key and is acknowledged without a second row.

The work (decision, cards, outbox rows) runs from the inbox: in a worker thread (`start`, in `ordertalk worker` and
`ordertalk serve`), or right away in the receiving request (`inline`: the sandbox, tests). Events of one
conversation (one person on one platform) are processed one at a time in the order they arrived: a row is claimed
only while no earlier row of its conversation is pending, under a lease (owner + expiry) so a crashed process's rows
come back. Exactly once: the bot core records the event key in the same transaction as the change
(`bot.core`), so an event processed again after a crash between that commit and `done` has no second effect.

On a SQLite file the inbox has a file of its own (`domain.db.inbox_url`, prepared by `prepare_store`): the store
before an acknowledgement then never waits on a decision's hold of the main file's writer lock. Rows the core writes
in its own transaction (`enqueue`: jobs an event leads to) are written to the main database's `inbox` table, which is
then only where they wait to be handed over into the inbox's file (`_hand_over`) once that transaction committed.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_any
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    JSON,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    exists,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column, sessionmaker

from bot.cards.model import Card, Option, Reply
from bot.dispatcher import until_idle
from bot.ports import BotCorePort, Deliver, InboundAction, InboundMessage, with_event
from domain.db import URGENT
from domain.db_guard import DatabaseUnavailable
from domain.models import Base
from domain.types import UTCDateTime, utcnow

log = logging.getLogger("ordertalk.inbox")

PENDING = "pending"
_pending = text("status = 'pending'")

# Database trouble is worth waiting out; anything else is a bug that a few more tries will not fix.
TRANSIENT = (OperationalError, InterfaceError, PoolTimeout, DatabaseUnavailable)


INBOX_SCHEMA = 1  # the inbox file's schema (its PRAGMA user_version): a change to InboxEvent bumps it, with its step


class InboxEvent(Base):
    """One inbound event as received, until it has been processed (then kept a while for the record, and pruned)."""

    __tablename__ = "inbox"
    __table_args__ = (
        # Only pending rows are in these: claiming never reads a processed row, however many there are.
        Index("ix_inbox_pending", "id", postgresql_where=_pending, sqlite_where=_pending),
        Index("ix_inbox_pending_conversation", "conversation", "id", postgresql_where=_pending, sqlite_where=_pending),
        Index("ix_inbox_processed", "processed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)  # platform:event id, as the core dedups on
    platform: Mapped[str] = mapped_column(String(20))
    conversation: Mapped[str] = mapped_column(String(200))  # events of one conversation are processed in order
    kind: Mapped[str] = mapped_column(String(20))  # "message" | "action" | an adapter's raw kind ("slack")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default=PENDING)  # pending | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


_TABLE = cast(Table, InboxEvent.__table__)

RawHandler = Callable[[dict[str, Any]], None]
_Next = tuple[int, str, dict[str, Any], bool]  # the row to follow with: id, kind, payload, whether more wait behind it


@dataclass(frozen=True)
class Stored:
    """A stored event: its row id, and whether it was leased to the caller (who may then process it at once)."""

    id: int
    claimed: bool


class TryAgain(Exception):
    """A raw handler met a passing condition (the platform's API down underneath): tried again, never given up."""


class NotProcessed(Exception):
    """A raw handler could not do the work this time (the platform API refused, the database failed underneath):
    the event stays in the inbox and is tried again."""


def _new_row(platform: str, key: str, conversation: str, kind: str, payload: dict[str, Any],
             now: datetime) -> dict[str, Any]:
    # ids a platform sent (a Slack trigger_id in the key) may hold NUL, which PostgreSQL does not store in text
    return {"key": key.replace("\0", "")[:300], "platform": platform,
            "conversation": conversation.replace("\0", "")[:200], "kind": kind, "payload": payload,
            "status": PENDING, "attempts": 0, "next_attempt_at": now, "received_at": now}


class Inbox:
    def __init__(self, sessions: sessionmaker[Session], core: BotCorePort, *, clock: Callable[[], datetime] = utcnow,
                 lease_seconds: float = 30.0, max_attempts: int = 10, backoff_max: float = 60.0,
                 keep_days: float = 7.0, threads: int = 4, batch: int = 16, owner: str | None = None,
                 store: sessionmaker[Session] | None = None) -> None:
        # `store`: the inbox's own database (a SQLite file of its own), else the main one (`sessions`) holds it
        self.sessions = store or sessions
        self.main = sessions
        self.split = store is not None
        self._handed_at = 0.0
        self._moved: dict[int, int] = {}  # handed over by this process: main id → id here, until `kick` asks
        self._moved_lock = threading.Lock()
        # Stores go before the workers' transactions on SQLite's one writer lock (domain.db.URGENT): a platform waits.
        self._engine: Engine = self.sessions.kw["bind"].execution_options(**{URGENT: True})
        self.core = core
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts
        self.backoff_max = backoff_max
        self.keep = timedelta(days=keep_days)
        self.threads = threads
        self.batch = batch
        self.owner = owner or "inbox-" + uuid.uuid4().hex[:12]
        self.raw: dict[str, RawHandler] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._heartbeat = _Heartbeat(self)
        self.on_stored: Callable[[], None] = lambda: None  # e.g. NOTIFY, so a worker in another process wakes

    def register_raw(self, kind: str, handler: RawHandler) -> None:
        """An adapter that stores the platform's raw request (kind) and replays it here in the worker."""
        self.raw[kind] = handler

    # ------------------------------------------------------------------ storing
    def store(self, platform: str, key: str, conversation: str, kind: str, payload: dict[str, Any], *,
              claim: bool = False) -> Stored | None:
        """Write the event in one short transaction. None when the key is already stored (a redelivery: acknowledge
        it, nothing more). With `claim`, the row is leased to the caller at once when no earlier event of its
        conversation is pending, so the caller may process it right away (`process(id, claimed=True)`).
        Database errors propagate: the adapter must then answer 5xx, never acknowledge."""
        now = self.clock()
        values = _new_row(platform, key, conversation, kind, payload, now)
        # A connection, not an ORM session: this transaction runs before every acknowledgement.
        with self._engine.begin() as c:
            if claim and c.scalar(self._earlier_pending, {"conv": values["conversation"]}) is None:
                values.update(lease_owner=self.owner, lease_until=now + self.lease)
            # One statement: a redelivery (its key stored already, or being stored by a twin right now) inserts
            # nothing and returns no id, instead of a SELECT for the key first (a round trip on every ack).
            row_id = c.scalar(self._insert_new(c.dialect.name), values)
        if row_id is None:
            return None
        stored = Stored(row_id, "lease_owner" in values)
        self.on_stored()
        if not stored.claimed:
            self._wake.set()
        return stored

    _inserts: dict[str, Any] = {}
    _earlier_pending = (select(InboxEvent.id)
                        .where(InboxEvent.conversation == bindparam("conv"), InboxEvent.status == PENDING).limit(1))

    @classmethod
    def _insert_new(cls, dialect: str) -> Any:
        """INSERT … ON CONFLICT (key) DO NOTHING RETURNING id, built once per dialect."""
        stmt = cls._inserts.get(dialect)
        if stmt is None:
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            stmt = cls._inserts[dialect] = (insert(InboxEvent).on_conflict_do_nothing(index_elements=["key"])
                                            .returning(InboxEvent.id))
        return stmt

    @classmethod
    def enqueue(cls, session: Session, platform: str, key: str, conversation: str, kind: str,
                payload: dict[str, Any], now: datetime) -> int | None:
        """A row written in the caller's own transaction: work an event leads to that must survive a crash after
        the event's commit (checking a file sent in), done by a worker — or right away by `process` — once that
        transaction committed. Idempotent on `key`: None when it is stored already."""
        _staged.set(True)  # split inbox: to be handed over into the inbox's file after this commit (`_hand_over`)
        return session.scalar(cls._insert_new(session.get_bind().dialect.name),
                              _new_row(platform, key, conversation, kind, payload, now))

    def _hand_over(self) -> dict[int, int]:
        """Split inbox: move the rows committed to the main database's `inbox` table (`enqueue`) into the inbox's
        file — {main id: id here}. Copied before they are deleted there, keyed: a crash in between copies them
        again, and their keys (unique here) keep one row each. Run after the commit of the event that enqueued
        them (`_follow`, `kick`), and every second by the worker (what a crash left, rows enqueued outside the inbox,
        rows a database older than the split holds)."""
        if not self.split:
            return {}
        self._handed_at = time.monotonic()
        table = _TABLE
        with self.main() as s:
            rows = [dict(r) for r in s.execute(select(table).order_by(table.c.id).limit(500)).mappings()]
        if not rows:
            return {}
        keys = [r["key"] for r in rows]
        with self._engine.begin() as c:
            c.execute(sqlite_insert(table).on_conflict_do_nothing(index_elements=["key"]),
                      [{k: v for k, v in r.items() if k != "id"} for r in rows])
            here = dict(c.execute(select(table.c.key, table.c.id).where(table.c.key.in_(keys))).all())
        moved = {r["id"]: here[r["key"]] for r in rows if r["key"] in here}
        with self._moved_lock:  # before they leave the main table: a `kick` that finds none there finds them here
            if len(self._moved) > 10_000:  # kicks not asked for (rows enqueued outside a kick): forgotten
                self._moved.clear()
            self._moved.update(moved)
        with self.main() as s:
            s.execute(delete(table).where(table.c.id.in_([r["id"] for r in rows])))
            s.commit()
        self._wake.set()
        return moved

    def store_message(self, msg: InboundMessage, *, claim: bool = False) -> Stored | None:
        return self.store(msg.platform, f"{msg.platform}:{msg.event_id}", conversation_of(msg.platform, msg.external_user_id),
                          "message", {"event": msg.model_dump(mode="json")}, claim=claim)

    def store_action(self, action: InboundAction, *, claim: bool = False) -> Stored | None:
        return self.store(action.platform, f"{action.platform}:{action.event_id}",
                          conversation_of(action.platform, action.external_user_id, action.token), "action",
                          {"event": action.model_dump(mode="json")}, claim=claim)

    # ------------------------------------------------------------------ claiming
    def claim(self, limit: int | None = None) -> list[int]:
        """The next due rows, each the head of its conversation (so they may run in parallel), leased to us."""
        return [row.id for row in self._claim_rows(limit)]

    def _claim_rows(self, limit: int | None = None) -> list[Any]:
        """`claim`, with what processing needs of each row (kind, payload, conversation): read in the claiming
        transaction, so a claimed row is not read again in a transaction of its own. `more`: whether a later row of
        its conversation was pending then — when none was, marking it done does not look for one (a row that
        arrives meanwhile is claimed in the next round)."""
        now = self.clock()
        earlier, later = aliased(InboxEvent), aliased(InboxEvent)
        with self.sessions() as s:
            more = exists().where(and_(later.conversation == InboxEvent.conversation, later.status == PENDING,
                                       later.id > InboxEvent.id)).label("more")
            q = (
                select(InboxEvent.id, InboxEvent.kind, InboxEvent.payload, InboxEvent.conversation, more)
                .where(
                    InboxEvent.status == PENDING,
                    # only what this process can process: a raw kind whose adapter is not installed here is left
                    # to a process that has it, instead of failing here
                    InboxEvent.kind.in_(["message", "action", *self.raw]),
                    InboxEvent.next_attempt_at <= now,
                    or_(InboxEvent.lease_until.is_(None), InboxEvent.lease_until < now),
                    ~exists().where(and_(earlier.conversation == InboxEvent.conversation, earlier.status == PENDING,
                                         earlier.id < InboxEvent.id)),
                )
                .order_by(InboxEvent.id)
                .limit(limit or self.batch)
            )
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True, of=InboxEvent)
            rows = list(s.execute(q))
            if rows:
                s.execute(update(InboxEvent).where(InboxEvent.id.in_([r.id for r in rows]))
                          .values(lease_owner=self.owner, lease_until=now + self.lease))
            s.commit()
            return rows

    # Built once: constructing these expressions cost more than running them (profile of the worker's path).
    _earlier = aliased(InboxEvent)
    _lease = (
        update(InboxEvent)
        .where(InboxEvent.id == bindparam("rid"), InboxEvent.status == PENDING,
               or_(InboxEvent.lease_until.is_(None), InboxEvent.lease_until < bindparam("now"),
                   InboxEvent.lease_owner == bindparam("me")))
        .values(lease_owner=bindparam("new_owner"), lease_until=bindparam("until"))
        .execution_options(synchronize_session=False)
    )
    _lease_head = _lease.where(~exists().where(and_(
        _earlier.conversation == InboxEvent.conversation, _earlier.status == PENDING, _earlier.id < bindparam("rid"))))
    _finish = (
        update(InboxEvent).where(InboxEvent.id == bindparam("rid"))
        .values(status="done", processed_at=bindparam("at"), lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    _row = select(InboxEvent.kind, InboxEvent.payload, InboxEvent.conversation, InboxEvent.status).where(
        InboxEvent.id == bindparam("rid"))
    # two: the one to follow with, and whether another waits behind it (`more` of `_claim_rows`)
    _next = (select(InboxEvent.id, InboxEvent.kind, InboxEvent.payload, InboxEvent.next_attempt_at)
             .where(InboxEvent.conversation == bindparam("conv"), InboxEvent.status == PENDING)
             .order_by(InboxEvent.id).limit(2))

    def _lease_params(self, row_id: int, now: datetime) -> dict[str, Any]:
        return {"rid": row_id, "now": now, "me": self.owner, "new_owner": self.owner, "until": now + self.lease}

    def _claim_one(self, s: Session, row_id: int, now: datetime, owner: str | None = None) -> bool:
        """Lease one given row when it is due, unleased (or ours) and the head of its conversation."""
        params = self._lease_params(row_id, now)
        if owner is not None:
            params.update(me=owner, new_owner=owner)
        res = s.execute(self._lease_head, params)
        return bool(getattr(res, "rowcount", 0))

    # ------------------------------------------------------------------ processing
    def process(self, row_id: int, *, claimed: bool = False, deliver_replies: Deliver = True,
                owner: str | None = None) -> list[Reply] | None:
        """Process one row now (the receiving request, or a worker thread). Returns the core's replies, or None when
        the row was not ours to process (another process holds it, or an earlier event of its conversation is still
        pending: the worker takes it in turn). Then follows the conversation: the next pending row of it, if due and
        free, is leased in the transaction that marks this one done and processed by the same thread (no round trip
        through the claim query). `owner`: lease it under another name than this process's, so that a row this
        process's worker thread leased meanwhile is not taken a second time (`kick`)."""
        with self.sessions() as s:
            if not claimed:
                if not self._claim_one(s, row_id, self.clock(), owner):
                    s.rollback()
                    return None
            found = s.execute(self._row, {"rid": row_id}).first()
            s.commit()
        if found is None or found.status != PENDING:
            return None
        return self._follow(row_id, found.kind, dict(found.payload), found.conversation, deliver_replies,
                            owner or self.owner)

    def _follow(self, row_id: int, kind: str, payload: dict[str, Any], conversation: str,
                deliver_replies: Deliver, owner: str | None = None, more: bool = True) -> list[Reply] | None:
        """Run a row leased to us (to `owner`, default this process), then the rows of its conversation that follow
        it (leased to this process, see `process`). `more`: False when no later row of the conversation was pending
        at the claim (none is looked for then)."""
        result: list[Reply] | None = None
        first = True
        while True:
            done = _Done(self, row_id, conversation, more)
            self._heartbeat.add(row_id, owner if first and owner else self.owner)
            try:
                replies = self._run(row_id, kind, payload, deliver_replies if first else True, done)
            finally:
                self._heartbeat.remove(row_id)
            if replies is None:
                return result  # failed this time: left (or given up) for a later try
            if first:
                result, first = replies, False
            if self.split:
                # Exactly once across two files: the core recorded the event's key (bot.core first_time) in the
                # decision's own transaction in the main database; only after that commit is the row marked done
                # here. A crash in between leaves the row pending: it is claimed again once its lease runs out, the
                # core finds the key and does nothing, and the row is only marked done. What the event enqueued is
                # handed over first, so it is in this file (after this row, in its conversation) before it is done.
                if _staged.get():
                    _staged.set(False)
                    self._hand_over()
                nxt = self._done(row_id, conversation, more)
            else:
                nxt = done.next if done.committed_ else self._done(row_id, conversation, more)
            if nxt is None:
                return result
            row_id, kind, payload, more = nxt

    def _done(self, row_id: int, conversation: str, more: bool = True) -> _Next | None:
        """Mark the row processed in a transaction of its own (when the core did not, see `_Done`)."""
        with self.sessions() as s:
            nxt = self._mark_done(s, row_id, conversation, more)
            s.commit()
        return nxt

    def _mark_done(self, s: Session, row_id: int, conversation: str, more: bool = True) -> _Next | None:
        """Mark the row processed and, in the same transaction, lease the next row of its conversation to us when it
        is due and free: (its id, kind, payload, whether yet another row waits behind it), or None. With `more`
        False nothing is looked for: a statement fewer per event, most events being the only one of theirs."""
        now = self.clock()
        s.execute(self._finish, {"rid": row_id, "at": now})
        if not more:
            return None
        found = s.execute(self._next, {"conv": conversation}).all()
        nxt = found[0] if found else None
        taken = (nxt is not None and nxt.next_attempt_at <= now
                 and bool(getattr(s.execute(self._lease, self._lease_params(nxt.id, now)), "rowcount", 0)))
        return (nxt.id, nxt.kind, dict(nxt.payload), len(found) > 1) if nxt is not None and taken else None

    def _run(self, row_id: int, kind: str, payload: dict[str, Any], deliver: Deliver,
             done: _Done) -> list[Reply] | None:
        # A message or a click is one call to the core: its row is marked done in that call's transaction. A raw
        # handler may call the core more than once for one event, so it says itself when that holds (one_core_call).
        ours = with_event.set(done if kind in ("message", "action") and not self.split else None)
        current = _current.set(done)
        try:
            if kind == "message":
                return self.core.handle_message(InboundMessage.model_validate(payload["event"]), deliver_replies=deliver)
            if kind == "action":
                return self.core.handle_action(InboundAction.model_validate(payload["event"]), deliver_replies=deliver)
            handler = self.raw.get(kind)
            if handler is None:
                raise NotProcessed(f"no handler for inbox events of kind {kind!r} in this process")
            handler(payload)
            return []
        except (*TRANSIENT, TryAgain) as e:
            self._retry(row_id, f"{type(e).__name__}: {e}", give_up=False)
        except NotProcessed as e:
            self._retry(row_id, str(e), give_up=True)
        except Exception as e:  # a bug: tried a few more times, then set aside (logged) so the conversation goes on
            log.exception("inbox event %s failed", row_id)
            self._retry(row_id, f"{type(e).__name__}: {e}", give_up=True)
        finally:
            _current.reset(current)
            with_event.reset(ours)
        return None

    def _retry(self, row_id: int, reason: str, *, give_up: bool) -> None:
        try:
            with self.sessions() as s:
                row = s.get(InboxEvent, row_id)
                if row is None or row.status != PENDING:
                    return
                row.attempts += 1
                row.last_error = reason[:2000]
                row.lease_owner = row.lease_until = None
                if give_up and row.attempts >= self.max_attempts:
                    row.status = "failed"
                    log.error("inbox event %s (%s) set aside after %s tries: %s", row_id, row.key, row.attempts, reason)
                else:
                    delay = min(self.backoff_max, 0.5 * 2 ** min(row.attempts, 10)) * random.uniform(0.8, 1.2)
                    row.next_attempt_at = self.clock() + timedelta(seconds=delay)
                    log.warning("inbox event %s not processed (try %s), again in %.1f s: %s", row_id, row.attempts,
                                delay, reason)
                s.commit()
        except TRANSIENT:
            log.warning("inbox event %s: could not record the failure (database down); the lease will run out", row_id)

    def kick(self, row_id: int) -> None:
        """Process a row `enqueue`d by a transaction that has just committed, now, on the calling thread, unless a
        worker leased it first: someone is waiting for its answer (the sandbox, a chat). `row_id` is the main
        database's: with a split inbox the row is handed over first (by another process already: left to its worker)."""
        if self.split:
            self._hand_over()
            with self._moved_lock:
                found = self._moved.pop(row_id, None)
            if found is None:
                return
            row_id = found
        self.process(row_id, owner=f"{self.owner}-now-{uuid.uuid4().hex[:8]}")

    def run_once(self) -> int:
        """One round on the calling thread: claim what is due, process it (tests, `drain`; the worker's loop is
        `start`)."""
        self._hand_over()
        rows = self._claim_rows()
        for row in rows:
            self._run_claimed(row)
        return len(rows)

    def _run_claimed(self, row: Any) -> None:
        """A row `_claim_rows` leased to us, then the rows of its conversation that follow it."""
        self._follow(row.id, row.kind, dict(row.payload), row.conversation, True, more=bool(row.more))

    def drain(self, max_rounds: int = 1000) -> int:
        """Process everything that is due now (tests and the CLI)."""
        return until_idle(self.run_once, max_rounds)

    def prune(self) -> int:
        """Forget processed events older than `keep_days` (the core keeps the dedup keys themselves)."""
        with self.sessions() as s:
            res = s.execute(delete(InboxEvent).where(InboxEvent.status == "done",
                                                    InboxEvent.processed_at < self.clock() - self.keep))
            s.commit()
            return int(getattr(res, "rowcount", 0) or 0)

    def pending(self) -> int:
        from sqlalchemy import func

        with self.sessions() as s:
            return int(s.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.status == PENDING)) or 0)

    # ------------------------------------------------------------------ background worker
    def wake(self) -> None:
        self._wake.set()

    def start(self, poll_seconds: float = 0.2) -> None:
        """The worker: as soon as one of its threads is free it claims the next head of a conversation for it, so
        a long event (a file checked in chat, a large import: minutes) holds one thread, not the rest. (Rounds that
        waited for every row they had claimed held every other conversation behind the slowest row.)"""
        if self._thread is not None:
            return
        pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="inbox")

        def run(row: Any) -> None:
            try:
                self._run_claimed(row)
            except Exception:  # left leased: retried once the lease runs out
                log.exception("inbox event %s failed", row.id)

        def loop() -> None:
            running: set[Future[None]] = set()
            while not self._stop.is_set():
                running = {f for f in running if not f.done()}
                free = self.threads - len(running)
                claimed = 0
                if self.split and time.monotonic() - self._handed_at >= 1.0:
                    try:
                        self._hand_over()
                    except Exception:  # database down: the next round tries again
                        log.exception("inbox: handing over enqueued rows failed")
                if free > 0:
                    try:
                        rows = self._claim_rows(min(free, self.batch))
                    except Exception:  # database down: keep the loop alive and try again
                        log.exception("inbox round failed")
                        rows = []
                    running |= {pool.submit(run, row) for row in rows}
                    claimed = len(rows)
                if free <= 0:
                    wait_any(running, timeout=poll_seconds, return_when=FIRST_COMPLETED)
                elif not claimed:
                    self._wake.wait(poll_seconds)
                    self._wake.clear()
            pool.shutdown(wait=True)

        self._thread = threading.Thread(target=loop, name="inbox-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None


class _Heartbeat:
    """The leases of the rows being processed, renewed while they run: a job may take longer than a lease (a file
    checked in chat: 100,000 rows), and a lease that ran out would let another worker claim the row and run it a
    second time beside the first. Every third of a lease (at most every 2 s) one UPDATE per owner moves the leases of
    the running rows on, only while the row is still pending and still ours. The thread runs only while rows do."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.running: dict[int, str] = {}  # row id → its lease owner
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.interval = min(inbox.lease.total_seconds() / 3, 2.0)

    def add(self, row_id: int, owner: str) -> None:
        with self.lock:
            self.running[row_id] = owner
            if self.thread is None:
                self.thread = threading.Thread(target=self._loop, name="inbox-heartbeat", daemon=True)
                self.thread.start()

    def remove(self, row_id: int) -> None:
        with self.lock:
            self.running.pop(row_id, None)

    def _loop(self) -> None:
        while True:
            time.sleep(self.interval)
            with self.lock:
                if not self.running:
                    self.thread = None
                    return
                by_owner: dict[str, list[int]] = {}
                for row_id, owner in self.running.items():
                    by_owner.setdefault(owner, []).append(row_id)
            try:
                self.beat(by_owner)
            except Exception:  # database down: the next beat tries again; the lease is 3 beats long
                log.warning("inbox: could not renew the leases of %s running rows", sum(map(len, by_owner.values())))

    def beat(self, by_owner: dict[str, list[int]]) -> None:
        until = self.inbox.clock() + self.inbox.lease
        with self.inbox._engine.begin() as c:
            for owner, ids in by_owner.items():
                c.execute(update(InboxEvent).where(InboxEvent.id.in_(ids), InboxEvent.lease_owner == owner,
                                                   InboxEvent.status == PENDING).values(lease_until=until))


class _Done:
    """The row being processed, marked done in the transaction of the core that records its event (bot.ports
    .with_event): the decision and `done` commit together, one transaction fewer per event than a `done` of its own
    after it. Written at most once; when that commit did not happen (a redelivery, a refusal rolled back, a raw
    handler that did not say one_core_call) the inbox marks the row done itself afterwards, as before."""

    def __init__(self, inbox: Inbox, row_id: int, conversation: str, more: bool = True) -> None:
        self.inbox, self.row_id, self.conversation, self.more = inbox, row_id, conversation, more
        self.written = self.committed_ = False
        self.next: _Next | None = None

    def write(self, session: Session) -> None:
        if self.written:
            return
        self.written = True
        self.next = self.inbox._mark_done(session, self.row_id, self.conversation, self.more)

    def committed(self) -> None:
        self.committed_ = self.written


_current: ContextVar[_Done | None] = ContextVar("ordertalk_inbox_row", default=None)
_staged: ContextVar[bool] = ContextVar("ordertalk_inbox_staged", default=False)  # this thread `enqueue`d a row


def prepare_store(engine: Engine) -> None:
    """The inbox's own database file: its table and indexes (`ordertalk db upgrade`, and each start). Idempotent, and
    safe when several processes start at once (IF NOT EXISTS, in one transaction on the file's writer lock)."""
    from sqlalchemy.schema import CreateIndex, CreateTable

    table = _TABLE
    with engine.begin() as c:
        c.execute(CreateTable(table, if_not_exists=True))
        for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
            c.execute(CreateIndex(index, if_not_exists=True))
        if int(c.exec_driver_sql("PRAGMA user_version").scalar() or 0) < INBOX_SCHEMA:
            c.exec_driver_sql(f"PRAGMA user_version = {INBOX_SCHEMA}")


def store_schema(engine: Engine) -> int | None:
    """The inbox file's schema version, None when its table is missing (for /healthz). Raises when unreachable."""
    with engine.connect() as c:
        if c.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'inbox'").first() is None:
            return None
        return int(c.exec_driver_sql("PRAGMA user_version").scalar() or 0)


def one_core_call() -> None:
    """Said by a raw handler (the Slack replay) for an event it answers with one call to the bot core at most: the
    row is then marked done in that call's transaction. Never for an event that may call the core twice (the first
    commit would mark it done, and a failure of the second would not be tried again)."""
    done = _current.get()
    if done is not None and not done.inbox.split:  # split: the row is marked done in its own file, after (`_follow`)
        with_event.set(done)


def conversation_of(platform: str, external_user_id: str, token: str | None = None) -> str:
    """The order that matters: one person's messages on one platform, in the order they sent them; their clicks on
    one thing (the approval step, task, order… a button's token names), in order. Clicks on different cards are
    independent and run side by side — a manager approving twenty orders in a row is not one queue — and a click is
    always answered before the next message it leads to can be written (the reject prompt, then the reason)."""
    if token is None:
        return f"{platform}:{external_user_id}"
    parts = token.split("@")  # bot.tokens: action@target@version@arg@sig; only the target is used, unverified
    target = parts[1] if len(parts) == 5 and parts[1].isdigit() else "?"
    return f"{platform}:{external_user_id}:{target}"


class InboxCore:
    """What adapters are handed instead of the bot core: the same port (`BotCorePort`), but `handle_message` and
    `handle_action` store the event first and then process it right here (`inline`) or leave it to the worker.
    Read-only calls (`suggest`, `home`) go straight to the core. `core` is the real one, for replayed raw events."""

    def __init__(self, inbox: Inbox, *, inline: bool) -> None:
        self.inbox = inbox
        self.core = inbox.core
        self.inline = inline

    def handle_message(self, msg: InboundMessage, *, deliver_replies: Deliver = True) -> list[Reply]:
        return self._after(self.inbox.store_message(msg, claim=self.inline), deliver_replies)

    def handle_action(self, action: InboundAction, *, deliver_replies: Deliver = True) -> list[Reply]:
        return self._after(self.store_action(action), deliver_replies)

    def store_action(self, action: InboundAction) -> Stored | None:
        """Store only (leased to the caller when inline); `process_now` then runs it."""
        return self.inbox.store_action(action, claim=self.inline)

    def store_raw(self, platform: str, key: str, conversation: str, kind: str, payload: dict[str, Any]) -> Stored | None:
        return self.inbox.store(platform, key, conversation, kind, payload, claim=self.inline)

    def register_raw(self, kind: str, handler: RawHandler) -> None:
        self.inbox.register_raw(kind, handler)

    def process_now(self, stored: Stored | None, deliver_replies: Deliver = True) -> list[Reply] | None:
        """Process a row stored with claim=True when it was leased to us. None: not processed here (a redelivery,
        or an earlier event of the conversation is still pending: the worker takes it in turn)."""
        if stored is None or not stored.claimed:
            return None
        return self.inbox.process(stored.id, claimed=True, deliver_replies=deliver_replies)

    def _after(self, rid: Stored | None, deliver_replies: Deliver) -> list[Reply]:
        if not self.inline:
            return []
        return self.process_now(rid, deliver_replies) or []

    def suggest(self, platform: str, external_user_id: str, source: str, query: str) -> list[Option]:
        return self.core.suggest(platform, external_user_id, source, query)

    def home(self, platform: str, external_user_id: str) -> list[Card]:
        return self.core.home(platform, external_user_id)


__all__ = ["INBOX_SCHEMA", "Inbox", "InboxCore", "InboxEvent", "NotProcessed", "Stored", "TRANSIENT", "TryAgain",
           "conversation_of", "one_core_call", "prepare_store", "store_schema"]
