"""Slack end to end with the real bot core: signed requests into the real Bolt app, the real domain on SQLite and
PostgreSQL, the outbox dispatcher delivering to a fake Slack Web API on localhost."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.slack.validate import validate_message
from bot.bootstrap import OrderTalk, build
from bot.records import InboundEvent, OutboxMessage
from bot.settings import Settings
from domain.directory import link
from domain.models import AuditEntry, Order
from domain.orders import get_order
from tests.slack.conftest import SIGNING_SECRET, SlackPoster
from tests.slack.fake_slack import FakeSlack
from tests.world import build_world

NUMBER = "SO-20261123-0001"
PEOPLE = {"li": "U_LI", "wang": "U0WANG", "zhao": "U0ZHAO", "qian": "U0QIAN", "sun": "U0SUN", "amy": "U0AMY"}


@pytest.fixture
def app(engine, db_url, clock, tmp_path) -> Iterator[tuple[OrderTalk, FakeSlack, SlackPoster]]:
    fake = FakeSlack()
    settings = Settings(_env_file=None, database_url=db_url, run_dispatcher=False, run_scheduler=False, secret_key="e2e",
                        data_dir=tmp_path, slack_bot_token="xoxb-e2e", slack_signing_secret=SIGNING_SECRET,
                        slack_api_url=fake.api_url, slack_warehouse_channel="C0WAREHOUSE")
    ot = build(settings, clock=clock, engine=engine)
    build_world(ot.sessions)
    with ot.sessions() as s:
        for username, uid in PEOPLE.items():
            if username != "li":  # build_world links li already
                link(s, username, "slack", uid)
        s.commit()
    yield ot, fake, SlackPoster(ot.flask.test_client())
    fake.close()


def inbound_count(ot: OrderTalk) -> int:
    with ot.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(InboundEvent)) or 0)


def settled(ot: OrderTalk, before: int, expect: int = 1) -> None:
    """Bolt acks first and runs the listener on a worker thread: wait until the core has taken the event(s)."""
    deadline = time.monotonic() + 5
    while inbound_count(ot) < before + expect and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # and let it commit its outbox rows
    ot.dispatcher.drain()


def dm(slack: SlackPoster, user: str, text: str, event_id: str, ot: OrderTalk | None = None) -> Any:
    """A DM event; with `ot`, waits until the core has handled it and the outbox is delivered."""
    n = inbound_count(ot) if ot else 0
    ts = f"1712345700.{sum(map(ord, event_id)):06d}"
    r = slack.event({"type": "message", "channel_type": "im", "channel": "D" + user[1:], "user": user, "text": text,
                     "ts": ts}, event_id=event_id)
    if ot:
        settled(ot, n)
    return r


def _blocks(call: Any) -> list[dict[str, Any]]:
    blocks = call.args.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def _text(call: Any) -> str:
    return json.dumps(_blocks(call), ensure_ascii=False) + str(call.args.get("text", ""))


def posts_to(fake: FakeSlack, channel: str, method: str = "chat.postMessage") -> list[Any]:
    return [c for c in fake.of(method) if c.args.get("channel") == channel]


def button(call: Any, action: str) -> dict[str, Any]:
    for b in _blocks(call):
        for e in b.get("elements", []) if b["type"] == "actions" else []:
            if e.get("action_id", "").startswith(f"ot_{action}_"):
                return e
    raise AssertionError(f"no {action} button in {_text(call)[:500]}")


def click(slack: SlackPoster, user: str, channel: str, message_ts: str, btn: dict[str, Any], ts: str = "1712345690.1",
          ot: OrderTalk | None = None) -> Any:
    n = inbound_count(ot) if ot else 0
    r = _click(slack, user, channel, message_ts, btn, ts)
    if ot:
        settled(ot, n)
    return r


def _click(slack: SlackPoster, user: str, channel: str, message_ts: str, btn: dict[str, Any], ts: str) -> Any:
    return slack.interactive({
        "type": "block_actions", "user": {"id": user, "team_id": "T0ORDERS"}, "trigger_id": f"trig-{user}-{ts}",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
        "channel": {"id": channel}, "message": {"ts": message_ts, "text": "card", "blocks": []},
        "response_url": "http://127.0.0.1:1/unused", "state": {"values": {}},
        "actions": [{"type": "button", "action_id": btn["action_id"], "block_id": "b", "value": btn.get("value"),
                     "text": btn["text"], "action_ts": ts}],
    })


def submit(slack: SlackPoster, user: str, view: dict[str, Any], values: dict[str, str], view_id: str = "V0MODAL") -> Any:
    state = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        el = block["element"]
        raw = values.get(block["block_id"])
        if raw is None:
            entry: dict[str, Any] = {"type": el["type"], "value": None}
        elif el["type"] == "static_select":
            entry = {"type": "static_select", "selected_option": {"text": {"type": "plain_text", "text": raw}, "value": raw}}
        else:
            entry = {"type": el["type"], "value": raw}
        state[block["block_id"]] = {el["action_id"]: entry}
    return slack.interactive({"type": "view_submission", "user": {"id": user}, "trigger_id": "trig-sub",
                              "view": {**view, "id": view_id, "hash": "h", "state": {"values": state}}})


def _approval_flow(ot: OrderTalk, fake: FakeSlack, slack: SlackPoster) -> tuple[Any, Any]:
    assert dm(slack, "U_LI", "下单 华兴 SKU-001 x10", "Ev01", ot).status_code == 200
    wang, zhao = posts_to(fake, "D0WANG"), posts_to(fake, "D0ZHAO")
    assert len(wang) == 1 and len(zhao) == 1 and NUMBER in _text(wang[0])
    assert validate_message({"text": wang[0].args.get("text", ""), "blocks": _blocks(wang[0])}) == []
    return wang[0], zhao[0]


def test_approve_from_the_card_updates_every_copy(app):
    ot, fake, slack = app
    wang, zhao = _approval_flow(ot, fake, slack)
    assert NUMBER in _text(posts_to(fake, "D_LI")[0])  # the sales person's DM got the "submitted" answer
    r = click(slack, "U0WANG", "D0WANG", wang.args.get("ts", "1712345678.000101"), button(wang, "approve"), ot=ot)
    assert r.status_code == 200
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "approved"
        assert s.scalar(select(AuditEntry.platform).where(AuditEntry.action == "approved")) == "slack"
    updates = fake.of("chat.update")
    channels = {u.args["channel"] for u in updates}
    assert {"D0WANG", "D0ZHAO"} <= channels  # both approvers' copies replaced in place
    for u in updates:
        if u.args["channel"] in ("D0WANG", "D0ZHAO"):
            assert "王经理" in _text(u) and not any(b["type"] == "actions" for b in _blocks(u))
    # the warehouse channel got the shipping task, without prices
    task = posts_to(fake, "C0WAREHOUSE")
    assert len(task) == 1 and NUMBER in _text(task[0]) and "¥" not in _text(task[0])


def test_reject_with_a_reason_through_the_modal(app):
    ot, fake, slack = app
    wang, _ = _approval_flow(ot, fake, slack)
    click(slack, "U0WANG", "D0WANG", "1712345678.000101", button(wang, "reject"))
    [opened] = fake.wait_for("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "pending_approval"  # nothing decided before the reason
    assert submit(slack, "U0WANG", view, {"reason": "价格低于底价"}).status_code == 200
    ot.dispatcher.drain()
    with ot.sessions() as s:
        order = get_order(s, NUMBER)
        assert order.status == "rejected"
        details = s.scalars(select(AuditEntry.details).where(AuditEntry.action == "rejected")).one()
        assert "价格低于底价" in json.dumps(details, ensure_ascii=False)
    assert any("价格低于底价" in _text(c) for c in posts_to(fake, "D_LI"))  # the sales person is told why
    assert {u.args["channel"] for u in fake.of("chat.update")} >= {"D0WANG", "D0ZHAO"}


def test_confirm_shipment_through_the_modal_tells_sales_the_tracking_number(app):
    ot, fake, slack = app
    wang, _ = _approval_flow(ot, fake, slack)
    click(slack, "U0WANG", "D0WANG", "1712345678.000101", button(wang, "approve"), ot=ot)
    task = posts_to(fake, "D0SUN")[0]
    click(slack, "U0SUN", "D0SUN", "1712345678.000500", button(task, "claim"), ts="1712345691.1", ot=ot)
    click(slack, "U0SUN", "D0SUN", "1712345678.000500", button(task, "ship"), ts="1712345692.1")
    [opened] = fake.wait_for("views.open")
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert submit(slack, "U0SUN", view, {"carrier": "顺丰", "tracking": "SF7788990011"}, "V0SHIP").status_code == 200
    ot.dispatcher.drain()
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "shipped"
    told = [c for c in posts_to(fake, "D_LI") if "SF7788990011" in _text(c)]
    assert len(told) == 1


def test_status_by_dm_and_by_slash_command(app):
    ot, fake, slack = app
    _approval_flow(ot, fake, slack)
    dm(slack, "U_LI", f"where is {NUMBER}", "Ev02", ot)
    dm(slack, "U_LI", f"订单 {NUMBER}", "Ev03", ot)
    answers = [c for c in posts_to(fake, "D_LI") if NUMBER in _text(c) and "待审批" in _text(c)]
    assert len(answers) >= 2
    body = _command_body(NUMBER, "U0AMY", fake.url + "/webhook/cmd")
    r = slack.client.post("/slack/events", data=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded", **SlackPoster.sign(body)})
    assert r.status_code == 200
    # Amy sells to other customers: refused, ephemeral, via response_url (recorded by the fake as a webhook)
    hooks = fake.wait_for("/webhook/cmd")
    assert any("may not" in json.dumps(h.args, ensure_ascii=False) or "无权" in json.dumps(h.args, ensure_ascii=False)
               for h in hooks)


def _command_body(text: str, user: str, response_url: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"team_id": "T0ORDERS", "channel_id": "C0SALES", "user_id": user, "user_name": "x",
                      "command": "/order", "text": text, "response_url": response_url, "trigger_id": f"trig-cmd-{user}",
                      "api_app_id": "A0BOT"})


def test_app_home_is_published_with_pending_approvals(app):
    ot, fake, slack = app
    _approval_flow(ot, fake, slack)
    slack.event({"type": "app_home_opened", "user": "U0WANG", "channel": "D0WANG", "tab": "home"}, event_id="EvHome")
    [published] = fake.wait_for("views.publish")
    assert published.args["user_id"] == "U0WANG"
    view = published.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home" and NUMBER in json.dumps(view, ensure_ascii=False)


def _state(ot: OrderTalk) -> tuple[Any, ...]:
    with ot.sessions() as s:
        return (s.scalar(select(Order.status).where(Order.number == NUMBER)),
                s.scalar(select(func.count()).select_from(AuditEntry)),
                s.scalar(select(func.count()).select_from(OutboxMessage)))


def test_retried_click_and_message_have_one_effect(app):
    ot, fake, slack = app
    wang, _ = _approval_flow(ot, fake, slack)
    before_posts = len(fake.of("chat.postMessage"))
    n = inbound_count(ot)
    for retry in range(3):  # Slack retries an event with the same event_id and X-Slack-Retry-Num
        dm(slack, "U_LI", f"订单 {NUMBER}", "EvSame") if retry == 0 else slack.event(
            {"type": "message", "channel_type": "im", "channel": "D_LI", "user": "U_LI", "text": f"订单 {NUMBER}",
             "ts": "1712345700.000100"}, event_id="EvSame", headers={"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    settled(ot, n)
    time.sleep(0.3)  # give a (wrong) second effect the time to show
    ot.dispatcher.drain()
    assert len(fake.of("chat.postMessage")) == before_posts + 1
    btn = button(wang, "approve")
    n = inbound_count(ot)
    for _ in range(3):
        click(slack, "U0WANG", "D0WANG", "1712345678.000101", btn, ts="1712345699.9")
    settled(ot, n)
    time.sleep(0.3)
    with ot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "approved")) == 1


def test_forged_stale_and_tampered_requests_change_nothing(app):
    ot, fake, slack = app
    wang, _ = _approval_flow(ot, fake, slack)
    btn = button(wang, "approve")
    before = _state(ot)
    import time as _time

    assert click_forged(slack, btn, secret="wrong").status_code == 401
    assert click_forged(slack, btn, timestamp=int(_time.time()) - 600).status_code == 401
    tampered = {**btn, "value": btn["value"][:-3] + "AAA"}
    r = click(slack, "U0WANG", "D0WANG", "1712345678.000101", tampered, ot=ot)
    assert r.status_code == 200  # Slack needs the ack; the person is told the button is not valid
    status, audits, _ = _state(ot)
    assert status == before[0] == "pending_approval"
    # a non-approver (finance is not on the manager step) clicking a forwarded card is refused and audited
    click(slack, "U0QIAN", "D0QIAN", "1712345678.000101", btn, ts="1712345698.1", ot=ot)
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "pending_approval"
        refused = s.scalars(select(AuditEntry).where(AuditEntry.action == "refused")).all()
        assert any(e.platform == "slack" and "approver" in json.dumps(e.details) for e in refused)


def click_forged(slack: SlackPoster, btn: dict[str, Any], **sign: Any) -> Any:
    payload = {"type": "block_actions", "user": {"id": "U0WANG"}, "trigger_id": "t", "container": {"type": "message",
               "message_ts": "1", "channel_id": "D0WANG"}, "channel": {"id": "D0WANG"},
               "actions": [{"type": "button", "action_id": btn["action_id"], "value": btn["value"], "action_ts": "9"}]}
    return slack.interactive(payload, **sign)
