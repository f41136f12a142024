"""No log level prints a secret: with DEBUG on (`ordertalk -v`), a flow through each platform's fake server logs the
requests libraries make (urllib3 request lines, slack_sdk parameters) — and never a configured secret or an issued
access token. Before bot.redaction, `ordertalk -v` logged WeCom's corpsecret and access_token via urllib3."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from adapters.slack.settings import SlackSettings
from adapters.wecom.settings import WeComSettings
from bot.bootstrap import build
from bot.ports import InboundMessage, ReplyTarget
from bot.redaction import MASK, redact
from domain.directory import link
from domain.migrate import upgrade
from tests.conftest import TEST_SECRET_KEY
from tests.world import Clock, build_world

ROOT = Path(__file__).resolve().parents[2]


def _no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} is in the log"


@pytest.mark.parametrize("line, secret", [
    ('"GET /cgi-bin/gettoken?corpid=ww1&corpsecret=S3CRET-value HTTP/1.1" 200 94', "S3CRET-value"),
    ('"POST /cgi-bin/message/send?access_token=AT-123456 HTTP/1.1" 200 27', "AT-123456"),
    ("headers: {'Authorization': 'Bearer xoxb-1-2-3'}", "xoxb-1-2-3"),
    ("headers: {'x-acs-dingtalk-access-token': 'dt-tok-1'}", "dt-tok-1"),
    ('{"appKey": "k", "appSecret": "app-secret-1"}', "app-secret-1"),
    ('{"accessToken": "fw8ef8we8f76e6f7s8d", "expireIn": 7200}', "fw8ef8we8f76e6f7s8d"),
    ("endpoint is {'endpoint': 'wss://x/connect', 'ticket': 'tk-9-9'}", "tk-9-9"),
    ("GET /documents/statement/C001.pdf?start=2026-11-01&exp=1799&sig=deadbeefcafe HTTP/1.1", "deadbeefcafe"),
    ("connecting with xapp-1-A0-123-abc", "xapp-1-A0-123-abc"),
])
def test_redact_masks_what_libraries_log(line: str, secret: str) -> None:
    clean = redact(line)
    assert secret not in clean and MASK in clean


def test_ordinary_words_are_left_alone() -> None:
    for line in ("dingtalk card action token refused", "the secret key file is fine", "approve@1@0@@sig",
                 "tokens refreshed (expires in 7200s)", "delivery 7: sent"):
        assert redact(line) == line


def test_wecom_flow_at_debug_logs_requests_but_no_secret(engine, db_url, clock: Clock, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    from tests.e2e.wecom.conftest import AES_KEY, TOKEN
    from tests.e2e.wecom.fake_api import SECRET
    from tests.e2e.wecom.harness import running

    caplog.set_level(logging.DEBUG)
    with running(engine, db_url, clock, tmp_path) as wx:
        wx.say("li", "下单 华兴 SKU-001 x10")
        wx.drain()
        [card] = wx.cards("wang", "SO-")
        wx.click("wang", card, card.key("approve"))
        wx.drain()
        issued = list(wx.fake.tokens)
    text = caplog.text
    assert "/cgi-bin/gettoken" in text and "message/send" in text  # urllib3's request lines are logged
    assert issued
    _no_secret(text, [SECRET, TOKEN, AES_KEY, TEST_SECRET_KEY, *issued])


def test_dingtalk_flow_at_debug_logs_requests_but_no_secret(engine, db_url, clock: Clock, tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    from tests.e2e.dingtalk.fake_dingtalk import APP_SECRET, FakeDingTalk
    from tests.e2e.dingtalk.harness import DingTalkDriver, LiveServer, build_app, populate

    caplog.set_level(logging.DEBUG)
    fake = FakeDingTalk().start()
    try:
        ot = build_app(fake, engine, db_url, clock, tmp_path)
        server = LiveServer(ot)
        dt = DingTalkDriver(ot, fake, server, populate(ot))
        dt.say("li", "下单 华兴 SKU-001 x10")
        dt.drain()
        card = dt.cards("approval_request", to="wang")[0]
        dt.click("wang", card, "approve")
        dt.drain()
        issued = sorted(fake.state.valid_tokens)
        server.stop()
    finally:
        fake.stop()
    text = caplog.text
    assert "/v1.0/oauth2/accessToken" in text and issued
    _no_secret(text, [APP_SECRET, ot.settings.token_secret().decode(), *issued])


def test_slack_flow_at_debug_logs_requests_but_no_secret(engine, db_url, clock: Clock, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    from tests.e2e.slack.conftest import SIGNING_SECRET
    from tests.e2e.slack.harness import running

    caplog.set_level(logging.DEBUG)
    with running(engine, db_url, clock, tmp_path) as sd:
        sd.say("li", "下单 华兴 SKU-001 x10")
        sd.drain()
        token = sd.ot.settings.own(SlackSettings).slack_bot_token.get_secret_value()  # type: ignore[union-attr]
    text = caplog.text
    assert "chat.postMessage" in text  # slack_sdk's request log
    _no_secret(text, [token, SIGNING_SECRET])


def test_ordertalk_dash_v_worker_logs_no_wecom_secret(tmp_path: Path) -> None:
    """The reported case, end to end: `ordertalk -v worker` delivering to WeCom."""
    from tests.e2e.wecom.conftest import AES_KEY, TOKEN, make_settings
    from tests.e2e.wecom.fake_api import SECRET, FakeWeCom, ServerThread

    url = f"sqlite:///{tmp_path / 'logs.db'}"
    upgrade(url)
    fake = FakeWeCom()
    fake.users |= {"lisi"}
    with ServerThread(fake.app()) as api:
        settings = make_settings(api.url, database_url=url, data_dir=tmp_path, run_dispatcher=False,
                                 run_scheduler=False)
        ot = build(settings)
        build_world(ot.sessions)
        with ot.sessions() as s:
            link(s, "li", "wecom", "lisi", linkable=["wecom"])
            s.commit()
        ot.core.handle_message(InboundMessage(platform="wecom", external_user_id="lisi", text="帮助", event_id="m1",
                                              reply_to=ReplyTarget(recipient="lisi")))
        env = {**os.environ, "ORDERTALK_DATABASE_URL": url, "ORDERTALK_DATA_DIR": str(tmp_path),
               "ORDERTALK_SECRET_KEY": settings.secret_key.get_secret_value(),  # type: ignore[union-attr]
               "ORDERTALK_WECOM_CORP_ID": settings.own(WeComSettings).wecom_corp_id or "", "ORDERTALK_WECOM_AGENT_ID": "1000002",
               "ORDERTALK_WECOM_SECRET": SECRET, "ORDERTALK_WECOM_TOKEN": TOKEN, "ORDERTALK_WECOM_AES_KEY": AES_KEY,
               "ORDERTALK_WECOM_API_URL": api.url, "ORDERTALK_RUN_SCHEDULER": "false", "ORDERTALK_OUTBOX_POLL_SECONDS": "0.2"}
        worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "-v", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            deadline = time.monotonic() + 30
            while not fake.sends and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.3)
        finally:
            worker.terminate()
            out, _ = worker.communicate(timeout=10)
    assert fake.sends, out[-2000:]
    assert "gettoken" in out and "DEBUG" in out  # -v really logged the request lines
    _no_secret(out, [SECRET, TOKEN, AES_KEY, *fake.tokens])
