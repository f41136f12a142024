"""The outbox is only a queue: who holds a copy of a card is answered by card_copies alone, so delivered rows can be
pruned and a later update still reaches every copy; a card still on its way gets the update after it; the claim
reads the partial index of pending rows, not the delivered ones (PostgreSQL plan)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from adapters.console.models import InboxItem
from bot.bootstrap import OrderTalk, build
from bot.cards.model import Card
from bot.records import CardCopy, OutboxMessage
from bot.settings import Settings
from domain.models import User
from tests.conftest import TEST_SECRET_KEY
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
    assert "ix_outbox_pending" in plan and "Seq Scan on outbox" not in plan, plan
