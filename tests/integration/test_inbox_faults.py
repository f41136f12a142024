"""The durable inbox under faults: nothing a platform saw acknowledged is lost, nothing takes effect twice.

- kill -9 of the web process right after it acknowledged signed Slack, DingTalk and WeCom clicks (each one a real
  approval of its own order): after a restart every one of them has taken effect exactly once. Once with a web
  process that only stores (the production layout: gunicorn web workers, `ordertalk worker` processes), once with
  one that also processes (`ordertalk serve`), killed while it works through them.
- with the database refusing connections (tests/tcp_proxy.py, which cannot be reopened), the same callbacks answer
  5xx with Retry-After (the platforms retry), and nothing is stored or acknowledged.

The requests are the signed payloads bench.interactive sends (Slack block_actions form post with the v0 signature,
DingTalk actionCallback with the x-ddpaas-signature headers, WeCom encrypted template_card_event); the platform APIs
are a local fake that answers ok.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.interactive import click_request, env_for, fake_apis, prepare
from bot.inbox import InboxEvent
from bot.records import InboundEvent
from domain.db import make_engine, make_session_factory
from domain.models import ApprovalStep, AuditEntry
from tests.tcp_proxy import TcpProxy

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = ("slack", "dingtalk", "wecom")
N = 4  # clicks per platform


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], command: list[str], port: int | None = None) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *command], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if port is not None:
        deadline = time.monotonic() + 90  # a loaded 2-core machine takes a while to import everything
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else "exited"
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "the web process did not come up"
                time.sleep(0.2)
    return proc


def _send(port: int, req: dict[str, Any]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(req["method"], req["path"], body=req["body"].encode(), headers=req["headers"])
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def _effects(url: str, steps: list[int]) -> tuple[int, dict[int, int], int, dict[str, int]]:
    """(approved steps, approve audit rows per order, inbound event keys, inbox rows by status)."""
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            approved = s.scalar(select(func.count()).select_from(ApprovalStep)
                                .where(ApprovalStep.id.in_(steps), ApprovalStep.status == "approved")) or 0
            orders = list(s.scalars(select(ApprovalStep.order_id).where(ApprovalStep.id.in_(steps))))
            per_order = dict(s.execute(select(AuditEntry.order_id, func.count()).where(
                AuditEntry.order_id.in_(orders), AuditEntry.action == "approve").group_by(AuditEntry.order_id)).all())
            keys = s.scalar(select(func.count()).select_from(InboundEvent)) or 0
            inbox = dict(s.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)).all())
            return int(approved), {int(k): int(v) for k, v in per_order.items()}, int(keys), inbox
    finally:
        engine.dispose()


@pytest.fixture
def fresh_url(db_url: str) -> str:
    from tests.conftest import _engine_for, _wipe

    _wipe(_engine_for(db_url))
    return db_url


@pytest.mark.parametrize("web_processes", [False, True], ids=["web-stores", "web-stores-and-processes"])
def test_kill_9_right_after_the_acks_then_every_click_takes_effect_once(fresh_url: str, tmp_path: Any,
                                                                        web_processes: bool) -> None:
    url = fresh_url
    steps = prepare(url, N * len(PLATFORMS))
    clicks = [click_request(p, sid, sid) for i, p in enumerate(PLATFORMS) for sid in steps[i * N:(i + 1) * N]]
    with fake_apis() as api:
        env = {**env_for(url, api, str(tmp_path)), "ORDERTALK_INBOX_INLINE": "0", "ORDERTALK_RUN_DISPATCHER": "0",
               "ORDERTALK_RUN_SCHEDULER": "0", "ORDERTALK_RUN_INBOX": "1" if web_processes else "0",
               "ORDERTALK_INBOX_LEASE_SECONDS": "2"}
        port = _port()
        web = _serve(env, ["serve", "--port", str(port)], port)
        try:
            codes = [_send(port, c) for c in clicks]
        finally:
            os.kill(web.pid, signal.SIGKILL)  # right after the last acknowledgement
            web.wait(10)
        assert codes == [200] * len(clicks)
        approved, _, _, inbox = _effects(url, steps)
        assert sum(inbox.values()) == len(clicks)  # every acknowledged click was stored before its ack
        if not web_processes:
            assert approved == 0 and inbox == {"pending": len(clicks)}  # acknowledged before any was processed

        worker = _serve(env | {"ORDERTALK_RUN_INBOX": "1"}, ["worker"])  # the restart
        try:
            deadline = time.monotonic() + 90
            while _effects(url, steps)[0] < len(clicks) and time.monotonic() < deadline:
                assert worker.poll() is None, worker.stderr.read().decode()[-3000:] if worker.stderr else "exited"
                time.sleep(0.3)
            time.sleep(1.0)  # a second effect, if there were one, would have time to land
        finally:
            worker.terminate()
            worker.wait(20)
    approved, per_order, keys, inbox = _effects(url, steps)
    assert approved == len(clicks)
    assert sorted(per_order.values()) == [1] * len(clicks)  # one decision per click, none twice
    assert keys == len(clicks) and inbox == {"done": len(clicks)}


# ---------------------------------------------------------------- database refusing


@pytest.fixture
def refusing(pg_url: str, tmp_path: Any) -> Iterator[tuple[Any, TcpProxy, list[int], str]]:
    from bot.bootstrap import build
    from bot.settings import Settings
    from tests.conftest import _engine_for, _wipe

    _wipe(_engine_for(pg_url))
    steps = prepare(pg_url, len(PLATFORMS))
    real = make_url(pg_url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    with fake_apis() as api:
        env = env_for(proxied, api, str(tmp_path))
        values = {k[len("ORDERTALK_"):].lower(): v for k, v in env.items() if k.startswith("ORDERTALK_")}
        values.update(run_dispatcher=False, run_scheduler=False, run_inbox=False, inbox_inline=False)
        ot = build(Settings(_env_file=None, **values))
        try:
            yield ot, proxy, steps, pg_url
        finally:
            proxy.forward()
            ot.engine.dispose()
            proxy.close()


@pytest.mark.pg
def test_database_refusing_every_callback_is_a_5xx_and_nothing_is_stored(refusing: Any) -> None:
    ot, proxy, steps, url = refusing
    client = ot.flask.test_client()
    proxy.refuse()
    for platform, sid in zip(PLATFORMS, steps, strict=True):
        req = click_request(platform, sid, sid)
        resp = client.open(req["path"], method="POST", data=req["body"].encode(), headers=req["headers"])
        assert resp.status_code >= 500, (platform, resp.status_code, resp.get_data(as_text=True)[:300])
        assert resp.headers.get("Retry-After"), platform
    assert _effects(url, steps)[3] == {}  # nothing was stored (read past the proxy), so nothing was acknowledged
