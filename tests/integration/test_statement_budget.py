"""Round trips per command, counted at the driver (every statement the engine sends, SQLAlchemy's `before_cursor_execute`
event): a budget per main command that fails the test when a lazy load, a per-row flush or a re-read creeps in.
Counted on SQLite and PostgreSQL alike (the same ORM work; BEGIN/COMMIT are not statements here)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from domain import approvals, orders
from domain.audit import Actor
from domain.models import ApprovalStep, User
from domain.orders import LineRequest, OrderRequest, create_order
from domain.uow import UnitOfWork
from tests.world import build_world, policy

CREATE_SUBMIT_APPROVE = 25
ONE_DECISION = 15
STATUS_READ = 6


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE is transaction control, sent as a statement
            seen.append(statement.split("\n", 1)[0][:160])

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _create(session_factory, clock, w) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    uow = UnitOfWork(session_factory, clock)
    with uow:
        sales = uow.session.get(User, w["sales"])
        assert sales is not None
        order = create_order(uow, sales, OrderRequest(w["c1"], [LineRequest(w["p1"], 2), LineRequest(w["p2"], 3)]),
                             policy(), Actor(sales.id, "test"))
        uow.commit()
        [step] = order.steps
        return order.id, step.id


def _decide(session_factory, clock, w, step_id: int) -> None:  # type: ignore[no-untyped-def]
    uow = UnitOfWork(session_factory, clock)
    with uow:
        boss = uow.session.get(User, w["boss"])
        assert boss is not None
        approvals.decide(uow, step_id, boss, True, Actor(boss.id, "test"))
        uow.commit()


def test_create_submit_and_approve_within_budget(engine, session_factory, clock):
    w = build_world(session_factory)
    _create(session_factory, clock, w)  # the first order warms the caches (order numbering, rules)
    with counted(engine) as created:
        _, step_id = _create(session_factory, clock, w)
    with counted(engine) as decided:
        _decide(session_factory, clock, w, step_id)
    print(f"\ncreate+submit: {len(created)}\n  " + "\n  ".join(created))
    print(f"decide: {len(decided)}\n  " + "\n  ".join(decided))
    assert len(decided) <= ONE_DECISION, decided
    assert len(created) + len(decided) <= CREATE_SUBMIT_APPROVE, created + decided


@pytest.mark.parametrize("who", ["sales", "boss"])  # a sales person also asks whether they may see it
def test_order_status_read_within_budget(engine, session_factory, clock, who):
    """The status card of an approved order with two lines, a decided step of two approvers and five audit entries:
    the read and the card (no lazy load while it is drawn)."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from bot.cards.context import Viewer
    from bot.cards.orders import order_status_card
    from bot.tokens import TokenSigner
    from domain.models import Order
    from tests.conftest import TEST_SECRET_KEY

    w = build_world(session_factory)
    order_id, step_id = _create(session_factory, clock, w)
    _decide(session_factory, clock, w, step_id)
    with session_factory() as s:
        order = s.get(Order, order_id)
        assert order is not None
        number = order.number
    with session_factory() as s:
        user = s.get(User, w[who])  # identified by the core before any command
        assert user is not None
        with counted(engine) as read:
            view = orders.status_view(s, user, number, date(2026, 11, 23))
            card = order_status_card(view.order, Viewer(user=user, tz=ZoneInfo("Asia/Shanghai"), currency="CNY",
                                                        signer=TokenSigner(TEST_SECRET_KEY.encode()),
                                                        today=date(2026, 11, 23)), view.timeline, view.balance)
    assert number in card.title and len(card.table.rows) == 2 and len(card.text) >= 5  # type: ignore[union-attr]
    print(f"\nstatus read ({who}): {len(read)}\n  " + "\n  ".join(read))
    assert len(read) <= STATUS_READ, read


CLICK_DECIDED = 19  # the inbox worker's whole path for one approval click (34 before issue 16's cuts, then 31, 24, 23, 19: the
# event key in one INSERT … ON CONFLICT, the new shipping task not read back, its lines with their products in one read,
# no look for a next row of the click's conversation when the claim saw none; the customer's contacts read with the
# task's lines, each recipient's accounts with the recipient, the answers' and the notifications' messages one INSERT)
SQLITE_ROWS_APART = 1  # SQLite's INSERT … RETURNING takes one outbox row a statement (two rows here: the sales notice,
# the task card), PostgreSQL's takes them all in one


def test_a_click_decided_from_the_inbox_within_budget(engine, session_factory, clock, tmp_path):
    """An approve click stored in the inbox and decided by the worker, every statement of it: the claim, the
    core's dedup row and identification, the decision and shipping task, the notifications (the sales person's
    notice, the warehouse's task card, the approval card's copies), the audit and `done`."""
    from bot.bootstrap import build
    from bot.ports import InboundAction
    from bot.settings import Settings
    from bot.tokens import ActionToken, TokenSigner
    from tests.conftest import TEST_SECRET_KEY, inbox_engine_for

    settings = Settings(_env_file=None, database_url=str(engine.url.render_as_string(hide_password=False)), sandbox=True,
                        run_dispatcher=False, run_scheduler=False, run_inbox=False, inbox_inline=False,
                        secret_key=TEST_SECRET_KEY, data_dir=tmp_path)
    ot = build(settings, clock=clock, engine=engine, inbox_engine=inbox_engine_for(str(engine.url)))
    w = build_world(ot.sessions)
    signer = TokenSigner(settings.token_secret())
    steps = [_create(ot.sessions, clock, w)[1] for _ in range(2)]

    def click(step_id: int, n: int) -> None:
        ot.inbound.handle_action(InboundAction(platform="console", external_user_id=str(w["boss"]), event_id=f"c{n}",
                                               token=signer.sign(ActionToken("approve", step_id))))

    click(steps[0], 0)
    ot.inbox.drain()  # the first click warms the caches
    click(steps[1], 1)
    with counted(engine) as seen, counted(ot.inbox_engine or engine) as in_inbox_file:
        assert ot.inbox.drain() == 1
    if ot.inbox_engine is not None:  # SQLite: the inbox's own file; every round of the drain (two) also looks for
        seen += in_inbox_file  # rows enqueued in the main file to hand over (the worker looks once a second)
        budget = CLICK_DECIDED + 2
    else:
        budget = CLICK_DECIDED
    with session_factory() as s:
        assert s.get(ApprovalStep, steps[1]).status == "approved"  # type: ignore[union-attr]
    print(f"\nclick decided from the inbox: {len(seen)}\n  " + "\n  ".join(seen))
    assert len(seen) <= budget + (SQLITE_ROWS_APART if engine.dialect.name == "sqlite" else 0), seen
