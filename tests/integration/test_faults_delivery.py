"""Nothing is lost when a platform is down or a worker dies: queued messages arrive exactly once afterwards.

The platform is a Slack-compatible server on a fixed localhost port driven through the real Slack deliverer;
the dying worker is a separate process killed with SIGKILL in the middle of a delivery.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from adapters.slack.deliverer import SlackDeliverer, make_client
from adapters.slack.settings import SlackSettings
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox
from bot.records import OutboxMessage
from domain.types import utcnow
from tests.fault_platform import SwitchablePlatform, free_port

ROOT = Path(__file__).resolve().parents[2]


def _enqueue(session_factory, n: int, clock=utcnow) -> list[str]:
    texts = [f"msg-{i}" for i in range(n)]
    outbox = Outbox(lambda: ["slack"], clock)
    with session_factory() as s:
        for i, text in enumerate(texts):
            outbox.add(s, "slack", f"U{i % 3}", text=text)  # three conversations
        s.commit()
    return texts


def _slack(api_url: str, timeout: int = 30) -> SlackDeliverer:
    settings = SlackSettings(_env_file=None, slack_bot_token="xoxb-fault", slack_signing_secret="s", slack_api_url=api_url)
    client = make_client(settings, rate_limit_retries=0)
    client.timeout = timeout
    return SlackDeliverer(settings, client=client)


def _statuses(session_factory) -> list[str]:
    with session_factory() as s:
        return list(s.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


def test_platform_refusing_failing_and_hanging_then_back_delivers_everything_once(session_factory, clock):
    fake = SwitchablePlatform(free_port())
    texts = _enqueue(session_factory, 9, clock)
    d = Dispatcher(session_factory, {"slack": _slack(fake.api_url, timeout=1)}, clock=clock, backoff_base=1.0,
                   max_attempts=20)
    try:
        d.drain()  # connection refused: nothing listens
        assert _statuses(session_factory) == ["pending"] * 9
        fake.up()
        fake.mode = "error500"
        clock.advance(minutes=1)
        d.drain()
        fake.mode, fake.hang_seconds = "hang", 2.0  # answers slower than the client waits
        clock.advance(minutes=2)
        d.drain()
        assert fake.posted == [] and fake.attempts >= 6
        with session_factory() as s:
            errors = [r.last_error for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
            assert all(e for e in errors[:3])  # the head of each conversation was tried and failed
        fake.mode = "ok"
        for _ in range(12):  # back: the queue drains as the backoffs run out
            clock.advance(minutes=5)
            d.drain()
        assert _statuses(session_factory) == ["delivered"] * 9
        assert fake.counts() == {t: 1 for t in texts}
        # per conversation, the original order held through all the failures
        assert [t for t in fake.posted if t in ("msg-0", "msg-3", "msg-6")] == ["msg-0", "msg-3", "msg-6"]
    finally:
        fake.down()


def test_worker_killed_mid_delivery_the_next_worker_delivers(session_factory, db_url):
    fake = SwitchablePlatform(free_port())
    fake.up()
    fake.hold_first = True
    texts = _enqueue(session_factory, 3)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    victim = subprocess.Popen([sys.executable, "-m", "tests.fault_worker", db_url, fake.api_url, "2"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert fake.arrived.wait(30), victim.stderr.read() if victim.poll() is not None else "worker never delivered"
        os.kill(victim.pid, signal.SIGKILL)  # mid-delivery: the request is out, no answer has come back
        victim.wait(10)
        assert victim.returncode == -signal.SIGKILL
        assert fake.posted == [] and _statuses(session_factory) == ["pending"] * 3
        rescuer = Dispatcher(session_factory, {"slack": _slack(fake.api_url)}, lease_seconds=2, owner="rescuer")
        deadline = time.monotonic() + 20
        while _statuses(session_factory) != ["delivered"] * 3 and time.monotonic() < deadline:
            rescuer.run_once()
            time.sleep(0.1)
        assert _statuses(session_factory) == ["delivered"] * 3
        assert fake.counts() == {t: 1 for t in texts}
    finally:
        if victim.poll() is None:
            victim.kill()
        fake.down()
