"""Slack end to end with the real bot core: signed requests into the real Bolt app, the real domain on SQLite (and
PostgreSQL), the outbox dispatcher delivering to the fake Slack Web API on localhost. Buttons are clicked with the
values taken from the blocks the fake received, on the message ts it handed out."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from adapters.slack.validate import validate_message, validate_view
from domain.models import Stock
from tests.e2e.slack.harness import PEOPLE, WAREHOUSE_CHANNEL, Posted, SlackDriver, dm_of, running
from tests.world import Clock

NUMBER = "SO-20261123-0001"


@pytest.fixture
def sl(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[SlackDriver]:
    with running(engine, db_url, clock, tmp_path, slack_warehouse_channel=WAREHOUSE_CHANNEL) as driver:
        yield driver


def valid(posted: Posted) -> Posted:
    assert validate_message(posted.message) == [], posted.content[:500]
    return posted


def submitted_by_dm(sl: SlackDriver) -> tuple[Posted, Posted]:
    """li orders by DM; returns the approval cards wang and zhao (或签: either may decide) received."""
    sl.say("li", "下单 华兴 SKU-001 x10")
    return valid(sl.card_to("wang", NUMBER, "approve")), valid(sl.card_to("zhao", NUMBER, "approve"))


# ---------------------------------------------------------------- 1. approve from the card


def test_quick_order_by_dm_then_approve_updates_every_copy_in_place(sl: SlackDriver) -> None:
    wang, zhao = submitted_by_dm(sl)
    order = sl.order(NUMBER)
    assert order.status == "pending_approval" and order.total == Decimal("1100.00")  # 10 × tier-A price 110.00
    assert len(sl.posts_to("li", NUMBER)) == 1  # li is told once that it went for approval
    assert "¥1,100.00" in wang.content and wang.channel == "D0WANG" and wang.ts != zhao.ts
    for who in ("qian", "sun", "amy"):
        assert sl.posts_to(who) == []  # neither finance nor the warehouse is involved yet

    resp = sl.click("wang", wang, "approve")
    assert resp.get_data() == b""  # a plain ack; the answer comes as a message

    order = sl.order(NUMBER)
    assert order.status == "approved"
    [decision] = sl.audit("approve")
    assert (decision.actor_id, decision.platform) == (sl.user_id("wang"), "slack")
    # every approver's copy replaced where it was posted (same channel and ts), buttons gone, who decided shown
    updates = sl.updates()
    assert sorted((u.channel, u.ts) for u in updates) == sorted([(wang.channel, wang.ts), (zhao.channel, zhao.ts)])
    for u in updates:
        assert valid(u).buttons() == [] and "已同意 · 王经理" in u.content
    assert any(f"已同意订单 {NUMBER}" in p.content for p in sl.ephemerals("wang"))  # the clicker's answer
    assert any("已审批通过" in p.content for p in sl.posts_to("li", NUMBER))

    # zhao clicks his (now stale) copy: told who decided, nothing changes
    before = sl.snapshot()
    sl.click("zhao", zhao, "approve")
    assert any("已由 王经理" in p.content for p in sl.ephemerals("zhao"))
    after = sl.snapshot()
    assert after.orders == before.orders and len(sl.audit("approve")) == 1


# ---------------------------------------------------------------- 2. reject with a reason in a modal


def test_reject_with_a_reason_through_the_modal(sl: SlackDriver) -> None:
    number = sl.place("c1", [("p1", 10), ("p2", 4)])  # through the domain service; cards go out via the outbox
    wang, zhao = valid(sl.card_to("wang", number, "approve")), valid(sl.card_to("zhao", number, "approve"))
    with sl.ot.sessions() as s:
        reserved = s.scalar(select(Stock.reserved).where(Stock.product_id == sl.world["p1"],
                                                         Stock.warehouse_id == sl.world["east"]))
    assert reserved == 10

    before = sl.snapshot()
    view = sl.open_modal("zhao", zhao, "reject")
    assert validate_view(view) == []
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["reason"]
    assert sl.snapshot() == before  # opening the modal decides nothing

    resp = sl.submit("zhao", view, {"reason": "价格低于底价，请重新报价"})
    assert resp.get_data() == b""  # closes the modal
    sl.drain()
    order = sl.order(number)
    assert order.status == "rejected" and order.steps[0].reason == "价格低于底价，请重新报价"
    [reject] = sl.audit("reject")
    assert reject.details["reason"] == "价格低于底价，请重新报价" and reject.actor_id == sl.user_id("zhao")
    assert sl.audit("rejected")[0].details["reason"] == "价格低于底价，请重新报价"
    with sl.ot.sessions() as s:
        assert s.scalar(select(Stock.reserved).where(Stock.product_id == sl.world["p1"],
                                                     Stock.warehouse_id == sl.world["east"])) == 0
    updates = sl.updates()
    assert sorted((u.channel, u.ts) for u in updates) == sorted([(wang.channel, wang.ts), (zhao.channel, zhao.ts)])
    assert all("驳回理由：价格低于底价" in valid(u).content and u.buttons() == [] for u in updates)
    assert any("价格低于底价" in p.content for p in sl.posts_to("li", number))  # the sales person is told why
    # the modal's answer goes back to the channel of the clicked card, to zhao only
    assert any(f"已驳回订单 {number}" in p.content and p.channel == zhao.channel for p in sl.ephemerals("zhao"))


# ---------------------------------------------------------------- 3. claim and ship


def test_claim_then_confirm_shipment_in_the_modal_tells_sales_the_tracking_number(sl: SlackDriver) -> None:
    number = sl.place("c1", [("p1", 10), ("p2", 5)])
    sl.say("wang", f"同意 {number}")  # approving by text works too
    assert sl.order(number).status == "approved"
    task = valid(sl.card_to("sun", number, "claim"))
    assert "¥" not in task.content  # warehouse staff see no prices

    sl.click("sun", task, "claim")
    [claimed] = sl.tasks()
    assert claimed.status == "claimed" and claimed.claimed_by_id == sl.user_id("sun")
    assert any(u.ts == task.ts and "孙仓管 已领取" in u.content for u in sl.updates())

    view = sl.open_modal("sun", task, "ship")
    assert validate_view(view) == []
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks["carrier"]["element"]["type"] == "static_select" and "tracking" in blocks
    qty = [k for k in blocks if k.startswith("qty_")]
    assert len(qty) == 2  # one quantity per line, pre-filled with what is still to ship

    # more than the task holds is the core's field error, shown on that quantity; the modal stays open
    too_many = {qty[0]: "11" if blocks[qty[0]]["element"]["initial_value"] == "10" else "6"}
    resp = sl.submit("sun", view, {"carrier": "顺丰", "tracking": "SF7788990011", **too_many})
    errors = json.loads(resp.get_data())
    assert errors["response_action"] == "errors" and list(errors["errors"]) == qty[:1]
    assert "最多可发" in errors["errors"][qty[0]] and sl.shipments() == []

    resp = sl.submit("sun", view, {"carrier": "顺丰", "tracking": "SF7788990011"})  # quantities as pre-filled
    assert resp.get_data() == b""
    sl.drain()
    [shipment] = sl.shipments()
    assert (shipment.carrier, shipment.tracking_no) == ("顺丰", "SF7788990011")
    assert sorted(line.quantity for line in shipment.lines) == [5, 10]
    assert sl.order(number).status == "shipped"
    [told] = sl.posts_to("li", "SF7788990011")
    assert number in told.content and valid(told)
    assert any(u.ts == task.ts and "已发货" in u.content and u.buttons() == [] for u in sl.updates())


# ---------------------------------------------------------------- 4. status by DM and by /order


def test_status_by_dm_in_english_and_chinese_and_by_slash_command(sl: SlackDriver) -> None:
    submitted_by_dm(sl)
    before = len(sl.posts_to("li"))
    sl.say("li", f"where is {NUMBER}")
    sl.say("li", f"订单 {NUMBER}")
    answers = sl.posts_to("li")[before:]
    assert len(answers) == 2
    for a in answers:
        assert valid(a).blocks[0]["type"] == "header" and NUMBER in a.blocks[0]["text"]["text"]
        assert "待审批" in a.content and "王经理" in a.content  # status and who it waits for

    answer = sl.command("li", NUMBER)  # in #sales, where the bot is not a member
    assert answer.ephemeral and answer.user == PEOPLE["li"] and NUMBER in answer.content
    assert validate_message(answer.message) == []
    # Amy sells to other customers: the same command is refused, to her only
    refused = sl.command("amy", NUMBER)
    assert refused.ephemeral and refused.user == PEOPLE["amy"] and "may not view" in refused.content
    # someone not linked yet is told their Slack id, so an admin can link them
    stranger = sl.command("U0NOBODY", NUMBER)
    assert "U0NOBODY" in stranger.content and NUMBER not in stranger.content


# ---------------------------------------------------------------- 5. App Home


def test_app_home_shows_pending_approvals_and_approving_there_answers_by_dm(sl: SlackDriver) -> None:
    submitted_by_dm(sl)
    n = sl.calls.finished
    assert sl.event({"type": "app_home_opened", "user": PEOPLE["wang"], "channel": dm_of("wang"), "tab": "home",
                     "event_ts": "1795000000.000300"}).status_code == 200
    sl.calls.wait(n + 1)
    [published] = sl.fake.wait_for("views.publish")
    assert published.args["user_id"] == "U0WANG"
    home = published.args["view"]
    assert home["type"] == "home" and validate_view(home) == []
    approve = next(e for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]
                   if e["action_id"].startswith("ot_approve_"))

    # a click on the Home tab has no channel: the core answers in the DM
    payload = {"type": "block_actions", "user": {"id": "U0WANG", "team_id": "T0ORDERS"}, "trigger_id": "77.1.home",
               "container": {"type": "view", "view_id": "V0HOME"}, "view": {"id": "V0HOME", "type": "home"},
               "actions": [{"type": "button", "action_id": approve["action_id"], "value": approve["value"],
                            "block_id": "b", "text": approve["text"], "action_ts": "1795000400.000001"}]}
    n = sl.calls.finished
    assert sl.interactive(payload).status_code == 200
    sl.calls.wait(n + 1)
    sl.drain()
    assert sl.order(NUMBER).status == "approved"
    assert any(f"已同意订单 {NUMBER}" in p.content for p in sl.posts_to("wang"))

    # the warehouse person's Home now lists the new task, without prices
    n = sl.calls.finished
    sl.event({"type": "app_home_opened", "user": PEOPLE["sun"], "channel": dm_of("sun"), "tab": "home"})
    sl.calls.wait(n + 1)
    sun = [c for c in sl.fake.wait_for("views.publish", 2) if c.args["user_id"] == "U0SUN"]
    assert len(sun) == 1 and validate_view(sun[0].args["view"]) == []
    text = json.dumps(sun[0].args["view"], ensure_ascii=False)
    assert NUMBER in text and "ot_claim_" in text and "¥" not in text


# ---------------------------------------------------------------- 6. the warehouse channel


def test_shipping_task_reaches_the_warehouse_channel_and_a_claim_there_updates_both_copies(sl: SlackDriver) -> None:
    wang, _ = submitted_by_dm(sl)
    assert sl.posts(WAREHOUSE_CHANNEL) == []  # nothing for the warehouse before approval
    sl.click("wang", wang, "approve")
    [in_channel] = sl.posts(WAREHOUSE_CHANNEL)
    valid(in_channel)
    assert NUMBER in in_channel.content and "¥" not in in_channel.content
    in_dm = sl.card_to("sun", NUMBER, "claim")

    sl.click("sun", in_channel, "claim")  # claimed from the channel copy
    assert sl.tasks()[0].claimed_by_id == sl.user_id("sun")
    claimed = {(u.channel, u.ts) for u in sl.updates() if "孙仓管 已领取" in u.content}
    assert claimed == {(WAREHOUSE_CHANNEL, in_channel.ts), (in_dm.channel, in_dm.ts)}
    # the answer to the click is shown to sun only, in the channel where he clicked
    assert any(p.channel == WAREHOUSE_CHANNEL and "已领取发货任务" in p.content for p in sl.ephemerals("sun"))


def test_without_a_warehouse_channel_the_task_goes_to_warehouse_staff_only(
        engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> None:
    with running(engine, db_url, clock, tmp_path) as sl:
        wang, _ = submitted_by_dm(sl)
        sl.click("wang", wang, "approve")
        valid(sl.card_to("sun", NUMBER, "claim"))
        assert [p for p in sl.posts() if not p.channel.startswith("D")] == []


# ---------------------------------------------------------------- a large order within Block Kit limits


def lines_accounted(posted: Posted) -> int:
    """Order lines a card shows plus the ones its "…还有 N 行" says it left out: no line may silently vanish."""
    shown = len(set(re.findall(r"SKU-9\d{3}", posted.content)))
    more = re.search(r"…还有 (\d+) 行", posted.content)
    return shown + (int(more.group(1)) if more else 0)


def test_a_60_line_order_renders_within_block_kit_limits_everywhere(sl: SlackDriver) -> None:
    skus = sl.add_products(60)
    number = sl.place("c1", [(sku, 1 + i % 3) for i, sku in enumerate(skus)])  # below the finance threshold
    wang = valid(sl.card_to("wang", number, "approve"))
    assert lines_accounted(wang) == 60 and "…还有 20 行" in wang.content  # the approval card lists 40 lines
    sl.say("li", f"订单 {number}")
    [status] = sl.posts_to("li", number)
    assert lines_accounted(valid(status)) == 60

    sl.click("wang", wang, "approve")
    assert len(sl.updates()) == 2 and all(validate_message(u.message) == [] for u in sl.updates())
    task = valid(sl.card_to("sun", number, "claim"))
    assert lines_accounted(task) == 60
    [in_channel] = sl.posts(WAREHOUSE_CHANNEL)
    assert lines_accounted(valid(in_channel)) == 60
    view = sl.open_modal("sun", task, "ship")  # more lines than number boxes make sense: everything, or a list
    assert validate_view(view) == [] and [b["block_id"] for b in view["blocks"]] == [
        "carrier", "tracking", "ship_mode", "ship_lines"]
    n = sl.calls.finished
    sl.event({"type": "app_home_opened", "user": PEOPLE["sun"], "channel": dm_of("sun"), "tab": "home"})
    sl.calls.wait(n + 1)
    [home] = sl.fake.wait_for("views.publish")
    assert validate_view(home.args["view"]) == [] and number in json.dumps(home.args["view"])
