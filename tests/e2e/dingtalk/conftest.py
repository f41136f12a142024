from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dingtalk_stream
import pytest
from sqlalchemy import Engine

from adapters.dingtalk.settings import DingTalkSettings
from bot.cards.model import Button, Card, Field, Input, LineTable, Option, Reply, Tone
from bot.ports import InboundAction, InboundMessage
from bot.settings import Settings
from bot.tokens import ActionToken, TokenSigner
from tests.world import Clock

from .fake_dingtalk import APP_KEY, APP_SECRET, FakeDingTalk
from .harness import DingTalkDriver, LiveServer, build_app, populate


class RecordingCore:
    """A real BotCorePort implementation that records calls (the lead's e2e tests use the real core)."""

    def __init__(self, fail: bool = False, hold: threading.Event | None = None) -> None:
        self.messages: list[InboundMessage] = []
        self.actions: list[InboundAction] = []
        self.hold = hold  # a click waits for it (at most 10 s): "still working" without racing a clock
        self.fail = fail
        self.called = threading.Event()
        self.threads: list[str] = []

    def handle_message(self, msg: InboundMessage, *, deliver_replies: bool = True) -> list[Reply]:
        assert deliver_replies is True
        self.threads.append(threading.current_thread().name)
        self.messages.append(msg)
        self.called.set()
        return [Reply(text="ok")]

    def handle_action(self, action: InboundAction, *, deliver_replies: bool = True) -> list[Reply]:
        assert deliver_replies is True
        self.threads.append(threading.current_thread().name)
        if self.hold is not None:
            self.hold.wait(10)
        if self.fail:
            raise RuntimeError("core failed")
        self.actions.append(action)
        self.called.set()
        return [Reply(text="ok")]

    def suggest(self, platform: str, external_user_id: str, source: str, query: str) -> list[Option]:
        return []

    def home(self, platform: str, external_user_id: str) -> list[Card]:
        return []


# The adapter refuses clicks whose token we did not sign; make_settings' secret_key signs these.
SIGNER = TokenSigner(b"dingtalk-test-secret-key-0123456789abcdef")
APPROVE_TOKEN = SIGNER.sign(ActionToken("approve", 7))


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "dingtalk_app_key": APP_KEY,
        "dingtalk_app_secret": APP_SECRET,
        "dingtalk_api_url": "http://127.0.0.1:9",
        "secret_key": "dingtalk-test-secret-key-0123456789abcdef",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def adapter_settings(**overrides: Any) -> DingTalkSettings:
    """What the composition root hands the adapter: its own model, read off make_settings(**overrides)."""
    return DingTalkSettings.from_root(make_settings(**overrides))


def approval_card(decided: bool = False, rows: int = 2) -> Card:
    buttons = [] if decided else [
        Button(action="approve", label="同意", token="tok-approve-0007", style="primary",
               command="同意 SO-20261122-0007"),
        Button(action="reject", label="驳回", token="tok-reject-0007", style="danger",
               command="驳回 SO-20261122-0007", inputs=[Input(name="reason", label="驳回理由")]),
    ]
    return Card(
        kind="approval_decided" if decided else "approval_request",
        key="approval:SO-20261122-0007",
        title="折扣审批：SO-20261122-0007",
        tone=Tone.SUCCESS if decided else Tone.INFO,
        subtitle="已同意 · 王经理" if decided else "待审批",
        fields=[Field(label="客户", value="华强电子"), Field(label="合计", value="¥12,800.00")],
        table=LineTable(columns=["商品", "数量", "小计"],
                        rows=[[f"A-{i}", "10", "¥800.00"] for i in range(rows)], note="合计 ¥12,800.00"),
        text=["折扣 8%，超出销售权限"],
        context="SO-20261122-0007 · 王五 · 14:03",
        buttons=buttons,
    )


def shipping_card() -> Card:
    return Card(
        kind="shipping_task", key="ship:SO-20261122-0007", title="发货任务：SO-20261122-0007", tone=Tone.INFO,
        fields=[Field(label="仓库", value="上海一号仓")],
        buttons=[Button(action="claim", label="领取", token="tok-claim", command="领取 SO-20261122-0007")],
    )


@pytest.fixture
def fake_dt() -> Iterator[FakeDingTalk]:
    fake = FakeDingTalk().start()
    yield fake
    fake.stop()


@pytest.fixture
def core() -> RecordingCore:
    return RecordingCore()


@pytest.fixture
def restore_gateway_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # build_stream_client sets this process-wide class attribute; put the original back afterwards.
    monkeypatch.setattr(dingtalk_stream.DingTalkStreamClient, "OPEN_CONNECTION_API",
                        dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API)
    yield


@pytest.fixture
def make_driver(fake_dt: FakeDingTalk, engine: Engine, db_url: str, clock: Clock,
                tmp_path: Path) -> Iterator[Callable[..., DingTalkDriver]]:
    """Builds the real app (bot.bootstrap.build) on the test database against the fake DingTalk, serves it on
    localhost, and returns a driver; keyword arguments override Settings."""
    made: list[tuple[DingTalkDriver, LiveServer]] = []

    def make(**overrides: object) -> DingTalkDriver:
        ot = build_app(fake_dt, engine, db_url, clock, tmp_path, **overrides)
        world = populate(ot)
        server = LiveServer(ot)
        driver = DingTalkDriver(ot, fake_dt, server, world)
        made.append((driver, server))
        return driver

    yield make
    for driver, server in made:
        driver.http.close()
        server.stop()


@pytest.fixture
def dt(make_driver: Callable[..., DingTalkDriver]) -> DingTalkDriver:
    """HTTP callback mode, interactive-card templates configured, a warehouse group set."""
    return make_driver()
