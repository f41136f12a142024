"""The whole OrderTalk app (real bot core, real database) with Slack on, wired to the fake Slack Web API, and a
driver that plays Slack: signed Events API, interactivity and slash-command requests in; recorded Web API calls out.

Bolt acks a request first and runs our listener on its worker pool afterwards (process_before_response=False,
as in production), so a response says nothing about whether the core has run yet. `CoreCalls` wraps (never
replaces) the real core's entry points and counts finished calls; that is how a test waits for the listener.
"""

from __future__ import annotations

import functools
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from sqlalchemy import Engine, select

from bot.bootstrap import OrderTalk, build
from bot.core import BotCore
from bot.notifications import publish
from bot.settings import Settings
from domain.audit import Actor
from domain.models import Product, Stock, User
from domain.orders import LineRequest, OrderRequest, create_order
from domain.uow import UnitOfWork
from tests.e2e.harness import AppDriver, populate
from tests.e2e.slack.conftest import SIGNING_SECRET, SlackPoster
from tests.e2e.slack.fake_slack import Call, FakeSlack
from tests.world import Clock, World

# world usernames → Slack user ids (tests/world.py already links li as U_LI). The fake opens DM "D…" for "U…".
PEOPLE = {"li": "U_LI", "amy": "U0AMY", "wang": "U0WANG", "zhao": "U0ZHAO", "qian": "U0QIAN", "sun": "U0SUN",
          "admin": "U0ADMIN"}
WAREHOUSE_CHANNEL = "C0WAREHOUSE"
TEAM = "T0ORDERS"

F = TypeVar("F", bound=Callable[..., Any])


def dm_of(who: str) -> str:
    """The DM channel the fake Slack opens between the bot and a person."""
    return "D" + PEOPLE.get(who, who)[1:]


class CoreCalls:
    """Counts calls into the real core. The core is only wrapped: the same code runs, on Bolt's threads."""

    def __init__(self, core: BotCore) -> None:
        self._cv = threading.Condition()
        self.started = 0
        self.finished = 0
        for name in ("handle_message", "handle_action", "home", "suggest"):
            setattr(core, name, self._wrap(getattr(core, name)))

    def _wrap(self, fn: F) -> F:
        @functools.wraps(fn)
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._cv:
                self.started += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._cv:
                    self.finished += 1
                    self._cv.notify_all()

        return counted  # type: ignore[return-value]

    def wait(self, count: int, timeout: float = 10.0) -> None:
        """Until at least `count` calls have finished and none is running."""
        with self._cv:
            done = self._cv.wait_for(lambda: self.finished >= count and self.started == self.finished, timeout)
        assert done, f"core calls: {self.finished} finished of {self.started} started, expected {count}"


@dataclass(frozen=True)
class Posted:
    """One chat.postMessage / chat.postEphemeral / chat.update / response_url post as the fake Slack received it."""

    method: str  # a Web API method, or "response_url"
    channel: str
    ts: str  # the message's ts (for an update: the ts it replaced); "" for a response_url post
    text: str
    blocks: list[dict[str, Any]]
    user: str | None = None  # ephemeral: who sees it
    replace_original: bool = False  # response_url: replaces the message that was clicked
    ok: bool = True  # what Slack answered

    @classmethod
    def of(cls, call: Call, fake: FakeSlack | None = None) -> Posted:
        blocks = call.args.get("blocks") or []
        if call.method.startswith("/webhook/"):
            hook = fake.response_urls.get(call.method) if fake else None
            return cls("response_url", hook.channel or "" if hook else "", "", str(call.args.get("text") or ""),
                       list(blocks), hook.user if hook else None, bool(call.args.get("replace_original")),
                       call.reply == "ok")
        reply = call.reply if isinstance(call.reply, dict) else {}
        ts = call.args.get("ts") or reply.get("ts") or reply.get("message_ts") or ""
        return cls(call.method, str(call.args.get("channel", "")), str(ts), str(call.args.get("text") or ""),
                   list(blocks), call.args.get("user"), ok=bool(reply.get("ok")))

    @property
    def ephemeral(self) -> bool:
        return self.method in ("response_url", "chat.postEphemeral")

    @property
    def message(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}

    @property
    def content(self) -> str:
        """Everything a person could read in it."""
        return self.text + "\n" + json.dumps(self.blocks, ensure_ascii=False)

    def buttons(self) -> list[dict[str, Any]]:
        return [e for b in self.blocks if b.get("type") == "actions" for e in b.get("elements", [])]

    def button(self, action: str) -> dict[str, Any]:
        """The button for a core action, exactly as rendered (action_id "ot_<action>_<i>", value = token or spec)."""
        for e in self.buttons():
            if str(e.get("action_id", "")).startswith(f"ot_{action}_"):
                return e
        raise AssertionError(f"no {action} button in {self.content[:600]}")

    def block_id_of(self, button: dict[str, Any]) -> str:
        """The block_id of the actions block holding `button`, as Slack echoes it in a click."""
        for b in self.blocks:
            if b.get("type") == "actions" and button in b.get("elements", []):
                return str(b.get("block_id", "b0"))
        return "b0"


