"""A database that stops answering, or refuses: /healthz and platform callbacks answer 503 + Retry-After within
2 seconds (platforms retry), the sandbox says so in words, and normal service returns when the database does.

PostgreSQL only: the app talks to it through a TCP proxy on loopback (tests/tcp_proxy.py) that the test stops."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from adapters.dingtalk.signature import robot_sign
from bot.bootstrap import OrderTalk, build
from bot.records import InboundEvent, OutboxMessage
from bot.settings import Settings
from domain.directory import link
from tests.conftest import TEST_SECRET_KEY
from tests.e2e.dingtalk.payloads import robot_message
from tests.tcp_proxy import TcpProxy
from tests.world import build_world

pytestmark = pytest.mark.pg
SECRET = "outage-dingtalk-secret"
LIMIT = 2.0  # seconds: the answer a platform, a load balancer or a person waits for


@pytest.fixture
def outage(pg_url: str, tmp_path: Any, clock: Any) -> Iterator[tuple[OrderTalk, TcpProxy]]:
    from tests.conftest import _engine_for, _wipe

    _wipe(_engine_for(pg_url))  # migrated, empty
    real = make_url(pg_url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
    _PROXY[:] = [proxy]
    proxied = real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    settings = Settings(_env_file=None, database_url=proxied, sandbox=True, run_dispatcher=False, run_scheduler=False,
                        secret_key=TEST_SECRET_KEY, data_dir=tmp_path, dingtalk_app_key="dingoutage",
                        dingtalk_app_secret=SECRET, dingtalk_mode="http", dingtalk_api_url="http://127.0.0.1:9",
                        dingtalk_oapi_url="http://127.0.0.1:9")
    ot = build(settings, clock=clock)
    build_world(ot.sessions)
    with ot.sessions() as s:
        link(s, "li", "dingtalk", "sales0107", linkable=["dingtalk"])
        s.commit()
    try:
        yield ot, proxy
    finally:
        proxy.forward()
        ot.engine.dispose()
        proxy.close()


_PROXY: list[TcpProxy] = []


def _timed(call: Any) -> tuple[Any, float]:
    """Run one request, but never wait for it forever: without time limits a request meeting a silent database
    hangs until the network comes back, so after 10 s the proxy forwards again and the test fails."""
    result: list[Any] = []
    started = time.perf_counter()
    worker = threading.Thread(target=lambda: result.append(call()), daemon=True)
    worker.start()
    worker.join(10)
    took = time.perf_counter() - started
    if worker.is_alive():
        for proxy in _PROXY:
            proxy.forward()
        worker.join(30)
        raise AssertionError(f"the request hung for {took:.1f} s")
    return result[0], took


def _callback(client: Any, msg_id: str, text: str = "我的订单") -> tuple[Any, float]:
    body = robot_message(text, msg_id=msg_id, staff_id="sales0107")
    stamp = str(int(time.time() * 1000))
    return _timed(lambda: client.post("/dingtalk/callback", json=body,
                                      headers={"timestamp": stamp, "sign": robot_sign(stamp, SECRET)}))


def _events(ot: OrderTalk) -> set[str]:
    with ot.sessions() as s:
        return set(s.scalars(select(InboundEvent.key)))


def _wait_healthy(client: Any, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if client.get("/healthz").status_code == 200:
            return
        time.sleep(0.2)
    raise AssertionError("the app did not recover")


def test_a_silent_database_is_a_503_within_2_seconds_and_service_returns(outage):
    ot, proxy = outage
    client = ot.flask.test_client()
    assert client.get("/healthz").status_code == 200
    r, _ = _callback(client, "msg-before")
    assert r.status_code == 200

    proxy.stop_forwarding()
    r, took = _callback(client, "msg-during")  # the first request to meet the silence finds out by itself
    assert r.status_code == 503 and r.headers["Retry-After"] and took < LIMIT, (r.status_code, took)
    r, took = _timed(lambda: client.get("/healthz"))
    assert r.status_code == 503 and r.headers["Retry-After"] and took < LIMIT, (r.status_code, took)
    r, took = _callback(client, "msg-during-2")
    assert r.status_code == 503 and took < 0.5, took  # known to be down: no request waits any more
    r, took = _timed(lambda: client.post("/sandbox/api/messages", json={"user": 1, "text": "帮助"}))
    assert r.status_code == 503 and "数据库暂时无法访问" in r.get_json()["error"] and took < LIMIT

    proxy.forward()
    _wait_healthy(client)
    r, _ = _callback(client, "msg-during")  # the platform's retry of the callback that got a 503
    assert r.status_code == 200
    assert {"dingtalk:dingtalk:msg:msg-before", "dingtalk:dingtalk:msg:msg-during"} <= _events(ot)
    with ot.sessions() as s:  # and it was answered like any other
        assert len(s.scalars(select(OutboxMessage).where(OutboxMessage.platform == "dingtalk")).all()) == 2


def test_a_fresh_process_meeting_a_silent_database_answers_within_2_seconds(outage):
    ot, proxy = outage
    ot.engine.dispose()  # no pooled connection: the first request must connect, and the connect hangs
    client = ot.flask.test_client()
    proxy.stop_forwarding()
    r, took = _timed(lambda: client.get("/healthz"))
    assert r.status_code == 503 and took < LIMIT, took
    proxy.forward()
    _wait_healthy(client)


def test_a_refusing_database_is_a_503_not_a_500(outage):
    ot, proxy = outage
    client = ot.flask.test_client()
    assert _callback(client, "msg-1")[0].status_code == 200
    proxy.refuse()
    r, took = _callback(client, "msg-2")
    assert r.status_code == 503 and r.headers["Retry-After"] and took < LIMIT, (r.status_code, r.data[:200])
    r, took = _timed(lambda: client.get("/healthz"))
    assert r.status_code == 503 and took < LIMIT
    r = client.post("/sandbox/api/messages", json={"user": 1, "text": "帮助"})
    assert r.status_code == 503 and "数据库暂时无法访问" in r.get_json()["error"]
