"""The sandbox (impersonate anyone, admin reports included) answers only requests from this machine that name it by
a loopback Host, however the app is served — gunicorn bot.wsgi:app on every interface included."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from domain.migrate import upgrade
from tests.conftest import TEST_SECRET_KEY
from tests.world import build_world

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("peer, host, allowed", [
    ("127.0.0.1", "localhost", True), ("127.0.0.1", "127.0.0.1:8000", True), ("::1", "[::1]:8000", True),
    ("127.0.0.1", "localhost.", True),
    ("192.0.2.7", "localhost", False),  # a peer on the network
    ("10.0.0.9", "127.0.0.1:8000", False),
    ("127.0.0.1", "evil.example", False),  # DNS rebinding: a page of evil.example whose name now points here
    ("127.0.0.1", "evil.example:8000", False), ("127.0.0.1", "127.0.0.1.nip.io", False), ("127.0.0.1", "", False),
])
def test_only_loopback_peers_naming_a_loopback_host(ot, peer, host, allowed):
    w = build_world(ot.sessions)
    client = ot.flask.test_client()
    env = {"REMOTE_ADDR": peer}
    for r in (client.get("/sandbox", environ_base=env, headers={"Host": host}),
              client.get("/sandbox/api/users", environ_base=env, headers={"Host": host}),
              client.post("/sandbox/api/messages", json={"user": w["admin"], "text": "报表"}, environ_base=env,
                          headers={"Host": host})):
        assert (r.status_code < 400) == allowed, (peer, host, r.status_code)
        if not allowed:
            assert r.status_code == 403


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lan_address() -> str | None:
    """This machine's address on its network (no packet is sent: UDP connect only picks the route)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.254", 9))
        except OSError:
            return None
        address = str(s.getsockname()[0])
    return None if address.startswith("127.") else address


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[int]:
    url = f"sqlite:///{tmp_path / 'guard.db'}"
    upgrade(url)
    from domain.db import make_engine, make_session_factory

    build_world(make_session_factory(make_engine(url)))
    port = _free_port()
    env = {**os.environ, "ORDERTALK_DATABASE_URL": url, "ORDERTALK_SANDBOX": "1", "ORDERTALK_DATA_DIR": str(tmp_path),
           "ORDERTALK_SECRET_KEY": TEST_SECRET_KEY, "ORDERTALK_RUN_DISPATCHER": "0", "ORDERTALK_RUN_SCHEDULER": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"0.0.0.0:{port}", "--workers", "1",
                             "bot.wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.RequestException:  # not listening yet, or the worker still starting
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_gunicorn_on_every_interface_keeps_the_sandbox_local(gunicorn: int) -> None:
    local = requests.get(f"http://127.0.0.1:{gunicorn}/sandbox/api/users", timeout=5)
    assert local.status_code == 200 and local.json()
    rebound = requests.get(f"http://127.0.0.1:{gunicorn}/sandbox/api/users", headers={"Host": "evil.example"}, timeout=5)
    assert rebound.status_code == 403
    lan = _lan_address()
    if lan is None:
        pytest.skip("this machine has no network address besides loopback")
    remote = requests.get(f"http://{lan}:{gunicorn}/sandbox/api/users", headers={"Host": "localhost"}, timeout=5)
    assert remote.status_code == 403  # the peer is this machine's network address, not loopback
    assert requests.get(f"http://{lan}:{gunicorn}/healthz", timeout=5).status_code == 200  # the rest is served
