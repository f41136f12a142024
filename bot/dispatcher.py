"""Delivers outbox rows through the platform adapters.

- Claiming: the head of each conversation only (per-conversation order), rows locked with
  FOR UPDATE SKIP LOCKED on PostgreSQL, and a lease (owner + expiry) on every backend, so several
  workers never deliver one message twice and a crashed worker's rows come back after the lease.
- Retries: exponential backoff with jitter, honouring Retry-After; a bounded number of tries, then the
  row is marked failed, logged, and admins get an alert (never an alert about an alert).
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from bot.ports import Deliverer, Delivery, DeliveryReceipt, PermanentFailure, RetryLater
from bot.records import CardCopy, OutboxMessage
from domain.models import Role, User
from domain.types import utcnow

log = logging.getLogger("ordertalk.dispatcher")


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
    ) -> None:
        self.sessions = session_factory
        self.deliverers = deliverers
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock
        self.owner = owner or uuid.uuid4().hex[:16]
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ claiming
    def claim(self) -> list[OutboxMessage]:
        now = self.clock()
        earlier = aliased(OutboxMessage)
        with self.sessions() as s:
            q = (
                select(OutboxMessage)
                .where(
                    OutboxMessage.status == "pending",
                    OutboxMessage.next_attempt_at <= now,
                    or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now),
                    ~exists().where(
                        and_(earlier.conversation == OutboxMessage.conversation, earlier.status == "pending",
                             earlier.id < OutboxMessage.id)
                    ),
                )
                .order_by(OutboxMessage.id)
                .limit(self.batch)
            )
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True, of=OutboxMessage)
            rows = list(s.scalars(q))
            for r in rows:
                r.lease_owner = self.owner
                r.lease_until = now + self.lease
            s.commit()
            return rows

    # ------------------------------------------------------------ delivering
    def run_once(self) -> int:
        rows = self.claim()
        for row in rows:
            self._deliver(row)
        return len(rows)

    def drain(self, max_rounds: int = 100) -> int:
        """Deliver everything that is due now (tests and the CLI use this)."""
        total = 0
        for _ in range(max_rounds):
            n = self.run_once()
            total += n
            if n == 0:
                break
        return total

    def _delivery(self, s: Session, row: OutboxMessage) -> Delivery:
        p = row.payload
        ref = ticket = None
        # A card's picture is a row of its own (op "image"); the typed narrowing must keep it, or it goes out as an empty send.
        op: Literal["send", "update", "home", "image"] = (
            "update" if row.op == "update" else "home" if row.op == "home" else "image" if row.op == "image" else "send")
        if op == "update":
            copies = s.scalars(
                select(CardCopy).where(CardCopy.card_key == row.card_key, CardCopy.platform == row.platform,
                                       CardCopy.recipient == row.recipient).order_by(CardCopy.id.desc())
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

    def _deliver(self, row: OutboxMessage) -> None:
        with self.sessions() as s:
            delivery = self._delivery(s, row)
        deliverer = self.deliverers.get(row.platform)
        try:
            if deliverer is None:
                raise PermanentFailure(f"no adapter configured for platform {row.platform}")
            receipt = deliverer.deliver(delivery)
        except RetryLater as e:
            self._retry(row, e.reason, e.retry_after)
        except PermanentFailure as e:
            self._fail(row, e.reason)
        except Exception as e:  # an adapter bug must not kill the dispatcher; retried, then given up
            log.exception("delivery %s crashed", row.id)
            self._retry(row, f"{type(e).__name__}: {e}", None)
        else:
            self._done(row, delivery, receipt)

    def _mine(self, s: Session, row: OutboxMessage) -> OutboxMessage | None:
        current = s.get(OutboxMessage, row.id, with_for_update=True)
        if current is None or current.lease_owner != self.owner or current.status != "pending":
            return None  # our lease ran out and another worker took over
        return current

    def _done(self, row: OutboxMessage, delivery: Delivery, receipt: DeliveryReceipt) -> None:
        with self.sessions() as s:
            cur = self._mine(s, row)
            if cur is None:
                return
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
                s.add(CardCopy(card_key=cur.card_key, platform=cur.platform, recipient=cur.recipient,
                               recipient_kind=delivery.recipient_kind, ref=receipt.ref, outbox_id=cur.id,
                               handle=receipt.handle, ticket=receipt.ticket,
                               ticket_at=self.clock() if receipt.ticket else None))
            s.commit()

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
            if cur.attempts >= self.max_attempts:
                cur.status = "failed"
                self._alert(s, cur, f"gave up after {cur.attempts} tries: {reason}")
            else:
                cur.next_attempt_at = self.clock() + timedelta(seconds=self.backoff(cur.attempts, retry_after))
                log.warning("delivery %s to %s failed (try %s): %s", cur.id, cur.platform, cur.attempts, reason)
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
            self._alert(s, cur, reason)
            s.commit()

    def _alert(self, s: Session, row: OutboxMessage, reason: str) -> None:
        log.error("delivery %s to %s:%s failed for good: %s", row.id, row.platform, row.recipient, reason)
        if row.payload.get("alert"):
            return  # an alert that cannot be delivered is logged, not alerted about again
        from bot.outbox import Outbox  # local: the outbox module imports nothing from here

        outbox = Outbox(lambda: self.deliverers.keys(), self.clock)
        admins = [u for u in s.scalars(select(User).where(User.active.is_(True))) if u.has_role(Role.ADMIN)]
        for admin in admins:
            for platform, recipient in outbox.addresses(s, admin):
                if (platform, recipient) == (row.platform, row.recipient):
                    continue
                outbox.add(s, platform, recipient, user_id=admin.id, alert=True, text=(
                    f"⚠️ 消息投递失败 / Delivery failed — {row.platform} → {row.recipient}: {reason[:300]}"
                ))

    # ------------------------------------------------------------ background loop
    def wake(self) -> None:
        self._wake.set()

    def start(self, poll_seconds: float = 1.0) -> None:
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    busy = self.run_once()
                except Exception:  # database down: keep the loop alive and try again
                    log.exception("dispatcher round failed")
                    busy = 0
                if not busy:
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


__all__ = ["Dispatcher"]
