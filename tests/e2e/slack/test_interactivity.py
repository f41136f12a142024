"""Slash command, buttons, modals and external-select options over HTTP against the fake Web API."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from adapters.slack.blocks import render_card
from adapters.slack.validate import validate_view
from bot.cards.model import Card, Reply
from bot.ports import InboundAction
from tests.e2e.slack.conftest import SlackPoster
from tests.e2e.slack.fake_slack import FakeSlack
from tests.e2e.slack.fakes import (
    REJECT_TOKEN,
    SHIP_TOKEN,
    RecordingCore,
    approval_card,
    form_card,
    order_card,
    shipping_card,
)


def buttons_of(card: Card) -> dict[str, dict[str, Any]]:
    blocks = render_card(card)["blocks"]
    return {e["action_id"]: e for b in blocks if b["type"] == "actions" for e in b["elements"]}


def click(button: dict[str, Any], *, channel: str | None = "C0APPROVE", ephemeral: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": "U0MGR01", "username": "wang.jl", "team_id": "T0ORDERS"},
        "trigger_id": "7001.8002.def",
        "state": {"values": {}},
        "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "b1",
                     "value": button.get("value"), "text": button["text"], "action_ts": "1712345690.123456"}],
    }
    if channel:
        payload["container"] = {"type": "message", "message_ts": "1712345678.000200", "channel_id": channel,
                                "is_ephemeral": ephemeral}
        payload["channel"] = {"id": channel, "name": "order-approvals"}
        payload["response_url"] = "http://127.0.0.1:1/unused"
        if not ephemeral:
            payload["message"] = {"ts": "1712345678.000200", "text": "card", "blocks": []}
    else:
        payload["container"] = {"type": "view", "view_id": "V0HOME"}
        payload["view"] = {"id": "V0HOME", "type": "home"}
    return payload


def submission(view: dict[str, Any], values: dict[str, dict[str, Any]]) -> dict[str, Any]:
    state = {}
    for block in view["blocks"]:
        el = block["element"]
        state[block["block_id"]] = {el["action_id"]: {"type": el["type"], **values.get(block["block_id"], {})}}
    return {"type": "view_submission", "user": {"id": "U0MGR01"}, "trigger_id": "7001.8002.sub",
            "view": {**view, "id": "V0MODAL", "hash": "1712345690.x1y2", "state": {"values": state}}}


# -- slash command ------------------------------------------------------------------------------------------


def test_order_status_command_acks_and_hands_the_core_its_response_url(slack: SlackPoster, core: RecordingCore,
                                                                        fake_slack: FakeSlack) -> None:
    core.message_replies = lambda m: [Reply(card=order_card())]
    url = fake_slack.issue_response_url("U0SALES7", "C0SALES", "commands")
    started = time.monotonic()
    resp = slack.command("status SO-20261122-0007", url)
    assert resp.status_code == 200 and time.monotonic() - started < 3
    [(msg, deliver)] = core.wait("messages")
    assert msg.text == "status SO-20261122-0007" and msg.external_user_id == "U0SALES7"
    assert msg.event_id == "slack:cmd:7001.8002.cmd"
    # the answer goes through the outbox, to the command's response_url: it works in any channel, bot or not
    assert msg.reply_to is not None and msg.reply_to.extra == {"response_url": url}
    assert (msg.reply_to.recipient, msg.reply_to.ephemeral_user) == ("C0SALES", "U0SALES7")
    replies = [Reply(card=order_card())]
    assert callable(deliver) and deliver(replies) == replies  # every reply is queued
    time.sleep(0.2)
    assert fake_slack.of(url.removeprefix(fake_slack.url)) == []  # nothing posted behind the outbox's back


def test_slow_core_still_gets_the_command_acked_in_time(slack: SlackPoster, core: RecordingCore,
                                                        fake_slack: FakeSlack) -> None:
    release, answered = threading.Event(), threading.Event()

    def slow(_msg: object) -> list[Reply]:  # held until the acknowledgement is back: no clock to race
        release.wait(10)
        answered.set()
        return [Reply(text="found it")]

    core.message_replies = slow
    assert slack.command("status SO-1", fake_slack.issue_response_url("U0SALES7", "C0SALES")).status_code == 200
    assert not answered.is_set()  # acked while the core was still working (an ack after it would take 10 s and fail)
    release.set()
    core.wait("messages", timeout=4)
    assert answered.wait(4)


def test_order_new_opens_the_form_modal(slack: SlackPoster, core: RecordingCore, fake_slack: FakeSlack) -> None:
    core.message_replies = lambda m: [Reply(card=form_card())]
    url = fake_slack.issue_response_url("U0SALES7", "C0SALES", "commands")
    assert slack.command("new", url).status_code == 200
    [call] = fake_slack.wait_for("views.open")
    assert call.args["trigger_id"] == "7001.8002.cmd"
    view = call.args["view"]
    assert validate_view(view) == []
    meta = json.loads(view["private_metadata"])
    assert meta["t"] == "tok-new-order" and meta["r"] == url  # the modal keeps the command's response_url
    assert [b["block_id"] for b in view["blocks"]] == ["customer", "product", "qty", "note"]
    [(_, deliver)] = core.messages
    assert callable(deliver) and deliver([Reply(card=form_card()), Reply(text="x")]) == [Reply(text="x")]

    # Submitting it hands the inputs to the core with the submit button's token, answered at the command's URL.
    resp = slack.interactive(submission(view, {
        "customer": {"selected_option": {"text": {"type": "plain_text", "text": "华东五金"}, "value": "C001"}},
        "product": {"selected_option": {"text": {"type": "plain_text", "text": "螺丝"}, "value": "P9"}},
        "qty": {"value": "12"}, "note": {"value": None},
    }))
    assert resp.status_code == 200
    [(action, deliver)] = core.actions
    assert action.token == "tok-new-order" and callable(deliver)
    assert action.inputs == {"customer": "C001", "product": "P9", "qty": "12"}
    assert action.reply_to is not None and action.reply_to.extra == {"response_url": url}
    assert action.reply_to.recipient == "C0SALES"


def test_order_new_falls_back_to_the_card_when_the_trigger_expired(slack: SlackPoster, core: RecordingCore,
                                                                   fake_slack: FakeSlack) -> None:
    core.message_replies = lambda m: [Reply(card=form_card())]
    fake_slack.fail("views.open", "expired_trigger_id")
    slack.command("new", fake_slack.issue_response_url("U0SALES7", "C0SALES"))
    first, again = core.wait("messages", 2)
    # asked again, this time with every reply (the form card, with its open button) going to the outbox
    assert again[0].event_id == first[0].event_id + ":form" and again[1] is True


# -- buttons ------------------------------------------------------------------------------------------------


def test_approve_button_calls_handle_action_with_token(slack: SlackPoster, core: RecordingCore,
                                                        fake_slack: FakeSlack) -> None:
    approve = buttons_of(approval_card())["ot_approve_0"]
    assert slack.interactive(click(approve)).status_code == 200
    [(action, deliver)] = core.wait("actions")
    assert deliver is True
    assert isinstance(action, InboundAction)
    assert (action.platform, action.external_user_id, action.token) == ("slack", "U0MGR01", "tok-approve-1")
    assert action.event_id == "slack:action:1712345678.000200:1712345690.123456"
    assert action.reply_to is not None
    assert (action.reply_to.recipient, action.reply_to.ephemeral_user) == ("C0APPROVE", "U0MGR01")
    assert action.reply_to.extra == {"response_url": "http://127.0.0.1:1/unused"}  # the answer goes there
    assert action.ticket is None  # a posted card is updated with chat.update; its response_url is not kept
    assert fake_slack.of("views.open") == []


def test_a_click_on_an_ephemeral_card_hands_over_its_response_url_to_replace_that_card(
        slack: SlackPoster, core: RecordingCore) -> None:
    card = approval_card()
    blocks = render_card(card)["blocks"]
    [actions] = [b for b in blocks if b["type"] == "actions"]
    assert actions["block_id"] == f"otc0|{card.key}"  # how Slack tells us which card an ephemeral click was on
    payload = click(buttons_of(card)["ot_approve_0"], ephemeral=True)
    payload["actions"][0]["block_id"] = actions["block_id"]
    slack.interactive(payload)
    [(action, _)] = core.wait("actions")
    assert action.ticket is not None
    assert (action.ticket.code, action.ticket.card_key) == ("http://127.0.0.1:1/unused", card.key)


def test_home_tab_button_replies_by_dm(slack: SlackPoster, core: RecordingCore) -> None:
    approve = buttons_of(approval_card())["ot_approve_0"]
    slack.interactive(click(approve, channel=None))
    [(action, _)] = core.wait("actions")
    assert action.event_id == "slack:action:V0HOME:1712345690.123456"
    assert action.reply_to is not None and (action.reply_to.recipient, action.reply_to.kind) == ("U0MGR01", "user")


def test_link_button_is_acked_without_the_core(slack: SlackPoster, core: RecordingCore) -> None:
    link = next(b for a, b in buttons_of(shipping_card()).items() if a.startswith("otl_"))
    assert slack.interactive(click(link)).status_code == 200
    time.sleep(0.2)
    assert core.actions == []


def test_reject_opens_reason_modal_then_submits_inputs(slack: SlackPoster, core: RecordingCore,
                                                        fake_slack: FakeSlack) -> None:
    reject = buttons_of(approval_card())["ot_reject_1"]
    slack.interactive(click(reject))
    [call] = fake_slack.wait_for("views.open")
    assert call.args["trigger_id"] == "7001.8002.def"
    view = call.args["view"]
    assert validate_view(view) == []
    [block] = view["blocks"]
    assert block["block_id"] == "reason" and block["optional"] is False
    assert block["element"]["type"] == "plain_text_input" and block["element"]["multiline"] is True
    assert core.actions == []  # nothing decided until the reason is given

    resp = slack.interactive(submission(view, {"reason": {"value": "价格低于底价"}}))
    assert resp.status_code == 200 and not resp.get_data()  # empty ack closes the modal
    [(action, deliver)] = core.actions
    assert action.token == REJECT_TOKEN and action.inputs == {"reason": "价格低于底价"}
    assert action.event_id.startswith("slack:view:V0MODAL:")
    # The core's reply goes through the outbox back to the clicker: to the click's response_url, in the card's channel
    assert callable(deliver) and deliver([Reply(text="done")]) == [Reply(text="done")]
    assert action.reply_to is not None and action.reply_to.extra == {"response_url": "http://127.0.0.1:1/unused"}
    assert (action.reply_to.recipient, action.reply_to.ephemeral_user) == ("C0APPROVE", "U0MGR01")
    time.sleep(0.2)
    assert fake_slack.of("chat.postEphemeral") == [] and fake_slack.of("chat.postMessage") == []


def test_field_error_keeps_the_modal_open(slack: SlackPoster, core: RecordingCore,
                                          fake_slack: FakeSlack) -> None:
    error = Card(kind="error", title="驳回理由不能为空", text=["请填写驳回理由"], field_error="reason")
    core.action_replies = lambda a: [Reply(card=error)]
    slack.interactive(click(buttons_of(approval_card())["ot_reject_1"]))
    view = fake_slack.wait_for("views.open")[0].args["view"]
    resp = slack.interactive(submission(view, {"reason": {"value": " "}}))
    assert resp.status_code == 200
    assert resp.get_json() == {"response_action": "errors", "errors": {"reason": "请填写驳回理由"}}
    [(_, deliver)] = core.actions
    assert callable(deliver) and deliver([Reply(card=error)]) == []  # shown on the form, so not also posted
    time.sleep(0.2)
    assert fake_slack.of("chat.postEphemeral") == [] and fake_slack.of("chat.postMessage") == []


def test_ship_button_modal_has_carrier_tracking_quantities(slack: SlackPoster, core: RecordingCore,
                                                           fake_slack: FakeSlack) -> None:
    slack.interactive(click(buttons_of(shipping_card())["ot_ship_1"], channel="C0WAREHOUSE"))
    view = fake_slack.wait_for("views.open")[0].args["view"]
    assert validate_view(view) == []
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["carrier"]["element"]["type"] == "static_select"
    assert [o["value"] for o in blocks["carrier"]["element"]["options"]] == ["顺丰", "中通", "圆通", "京东物流", "德邦"]
    assert blocks["tracking"]["element"]["type"] == "plain_text_input"
    assert blocks["qty:SKU-0001"]["element"] == {"type": "number_input", "action_id": "value",
                                                 "is_decimal_allowed": True, "initial_value": "2"}
    assert blocks["ship_on"]["element"]["type"] == "datepicker" and blocks["ship_on"]["optional"] is True
    assert view["submit"]["text"] == "确认发货"

    slack.interactive(submission(view, {
        "carrier": {"selected_option": {"text": {"type": "plain_text", "text": "顺丰"}, "value": "顺丰"}},
        "tracking": {"value": "SF1234567890"}, "qty:SKU-0000": {"value": "1"}, "qty:SKU-0001": {"value": "2"},
        "ship_on": {"selected_date": "2026-11-23"},
    }))
    [(action, _)] = core.actions
    assert action.token == SHIP_TOKEN
    assert action.inputs == {"carrier": "顺丰", "tracking": "SF1234567890", "qty:SKU-0000": "1",
                             "qty:SKU-0001": "2", "ship_on": "2026-11-23"}


def test_external_select_options_come_from_core_suggest(slack: SlackPoster, core: RecordingCore) -> None:
    resp = slack.interactive({
        "type": "block_suggestion", "user": {"id": "U0SALES7"}, "action_id": "sugg_customers",
        "block_id": "customer", "value": "华东", "view": {"id": "V0MODAL", "type": "modal", "private_metadata": "{}"},
    })
    assert resp.status_code == 200
    assert resp.get_json() == {"options": [
        {"text": {"type": "plain_text", "text": "华东五金 Huadong Hardware", "emoji": True}, "value": "C001"}]}
    assert core.suggests == [("slack", "U0SALES7", "customers", "华东")]


def test_expired_trigger_on_click_tells_the_user(slack: SlackPoster, core: RecordingCore,
                                                 fake_slack: FakeSlack) -> None:
    fake_slack.fail("views.open", "expired_trigger_id")
    payload = click(buttons_of(approval_card())["ot_reject_1"])
    payload["response_url"] = fake_slack.url + "/webhook/click"
    assert slack.interactive(payload).status_code == 200
    [call] = fake_slack.wait_for("/webhook/click")
    assert call.args["response_type"] == "ephemeral" and call.args["replace_original"] is False
    assert core.actions == []