class SlackDriver(AppDriver):
    def __init__(self, ot: OrderTalk, fake: FakeSlack, world: World, clock: Clock) -> None:
        super().__init__(ot, world)
        self.fake = fake
        self.clock = clock
        self.calls = CoreCalls(ot.core)
        self.poster = SlackPoster(ot.flask.test_client())
        self._seq = itertools.count(1)

    # ---------------------------------------------------------------- Slack → us
    def event(self, event: dict[str, Any], event_id: str | None = None, headers: dict[str, str] | None = None,
              **sign: Any) -> Any:
        return self.poster.event(event, event_id=event_id or f"Ev{next(self._seq):08d}", headers=headers, **sign)

    def dm_event(self, who: str, text: str) -> dict[str, Any]:
        user = PEOPLE.get(who, who)
        self.fake.dm_with(user)  # a person writing to the bot: their DM with it exists
        return {"type": "message", "channel_type": "im", "channel": dm_of(who), "user": user, "text": text,
                "ts": f"1795000000.{next(self._seq):06d}", "event_ts": "1795000000.000001"}

    def say(self, who: str, text: str, event_id: str | None = None) -> None:
        """A DM to the bot, handled by the core, its answers delivered."""
        n = self.calls.finished
        resp = self.event(self.dm_event(who, text), event_id)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        self.calls.wait(n + 1)
        self.drain()

    def click_payload(self, who: str, on: Posted, button: dict[str, Any]) -> dict[str, Any]:
        """A block_actions payload as Slack sends it for a click on a posted message: an ephemeral one (posted
        through a response_url or chat.postEphemeral) comes without `message`, as on Slack; every click carries a
        fresh response_url of its own."""
        user = PEOPLE.get(who, who)
        n = next(self._seq)
        ts = on.ts or f"1795000300.{n:06d}"  # Slack gives ephemeral messages a ts too
        payload: dict[str, Any] = {
            "type": "block_actions", "user": {"id": user, "username": who, "team_id": TEAM},
            "trigger_id": f"{n}.8002.trigger", "api_app_id": "A0BOT",
            "container": {"type": "message", "message_ts": ts, "channel_id": on.channel, "is_ephemeral": on.ephemeral},
            "channel": {"id": on.channel, "name": "directmessage"},
            "response_url": self.fake.issue_response_url(user, on.channel), "state": {"values": {}},
            "actions": [{"type": "button", "action_id": button["action_id"], "block_id": on.block_id_of(button),
                         "value": button.get("value"), "text": button["text"], "style": button.get("style"),
                         "action_ts": f"1795000100.{n:06d}"}],
        }
        if not on.ephemeral:
            payload["message"] = {"type": "message", "ts": on.ts, "text": on.text, "blocks": on.blocks}
        return payload

    def interactive(self, payload: dict[str, Any], **sign: Any) -> Any:
        return self.poster.interactive(payload, **sign)

    def click(self, who: str, on: Posted, action: str) -> Any:
        """Click a core button that acts at once; returns the ack after the core has handled it and delivered."""
        n = self.calls.finished
        resp = self.interactive(self.click_payload(who, on, on.button(action)))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        self.calls.wait(n + 1)
        self.drain()
        return resp

    def open_modal(self, who: str, on: Posted, action: str) -> dict[str, Any]:
        """Click a button that needs inputs: the app answers with views.open; returns the opened view."""
        before = len(self.fake.of("views.open"))
        payload = self.click_payload(who, on, on.button(action))
        resp = self.interactive(payload)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        call = self.fake.wait_for("views.open", before + 1)[before]
        assert call.args["trigger_id"] == payload["trigger_id"]  # the trigger of this click, within its 3 s
        view: dict[str, Any] = call.args["view"]
        return {**view, "id": call.reply["view"]["id"]}

    @staticmethod
    def submission(who: str, view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
        """A view_submission with `values` typed into the view's inputs, shaped per element type as Slack does;
        an input left alone keeps its initial value, as in Slack."""
        state: dict[str, Any] = {}
        for block in view["blocks"]:
            if block.get("type") != "input":
                continue
            el = block["element"]
            initial = el.get("initial_value") or el.get("initial_date") or (el.get("initial_option") or {}).get("value")
            raw = values.get(block["block_id"], initial)
            entry: dict[str, Any] = {"type": el["type"]}
            if el["type"] in ("static_select", "external_select"):
                entry["selected_option"] = None if raw is None else {
                    "text": {"type": "plain_text", "text": raw}, "value": raw}
            elif el["type"] == "datepicker":
                entry["selected_date"] = raw
            else:
                entry["value"] = raw
            state[block["block_id"]] = {el["action_id"]: entry}
        return {"type": "view_submission", "user": {"id": PEOPLE.get(who, who), "team_id": TEAM},
                "trigger_id": "9001.8002.submit", "api_app_id": "A0BOT",
                "view": {**view, "hash": "1795000200.h", "state": {"values": state}}}

    def submit(self, who: str, view: dict[str, Any], values: dict[str, str]) -> Any:
        """Submit a modal. The core decides before the ack (so a field error keeps the modal open)."""
        n = self.calls.finished
        resp = self.interactive(self.submission(who, view, values))
        assert resp.status_code == 200, resp.get_data(as_text=True)
        self.calls.wait(n + 1)
        return resp

    def command_body(self, who: str, text: str, channel: str = "C0SALES") -> tuple[str, str]:
        """A slash command's form body as Slack posts it, and the path of its response_url on the fake. The default
        channel is one the bot was never invited to: commands work anywhere, chat.postEphemeral does not."""
        n = next(self._seq)
        url = self.fake.issue_response_url(PEOPLE.get(who, who), channel, "commands")
        body = urlencode({
            "token": "legacy", "team_id": TEAM, "team_domain": "orders", "channel_id": channel,
            "channel_name": "sales", "user_id": PEOPLE.get(who, who), "user_name": who, "command": "/order",
            "text": text, "api_app_id": "A0BOT", "response_url": url,
            "trigger_id": f"{n}.8002.command",
        })
        return body, url.removeprefix(self.fake.url)

    def post_form(self, body: str, headers: dict[str, str] | None = None, **sign: Any) -> Any:
        return self.poster.post(body, "application/x-www-form-urlencoded", headers, **sign)

    def command(self, who: str, text: str, channel: str = "C0SALES") -> Posted:
        """`/order <text>`: acked, answered through the outbox to this command's response_url; returns that answer."""
        body, path = self.command_body(who, text, channel)
        n = self.calls.finished
        resp = self.post_form(body)
        assert resp.status_code == 200 and not resp.get_data(), resp.get_data(as_text=True)
        self.calls.wait(n + 1)
        self.drain()
        [answer] = self.fake.of(path)
        return Posted.of(answer, self.fake)

    # ---------------------------------------------------------------- us → Slack, as the fake saw it
    def posts(self, channel: str | None = None, method: str = "chat.postMessage") -> list[Posted]:
        """Successful posts (Slack refused the others: they reached nobody)."""
        return [p for p in (Posted.of(c, self.fake) for c in self.fake.of(method))
                if p.ok and (channel is None or p.channel == channel)]

    def posts_to(self, who: str, containing: str = "") -> list[Posted]:
        return [p for p in self.posts(dm_of(who)) if containing in p.content]

    def card_to(self, who: str, containing: str, action: str) -> Posted:
        """The one message to `who` containing `containing` with a button for `action`."""
        found = [p for p in self.posts_to(who, containing)
                 if any(str(e.get("action_id", "")).startswith(f"ot_{action}_") for e in p.buttons())]
        assert len(found) == 1, (who, containing, action, [p.content[:200] for p in self.posts_to(who)])
        return found[0]

    def updates(self) -> list[Posted]:
        return self.posts(method="chat.update")

    def ephemerals(self, who: str) -> list[Posted]:
        """What only `who` saw: answers through a response_url, and chat.postEphemeral that Slack accepted."""
        user = PEOPLE.get(who, who)
        hooks = [Posted.of(c, self.fake) for c in self.fake.calls if c.method.startswith("/webhook/")]
        return [p for p in hooks + self.posts(method="chat.postEphemeral") if p.ok and p.user == user]

    def answers(self, who: str) -> list[Posted]:
        """Everything `who` was told in answer: ephemerally, or as a DM from the bot (the fallback)."""
        return self.ephemerals(who) + self.posts_to(who)

    # ---------------------------------------------------------------- the database
    def place(self, customer: str, lines: list[tuple[str, int]], by: str = "sales") -> str:
        """Create and submit an order through the domain service (as an import or the CLI would) and publish its
        events the way the core does, so the approval cards go out through the outbox. Returns its number."""
        uow = UnitOfWork(self.ot.sessions, self.clock)
        with uow:
            creator = uow.session.get(User, self.world[by])
            assert creator is not None
            ids = {sku: pid for sku, pid in uow.session.execute(select(Product.sku, Product.id))}
            req = OrderRequest(customer_id=self.world[customer],
                               lines=[LineRequest(product_id=ids.get(p) or self.world[p], quantity=q) for p, q in lines])
            order = create_order(uow, creator, req, self.ot.ctx.policy(), Actor(creator.id, "test"))
            publish(uow, self.ot.ctx)
            uow.commit()
            number = order.number
        self.drain()
        return number

    def add_products(self, n: int, warehouse: str = "east") -> list[str]:
        """`n` more products with stock in `warehouse` (for big orders); returns their SKUs."""
        skus = []
        with self.ot.sessions() as s:
            for i in range(n):
                p = Product(sku=f"SKU-9{i:03d}", name=f"测试商品 {i:03d} 超长名称用于检查卡片截断", spec=f"规格-{i}",
                            unit="件", list_price=Decimal("12.50") + i, safety_stock=0)
                s.add(p)
                s.flush()
                s.add(Stock(warehouse_id=self.world[warehouse], product_id=p.id, on_hand=1000))
                skus.append(p.sku)
            s.commit()
        return skus


def settings_for(fake: FakeSlack, db_url: str, data_dir: Path, **extra: Any) -> Settings:
    return Settings(_env_file=None, database_url=db_url, run_dispatcher=False, run_scheduler=False,
                    secret_key="slack-e2e-secret-key-0123456789abcdef", data_dir=data_dir, slack_bot_token="xoxb-e2e",
                    slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.api_url, **extra)


@contextmanager
def running(engine: Engine, db_url: str, clock: Clock, data_dir: Path, **extra: Any) -> Iterator[SlackDriver]:
    """The app on the test database with Slack pointed at a fake Slack on loopback, everyone linked."""
    fake = FakeSlack()
    try:
        ot = build(settings_for(fake, db_url, data_dir, **extra), clock=clock, engine=engine)
        world = populate(ot, "slack", {u: uid for u, uid in PEOPLE.items() if u != "li"})  # build_world links li
        driver = SlackDriver(ot, fake, world, clock)
        yield driver
        # Let listeners still running on Bolt's threads finish before the next test wipes the database.
        time.sleep(0.05)
        driver.calls.wait(0)
    finally:
        fake.close()


def envelope(event: dict[str, Any], event_id: str) -> str:
    """An Events API request body as Slack posts it."""
    return json.dumps({"token": "legacy", "team_id": TEAM, "api_app_id": "A0BOT", "type": "event_callback",
                       "event_id": event_id, "event_time": 1795000000, "event": event,
                       "authorizations": [{"team_id": TEAM, "user_id": "UBOTSELF", "is_bot": True}]})


def form_payload(payload: dict[str, Any]) -> str:
    """An interactivity request body as Slack posts it: a form with one JSON `payload` field."""
    return "payload=" + quote(json.dumps({"team": {"id": TEAM}, "api_app_id": "A0BOT", **payload}))
