"""On a SQLite file the inbox lives in a file of its own (bot.inbox, domain.db.inbox_url), so a callback's store never
waits on the main file's writer lock that the workers' decisions hold: stores go on while a decision holds it; a
crash between "decision committed" (main file) and "inbox row done" (inbox file) still takes effect once; jobs an
event enqueues in the main file are handed over once, even when a crash repeats the hand-over; a failing inbox file
is a 503 (the platform retries) and /healthz names it; `ordertalk db upgrade` creates the file."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, event, func, select

from adapters.dingtalk.signature import robot_sign
from bot.bootstrap import OrderTalk, build
from bot.inbox import INBOX_SCHEMA, Inbox, InboxEvent, store_schema
from bot.ports import InboundMessage
from bot.records import InboundEvent
from bot.settings import Settings
from domain.db import inbox_url
from domain.directory import link
from domain.models import Order
from tests.conftest import TEST_SECRET_KEY, inbox_engine_for
from tests.e2e.dingtalk.payloads import robot_message
from tests.world import Clock, build_world

SECRET = "own-file-dingtalk-secret"


@pytest.fixture
def ot(sqlite_engine: Engine, sqlite_url: str, clock: Clock, tmp_path: Any) -> Iterator[OrderTalk]:
    settings = Settings(_env_file=None, database_url=sqlite_url, sandbox=True, run_dispatcher=False,
                        run_scheduler=False, run_inbox=False, inbox_inline=False, secret_key=TEST_SECRET_KEY,
                        data_dir=tmp_path, dingtalk_app_key="dingownfile", dingtalk_app_secret=SECRET,
                        dingtalk_mode="http", dingtalk_api_url="http://127.0.0.1:9", dingtalk_oapi_url="http://127.0.0.1:9")
    app = build(settings, clock=clock, engine=sqlite_engine, inbox_engine=inbox_engine_for(sqlite_url))
    app.flask.config["world"] = build_world(app.sessions)
    with app.sessions() as s:
        link(s, "li", "dingtalk", "sales0107", linkable=["dingtalk"])
        s.commit()
    yield app


def _msg(user: int, text: str, event_id: str) -> InboundMessage:
    return InboundMessage(platform="console", external_user_id=str(user), text=text, event_id=event_id)


def _inbox_rows(ot: OrderTalk) -> list[tuple[str, str]]:
    with ot.inbox.sessions() as s:
        return [(r.key, r.status) for r in s.scalars(select(InboxEvent).order_by(InboxEvent.id))]


def _main_rows(ot: OrderTalk) -> int:
    with ot.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(InboxEvent)) or 0)


def _orders(ot: OrderTalk) -> int:
    with ot.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(Order)) or 0)


def test_the_url_of_the_inbox_file() -> None:
    assert inbox_url("sqlite:///var/ordertalk.db") == "sqlite:///var/ordertalk-inbox.db"
    assert inbox_url("sqlite:////srv/ot/data") == "sqlite:////srv/ot/data-inbox.db"
    assert inbox_url("sqlite://") is None and inbox_url("sqlite:///:memory:") is None
    assert inbox_url("sqlite:///file:t?mode=memory&cache=shared&uri=true") is None
    assert inbox_url("postgresql+psycopg://postgres@127.0.0.1:5432/test") is None


def test_stores_go_on_while_a_decision_holds_the_main_files_lock(ot: OrderTalk, sqlite_url: str) -> None:
    """The acknowledgement's store, while another connection holds the main file's writer lock as a decision's
    transaction does: it is stored at once (with the inbox in the main file it waits the whole hold)."""
    li = int(ot.flask.config["world"]["sales"])
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=30, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a long decision, in the main file
    took: list[float] = []

    def ack() -> None:
        started = time.perf_counter()
        ot.inbound.handle_message(_msg(li, "我的订单", "held1"))
        took.append(time.perf_counter() - started)

    try:
        store = threading.Thread(target=ack, daemon=True)
        store.start()
        store.join(5)
        assert took and took[0] < 2, "the store waited on the main file's lock"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        store.join(30)
    assert _inbox_rows(ot) == [("console:held1", "pending")] and _main_rows(ot) == 0


class _Killed(BaseException):
    """The process dying at this point (kill -9): nothing after it runs, no handler sees it."""


def test_a_crash_between_the_decision_and_done_takes_effect_once(ot: OrderTalk, monkeypatch: Any) -> None:
    li = int(ot.flask.config["world"]["sales"])
    ot.inbound.handle_message(_msg(li, "下单 华兴 SKU-001 x10", "crash2"))
    real_done = Inbox._done

    def killed(self: Inbox, *a: Any, **k: Any) -> Any:
        raise _Killed

    monkeypatch.setattr(Inbox, "_done", killed)
    with pytest.raises(_Killed):
        ot.inbox.drain()  # the decision committed in the main file; the row in the inbox file is not done
    assert _orders(ot) == 1 and _inbox_rows(ot) == [("console:crash2", "pending")]
    monkeypatch.setattr(Inbox, "_done", real_done)
    ot.ctx.clock.advance(seconds=ot.inbox.lease.total_seconds() + 1)  # type: ignore[attr-defined]
    assert ot.inbox.drain() == 1  # the lease ran out: the event again, as a restarted worker sees it…
    assert _orders(ot) == 1 and _inbox_rows(ot) == [("console:crash2", "done")]  # …already processed: only done
    with ot.sessions() as s:
        assert s.scalars(select(InboundEvent.key)).all() == ["console:crash2"]


def test_enqueued_jobs_are_handed_over_once_even_after_a_crash_in_the_hand_over(ot: OrderTalk) -> None:
    now = ot.ctx.clock()
    with ot.sessions() as s:  # what an event's transaction enqueues: a job, in the main file
        Inbox.enqueue(s, "console", "job:1", "job:1", "message", {"event": {}}, now)
        s.commit()
    with ot.inbox.sessions() as s:  # a crash after the copy, before the main file's rows were deleted
        Inbox.enqueue(s, "console", "job:1", "job:1", "message", {"event": {}}, now)
        s.commit()
    moved = ot.inbox._hand_over()
    assert len(moved) == 1 and _main_rows(ot) == 0 and _inbox_rows(ot) == [("job:1", "pending")]
    assert ot.inbox._hand_over() == {}


def _callback(client: Any, msg_id: str) -> Any:
    body = robot_message("我的订单", msg_id=msg_id, staff_id="sales0107")
    stamp = str(int(time.time() * 1000))
    return client.post("/dingtalk/callback", json=body, headers={"timestamp": stamp, "sign": robot_sign(stamp, SECRET)})


def _failing(engine: Engine) -> Any:
    """Every new connection to this file fails as a missing or unreadable file does."""
    def refuse(*_: Any) -> Any:
        raise sqlite3.OperationalError("unable to open database file")

    event.listen(engine, "do_connect", refuse)
    engine.dispose()
    return refuse


def test_a_failing_inbox_file_is_a_503_and_nothing_acknowledged(ot: OrderTalk) -> None:
    client = ot.flask.test_client()
    assert client.get("/healthz").get_json()["inbox"] == {"database": "sqlite", "schema": INBOX_SCHEMA}
    assert _callback(client, "own-1").status_code == 200
    assert ot.inbox_engine is not None
    refuse = _failing(ot.inbox_engine)
    try:
        r = _callback(client, "own-2")
        assert r.status_code == 503 and r.headers["Retry-After"]  # the platform retries
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["inbox"]["error"] == "OperationalError"
    finally:
        event.remove(ot.inbox_engine, "do_connect", refuse)
    assert [k for k, _ in _inbox_rows(ot)] == ["dingtalk:dingtalk:msg:own-1"]  # own-2 was not stored…
    assert _callback(client, "own-2").status_code == 200  # …and its retry is
    assert client.get("/healthz").status_code == 200


def test_a_failing_main_file_acknowledges_only_what_the_inbox_file_stored(ot: OrderTalk) -> None:
    client = ot.flask.test_client()
    refuse = _failing(ot.engine)
    try:
        r = _callback(client, "main-1")
        assert client.get("/healthz").status_code == 503
    finally:
        event.remove(ot.engine, "do_connect", refuse)
    stored = [k for k, _ in _inbox_rows(ot)]
    # the callback may still be stored (the inbox's own file answers) and then acknowledged, never the other way
    assert (r.status_code == 200) == (stored == ["dingtalk:dingtalk:msg:main-1"]), (r.status_code, stored)
    assert r.status_code in (200, 503)


def test_db_upgrade_creates_the_inbox_file(tmp_path: Path, monkeypatch: Any) -> None:
    from bot.cli import main
    from domain.db import make_engine

    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.setenv("ORDERTALK_DATABASE_URL", url)
    monkeypatch.setenv("ORDERTALK_SECRET_KEY", TEST_SECRET_KEY)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "fresh-inbox.db").exists()
    engine = make_engine(str(inbox_url(url)))
    try:
        assert store_schema(engine) == INBOX_SCHEMA
    finally:
        engine.dispose()

