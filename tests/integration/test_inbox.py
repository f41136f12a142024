"""The inbox's own rules, against the real bot core and database: stored once per key, processed in order per
person, exactly once across a crash between the core's commit and `done`, retried while the database fails, and a
crashed process's lease runs out. The sandbox answers in the request; the async path answers nothing until the
worker ran."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.bootstrap import OrderTalk, build
from bot.inbox import InboxEvent
from bot.ports import InboundMessage
from bot.records import InboundEvent
from bot.settings import Settings
from domain.models import Order
from tests.conftest import TEST_SECRET_KEY
from tests.world import Clock, build_world


@pytest.fixture
def ot(engine: Any, clock: Clock, tmp_path: Any) -> OrderTalk:
    settings = Settings(_env_file=None, database_url=str(engine.url.render_as_string(hide_password=False)), sandbox=True,
                        run_dispatcher=False, run_scheduler=False, run_inbox=False, inbox_inline=False,
                        secret_key=TEST_SECRET_KEY, data_dir=tmp_path)
    app = build(settings, clock=clock, engine=engine)
    app.flask.config["world"] = build_world(app.sessions)
    return app


def _id(ot: OrderTalk, who: str) -> int:
    return int(ot.flask.config["world"][who])


def _msg(user: int, text: str, event_id: str) -> InboundMessage:
    return InboundMessage(platform="console", external_user_id=str(user), text=text, event_id=event_id)


def _rows(ot: OrderTalk) -> list[tuple[str, str]]:
    with ot.inbox.sessions() as s:  # the inbox's own file on SQLite
        return [(r.key, r.status) for r in s.scalars(select(InboxEvent).order_by(InboxEvent.id))]


def _orders(ot: OrderTalk) -> list[str]:
    with ot.sessions() as s:
        return list(s.scalars(select(Order.number).order_by(Order.id)))


def test_stored_once_answered_nothing_until_the_worker_ran(ot: OrderTalk) -> None:
    li = _id(ot, "sales")
    assert ot.inbound.handle_message(_msg(li, "下单 华兴 SKU-001 x10", "e1")) == []  # acknowledged, not processed
    assert ot.inbound.handle_message(_msg(li, "下单 华兴 SKU-001 x10", "e1")) == []  # a redelivery
    assert _rows(ot) == [("console:e1", "pending")] and _orders(ot) == []
    assert ot.inbox.drain() == 1
    assert _rows(ot) == [("console:e1", "done")] and len(_orders(ot)) == 1


def test_one_person_in_order_others_in_parallel(ot: OrderTalk) -> None:
    li, amy = _id(ot, "sales"), _id(ot, "sales2")
    for i in range(3):
        ot.inbound.handle_message(_msg(li, "我的订单", f"li{i}"))
    ot.inbound.handle_message(_msg(amy, "我的订单", "amy0"))
    first = ot.inbox.claim()
    with ot.inbox.sessions() as s:
        keys = [s.get(InboxEvent, i).key for i in first]  # type: ignore[union-attr]
    assert keys == ["console:li0", "console:amy0"]  # the head of each person's conversation only
    assert ot.inbox.claim() == []  # both heads are leased, li's later messages wait for theirs
    for rid in first:
        ot.inbox.process(rid, claimed=True)  # li's thread goes on with li1, li2 in order
    assert [k for k, st in _rows(ot) if st == "done"] == ["console:li0", "console:li1", "console:li2", "console:amy0"]


def test_a_crash_after_the_core_committed_has_no_second_effect(ot: OrderTalk) -> None:
    li = _id(ot, "sales")
    ot.inbound.handle_message(_msg(li, "下单 华兴 SKU-001 x10", "crash1"))
    [rid] = ot.inbox.claim()
    ot.core.handle_message(_msg(li, "下单 华兴 SKU-001 x10", "crash1"))  # the core ran and committed, then: kill -9
    assert _rows(ot) == [("console:crash1", "pending")]
    ot.ctx.clock.advance(seconds=ot.inbox.lease.total_seconds() + 1)  # type: ignore[attr-defined]
    assert ot.inbox.drain() == 1  # the lease ran out: processed again…
    assert len(_orders(ot)) == 1 and _rows(ot) == [("console:crash1", "done")]  # …with no second order
    with ot.sessions() as s:
        assert s.scalars(select(InboundEvent.key)).all() == ["console:crash1"]


def test_database_errors_leave_the_event_for_later_and_keep_the_order(ot: OrderTalk, monkeypatch: Any) -> None:
    li = _id(ot, "sales")
    ot.inbound.handle_message(_msg(li, "下单 华兴 SKU-001 x10", "db1"))
    ot.inbound.handle_message(_msg(li, "我的订单", "db2"))
    real = ot.core.handle_message

    def down(*a: Any, **k: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(ot.core, "handle_message", down)
    assert ot.inbox.drain() == 1  # tried once, then backed off
    with ot.inbox.sessions() as s:
        row = s.scalars(select(InboxEvent).where(InboxEvent.key == "console:db1")).one()
        assert row.status == "pending" and row.attempts == 1 and "connection refused" in (row.last_error or "")
    assert ot.inbox.claim() == []  # db1 waits for its retry, and db2 waits behind it
    monkeypatch.setattr(ot.core, "handle_message", real)
    ot.ctx.clock.advance(seconds=120)  # type: ignore[attr-defined]
    ot.inbox.drain()
    assert _rows(ot) == [("console:db1", "done"), ("console:db2", "done")] and len(_orders(ot)) == 1


def test_a_message_that_arrives_while_its_conversation_runs_is_processed_next(ot: OrderTalk, monkeypatch: Any) -> None:
    """The claim saw no later row of li's conversation, so marking late1 done looks for none: late2, stored while
    late1 ran, is claimed by the next round of the drain — after late1, and once."""
    li = _id(ot, "sales")
    ot.inbound.handle_message(_msg(li, "下单 华兴 SKU-001 x10", "late1"))
    real = ot.core.handle_message

    def and_then_another(msg: InboundMessage, **kw: Any) -> Any:
        if msg.event_id == "late1":
            ot.inbound.handle_message(_msg(li, "我的订单", "late2"))  # the person writes again meanwhile
        return real(msg, **kw)

    monkeypatch.setattr(ot.core, "handle_message", and_then_another)
    assert ot.inbox.run_once() == 1 and _rows(ot) == [("console:late1", "done"), ("console:late2", "pending")]
    assert ot.inbox.drain() == 1
    assert _rows(ot) == [("console:late1", "done"), ("console:late2", "done")] and len(_orders(ot)) == 1


def test_the_sandbox_answers_in_the_request_through_the_inbox(ot: OrderTalk) -> None:
    client = ot.flask.test_client()
    resp = client.post("/sandbox/api/messages", json={"user": _id(ot, "sales"), "text": "帮助", "event_id": "sb1"})
    assert resp.status_code == 200 and resp.get_json()["replies"]
    assert _rows(ot) == [("console:sb1", "done")]


def test_processed_events_are_pruned_after_the_keep_period(ot: OrderTalk) -> None:
    ot.inbound.handle_message(_msg(_id(ot, "sales"), "帮助", "old"))
    ot.inbox.drain()
    assert ot.inbox.prune() == 0
    ot.ctx.clock.advance(seconds=ot.inbox.keep.total_seconds() + timedelta(hours=1).total_seconds())  # type: ignore[attr-defined]
    assert ot.inbox.prune() == 1 and _rows(ot) == []


def _transactions(ot: OrderTalk) -> Any:
    from sqlalchemy import event

    seen: list[int] = []
    event.listen(ot.engine, "begin", lambda conn: seen.append(1))
    return seen


def test_the_event_and_its_done_commit_in_one_transaction(ot: OrderTalk, monkeypatch: Any) -> None:
    """The row is marked done in the core's transaction (bot.ports.with_event): a commit that fails leaves neither the
    order nor `done`, and the retry places the order once; a processed message costs the claim's transaction and
    its own, no third one for `done`."""
    from domain.uow import UnitOfWork

    li = _id(ot, "sales")
    ot.inbound.handle_message(_msg(li, "下单 华兴 SKU-001 x10", "tx1"))
    real = UnitOfWork.commit

    def refused(self: UnitOfWork) -> None:
        self.session.flush()  # everything written, the inbox row's done with it, then the commit fails
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(UnitOfWork, "commit", refused)
    ot.inbox.drain()
    assert _rows(ot) == [("console:tx1", "pending")] and _orders(ot) == []
    monkeypatch.setattr(UnitOfWork, "commit", real)
    ot.ctx.clock.advance(seconds=120)  # type: ignore[attr-defined]
    ot.inbound.handle_message(_msg(li, "我的订单", "tx2"))
    begun = _transactions(ot)
    assert ot.inbox.drain() == 1  # tx2 follows tx1 on the same thread (leased in tx1's transaction)
    # two claims (the second finds nothing: the drain stops) and one transaction per event (it was two per event)
    assert len(begun) == 2 + 2, len(begun)
    assert _rows(ot) == [("console:tx1", "done"), ("console:tx2", "done")] and len(_orders(ot)) == 1


def test_a_raw_handler_that_calls_the_core_twice_is_retried_whole(ot: OrderTalk) -> None:
    """Without one_core_call the first call's commit does not mark the row done: when the second call fails, the
    event is tried again (the first call dedups, the second runs). With it, the row is done with the call."""
    from bot.inbox import one_core_call

    li = _id(ot, "sales")
    failures = [OperationalError("SELECT 1", {}, Exception("connection refused"))]

    def twice(payload: dict[str, Any]) -> None:
        ot.core.handle_message(_msg(li, "下单 华兴 SKU-001 x10", "raw:first"))
        if failures:
            raise failures.pop()
        ot.core.handle_message(_msg(li, "下单 华兴 SKU-002 x5", "raw:second"))

    def once(payload: dict[str, Any]) -> None:
        one_core_call()
        ot.core.handle_message(_msg(li, "帮助", "raw:once"))

    ot.inbox.register_raw("twice", twice)
    ot.inbox.register_raw("once", once)
    ot.inbox.store("console", "raw:1", "console:raw", "twice", {})
    ot.inbox.drain()
    assert _rows(ot) == [("raw:1", "pending")] and len(_orders(ot)) == 1  # the first call's order only
    ot.ctx.clock.advance(seconds=120)  # type: ignore[attr-defined]
    ot.inbox.drain()
    assert _rows(ot) == [("raw:1", "done")] and len(_orders(ot)) == 2
    ot.inbox.store("console", "raw:2", "console:raw2", "once", {})
    begun = _transactions(ot)
    ot.inbox.drain()
    assert len(begun) == 2 + 1  # the claims, and the core's transaction alone
    assert _rows(ot)[-1] == ("raw:2", "done")


def test_a_job_longer_than_its_lease_is_not_claimed_again_while_it_runs(session_factory: Any) -> None:
    """A file check may run longer than the lease (30 s by default; 0.4 s here): while it runs its lease is renewed,
    so another worker does not claim the row and run the job a second time; once done, it is nobody's."""
    import threading
    import time

    from bot.inbox import Inbox
    from domain.types import utcnow

    runs: list[int] = []
    started = threading.Event()

    def slow_check(payload: dict[str, Any]) -> None:
        runs.append(payload["n"])
        started.set()
        time.sleep(1.6)  # four leases

    workers = [Inbox(session_factory, None, lease_seconds=0.4, owner=name) for name in ("worker-a", "worker-b")]  # type: ignore[arg-type]
    for w in workers:
        w.register_raw("job", slow_check)
    with session_factory() as s:
        Inbox.enqueue(s, "console", "job:1", "job:1", "job", {"n": 1}, utcnow())
        s.commit()
    first = threading.Thread(target=workers[0].run_once)
    first.start()
    assert started.wait(10)
    taken: list[int] = []
    while first.is_alive():
        taken += workers[1].claim()  # the other worker, polling as its loop does
        time.sleep(0.05)
    first.join()
    assert taken == [] and runs == [1]
    with session_factory() as s:
        row = s.scalar(select(InboxEvent))
        assert (row.status, row.lease_owner, row.attempts) == ("done", None, 0)
    assert workers[1].drain() == 0 and runs == [1]


