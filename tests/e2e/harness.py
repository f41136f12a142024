"""What every platform's end-to-end tests share: a WSGI app served on loopback, the test world with everyone linked
to their platform ids, running the inbox and the outbox until nothing is due, reading back what the database holds,
and the app as a real web process that a fault test kills with -9 and restarts as a worker.

Each platform's harness (tests/e2e/<platform>/harness.py) adds only what is its own: how requests are signed and
shaped, its fake server and how to read what that fake received.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, selectinload, sessionmaker
from werkzeug.serving import make_server

from bot.bootstrap import OrderTalk
from bot.cards.model import Attachment
from bot.files import Rendered, ensure
from bot.records import InboundEvent, OutboxMessage
from domain.directory import link
from domain.models import ApprovalStep, AuditEntry, Order, Shipment, ShippingTask, User
from domain.types import utcnow
from tests.tcp_proxy import TcpProxy
from tests.world import World, build_world

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerThread:
    """A WSGI app (the app's Flask object, or a fake platform's) on 127.0.0.1:<free port>, over real HTTP."""

    def __init__(self, app: Flask) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def side_by_side(work: Callable[[int], Any], n: int = 8) -> tuple[list[Any], list[BaseException]]:
    """`work(0)` … `work(n - 1)` in n threads released at once (as the dispatcher's send threads run a batch): their
    results, and what they raised."""
    start = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(k: int) -> None:
        start.wait()
        try:
            out = work(k)
        except BaseException as exc:  # noqa: BLE001 - collected for the caller's assertions
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(out)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results, errors


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64  # enough of a PNG for the fakes' upload checks


def stored_chart(sessions: sessionmaker[Session], key: str = "chart-side-by-side") -> Attachment:
    """A chart stored as the report cards store theirs (bot.files.ensure), and the attachment naming it."""
    with sessions() as s:
        ensure(s, key, lambda: Rendered(PNG, "image/png", f"{key}.png", 8, 8), utcnow())
        s.commit()
    return Attachment(key=key, kind="image", filename=f"{key}.png", mime="image/png", title="chart", size=len(PNG))


def populate(ot: OrderTalk, platform: str, ids: Mapping[str, str]) -> World:
    """The test world (tests/world.py), every person in `ids` (username → platform id) linked on `platform`."""
    world = build_world(ot.sessions)
    with ot.sessions() as s:
        for username, external_id in ids.items():
            link(s, username, platform, external_id, linkable=[platform])
        s.commit()
    return world


@dataclass(frozen=True)
class Snapshot:
    """Everything an inbound request could change; equal snapshots mean it had no effect."""

    orders: tuple[tuple[str, str, int], ...]  # (number, status, version)
    audit: int
    outbox: int
    inbound: int
    shipments: int


class AppDriver:
    """The app as a platform sees it, from the database's side: what is due is run, what was stored is read back.
    A platform's driver subclasses it and adds the requests it sends and the readings of its fake."""

    def __init__(self, ot: OrderTalk, world: World) -> None:
        self.ot = ot
        self.world = world

    # ---------------------------------------------------------------- running what is due
    def drain(self) -> int:
        """Deliver every outbox row that is due now."""
        return self.ot.dispatcher.drain()

    def until_idle(self, max_rounds: int = 20) -> int:
        """Process stored inbound events and deliver what they queued, until neither has anything due."""
        total = 0
        for _ in range(max_rounds):
            n = self.ot.inbox.drain() + self.ot.dispatcher.drain()
            total += n
            if n == 0:
                break
        return total

    # ---------------------------------------------------------------- the database
    def snapshot(self) -> Snapshot:
        with self.ot.sessions() as s:
            def count(model: Any) -> int:
                return int(s.scalar(select(func.count()).select_from(model)) or 0)

            return Snapshot(
                orders=tuple((n, st, v) for n, st, v in s.execute(
                    select(Order.number, Order.status, Order.version).order_by(Order.id))),
                audit=count(AuditEntry), outbox=count(OutboxMessage), inbound=count(InboundEvent),
                shipments=count(Shipment),
            )

    def order(self, number: str) -> Order:
        """The order with its lines, customer and steps (assignments, who decided) loaded, detached."""
        with self.ot.sessions() as s:
            order = s.scalars(select(Order).where(Order.number == number).options(
                selectinload(Order.lines), selectinload(Order.customer),
                selectinload(Order.steps).selectinload(ApprovalStep.assignments),
                selectinload(Order.steps).selectinload(ApprovalStep.decided_by))).one()
            s.expunge_all()
            return order

    def audit(self, action: str) -> list[AuditEntry]:
        with self.ot.sessions() as s:
            rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
            s.expunge_all()
            return rows

    def outbox(self, status: str | None = None) -> list[OutboxMessage]:
        with self.ot.sessions() as s:
            q = select(OutboxMessage).order_by(OutboxMessage.id)
            if status is not None:
                q = q.where(OutboxMessage.status == status)
            rows = list(s.scalars(q))
            s.expunge_all()
            return rows

    def tasks(self) -> list[ShippingTask]:
        with self.ot.sessions() as s:
            rows = list(s.scalars(select(ShippingTask).order_by(ShippingTask.id)))
            s.expunge_all()
            return rows

    def shipments(self) -> list[Shipment]:
        with self.ot.sessions() as s:
            rows = list(s.scalars(select(Shipment).options(selectinload(Shipment.lines)).order_by(Shipment.id)))
            s.expunge_all()
            return rows

    def user_id(self, who: str) -> int:
        with self.ot.sessions() as s:
            uid = s.scalar(select(User.id).where(User.username == who))
            assert uid is not None
            return uid


class WebProcess:
    """`ordertalk <command>` as its own process (the production layout), for the tests that kill it: `serve` waits
    until /healthz answers; `kill9()` is the crash, `stop()` the orderly end."""

    def __init__(self, env: Mapping[str, str], command: list[str], port: int | None = None,
                 startup_seconds: float = 90) -> None:
        self.port = port
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *command], cwd=ROOT, env=dict(env),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if port is not None:
            deadline = time.monotonic() + startup_seconds  # a loaded 2-core machine takes a while to import
            while True:
                self.check_alive()
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the web process did not come up"
                    time.sleep(0.2)

    @classmethod
    def serve(cls, env: Mapping[str, str]) -> WebProcess:
        port = free_port()
        return cls(env, ["serve", "--port", str(port)], port)

    @classmethod
    def worker(cls, env: Mapping[str, str]) -> WebProcess:
        return cls(env, ["worker"])

    def check_alive(self) -> None:
        if self.proc.poll() is not None:
            err = self.proc.stderr.read().decode()[-3000:] if self.proc.stderr else ""
            raise AssertionError(f"the process exited: {err}")

    def send(self, req: Mapping[str, Any]) -> int:
        """One raw HTTP request ({method, path, body, headers}) to the process; its status."""
        assert self.port is not None
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(req["method"], req["path"], body=req["body"].encode(), headers=dict(req["headers"]))
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()

    def stop_when(self, done: Callable[[], bool], seconds: float = 90, grace: float = 1.0) -> None:
        """Let the process run until `done()` (or `seconds` pass), then `grace` more seconds, in which a second
        effect, if there were one, would land; then stop it."""
        try:
            deadline = time.monotonic() + seconds
            while not done() and time.monotonic() < deadline:
                self.check_alive()
                time.sleep(0.3)
            time.sleep(grace)
        finally:
            self.stop()

    def kill9(self) -> None:
        self.proc.kill()  # SIGKILL: no handler runs, nothing is flushed
        self.proc.wait(10)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def process_effects(url: str, steps: list[int]) -> tuple[int, dict[int, int], int, dict[str, int]]:
    """What clicks on these approval steps did, read straight from the database (no app, so also while the app's
    process is dead): (approved steps, approve audit rows per order, inbound event keys, inbox rows by status)."""
    from bot.inbox import InboxEvent
    from domain.db import inbox_url, make_engine, make_session_factory

    engine = make_engine(url)
    own = make_engine(inbox_url(url) or url)  # the inbox's own file on SQLite
    try:
        with make_session_factory(engine)() as s:
            approved = s.scalar(select(func.count()).select_from(ApprovalStep)
                                .where(ApprovalStep.id.in_(steps), ApprovalStep.status == "approved")) or 0
            orders = list(s.scalars(select(ApprovalStep.order_id).where(ApprovalStep.id.in_(steps))))
            per_order = dict(s.execute(select(AuditEntry.order_id, func.count()).where(
                AuditEntry.order_id.in_(orders), AuditEntry.action == "approve").group_by(AuditEntry.order_id)).all())
            keys = s.scalar(select(func.count()).select_from(InboundEvent)) or 0
        with make_session_factory(own)() as s:
            inbox = dict(s.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)).all())
        return int(approved), {int(k): int(v) for k, v in per_order.items()}, int(keys), inbox
    finally:
        engine.dispose()
        own.dispose()


@contextmanager
def refusing_database(pg_url: str, data_dir: str, env: Mapping[str, str]) -> Iterator[tuple[OrderTalk, TcpProxy]]:
    """The app (every platform configured by `env`'s ORDERTALK_* settings, no background threads, the inbox not
    inline) on PostgreSQL reached through a TCP proxy the test can make refuse connections."""
    from bot.bootstrap import build
    from bot.settings import Settings

    real = make_url(pg_url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    values = {k[len("ORDERTALK_"):].lower(): v for k, v in env.items() if k.startswith("ORDERTALK_")}
    values.update(database_url=proxied, data_dir=data_dir, run_dispatcher=False, run_scheduler=False,
                  run_inbox=False, inbox_inline=False)
    ot = build(Settings(_env_file=None, **values))
    try:
        yield ot, proxy
    finally:
        proxy.forward()
        ot.engine.dispose()
        proxy.close()
