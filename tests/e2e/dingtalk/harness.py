"""The whole OrderTalk app (real bot core, real database) wired to the fake DingTalk, served on localhost, and
a driver that talks to it the way DingTalk does: signed HTTP callbacks in, recorded OpenAPI calls out."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine

from adapters.dingtalk.signature import card_sign, robot_sign
from bot.bootstrap import OrderTalk, build
from bot.settings import Settings
from tests.e2e.harness import AppDriver, ServerThread
from tests.e2e.harness import populate as link_world
from tests.world import Clock, World

from .fake_dingtalk import APP_KEY, APP_SECRET, FakeDingTalk
from .payloads import card_click, robot_message

# World usernames → DingTalk staff ids (senderStaffId / userIds).
STAFF = {"li": "sales0107", "amy": "sales0233", "wang": "mgr0003", "zhao": "mgr0004", "qian": "fin0005",
         "sun": "wh0006", "admin": "admin0001"}
WAREHOUSE_GROUP = "cidWarehouse01=="
SALES_GROUP = "cidSales7yZ0kQ2vX9=="  # the conversationId payloads.robot_message uses for group messages
TEMPLATES = {"dingtalk_card_template_approval": "appr-0001.schema", "dingtalk_card_template_task": "task-0001.schema"}
ROBOT_PATH = "/dingtalk/callback"
CARD_PATH = "/dingtalk/card-callback"


def now_ms() -> int:
    return int(time.time() * 1000)


def robot_headers(ts: int | None = None, secret: str = APP_SECRET) -> dict[str, str]:
    stamp = str(now_ms() if ts is None else ts)
    return {"timestamp": stamp, "sign": robot_sign(stamp, secret)}


def card_headers(ts: int | None = None, secret: str = APP_SECRET) -> dict[str, str]:
    stamp = str(now_ms() if ts is None else ts)
    return {"x-ddpaas-signature-timestamp": stamp, "x-ddpaas-signature": card_sign(stamp, secret)}


def build_app(fake: FakeDingTalk, engine: Engine, db_url: str, clock: Clock, data_dir: Path,
              **overrides: Any) -> OrderTalk:
    values: dict[str, Any] = {
        "database_url": db_url, "sandbox": False, "run_dispatcher": False, "run_scheduler": False,
        "secret_key": "dingtalk-e2e-secret-key-0123456789abcdef", "data_dir": data_dir,
        "dingtalk_app_key": APP_KEY, "dingtalk_app_secret": APP_SECRET,
        "dingtalk_api_url": fake.url, "dingtalk_oapi_url": fake.url, "dingtalk_mode": "http",
        "dingtalk_warehouse_group": WAREHOUSE_GROUP,
        # Small so a RetryLater's own Retry-After decides the wait; tests move the clock instead of sleeping.
        "outbox_backoff_base": 0.01,
        **TEMPLATES,
    }
    values.update(overrides)
    return build(Settings(_env_file=None, **values), clock=clock, engine=engine)


class LiveServer(ServerThread):
    """The app's Flask object on 127.0.0.1:<free port>: callbacks travel over real HTTP, as from DingTalk."""

    def __init__(self, ot: OrderTalk) -> None:
        super().__init__(ot.flask)


@dataclass(frozen=True)
class SentCard:
    out_track_id: str
    space: str  # "IM_ROBOT.<staff id>" or "IM_GROUP.<conversation id>"
    body: dict[str, Any]

    @property
    def params(self) -> dict[str, str]:
        params: dict[str, str] = self.body["cardData"]["cardParamMap"]
        return params

    def token(self, action: str) -> str:
        """The action token of the button slot that carries `action`, as the template would post it back."""
        for i in (1, 2, 3):
            if self.params.get(f"btn{i}_action") == action and self.params.get(f"btn{i}_visible") == "true":
                return self.params[f"btn{i}_token"]
        raise AssertionError(f"card {self.out_track_id} has no visible {action!r} button: {self.params}")


class DingTalkDriver(AppDriver):
    """Plays DingTalk: posts signed robot messages and card clicks to the live server, reads the fake's records."""

    def __init__(self, ot: OrderTalk, fake: FakeDingTalk, server: LiveServer, world: World) -> None:
        super().__init__(ot, world)
        self.fake = fake
        self.url = server.url
        self.http = requests.Session()
        self._ids = itertools.count(1)

    # ---------------------------------------------------------------- inbound (DingTalk → us)
    def post(self, path: str, body: bytes | dict[str, Any] | list[Any], headers: dict[str, str]) -> requests.Response:
        data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        return self.http.post(self.url + path, data=data, timeout=10,
                              headers={"Content-Type": "application/json; charset=utf-8", **headers})

    def message_body(self, who: str, text: str, *, group: bool = False, msg_id: str | None = None) -> dict[str, Any]:
        return robot_message(text, group=group, msg_id=msg_id or f"msg{next(self._ids):06d}==", staff_id=STAFF[who])

    def say(self, who: str, text: str, *, group: bool = False, msg_id: str | None = None) -> requests.Response:
        resp = self.post(ROBOT_PATH, self.message_body(who, text, group=group, msg_id=msg_id), robot_headers())
        assert resp.status_code == 200, resp.text
        return resp

    def click_body(self, who: str, card: SentCard, token: str, inputs: dict[str, str] | None = None) -> dict[str, Any]:
        return card_click(token, out_track_id=card.out_track_id, user_id=STAFF[who], extra_params=inputs)

    def click(self, who: str, card: SentCard, action: str, inputs: dict[str, str] | None = None) -> requests.Response:
        return self.post(CARD_PATH, self.click_body(who, card, card.token(action), inputs), card_headers())

    # ---------------------------------------------------------------- outbound (us → DingTalk)
    def cards(self, kind: str, *, to: str | None = None, group: str | None = None) -> list[SentCard]:
        """Cards created through createAndDeliver, in their current state (updates applied), of this kind."""
        space = f"IM_GROUP.{group}" if group else f"IM_ROBOT.{STAFF[to]}" if to else None
        found = []
        for ot_id, body in list(self.fake.state.cards.items()):
            card_space = body["openSpaceId"].split("//", 1)[1]
            if body["cardData"]["cardParamMap"].get("kind") == kind and (space is None or card_space == space):
                found.append(SentCard(ot_id, card_space, body))
        return found

    def texts_to(self, who: str) -> list[str]:
        """Markdown robot messages sent 1:1 to this person (title and text)."""
        out = []
        for send in self.fake.state.batch_sends:
            if STAFF[who] in send["userIds"]:
                param = json.loads(send["msgParam"])
                out.append(f"{param.get('title', '')}\n{param.get('text', param.get('content', ''))}")
        return out

    def texts_in(self, conversation: str) -> list[str]:
        out = []
        for send in self.fake.state.group_sends:
            if send["openConversationId"] == conversation:
                param = json.loads(send["msgParam"])
                out.append(f"{param.get('title', '')}\n{param.get('text', param.get('content', ''))}")
        return out


def populate(ot: OrderTalk) -> World:
    """The test world, with every person linked to a DingTalk staff id."""
    return link_world(ot, "dingtalk", STAFF)
