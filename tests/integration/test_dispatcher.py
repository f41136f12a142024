"""The outbox dispatcher: per-conversation order, retries with backoff and Retry-After, giving up with an admin
alert, leases after a crash, and several workers draining one outbox without a duplicate."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.dispatcher import Dispatcher
from bot.outbox import Outbox
from bot.ports import Delivery, DeliveryReceipt, PermanentFailure, RetryLater
from bot.records import OutboxMessage
from domain.models import PlatformIdentity, Role, User


class Platform:
    """The edge: a platform that records what it was given and can be told to fail."""

    platform = "chat"

    def __init__(self, delay: float = 0.0) -> None:
        self.got: list[tuple[str, str]] = []  # (recipient, text) in delivery order
        self.failures: list[Exception] = []  # raised in turn before succeeding
        self.delay = delay
        self._lock = threading.Lock()

    def deliver(self, d: Delivery) -> DeliveryReceipt:
        with self._lock:
            if self.failures:
                raise self.failures.pop(0)
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            self.got.append((d.recipient, d.text or ""))
        return DeliveryReceipt(ref=f"{d.recipient}:{d.id}")


def _enqueue(session_factory, clock, items: list[tuple[str, str]], platform: str = "chat") -> None:
    outbox = Outbox(lambda: [platform, "console"], clock)
    with session_factory() as s:
        for recipient, text in items:
            outbox.add(s, platform, recipient, text=text)
        s.commit()


def _rows(session_factory) -> list[OutboxMessage]:
    with session_factory() as s:
        return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _dispatcher(session_factory, clock, platform: Platform, **kw) -> Dispatcher:
    kw.setdefault("backoff_base", 2.0)
    return Dispatcher(session_factory, {"chat": platform}, clock=clock, **kw)


def test_conversation_order_holds_while_the_head_is_retried(session_factory, clock):
    fake = Platform()
    fake.failures = [RetryLater("429 rate limited", retry_after=30)]
    _enqueue(session_factory, clock, [("u1", "one"), ("u1", "two"), ("u2", "other"), ("u1", "three")])
    d = _dispatcher(session_factory, clock, fake)
    d.drain()
    assert fake.got == [("u2", "other")]  # u1's head failed: nothing overtakes it; u2 is independent
    head = _rows(session_factory)[0]
    assert head.attempts == 1 and head.status == "pending" and "429" in head.last_error
    assert head.next_attempt_at >= clock() + timedelta(seconds=30)  # Retry-After honoured
    clock.advance(seconds=29)
    d.drain()
    assert fake.got == [("u2", "other")]
    clock.advance(seconds=2)
    d.drain()
    assert fake.got == [("u2", "other"), ("u1", "one"), ("u1", "two"), ("u1", "three")]
    assert all(r.status == "delivered" for r in _rows(session_factory))


def test_backoff_grows_and_is_capped():
    d = Dispatcher(None, {}, backoff_base=2.0, backoff_max=60.0)  # type: ignore[arg-type]
    for _ in range(200):  # jitter is random: every draw must respect the bounds
        first, fourth, tenth = d.backoff(1, None), d.backoff(4, None), d.backoff(10, None)
        assert 1.6 <= first <= 2.4 and 12.8 <= fourth <= 19.2 and 48.0 <= tenth <= 60.0
    assert d.backoff(1, 120.0) == 120.0


def _admin_on_console(session_factory) -> int:
    with session_factory() as s:
        admin = User(username="root", display_name="Admin", locale="en")
        admin.roles = {Role.ADMIN}
        s.add(admin)
        s.commit()
        return admin.id


def test_gives_up_after_max_attempts_and_alerts_admins(session_factory, clock):
    admin_id = _admin_on_console(session_factory)
    fake = Platform()
    fake.failures = [RetryLater("502 bad gateway")] * 3
    _enqueue(session_factory, clock, [("u1", "hello")])
    console = Platform()
    console.platform = "console"
    d = Dispatcher(session_factory, {"chat": fake, "console": console}, clock=clock, max_attempts=3, backoff_base=1.0,
                   by_user_id=("console",))  # the sandbox: a person's address there is their user id
    for _ in range(3):
        d.drain()
        clock.advance(seconds=10)
    rows = _rows(session_factory)
    assert rows[0].status == "failed" and rows[0].attempts == 3 and fake.got == []
    alerts = [r for r in rows if r.payload.get("alert")]
    assert len(alerts) == 1 and alerts[0].recipient == str(admin_id) and "502 bad gateway" in alerts[0].payload["text"]
    d.drain()
    assert console.got and "u1" in console.got[0][1]


def test_permanent_failure_fails_at_once_and_an_undeliverable_alert_is_not_alerted_again(session_factory, clock):
    admin_id = _admin_on_console(session_factory)
    with session_factory() as s:
        s.add(PlatformIdentity(platform="chat", external_id="U_ADMIN", user_id=admin_id))
        s.commit()
    fake = Platform()
    fake.failures = [PermanentFailure("user_not_found"), PermanentFailure("channel_not_found")]
    _enqueue(session_factory, clock, [("u1", "hello")])
    # the admin is reachable on "chat" only, where delivery fails too
    d = Dispatcher(session_factory, {"chat": fake}, clock=clock)
    d.drain()
    rows = _rows(session_factory)
    assert [r.status for r in rows] == ["failed", "failed"]
    assert rows[1].payload["alert"] is True and rows[1].recipient == "U_ADMIN"
    assert len(rows) == 2  # the failed alert produced no alert of its own


def test_an_adapter_crash_is_retried_not_lost(session_factory, clock):
    fake = Platform()
    fake.failures = [KeyError("bug in adapter")]
    _enqueue(session_factory, clock, [("u1", "hello")])
    d = _dispatcher(session_factory, clock, fake, backoff_base=1.0)
    d.drain()
    assert fake.got == [] and _rows(session_factory)[0].last_error.startswith("KeyError")
    clock.advance(seconds=5)
    d.drain()
    assert fake.got == [("u1", "hello")]


def test_a_crashed_workers_lease_runs_out_and_another_worker_delivers(session_factory, clock):
    fake = Platform()
    _enqueue(session_factory, clock, [("u1", "hello")])
    dead = _dispatcher(session_factory, clock, fake, lease_seconds=60, owner="dead")
    assert len(dead.claim()) == 1  # claimed, then the process died before delivering
    alive = _dispatcher(session_factory, clock, fake, lease_seconds=60, owner="alive")
    assert alive.drain() == 0  # leased: not delivered twice while the first worker might still be at it
    clock.advance(seconds=61)
    assert alive.drain() == 1 and fake.got == [("u1", "hello")]
    # the first worker wakes up late and reports: its result is ignored, the row stays delivered once
    row = _rows(session_factory)[0]
    dead._done_many([(row, Delivery(id=row.id, platform="chat", recipient="u1"), DeliveryReceipt(ref="late"))])
    assert _rows(session_factory)[0].ref == f"u1:{row.id}" and fake.got == [("u1", "hello")]


@pytest.mark.parametrize("workers", [2, 3])
def test_several_workers_drain_one_outbox_without_duplicates(session_factory, clock, workers):
    fake = Platform(delay=0.002)
    items = [(f"u{i % 7}", f"m{i}") for i in range(120)]
    _enqueue(session_factory, clock, items)
    ds = [_dispatcher(session_factory, clock, fake, owner=f"w{n}", batch=5) for n in range(workers)]
    errors: list[BaseException] = []

    def run(d: Dispatcher) -> None:
        try:
            for _ in range(400):
                if d.run_once() == 0 and all(r.status != "pending" for r in _rows(session_factory)):
                    return
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(d,)) for d in ds]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    counts = Counter(text for _, text in fake.got)
    assert len(fake.got) == 120 and max(counts.values()) == 1  # every message once, none twice
    for recipient in {r for r, _ in items}:
        sent = [t for r, t in items if r == recipient]
        got = [t for r, t in fake.got if r == recipient]
        assert got == sent  # each conversation kept its order across workers


def test_rows_written_while_workers_deliver_are_all_delivered_in_order(session_factory, clock):
    """Producers add to their conversations while two workers deliver: a head handing over while a row of its
    conversation is being inserted must not leave that row without a head (it would wait forever). One producer
    per conversation: its rows commit in the order of their ids."""
    fake = Platform()
    ds = [_dispatcher(session_factory, clock, fake, owner=f"w{n}", batch=3) for n in range(2)]
    done = threading.Event()
    errors: list[BaseException] = []

    def produce(n: int) -> None:
        try:
            for i in range(40):
                _enqueue(session_factory, clock, [(f"u{n}-{i % 2}", f"p{n}-{i}")])
        except BaseException as e:  # surfaced below
            errors.append(e)

    def consume(d: Dispatcher) -> None:
        try:
            while not done.is_set():
                d.run_once()
            while d.run_once():
                pass
        except BaseException as e:  # surfaced below
            errors.append(e)

    producers = [threading.Thread(target=produce, args=(n,)) for n in range(3)]
    consumers = [threading.Thread(target=consume, args=(d,)) for d in ds]
    for t in producers + consumers:
        t.start()
    for t in producers:
        t.join(60)
    done.set()
    for t in consumers:
        t.join(60)
    assert not errors
    rows = _rows(session_factory)
    assert len(rows) == 120 and {r.status for r in rows} == {"delivered"}
    assert sorted(t for _, t in fake.got) == sorted(r.payload["text"] for r in rows)  # each once
    for recipient in {r.recipient for r in rows}:
        by_id = [r.payload["text"] for r in rows if r.recipient == recipient]
        assert [t for r, t in fake.got if r == recipient] == by_id  # in the order they were written


def test_a_batch_goes_out_side_by_side_but_never_two_of_one_conversation(session_factory, clock):
    """A call slower than the gap between two tokens must not cap the rate at 1 ÷ call: the heads of a batch are
    of distinct conversations and are sent a few at a time; within a conversation, one after the other."""

    class Slow(Platform):
        def __init__(self) -> None:
            super().__init__(delay=0.05)
            self.in_flight: Counter[str] = Counter()
            self.most = 0
            self.overlap_in_conversation = False

        def deliver(self, d: Delivery) -> DeliveryReceipt:
            with self._lock:
                self.in_flight[d.recipient] += 1
                self.overlap_in_conversation |= self.in_flight[d.recipient] > 1
                self.most = max(self.most, sum(self.in_flight.values()))
            try:
                return super().deliver(d)
            finally:
                with self._lock:
                    self.in_flight[d.recipient] -= 1

    fake = Slow()
    items = [(f"u{i % 6}", f"m{i}") for i in range(24)]
    _enqueue(session_factory, clock, items)
    d = _dispatcher(session_factory, clock, fake, send_threads=4)
    assert d.drain() == 24
    assert fake.most >= 2 and not fake.overlap_in_conversation
    for recipient in {r for r, _ in items}:
        assert [t for r, t in fake.got if r == recipient] == [t for r, t in items if r == recipient]
