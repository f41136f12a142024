"""Delivers outbox rows through the platform adapters.

- Claiming: the head of each conversation only (per-conversation order; `outbox_heads`), rows locked with
  FOR UPDATE SKIP LOCKED on PostgreSQL, and a lease (owner + expiry) on every backend, so several
  workers never deliver one message twice and a crashed worker's rows come back after the lease.
- Retries: exponential backoff with jitter, honouring Retry-After; a bounded number of tries, then the
  row is marked failed, logged, and admins get an alert (never an alert about an alert).
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.ports import Deliverer, Delivery, DeliveryReceipt, PermanentFailure, RetryLater
from bot.ratelimit import RateLimiter
from bot.records import CardCopy, OutboxHead, OutboxMessage
from domain.models import Role, User
from domain.types import utcnow

log = logging.getLogger("ordertalk.dispatcher")

# Heads a claim reads per row it claims: those another dispatcher's claim has locked but not yet leased are still
# first in the index, and skipped (SKIP LOCKED); reading only `batch`, a claim beside another would come back empty.
CLAIM_READ_AHEAD = 4


class Dispatcher:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        deliverers: dict[str, Deliverer],
        *,
        max_attempts: int = 8,
        backoff_base: float = 2.0,
        backoff_max: float = 600.0,
        lease_seconds: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
        batch: int = 20,
        limiter: RateLimiter | None = None,
        max_wait: float = 5.0,
        give_up_after: timedelta = timedelta(0),
        probe_every: timedelta = timedelta(seconds=10),
        by_user_id: tuple[str, ...] = (),
        send_threads: int = 16,
        late_after: float = 0.05,
    ) -> None:
        self.sessions = session_factory
        self.by_user_id = by_user_id  # platforms whose address for a person is the user id (alerts reach admins there)
        self.deliverers = deliverers
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock
        self.owner = owner or uuid.uuid4().hex[:16]
        self.batch = batch
        self.limiter = limiter  # client-side token buckets (bot.ratelimit): send at the rate, not into 429s
        self.max_wait = max_wait  # longer than this for a token: the row goes back to the queue until then
        # Tries alone do not give up on a message: a platform down for an hour would otherwise cost every message
        # queued meanwhile (8 tries with backoff are over in four minutes). Given up when both are spent.
        self.give_up_after = give_up_after
        self.probe_every = probe_every
        self.send_threads = send_threads  # deliveries of one batch in flight at once (distinct conversations)
        self.late_after = late_after  # a send this much past its token's time takes a new token (see _send_at)
        self._health = threading.Lock()  # _failing and _streak, written by the send threads
        # Deliveries that went through, waiting to be recorded: one transaction records all that finished meanwhile
        # (group commit), see _record.
        self._finished: list[tuple[OutboxMessage, Delivery, DeliveryReceipt]] = []
        self._finished_lock = threading.Lock()
        self._recording = threading.Lock()
        self._failing: dict[str, datetime] = {}  # platform → when last tried while it fails
        self._streak: dict[str, int] = {}  # platform → transient failures since its last success
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ claiming
    def _claim_query(self, now: datetime, postgresql: bool) -> Select[OutboxMessage]:
        """Due heads of their conversations (`outbox_heads`, kept by triggers), earliest due first. Only the first
        entries of ix_outbox_heads_due are read (CLAIM_READ_AHEAD × `batch`), however many rows wait behind them or
        elsewhere: a conversation's later rows, heads in flight (their `due` is their lease's end) and heads in
        backoff are never visited. The heads are a subquery with its own LIMIT so that the database has to read
        them first, whatever its statistics say: joined directly, PostgreSQL with statistics from before a backlog
        (pending ≈ 0) walked every pending row and looked each up in the heads' index — 2.5 s a claim with 9,500
        rows pending. The row's own status, attempt time and lease are checked again: after a lock waited for
        (PostgreSQL re-reads the row), a row another dispatcher just leased is left out."""
        heads = (
            select(OutboxHead.outbox_id, OutboxHead.due)
            .where(OutboxHead.due <= now)
            .order_by(OutboxHead.due, OutboxHead.outbox_id)
            .limit(self.batch * CLAIM_READ_AHEAD)
        )
        still_due = (
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
        )
        if postgresql:
            # id = ANY(ARRAY(heads)): the heads are read once, first, and each row is found by its primary key. A
            # join (even to the heads as a subquery) left PostgreSQL free to hash every pending row instead, and
            # `status = 'pending'` let it prefer a partial index of pending rows that stale statistics call tiny
            # (17 ms for 7,600 pending); `status || ''` is the same test that no partial index matches.
            # A head's due is the row's own max(next attempt, lease end), so the rows sort as their heads do.
            due = func.greatest(OutboxMessage.next_attempt_at, func.coalesce(OutboxMessage.lease_until,
                                                                            OutboxMessage.next_attempt_at))
            return (
                select(OutboxMessage)
                .where(OutboxMessage.id == func.any(func.array(heads.with_only_columns(OutboxHead.outbox_id)
                                                               .scalar_subquery())),
                       OutboxMessage.status.concat("") == "pending", *still_due[1:])
                .order_by(due, OutboxMessage.id)
                .limit(self.batch)
                # several workers claim side by side without waiting on each other's rows
                .with_for_update(skip_locked=True, of=OutboxMessage)
            )
        due_heads = heads.subquery("due_heads")
        return (
            select(OutboxMessage)
            .join(due_heads, due_heads.c.outbox_id == OutboxMessage.id)
            .where(*still_due)
            .order_by(due_heads.c.due, due_heads.c.outbox_id)
            .limit(self.batch)
        )

    def claim_statement(self) -> str:
        """The claim as PostgreSQL runs it, with its values inlined (for EXPLAIN in tests and benchmarks)."""
        from sqlalchemy.dialects import postgresql

        q = self._claim_query(self.clock(), True)
        compiled = q.compile(dialect=postgresql.dialect())
        sql = str(compiled)
        for name, value in compiled.params.items():
            sql = sql.replace(f"%({name})s", f"'{value.isoformat()}'" if isinstance(value, datetime) else repr(value))
        return sql

    def claim(self) -> list[OutboxMessage]:
        now = self.clock()
        with self.sessions() as s:
            rows = list(s.scalars(self._claim_query(now, s.get_bind().dialect.name == "postgresql")))
            for r in rows:
                r.lease_owner = self.owner
                r.lease_until = now + self.lease
            s.commit()
            return rows

    # ------------------------------------------------------------ delivering
    def run_once(self) -> int:
        """Claim one batch and deliver it; how many rows were claimed."""
        claimed, due = self._take()
        # Each claimed row heads a conversation of its own, so they may go out side by side: a few at a time, each
        # at its token's time, so the platform's rate is met even when one call (or its bookkeeping) takes longer
        # than the gap between two tokens. One at a time, the rate could never exceed 1 ÷ (call + commit).
        try:
            if self.send_threads <= 1 or len(due) <= 1:
                for at, row, delivery in due:
                    self._send_at(at, row, delivery)
            else:
                with ThreadPoolExecutor(min(self.send_threads, len(due)), thread_name_prefix="outbox-send") as pool:
                    for f in [pool.submit(self._send_at, at, row, delivery) for at, row, delivery in due]:
                        f.result()
        finally:
            self._record(wait=True)  # the round ends with every delivery of it recorded
        return claimed

    def _take(self) -> tuple[int, list[tuple[float, OutboxMessage, Delivery]]]:
        """Claim a batch and reserve its tokens: how many rows were claimed, and the ones to send now, each with
        the time (time.monotonic) its token is good from. The others wait too long for a token: postponed."""
        self._probe()
        rows = self.claim()
        if not rows:
            return 0, []
        with self.sessions() as s:
            deliveries = [self._delivery(s, row) for row in rows]
        waits = [0.0] * len(rows)
        if self.limiter is not None:
            limited = [n for n, row in enumerate(rows) if row.platform in self.deliverers]
            try:  # one transaction per bucket for the whole batch
                reserved = self.limiter.reserve_many([deliveries[n] for n in limited], self.max_wait)
            except Exception:  # the database is down: so is everything else; the lease brings the rows back
                log.exception("rate limit buckets unavailable for %s deliveries", len(rows))
                return len(rows), []
            for n, wait in zip(limited, reserved, strict=True):
                waits[n] = wait
        start = time.monotonic()
        due: list[tuple[float, OutboxMessage, Delivery]] = []
        for row, delivery, wait in zip(rows, deliveries, waits, strict=True):
            if wait > self.max_wait:
                self._postpone(row, wait)
            else:
                due.append((start + wait, row, delivery))
        return len(rows), due

    def _send_at(self, at: float, row: OutboxMessage, delivery: Delivery) -> None:
        pause = at - time.monotonic()
        if pause < -self.late_after and self.limiter is not None:
            # Every send thread was busy when this one's token came due: sent now, it would go out right beside the
            # next ones, and a platform counting a sliding second sees more than the rate. Its token has lapsed;
            # it takes a new one, at the end of the line.
            try:
                pause = self.limiter.reserve_many([delivery], self.max_wait)[0]
            except Exception:
                log.exception("rate limit bucket unavailable for delivery %s", row.id)
                return
            if pause > self.max_wait:
                self._postpone(row, pause)
                return
        if pause > 0:
            time.sleep(pause)
        # Paced by the token bucket, a batch takes a while: a row whose lease ran out meanwhile may already be
        # another worker's, so it is left to them rather than sent twice.
        if row.lease_until is not None and self.clock() >= row.lease_until - self.lease * 0.1:
            return
        self._deliver(row, delivery)

    def drain(self, max_rounds: int = 100) -> int:
        """Deliver everything that is due now (tests and the CLI use this)."""
        return until_idle(self.run_once, max_rounds)

    def _delivery(self, s: Session, row: OutboxMessage) -> Delivery:
        p = row.payload
        ref = ticket = None
        # A card's picture is a row of its own (op "image"); the typed narrowing must keep it, or it goes out as an empty send.
        op: Literal["send", "update", "home", "image"] = (
            "update" if row.op == "update" else "home" if row.op == "home" else "image" if row.op == "image" else "send")
        if op == "update":
            copies = s.scalars(
                select(CardCopy).where(CardCopy.card_key == row.card_key, CardCopy.platform == row.platform,
                                       CardCopy.recipient == row.recipient, CardCopy.delivered_at.is_not(None))
                .order_by(CardCopy.id.desc())
            ).all()
            if not copies:
                op = "send"  # the original never arrived: show the current version instead
            else:
                ref = copies[0].ref
                ticket = next((c.ticket for c in copies if c.ticket), None)  # the newest: it expires last
        return Delivery(
            id=row.id, platform=row.platform, recipient=row.recipient, recipient_kind=p.get("recipient_kind", "user"),
            op=op, card=p.get("card"), text=p.get("text"), cards=p.get("cards") or [], replies=p.get("replies") or [],
            attachment=p.get("attachment"), card_key=row.card_key,
            ref=ref, ticket=ticket, thread=p.get("thread"), ephemeral_user=p.get("ephemeral_user"), extra=p.get("extra") or {},
            attempt=row.attempts + 1,
        )

    def _deliver(self, row: OutboxMessage, delivery: Delivery) -> None:
        deliverer = self.deliverers.get(row.platform)
        try:
            if deliverer is None:
                raise PermanentFailure(f"no adapter configured for platform {row.platform}")
            receipt = deliverer.deliver(delivery)
        except RetryLater as e:
            if e.hold and e.retry_after and self.limiter is not None:
                try:  # the method's bucket waits too: the rows queued behind are postponed, not each refused
                    self.limiter.hold(delivery, e.retry_after)
                except Exception:
                    log.exception("rate limit bucket unavailable to hold for delivery %s", row.id)
            self._retry(row, e.reason, e.retry_after)
        except PermanentFailure as e:
            self._fail(row, e.reason)
        except Exception as e:  # an adapter bug must not kill the dispatcher; retried, then given up
            log.exception("delivery %s crashed", row.id)
            self._retry(row, f"{type(e).__name__}: {e}", None)
        else:
            with self._finished_lock:
                self._finished.append((row, delivery, receipt))
            self._record(wait=False)
            if self._failing or self._streak:
                self._back(row.platform)

    def _record(self, wait: bool) -> None:
        """Record the finished deliveries, all that are waiting in one transaction. One commit per delivery held
        every send thread for its commit (on SQLite, in line for the one writer lock with every other worker's):
        sends fell behind their tokens and the rate fell short of the bucket's. A send thread that finds a
        recording under way leaves its delivery to it (`wait` False) and is free for its next send; the one
        recording looks again once it is done, so nothing is left behind. The round waits for all (`wait` True)."""
        while True:
            with self._finished_lock:
                if not self._finished:
                    return
            if not self._recording.acquire(blocking=wait):
                return  # the thread recording will see ours when it looks again after its commit
            try:
                with self._finished_lock:
                    batch, self._finished = self._finished, []
                if batch:
                    self._done_many(batch)
            finally:
                self._recording.release()

    def _mine(self, s: Session, row: OutboxMessage) -> OutboxMessage | None:
        current = s.get(OutboxMessage, row.id, with_for_update=True)
        if current is None or current.lease_owner != self.owner or current.status != "pending":
            return None  # our lease ran out and another worker took over
        return current

    def _done_many(self, finished: list[tuple[OutboxMessage, Delivery, DeliveryReceipt]]) -> None:
        """Mark delivered, in one transaction, each of `finished` that is still ours (a row whose lease ran out
        meanwhile may be another worker's now), with its card copy's reference."""
        with self.sessions() as s:
            ids = sorted(row.id for row, _, _ in finished)  # locked in id order: two recordings never deadlock
            current = {r.id: r for r in s.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                                                  .order_by(OutboxMessage.id).with_for_update())}
            for row, delivery, receipt in finished:
                cur = current.get(row.id)
                if cur is not None and cur.lease_owner == self.owner and cur.status == "pending":
                    self._delivered(s, cur, row, delivery, receipt)
            s.commit()

    def _delivered(self, s: Session, cur: OutboxMessage, row: OutboxMessage, delivery: Delivery,
                   receipt: DeliveryReceipt) -> None:
        """`cur` (the row as locked now) delivered: its receipt kept, and with a card's copy."""
        cur.status = "delivered"
        cur.delivered_at = self.clock()
        cur.attempts += 1
        cur.ref = receipt.ref
        cur.lease_owner = cur.lease_until = None
        if cur.card_key and delivery.op in ("send", "update"):
            if delivery.ticket:  # single-use: handed to the platform once, whatever came of it
                for used in s.scalars(select(CardCopy).where(
                        CardCopy.card_key == cur.card_key, CardCopy.platform == cur.platform,
                        CardCopy.recipient == cur.recipient, CardCopy.ticket == delivery.ticket)):
                    used.ticket = used.ticket_at = None
            now = self.clock()
            copy = s.scalars(select(CardCopy).where(CardCopy.outbox_id == cur.id)).first() if row.op == "send" else None
            if copy is None:  # an update (it may have landed as a new message), or a send from before 0011
                copy = CardCopy(card_key=cur.card_key, platform=cur.platform, recipient=cur.recipient,
                                recipient_kind=delivery.recipient_kind, outbox_id=cur.id, created_at=now,
                                user_id=cur.payload.get("user_id"))
                s.add(copy)
            copy.ref, copy.handle, copy.delivered_at = receipt.ref, receipt.handle, now
            copy.ticket, copy.ticket_at = receipt.ticket, now if receipt.ticket else None

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        # Jitter first, then the cap: the cap is a promise to the operator (and Retry-After may still exceed it).
        delay = min(self.backoff_max, self.backoff_base * (2 ** (attempts - 1)) * random.uniform(0.8, 1.2))
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def _retry(self, row: OutboxMessage, reason: str, retry_after: float | None) -> None:
        with self.sessions() as s:
            cur = self._mine(s, row)
            if cur is None:
                return
            cur.attempts += 1
            cur.last_error = reason[:2000]
            cur.lease_owner = cur.lease_until = None
            if cur.attempts >= self.max_attempts and self.clock() - cur.created_at >= self.give_up_after:
                cur.status = "failed"
                self._no_copy(s, cur)
                self._alert(s, cur, f"gave up after {cur.attempts} tries: {reason}")
            else:
                cur.next_attempt_at = self.clock() + timedelta(seconds=self.backoff(cur.attempts, retry_after))
                log.warning("delivery %s to %s failed (try %s): %s", cur.id, cur.platform, cur.attempts, reason)
            s.commit()
        if retry_after is None:  # not a rate limit: the platform may be down (once a few fail in a row)
            with self._health:
                self._streak[row.platform] = self._streak.get(row.platform, 0) + 1
                if self._streak[row.platform] >= 3:
                    self._failing.setdefault(row.platform, self.clock())

    # ------------------------------------------------------------ a platform down, and back
    def _probe(self) -> None:
        """While a platform fails, every `probe_every` the oldest of its waiting rows (always the head of its
        conversation) is tried at once, whatever its backoff: the first success is noticed within seconds, not
        when the longest backoff runs out."""
        now = self.clock()
        for platform, since in list(self._failing.items()):
            if now - since < self.probe_every:
                continue
            self._failing[platform] = now
            with self.sessions() as s:
                oldest = s.scalar(select(OutboxMessage.id).where(OutboxMessage.status == "pending",
                                                                 OutboxMessage.platform == platform)
                                  .order_by(OutboxMessage.id).limit(1))
                if oldest is None:
                    self._failing.pop(platform, None)
                    continue
                s.execute(update(OutboxMessage).where(OutboxMessage.id == oldest, OutboxMessage.next_attempt_at > now)
                          .values(next_attempt_at=now))
                s.commit()

    def _back(self, platform: str) -> None:
        """A delivery to a failing platform went through: everything of it that waits in backoff is due now (the
        token bucket paces the catch-up; per-conversation order is the claim's)."""
        with self._health:
            self._streak.pop(platform, None)
            if self._failing.pop(platform, None) is None:
                return  # one call that failed is not an outage: its backoff stands
        now = self.clock()
        with self.sessions() as s:
            res = s.execute(update(OutboxMessage).where(OutboxMessage.status == "pending",
                                                        OutboxMessage.platform == platform,
                                                        OutboxMessage.next_attempt_at > now)
                            .values(next_attempt_at=now))
            s.commit()
        log.warning("%s answers again: %s waiting deliveries are due now", platform, getattr(res, "rowcount", "?"))

    def _postpone(self, row: OutboxMessage, seconds: float) -> None:
        """Not a failure: the platform's rate would be exceeded, so the row waits for its turn (no try counted)."""
        with self.sessions() as s:
            cur = self._mine(s, row)
            if cur is None:
                return
            cur.lease_owner = cur.lease_until = None
            cur.next_attempt_at = self.clock() + timedelta(seconds=seconds)
            s.commit()

    def _fail(self, row: OutboxMessage, reason: str) -> None:
        with self.sessions() as s:
            cur = self._mine(s, row)
            if cur is None:
                return
            cur.attempts += 1
            cur.status = "failed"
            cur.last_error = reason[:2000]
            cur.lease_owner = cur.lease_until = None
            self._no_copy(s, cur)
            self._alert(s, cur, reason)
            s.commit()

    @staticmethod
    def _no_copy(s: Session, row: OutboxMessage) -> None:
        """A send that never arrived leaves no copy for later updates to go to."""
        if row.op == "send" and row.card_key:
            s.execute(delete(CardCopy).where(CardCopy.outbox_id == row.id, CardCopy.delivered_at.is_(None)))

    def _alert(self, s: Session, row: OutboxMessage, reason: str) -> None:
        log.error("delivery %s to %s:%s failed for good: %s", row.id, row.platform, row.recipient, reason)
        if row.payload.get("alert"):
            return  # an alert that cannot be delivered is logged, not alerted about again
        from bot.outbox import Outbox  # local: the outbox module imports nothing from here

        outbox = Outbox(lambda: self.deliverers.keys(), self.clock, by_user_id=self.by_user_id)
        admins = [u for u in s.scalars(select(User).where(User.active.is_(True))) if u.has_role(Role.ADMIN)]
        for admin in admins:
            for platform, recipient in outbox.addresses(s, admin):
                if (platform, recipient) == (row.platform, row.recipient):
                    continue
                outbox.add(s, platform, recipient, user_id=admin.id, alert=True, text=(
                    f"⚠️ 消息投递失败 / Delivery failed — {row.platform} → {row.recipient}: {reason[:300]}"
                ))

    # ------------------------------------------------------------ pruning
    def prune(self, older_than: timedelta = timedelta(days=7), batch: int = 5000) -> int:
        """Delete delivered rows older than `older_than` (the outbox is only a queue: card copies live in their own
        table). Failed rows are kept for the operator. In batches, so no statement holds many locks for long."""
        cutoff = self.clock() - older_than
        total = 0
        while True:
            with self.sessions() as s:
                ids = list(s.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "delivered",
                                                                    OutboxMessage.delivered_at < cutoff).limit(batch)))
                if not ids:
                    return total
                s.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(ids)))
                s.commit()
                total += len(ids)

    # ------------------------------------------------------------ background loop
    def wake(self) -> None:
        self._wake.set()

    def start(self, poll_seconds: float = 1.0, prune_every: float = 3600.0,
              keep: timedelta = timedelta(days=7), also: Callable[[], object] | None = None) -> None:
        """The delivery loop; every `prune_every` seconds (and at start) delivered rows older than `keep` are pruned,
        and `also` runs (the inbox's pruning) — on a schedule of its own, without the scheduler."""
        if self._thread is not None:
            return

        def loop() -> None:
            # The next batch is claimed while the one before is still being sent (at most one batch ahead): its
            # claim and tokens are then ready when the sends before it end. Claimed only once a round had ended,
            # the bucket stood unused for a claim and a reservation each round (and on SQLite their wait for the
            # writer lock), and delivery ran at 1.13–1.74× the rate's bound instead of the bucket's 1.05×.
            pool = ThreadPoolExecutor(self.send_threads, thread_name_prefix="outbox-send")
            sending: set[Future[None]] = set()
            try:
                pipelined(pool, sending)
            finally:
                pool.shutdown(wait=True)  # what was claimed is sent (each waits at most max_wait for its token)
                self._record(wait=True)

        def pipelined(pool: ThreadPoolExecutor, sending: set[Future[None]]) -> None:
            next_prune = 0.0
            while not self._stop.is_set():
                sending -= {f for f in sending if f.done()}
                if len(sending) > self.batch:  # a batch ahead already: wait for a send to end
                    wait(sending, timeout=poll_seconds, return_when=FIRST_COMPLETED)
                    continue
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + prune_every
                    try:
                        pruned = self.prune(keep)
                        if also is not None:
                            also()
                        if pruned:
                            log.info("pruned %s delivered outbox rows", pruned)
                    except Exception:
                        log.exception("pruning failed")
                try:
                    busy, due = self._take()
                except Exception:  # database down: keep the loop alive and try again
                    log.exception("dispatcher round failed")
                    busy, due = 0, []
                for at, row, delivery in due:
                    f = pool.submit(self._send_at, at, row, delivery)
                    f.add_done_callback(_log_failure)
                    sending.add(f)
                if busy:
                    continue
                if sending:  # nothing due beside what is being sent: the next rows of its conversations come after it
                    wait(sending, timeout=poll_seconds, return_when=FIRST_COMPLETED)
                else:
                    try:  # a recording that failed (the database) left its deliveries: tried again when idle
                        self._record(wait=True)
                    except Exception:
                        log.exception("recording deliveries failed")
                    self._wake.wait(poll_seconds)
                    self._wake.clear()

        self._thread = threading.Thread(target=loop, name="outbox-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None


def _log_failure(f: Future[None]) -> None:
    """A send's bookkeeping that failed (the database, mostly): logged; the row's lease brings it back."""
    if not f.cancelled() and (e := f.exception()) is not None:
        log.error("outbox send failed: %s", e, exc_info=e)


def until_idle(run_once: Callable[[], int], max_rounds: int) -> int:
    """Run `run_once` until a round finds nothing due (or `max_rounds` ran); how many it handled in all."""
    total = 0
    for _ in range(max_rounds):
        n = run_once()
        total += n
        if n == 0:
            break
    return total


__all__ = ["Dispatcher", "until_idle"]
