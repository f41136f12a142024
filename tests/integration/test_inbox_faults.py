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

from collections.abc import Iterator
from typing import Any

import pytest

from bench.interactive import click_request, env_for, fake_apis, prepare
from tests.e2e.harness import WebProcess, process_effects, refusing_database
from tests.tcp_proxy import TcpProxy

PLATFORMS = ("slack", "dingtalk", "wecom")
N = 4  # clicks per platform


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
        web = WebProcess.serve(env)
        try:
            codes = [web.send(c) for c in clicks]
        finally:
            web.kill9()  # right after the last acknowledgement
        assert codes == [200] * len(clicks)
        approved, _, _, inbox = process_effects(url, steps)
        assert sum(inbox.values()) == len(clicks)  # every acknowledged click was stored before its ack
        if not web_processes:
            assert approved == 0 and inbox == {"pending": len(clicks)}  # acknowledged before any was processed

        worker = WebProcess.worker(env | {"ORDERTALK_RUN_INBOX": "1"})  # the restart
        worker.stop_when(lambda: process_effects(url, steps)[0] >= len(clicks))
    approved, per_order, keys, inbox = process_effects(url, steps)
    assert approved == len(clicks)
    assert sorted(per_order.values()) == [1] * len(clicks)  # one decision per click, none twice
    assert keys == len(clicks) and inbox == {"done": len(clicks)}


# ---------------------------------------------------------------- database refusing


@pytest.fixture
def refusing(pg_url: str, tmp_path: Any) -> Iterator[tuple[Any, TcpProxy, list[int], str]]:
    from tests.conftest import _engine_for, _wipe

    _wipe(_engine_for(pg_url))
    steps = prepare(pg_url, len(PLATFORMS))
    with fake_apis() as api, refusing_database(pg_url, str(tmp_path), env_for(pg_url, api, str(tmp_path))) as (ot, proxy):
        yield ot, proxy, steps, pg_url


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
    assert process_effects(url, steps)[3] == {}  # nothing was stored (read past the proxy), so nothing was acknowledged
