"""The outbox is only a queue: who holds a copy of a card is answered by card_copies alone, so delivered rows can be
pruned and a later update still reaches every copy; a card still on its way gets the update after it; the claim
reads the due conversation heads, not the delivered rows (PostgreSQL plan) nor the rows waiting behind a head in
flight (its cost at 1,000 and 50,000 pending: PostgreSQL's buffers, SQLite's VM steps); the heads follow every write."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select, text

from adapters.console.models import InboxItem
from bot.bootstrap import OrderTalk, build
from bot.cards.model import Card
from bot.dispatcher import Dispatcher
from bot.records import CardCopy, OutboxHead, OutboxMessage
from bot.settings import Settings
from domain.db import make_session_factory
from domain.models import User
from tests.conftest import TEST_SECRET_KEY, _wipe
from tests.world import Clock, build_world


@pytest.fixture
def ot(engine: Any, clock: Clock, tmp_path: Any) -> OrderTalk:
    settings = Settings(_env_file=None, database_url=str(engine.url.render_as_string(hide_password=False)), sandbox=True,
                        run_dispatcher=False, run_scheduler=False, run_inbox=False, secret_key=TEST_SECRET_KEY,
                        data_dir=tmp_path)
    app = build(settings, clock=clock, engine=engine)
    app.flask.config["world"] = build_world(app.sessions)
    return app


def _send(ot: OrderTalk, who: str, title: str) -> None:
    with ot.sessions() as s:
        user = s.get(User, ot.flask.config["world"][who])
        assert user is not None
        ot.ctx.outbox.to_user(s, user, card=Card(kind="info", key="card:1", title=title))
        s.commit()


def _update(ot: OrderTalk, title: str) -> int:
    with ot.sessions() as s:
        n = ot.ctx.outbox.update_everywhere(s, "card:1", lambda uid: Card(kind="info", title=f"{title} for {uid}"))
        s.commit()
        return n


def _inbox_titles(ot: OrderTalk) -> list[str]:
    with ot.sessions() as s:
        return [i.payload["card"]["title"] for i in s.scalars(select(InboxItem).order_by(InboxItem.id))]


def test_delivered_rows_pruned_and_the_update_still_reaches_every_copy(ot: OrderTalk, clock: Clock) -> None:
    _send(ot, "boss", "pending")
    _send(ot, "boss2", "pending")
    assert ot.dispatcher.drain() == 2
    clock.advance(days=8)
    assert ot.dispatcher.prune(timedelta(days=7)) == 2
    with ot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.scalar(select(func.count()).select_from(CardCopy).where(CardCopy.delivered_at.is_not(None))) == 2
    assert _update(ot, "decided") == 2
    ot.dispatcher.drain()
    w = ot.flask.config["world"]
    assert sorted(_inbox_titles(ot)) == sorted([f"decided for {w['boss']}", f"decided for {w['boss2']}"])  # replaced


def test_a_card_still_on_its_way_gets_the_update_after_it(ot: OrderTalk) -> None:
    _send(ot, "boss", "pending")
    assert _update(ot, "decided") == 1  # the send is not delivered yet: its copy is already known
    ot.dispatcher.drain()
    assert _inbox_titles(ot) == [f"decided for {ot.flask.config['world']['boss']}"]  # sent, then replaced in place


def test_pending_rows_only_are_pruned_never(ot: OrderTalk, clock: Clock) -> None:
    _send(ot, "boss", "pending")
    clock.advance(days=30)
    assert ot.dispatcher.prune(timedelta(days=7)) == 0  # not delivered: kept
    assert ot.dispatcher.drain() == 1


@pytest.mark.pg
def test_the_claim_reads_the_pending_index_on_postgresql(pg_url: str, ot: OrderTalk) -> None:
    if ot.engine.dialect.name != "postgresql":
        pytest.skip("plan of the PostgreSQL claim")
    with ot.engine.begin() as c:  # 20,000 delivered rows and a few pending ones
        c.execute(text("INSERT INTO outbox (platform, recipient, conversation, op, payload, status, attempts, "
                       "next_attempt_at, created_at, delivered_at) SELECT 'console', '1', 'console:user:' || g, 'send', "
                       "'{}', 'delivered', 1, now(), now(), now() FROM generate_series(1, 20000) g"))
        c.execute(text("ANALYZE outbox"))
    _send(ot, "boss", "pending")
    claim = ot.dispatcher.claim_statement()
    with ot.engine.connect() as c:
        plan = "\n".join(r[0] for r in c.execute(text("EXPLAIN " + claim)))
    # the 20,000 delivered rows are never scanned; the tiny heads table may be read either way (the planner's choice)
    assert "outbox_heads" in plan and not re.search(r"Seq Scan on outbox(?!_)", plan), plan


def _backlog(engine: Any, behind: int, clock: Clock) -> None:
    """Five big conversations with `behind` rows in all, then 200 one-row conversations: the big ones first, so
    their rows are the oldest and would be walked before any of the small ones."""
    now = clock()
    rows = [{"platform": "chat", "recipient": f"big{k % 5}", "conversation": f"chat:user:big{k % 5}", "op": "send",
             "payload": {"text": f"b{k}"}, "status": "pending", "attempts": 0, "next_attempt_at": now,
             "created_at": now} for k in range(behind)]
    rows += [{"platform": "chat", "recipient": f"small{k}", "conversation": f"chat:user:small{k}", "op": "send",
              "payload": {"text": f"s{k}"}, "status": "pending", "attempts": 0, "next_attempt_at": now,
              "created_at": now} for k in range(200)]
    with engine.begin() as c:
        for start in range(0, len(rows), 5000):
            c.execute(insert(OutboxMessage), rows[start:start + 5000])
        if engine.dialect.name == "postgresql":
            c.execute(text("ANALYZE outbox"))
            c.execute(text("ANALYZE outbox_heads"))


def _claim_cost(engine: Any, dispatcher: Dispatcher) -> tuple[int, list[str]]:
    """What the claim reads: PostgreSQL's buffers (EXPLAIN ANALYZE, rolled back), SQLite's virtual machine steps
    (a progress handler counting every 100); and the conversations of the rows it would claim."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as c:
            plan = c.execute(text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + dispatcher.claim_statement())).scalar()
            c.rollback()
            top = plan[0]["Plan"]
            cost = int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"])
    else:
        steps = [0]

        def count() -> int:
            steps[0] += 1
            return 0

        with engine.connect() as c:
            raw = c.connection.dbapi_connection
            raw.set_progress_handler(count, 100)
            try:
                c.execute(dispatcher._claim_query(dispatcher.clock(), False)).all()
            finally:
                raw.set_progress_handler(None, 0)
            c.rollback()
        cost = steps[0]
    with dispatcher.sessions() as s:
        conversations = [r.conversation for r in s.scalars(dispatcher._claim_query(dispatcher.clock(), False))]
    return cost, conversations


