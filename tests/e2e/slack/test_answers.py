"""Answers reach people where the bot is not a member. Slash commands and buttons work in any conversation — a
channel the bot was never invited to, a DM between two people — but chat.postEphemeral there fails with
`not_in_channel` / `channel_not_found` (the fake answers as Slack does). Every answer to a command, a click or a modal
travels through the outbox to the request's response_url, and falls back to a DM from the bot when that URL is used
up or expired; nothing is lost from the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.records import CardCopy, OutboxMessage
from tests.e2e.slack.harness import PEOPLE, WAREHOUSE_CHANNEL, Posted, SlackDriver, dm_of, running
from tests.world import Clock

FIRST, SECOND = "SO-20261123-0001", "SO-20261123-0002"
SALES = "C0SALES"  # a channel the bot is not in


@pytest.fixture
def sl(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[SlackDriver]:
    with running(engine, db_url, clock, tmp_path, slack_warehouse_channel=WAREHOUSE_CHANNEL) as driver:
        yield driver


def button_under(posted: Posted, number: str, action: str) -> dict[str, Any]:
    """In a message holding several cards, the `action` button of the card whose header names `number`."""
    current = ""
    for block in posted.blocks:
        if block.get("type") == "header":
            current = block["text"]["text"]
        if block.get("type") == "actions" and number in current:
            for e in block["elements"]:
                if str(e.get("action_id", "")).startswith(f"ot_{action}_"):
                    return e
    raise AssertionError(f"no {action} button for {number} in {posted.content[:400]}")


def press(sl: SlackDriver, who: str, on: Posted, button: dict[str, Any]) -> dict[str, Any]:
    payload = sl.click_payload(who, on, button)
    n = sl.calls.finished
    assert sl.interactive(payload).status_code == 200
    sl.calls.wait(n + 1)
    sl.drain()
    return payload


def hook_posts(sl: SlackDriver, url: str) -> list[Posted]:
    return [Posted.of(c, sl.fake) for c in sl.fake.of(url.removeprefix(sl.fake.url))]


def nothing_lost(sl: SlackDriver) -> None:
    with sl.ot.sessions() as s:
        rows = s.execute(select(OutboxMessage.status, OutboxMessage.last_error)).all()
    assert rows and all(status == "delivered" for status, _ in rows), [r for r in rows if r[0] != "delivered"]


def test_commands_clicks_and_modals_are_answered_in_a_channel_the_bot_is_not_in(sl: SlackDriver) -> None:
    sl.say("li", "下单 华兴 SKU-001 x10")
    sl.say("li", "下单 华兴 SKU-002 x1")

    # /order pending in #sales: one ephemeral answer through the command's response_url, both cards in it
    pending = sl.command("wang", "pending", channel=SALES)
    assert pending.ephemeral and pending.channel == SALES and pending.user == PEOPLE["wang"]
    assert FIRST in pending.content and SECOND in pending.content

    # approve the first from that ephemeral message: the clicker's answer comes through the click's response_url
    click = press(sl, "wang", pending, button_under(pending, FIRST, "approve"))
    assert sl.order(FIRST).status == "approved"
    [answer] = hook_posts(sl, click["response_url"])
    assert f"已同意订单 {FIRST}" in answer.content and answer.replace_original is False
    # the copies the bot posted in DMs are updated in place as usual
    assert {u.channel for u in sl.updates() if "已同意 · 王经理" in u.content} == {dm_of("wang"), dm_of("zhao")}

    # reject the second with a reason in a modal opened from the same message: answered where the click was
    n = len(sl.fake.of("views.open"))
    click = sl.click_payload("wang", pending, button_under(pending, SECOND, "reject"))
    assert sl.interactive(click).status_code == 200  # opens the modal; the core is not asked yet
    view = sl.fake.wait_for("views.open", n + 1)[n].args["view"]
    view = {**view, "id": "V0REJECT"}
    sl.submit("wang", view, {"reason": "价格太低"})
    sl.drain()
    assert sl.order(SECOND).status == "rejected"
    [answer] = hook_posts(sl, click["response_url"])
    assert f"已驳回订单 {SECOND}" in answer.content and answer.channel == SALES

    # /order new in #sales: the form opens as a modal; the new order's confirmation goes to the command's URL
    body, path = sl.command_body("li", "new", channel=SALES)
    n, opened = sl.calls.finished, len(sl.fake.of("views.open"))
    assert sl.post_form(body).status_code == 200
    sl.calls.wait(n + 1)
    form = {**sl.fake.wait_for("views.open", opened + 1)[opened].args["view"], "id": "V0NEWORDER"}
    with sl.ot.sessions() as s:
        from domain.models import Customer, Product

        customer = s.scalar(select(Customer.id).where(Customer.code == "C001"))
        product = s.scalar(select(Product.id).where(Product.sku == "SKU-003"))
    sl.submit("li", form, {"customer": str(customer), "product_1": str(product), "qty_1": "2"})
    sl.drain()
    [confirmation] = hook_posts(sl, sl.fake.url + path)
    assert "SO-20261123-0003" in confirmation.content and confirmation.user == PEOPLE["li"]

    # chat.postEphemeral was never tried in #sales (it would have answered not_in_channel), nothing failed
    assert [c for c in sl.fake.of("chat.postEphemeral") if c.args.get("channel") == SALES] == []
    nothing_lost(sl)


def test_an_answer_whose_response_url_no_longer_works_arrives_as_a_dm(sl: SlackDriver) -> None:
    sl.say("li", "下单 华兴 SKU-001 x10")
    card = sl.card_to("wang", FIRST, "approve")
    payload = sl.click_payload("wang", card, card.button("approve"))
    sl.fake.expire(payload["response_url"])  # e.g. the worker was down for more than 30 minutes
    n = sl.calls.finished
    assert sl.interactive(payload).status_code == 200
    sl.calls.wait(n + 1)
    sl.drain()
    assert [p.ok for p in hook_posts(sl, payload["response_url"])] == [False]  # Slack said expired_url
    assert any(f"已同意订单 {FIRST}" in p.content for p in sl.posts_to("wang"))  # so the bot DMed the answer
    nothing_lost(sl)


def test_a_click_on_a_single_ephemeral_card_replaces_that_card(sl: SlackDriver) -> None:
    sl.say("li", "下单 华兴 SKU-001 x10")
    pending = sl.command("wang", "pending", channel="C0FLOOR")  # one approval: one card, kept as an (ephemeral) copy
    assert FIRST in pending.content and pending.ephemeral
    click = press(sl, "wang", pending, pending.button("approve"))
    answer, replaced = hook_posts(sl, click["response_url"])
    assert f"已同意订单 {FIRST}" in answer.content and not answer.replace_original
    # the card that was clicked is replaced where it is, through that click's response_url, now without buttons
    assert replaced.replace_original and "已同意 · 王经理" in replaced.content and replaced.buttons() == []
    with sl.ot.sessions() as s:  # the click's response_url was kept with that copy, then spent
        assert s.scalars(select(CardCopy.ticket).where(CardCopy.ticket.is_not(None))).all() == []
    nothing_lost(sl)
