"""The whole OrderTalk app (real bot core, real database) wired to the fake WeCom API, served on localhost, and a
driver that plays WeCom: encrypted, signed callbacks in over real HTTP; recorded server-API calls out."""

from __future__ import annotations

import io
import itertools
import json
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine

from adapters.wecom.crypto import WeComCrypto
from bot.bootstrap import OrderTalk, build
from tests.e2e.harness import AppDriver, populate
from tests.e2e.wecom.conftest import AES_KEY, TOKEN, make_settings
from tests.e2e.wecom.fake_api import AGENT_ID, CORP_ID, FakeWeCom, ServerThread
from tests.world import Clock, World

# world usernames → WeCom userids (FromUserName / touser)
USERIDS = {"li": "lisi", "amy": "amychen", "wang": "wangwu", "zhao": "zhaoliu", "qian": "qianba", "sun": "sunqi",
           "admin": "guanli"}
WAREHOUSE_CHAT = "warehouse01"
CALLBACK = "/wecom/callback"


def build_app(fake_url: str, engine: Engine, db_url: str, clock: Clock, data_dir: Path, **over: Any) -> OrderTalk:
    settings = make_settings(
        fake_url,
        database_url=db_url,
        run_dispatcher=False,
        run_scheduler=False,
        data_dir=data_dir,
        wecom_warehouse_chat=WAREHOUSE_CHAT,
        # tiny, so a RetryLater's own retry_after decides the wait; tests move the clock instead of sleeping
        outbox_backoff_base=0.01,
        **over,
    )
    ot = build(settings, clock=clock, engine=engine)
    if ot.dispatcher.limiter is not None:
        # The buckets run on the wall clock (shared by processes); here they also move when a test moves its clock,
        # so a method held for a minute (errcode 45009) is free once the test's minute has passed.
        start = clock()
        ot.dispatcher.limiter.clock = lambda: time.time() + (clock() - start).total_seconds()
    return ot


@dataclass(frozen=True)
class SentCard:
    """One template card as message/send received it."""

    touser: str
    body: dict[str, Any]

    @property
    def card(self) -> dict[str, Any]:
        card: dict[str, Any] = self.body["template_card"]
        return card

    @property
    def task_id(self) -> str:
        return str(self.card["task_id"])

    @property
    def text(self) -> str:
        return json.dumps(self.body, ensure_ascii=False)

    def key(self, action: str, arg: str = "") -> str:
        """The button key of `action` (and preset `arg`), as WeCom will post it back in EventKey."""
        for b in self.card.get("button_list", []):
            parts = str(b.get("key", "")).split("@")
            if len(parts) == 5 and parts[0] == action and parts[3] == arg:
                return str(b["key"])
        raise AssertionError(f"no {action}/{arg!r} button on {self.text[:500]}")


@dataclass(frozen=True)
class Reply:
    """The parts of an HTTP answer the tests read, whichever client got it."""

    status_code: int
    text: str
    content: bytes