def test_the_claim_costs_the_same_behind_1000_or_50000_pending_rows(engine: Any, clock: Clock) -> None:
    """The heads of the big conversations are in flight: everything behind them waits, and the claim must find the
    small conversations' heads without reading what waits (before: every waiting row, on both databases)."""
    sessions = make_session_factory(engine)
    costs = []
    for behind in (1_000, 50_000):
        _wipe(engine)
        _backlog(engine, behind, clock)
        in_flight = Dispatcher(sessions, {}, clock=clock, batch=5, owner="in-flight")
        assert sorted(r.conversation for r in in_flight.claim()) == [f"chat:user:big{k}" for k in range(5)]
        cost, conversations = _claim_cost(engine, Dispatcher(sessions, {}, clock=clock, batch=20))
        assert conversations == [f"chat:user:small{k}" for k in range(20)]  # oldest first, none behind a head
        costs.append(cost)
    small, big = costs
    assert big <= small * 1.5 + 20, f"claim read {small} at 1,000 pending, {big} at 50,000"


@pytest.mark.pg
def test_the_claim_reads_the_same_with_statistics_from_before_a_backlog(engine: Any, clock: Clock) -> None:
    """Statistics taken while nothing was pending (a quiet outbox), then a backlog builds (an outage): the claim
    must still read its heads first and find each row by its key. Joined to the heads, PostgreSQL trusted the
    statistics' "no pending rows" and walked every pending row for each claim (2.5 s with 9,500 pending)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("plan of the PostgreSQL claim")
    sessions = make_session_factory(engine)
    costs = []
    for pending in (1_000, 20_000):
        _wipe(engine)
        now = clock()
        with engine.begin() as c:
            c.execute(text("INSERT INTO outbox (platform, recipient, conversation, op, payload, status, attempts, "
                           "next_attempt_at, created_at, delivered_at) SELECT 'chat', 'd', 'chat:user:d' || g, 'send', "
                           "'{}', 'delivered', 1, now(), now(), now() FROM generate_series(1, 20000) g"))
            c.execute(text("ANALYZE outbox"))
            c.execute(text("ANALYZE outbox_heads"))
            c.execute(insert(OutboxMessage), [
                {"platform": "chat", "recipient": f"p{k}", "conversation": f"chat:user:p{k}", "op": "send",
                 "payload": {"text": f"p{k}"}, "status": "pending", "attempts": 0, "next_attempt_at": now,
                 "created_at": now} for k in range(pending)])
        cost, conversations = _claim_cost(engine, Dispatcher(sessions, {}, clock=clock, batch=20))
        assert conversations == [f"chat:user:p{k}" for k in range(20)]  # oldest first
        costs.append(cost)
    small, big = costs
    assert big <= small * 1.5 + 20, f"claim read {small} buffers at 1,000 pending, {big} at 20,000"


def _heads_agree(engine: Any) -> None:
    """outbox_heads holds exactly the oldest pending row of every conversation, due at its attempt or lease end."""
    with engine.connect() as c:
        heads = {conv: oid for conv, oid in c.execute(select(OutboxHead.conversation, OutboxHead.outbox_id))}
        oldest = dict(c.execute(select(OutboxMessage.conversation, func.min(OutboxMessage.id))
                                .where(OutboxMessage.status == "pending").group_by(OutboxMessage.conversation)).all())
        assert heads == oldest
        for head in c.execute(select(OutboxHead.due, OutboxMessage.next_attempt_at, OutboxMessage.lease_until)
                              .join(OutboxMessage, OutboxMessage.id == OutboxHead.outbox_id)):
            assert head.due == max(head.next_attempt_at, head.lease_until or head.next_attempt_at)


def test_the_heads_follow_every_write_to_the_outbox(engine: Any, clock: Clock) -> None:
    sessions = make_session_factory(engine)
    _backlog(engine, 10, clock)  # five conversations of two rows, 200 of one
    _heads_agree(engine)
    d = Dispatcher(sessions, {}, clock=clock, batch=7, owner="w")
    claimed = d.claim()  # leased: due at the lease's end
    _heads_agree(engine)
    with sessions() as s:
        first, second, third = (s.get(OutboxMessage, r.id) for r in claimed[:3])
        assert first is not None and second is not None and third is not None
        first.status, first.lease_until = "delivered", None  # the next row of its conversation takes over
        second.status = "failed"
        third.next_attempt_at = clock() + timedelta(minutes=5)  # backoff
        s.commit()
    _heads_agree(engine)
    with sessions() as s:
        s.execute(delete(OutboxMessage).where(OutboxMessage.conversation == "chat:user:big3"))  # both rows
        failed = s.get(OutboxMessage, claimed[1].id)
        assert failed is not None
        failed.status = "pending"  # requeued by hand: older than the row that took over, so the head again
        s.commit()
    _heads_agree(engine)
    with sessions() as s:
        assert s.scalar(select(OutboxHead.outbox_id).where(OutboxHead.conversation == claimed[1].conversation)) \
            == claimed[1].id


def test_a_copy_sent_earlier_in_the_same_batch_gets_the_update(ot: OrderTalk) -> None:
    """An event's answers and its notifications are added under one `UnitOfWork.batched` (no flush between them): an
    update made there still reaches a copy sent a moment before in it, not yet written."""
    boss = ot.flask.config["world"]["boss"]
    uow = ot.ctx.unit_of_work(ot.sessions)
    with uow:
        user = uow.session.get(User, boss)
        assert user is not None
        with uow.batched():
            ot.ctx.outbox.to_user(uow.session, user, card=Card(kind="info", key="card:1", title="pending"))
            n = ot.ctx.outbox.update_everywhere(uow.session, "card:1",
                                                lambda uid: Card(kind="info", title=f"decided for {uid}"))
        uow.commit()
    assert n == 1
    ot.dispatcher.drain()
    assert _inbox_titles(ot) == [f"decided for {boss}"]  # sent, then replaced in place


def test_accounts_loaded_with_a_recipient_and_one_added_since(ot: OrderTalk, engine: Any) -> None:
    """The recipient queries load each person's accounts with them, so addressing them reads nothing more; once the
    session adds an account, the list loaded before it is not trusted (read again, the new account is addressed)."""
    from sqlalchemy import event

    from bot.outbox import Outbox
    from domain import recipients
    from domain.models import PlatformIdentity

    outbox = Outbox(lambda: ["slack", "wecom"])
    w = ot.flask.config["world"]
    statements: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    with ot.sessions() as s:
        s.add(PlatformIdentity(platform="slack", external_id="U_SUN", user_id=w["wh"]))
        s.commit()
    with ot.sessions() as s:
        [staff] = recipients.warehouse_staff(s, w["east"])
        event.listen(engine, "before_cursor_execute", note)
        try:
            before = outbox.addresses(s, staff)
        finally:
            event.remove(engine, "before_cursor_execute", note)
        s.add(PlatformIdentity(platform="wecom", external_id="sun", user_id=staff.id))
        pending = outbox.addresses(s, staff)  # the collection loaded before does not have it
        written = outbox.addresses(s, staff)  # flushed by now: neither
    assert before == [("slack", "U_SUN")] and statements == []
    assert sorted(pending) == sorted(written) == [("slack", "U_SUN"), ("wecom", "sun")]