def test_a_long_event_holds_one_thread_of_the_worker_not_the_others(session_factory: Any) -> None:
    """A file checked in chat can take minutes: the running worker goes on claiming other conversations' events for
    its free threads meanwhile (rounds that waited for every row they had claimed held everyone behind it)."""
    import threading
    import time

    from bot.inbox import Inbox
    from domain.types import utcnow

    release = threading.Event()
    done: list[str] = []

    def long_check(payload: dict[str, Any]) -> None:
        release.wait(10)
        done.append("long")

    def quick(payload: dict[str, Any]) -> None:
        done.append(payload["n"])

    inbox = Inbox(session_factory, None, threads=2, owner="worker")  # type: ignore[arg-type]
    inbox.register_raw("long", long_check)
    inbox.register_raw("quick", quick)
    with session_factory() as s:
        Inbox.enqueue(s, "console", "long:1", "conv:a", "long", {}, utcnow())
        s.commit()
    inbox.start(poll_seconds=0.02)
    try:
        time.sleep(0.2)  # the long one is running
        for n in ("b1", "c1", "d1"):  # other people, one after another, while it runs
            inbox.store("console", f"quick:{n}", f"conv:{n}", "quick", {"n": n})
        deadline = time.monotonic() + 10
        while len(done) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert done == ["b1", "c1", "d1"]  # answered while the long one still runs
    finally:
        release.set()
        deadline = time.monotonic() + 10
        while "long" not in done and time.monotonic() < deadline:
            time.sleep(0.02)
        inbox.stop()
    assert done[-1] == "long"