class WeComDriver(AppDriver):
    def __init__(self, ot: OrderTalk, fake: FakeWeCom, url: str, world: World) -> None:
        super().__init__(ot, world)
        self.fake = fake
        self.url = url
        self.crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)
        self.http = requests.Session()
        self._msg_ids = itertools.count(7368001234567890001)
        self._clock_s = itertools.count(1795000000)  # CreateTime of clicks: one second apart, as real clicks
        self.click_codes: list[str] = []  # the ResponseCode each click carried, in order

    # ---------------------------------------------------------------- inbound (WeCom → us)
    def query(self, encrypt: str, *, timestamp: str = "1795000000", nonce: str = "1372623149",
              sig: str | None = None) -> str:
        return urllib.parse.urlencode({
            "msg_signature": sig if sig is not None else self.crypto.sign(timestamp, nonce, encrypt),
            "timestamp": timestamp, "nonce": nonce,
        })  # urlencode turns '+', '/', '=' into %2B, %2F, %3D exactly as WeCom sends them

    @staticmethod
    def envelope(encrypt: str) -> str:
        return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>\n<Encrypt><![CDATA[{encrypt}]]></Encrypt>\n"
                f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID>\n</xml>")

    def post(self, body: bytes | str, query: str) -> requests.Response:
        data = body.encode() if isinstance(body, str) else body
        return self.http.post(f"{self.url}{CALLBACK}?{query}", data=data, timeout=30,
                              headers={"Content-Type": "text/xml"})

    def post_in_process(self, body: bytes | str, query: str, *, chunked: bool = False) -> Reply:
        """The same POST through Flask's test client, for big bodies: the dev server discards an unread request
        body for only 10 ms, so on a busy machine a client could see a reset instead of the app's 413.
        `chunked`: no Content-Length, the body ends with the stream (as gunicorn passes a chunked request)."""
        data = body.encode() if isinstance(body, str) else body
        client = self.ot.flask.test_client()
        if not chunked:
            r = client.post(f"{CALLBACK}?{query}", data=data, content_type="text/xml")
        else:
            r = client.post(f"{CALLBACK}?{query}", input_stream=io.BytesIO(data), content_type="text/xml",
                            headers={"Transfer-Encoding": "chunked"},
                            environ_overrides={"wsgi.input_terminated": True})
        return Reply(r.status_code, r.get_data(as_text=True), r.get_data())

    def post_xml(self, xml: str, **query: str) -> requests.Response:
        """Encrypt and sign a decrypted message as WeCom does, and POST it."""
        encrypt = self.crypto.encrypt(xml)
        return self.post(self.envelope(encrypt), self.query(encrypt, **query))

    def text_xml(self, who: str, text: str, msg_id: int | None = None) -> str:
        user = USERIDS.get(who, who)
        return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
                f"<CreateTime>1795000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id or next(self._msg_ids)}</MsgId>"
                f"<AgentID>{AGENT_ID}</AgentID></xml>")

    def click_xml(self, who: str, card: SentCard, key: str) -> str:
        """A template_card_event on `card`, with a fresh ResponseCode for the clicker's copy, as WeCom sends."""
        user = USERIDS.get(who, who)
        self.click_codes.append(self.fake.click_code(card.task_id, user))
        return (f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
                f"<CreateTime>{next(self._clock_s)}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
                "<Event><![CDATA[template_card_event]]></Event>"
                f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{card.task_id}]]></TaskId>"
                "<CardType><![CDATA[button_interaction]]></CardType>"
                f"<ResponseCode><![CDATA[{self.click_codes[-1]}]]></ResponseCode>"
                f"<AgentID>{AGENT_ID}</AgentID></xml>")

    def say(self, who: str, text: str, msg_id: int | None = None) -> requests.Response:
        resp = self.post_xml(self.text_xml(who, text, msg_id))
        assert resp.status_code == 200 and resp.content == b"", resp.text
        return resp

    def click(self, who: str, card: SentCard, key: str) -> requests.Response:
        resp = self.post_xml(self.click_xml(who, card, key))
        assert resp.status_code == 200 and resp.content == b"", resp.text
        return resp

    # ---------------------------------------------------------------- outbound (us → WeCom), as the fake saw it
    def sends_to(self, who: str) -> list[dict[str, Any]]:
        user = USERIDS.get(who, who)
        return [s for s in self.fake.sends if s["touser"] == user]

    def cards(self, who: str, containing: str = "") -> list[SentCard]:
        return [SentCard(s["touser"], s) for s in self.sends_to(who)
                if s["msgtype"] == "template_card" and containing in json.dumps(s, ensure_ascii=False)]

    def texts_to(self, who: str) -> list[str]:
        """Text and markdown messages (cards without buttons are markdown on WeCom)."""
        return [s[s["msgtype"]]["content"] for s in self.sends_to(who) if s["msgtype"] in ("text", "markdown")]

    def updates_of(self, card: SentCard) -> list[dict[str, Any]]:
        return [u for u in self.fake.updates if u.get("template_card", {}).get("task_id") == card.task_id]

    def send_code(self, card: SentCard) -> str:
        """The response_code the send answer returned for this copy."""
        return next(code for code, c in self.fake.codes.items()
                    if c.task_id == card.task_id and c.source == "send")

    def order_total(self, number: str) -> Decimal:
        return self.order(number).total


@contextmanager
def running(engine: Engine, db_url: str, clock: Clock, data_dir: Path, **over: Any) -> Iterator[WeComDriver]:
    """The fake API and the app (settings `over` its defaults), both served on loopback for a test."""
    fake = FakeWeCom()
    fake.users |= set(USERIDS.values())
    with ServerThread(fake.app()) as api:
        ot = build_app(api.url, engine, db_url, clock, data_dir, **over)
        world = populate(ot, "wecom", USERIDS)
        with ServerThread(ot.flask) as app:
            yield WeComDriver(ot, fake, app.url, world)
