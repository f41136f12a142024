from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from werkzeug.test import TestResponse

from adapters.wecom import install
from adapters.wecom.client import WeComClient
from adapters.wecom.crypto import WeComCrypto
from adapters.wecom.settings import WeComSettings
from bot.cards.model import Card, Option, Reply
from bot.ports import InboundAction, InboundMessage
from bot.settings import Settings
from bot.tokens import ActionToken, TokenSigner
from tests.e2e.wecom.fake_api import AGENT_ID, CORP_ID, SECRET, FakeWeCom, ServerThread
from tests.world import Clock

if TYPE_CHECKING:
    from tests.e2e.wecom.harness import WeComDriver

# vector A/B credentials from wecom.md §1.8, so callbacks in tests look like the official samples
TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
SECRET_KEY = "wecom-test-secret-key-0123456789abcdef"  # signs action tokens; set explicitly so no test writes var/secret_key
SIGNER = TokenSigner(SECRET_KEY.encode())
APPROVE_42 = SIGNER.sign(ActionToken("approve", 42))  # a button key the adapter accepts as one of ours


class RecordingCore:
    """A real BotCorePort implementation that records what the adapter hands over."""

    def __init__(self) -> None:
        self.messages: list[tuple[InboundMessage, bool]] = []
        self.actions: list[tuple[InboundAction, bool]] = []

    def handle_message(self, msg: InboundMessage, *, deliver_replies: bool = True) -> list[Reply]:
        self.messages.append((msg, deliver_replies))
        return [Reply(text="ok")]

    def handle_action(self, action: InboundAction, *, deliver_replies: bool = True) -> list[Reply]:
        self.actions.append((action, deliver_replies))
        return [Reply(text="ok")]

    def suggest(self, platform: str, external_user_id: str, source: str, query: str) -> list[Option]:
        return []

    def home(self, platform: str, external_user_id: str) -> list[Card]:
        return []

    @property
    def calls(self) -> int:
        return len(self.messages) + len(self.actions)


def make_settings(api_url: str = "http://127.0.0.1:9", **over: Any) -> Settings:
    values: dict[str, Any] = {
        "wecom_corp_id": CORP_ID,
        "wecom_agent_id": AGENT_ID,
        "wecom_secret": SECRET,
        "wecom_token": TOKEN,
        "wecom_aes_key": AES_KEY,
        "wecom_api_url": api_url,
        "wecom_warehouse_chat": "warehouse01",
        "secret_key": SECRET_KEY,
    }
    values.update(over)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def adapter_settings(api_url: str = "http://127.0.0.1:9", **over: Any) -> WeComSettings:
    """The adapter's own model, as the application's settings build it."""
    return WeComSettings.from_root(make_settings(api_url, **over))


@pytest.fixture
def wx(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[WeComDriver]:
    """The whole app on the test database (SQLite, and PostgreSQL when enabled), WeCom played by the driver."""
    from tests.e2e.wecom.harness import running  # the harness imports this module

    with running(engine, db_url, clock, tmp_path) as driver:
        yield driver


@pytest.fixture
def fake() -> FakeWeCom:
    return FakeWeCom()


@pytest.fixture
def api_url(fake: FakeWeCom) -> Iterator[str]:
    with ServerThread(fake.app()) as server:
        yield server.url


@pytest.fixture
def settings(api_url: str) -> Settings:
    return make_settings(api_url)


@pytest.fixture
def client(settings: Settings) -> WeComClient:
    return WeComClient(WeComSettings.from_root(settings), timeout=5)


@pytest.fixture
def core() -> RecordingCore:
    return RecordingCore()


@pytest.fixture
def app(core: RecordingCore, settings: Settings) -> Flask:
    app = Flask("test")
    assert install(app, core, SIGNER, WeComSettings.from_root(settings)) is not None
    return app


class CallbackSender:
    """Acts as WeCom: encrypts and signs a callback with real crypto and POSTs it to the adapter."""

    def __init__(self, http: FlaskClient, crypto: WeComCrypto | None = None) -> None:
        self.http = http
        self.crypto = crypto or WeComCrypto(TOKEN, AES_KEY, CORP_ID)

    def query(
        self,
        encrypt: str,
        *,
        timestamp: str = "1716000000",
        nonce: str = "1372623149",
        sig: str | None = None,
        **extra: str,
    ) -> str:
        params = {
            "msg_signature": sig or self.crypto.sign(timestamp, nonce, encrypt),
            "timestamp": timestamp,
            "nonce": nonce,
            **extra,
        }
        return urllib.parse.urlencode(params)  # '+', '/', '=' become %2B, %2F, %3D as WeCom sends them

    @staticmethod
    def envelope(encrypt: str) -> str:
        return (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n"
            f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID>\n</xml>"
        )

    def post_xml(self, xml: str, **kw: str) -> TestResponse:
        encrypt = self.crypto.encrypt(xml)
        return self.post_raw(self.envelope(encrypt), encrypt, **kw)

    def post_raw(self, body: str | bytes, encrypt: str, **kw: str) -> TestResponse:
        return self.http.post(
            f"/wecom/callback?{self.query(encrypt, **kw)}", data=body, content_type="text/xml"
        )


@pytest.fixture
def sender(app: Flask) -> CallbackSender:
    return CallbackSender(app.test_client())


def text_xml(
    content: str = "订单 SO-20240518-0042 状态？", msg_id: str = "7368001234567890123", user: str = "lisi"
) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>1716000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{AGENT_ID}</AgentID></xml>"
    )


def card_event_xml(key: str = APPROVE_42, user: str = "zhangsan", task_id: str = "ot-1-1-abc") -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
        "<CreateTime>1716000300</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[template_card_event]]></Event>"
        f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{task_id}]]></TaskId>"
        "<CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[opaque-code]]></ResponseCode>"
        f"<AgentID>{AGENT_ID}</AgentID></xml>"
    )
