"""End to end: DingTalk callbacks (signed HTTP, and Stream through the official SDK) drive the real bot core on the
test database; everything the bot says goes through the outbox to the fake DingTalk OpenAPI on localhost."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from adapters.dingtalk.client import QPS_RETRY_AFTER
from adapters.dingtalk.settings import DingTalkSettings
from adapters.dingtalk.stream import CARD_TOPIC, ROBOT_TOPIC, build_stream_client
from bot.records import CardCopy
from tests.world import Clock

from .fake_dingtalk import APP_SECRET
from .fake_stream import FakeStreamServer, SdkRunner, frame
from .harness import (
    CARD_PATH,
    ROBOT_PATH,
    SALES_GROUP,
    STAFF,
    WAREHOUSE_GROUP,
    DingTalkDriver,
    card_headers,
    now_ms,
    robot_headers,
)


def only_order(dt: DingTalkDriver) -> str:
    orders = dt.snapshot().orders
    assert len(orders) == 1, orders
    return orders[0][0]


def test_submit_approve_on_card_updates_every_copy_and_warehouse_group_gets_task(dt: DingTalkDriver) -> None:
    resp = dt.say("li", "下单 华兴 SKU-001 x10 SKU-002 x5")
    assert resp.json() == {"msgtype": "empty"}  # replies travel through the outbox, not inline
    dt.drain()
    number = only_order(dt)
    assert dt.order(number).status == "pending_approval"
    assert any(number in t and "已提交审批" in t for t in dt.texts_to("li"))

    # 或签: both sales managers get an interactive card, nobody else does
    approval_cards = dt.cards("approval_request")
    assert sorted(c.space for c in approval_cards) == sorted([f"IM_ROBOT.{STAFF['wang']}", f"IM_ROBOT.{STAFF['zhao']}"])
    wang_card = dt.cards("approval_request", to="wang")[0]
    assert wang_card.body["cardTemplateId"] == "appr-0001.schema"
    assert wang_card.body["callbackType"] == "HTTP" and wang_card.body["callbackRouteKey"]
    assert number in wang_card.params["title"] and "¥1,277.50" in wang_card.params["fields"]  # 10×110 + 5×35.50

    assert dt.cards("shipping_task") == []  # nothing for the warehouse before approval

    click = dt.click("wang", wang_card, "approve")
    assert click.status_code == 200, click.text
    assert click.json()["cardData"]["cardParamMap"] == {}  # core finished: the decided card comes via the outbox
    order = dt.order(number)
    assert order.status == "approved" and order.steps[0].status == "approved"
    [approval] = dt.audit("approve")
    assert approval.platform == "dingtalk" and approval.actor_id == dt.world["boss"]

    dt.drain()
    copies = {c.out_track_id for c in approval_cards}
    assert {u["outTrackId"] for u in dt.fake.state.card_updates} >= copies
    for ot_id in copies:
        final = dt.fake.state.cards[ot_id]["cardData"]["cardParamMap"]
        assert final["kind"] == "approval_decided" and "王经理" in final["subtitle"]
        assert final["btn1_visible"] == "false" and final["btn1_token"] == ""  # no clickable buttons are left
    assert any(number in t and "审批通过" in t for t in dt.texts_to("li"))

    # The shipping task reaches the warehouse group (and the warehouse person), without prices.
    [group_task] = dt.cards("shipping_task", group=WAREHOUSE_GROUP)
    assert group_task.body["imGroupOpenDeliverModel"] == {"robotCode": dt.ot.settings.own(DingTalkSettings).dingtalk_app_key}
    assert number in group_task.params["title"] and "¥" not in json.dumps(group_task.params, ensure_ascii=False)
    assert len(dt.cards("shipping_task", to="sun")) == 1

    # A warehouse person claims from the group card: the task is theirs, and the group's copy shows it.
    assert dt.click("sun", group_task, "claim").status_code == 200
    dt.drain()
    claimed = dt.fake.state.cards[group_task.out_track_id]["cardData"]["cardParamMap"]
    assert "孙仓管" in claimed["subtitle"] and "claim" not in {claimed[f"btn{i}_action"] for i in (1, 2, 3)}


def test_approval_through_stream_mode_with_the_official_sdk(make_driver: Callable[..., DingTalkDriver],
                                                            restore_gateway_url: None) -> None:
    dt = make_driver(dingtalk_mode="stream")
    ws = FakeStreamServer(dt.fake).start()
    dt.fake.state.ws_endpoint = f"ws://127.0.0.1:{ws.port}/connect"
    runner = SdkRunner(build_stream_client(dt.ot.core, dt.ot.ctx.signer,
                                              DingTalkSettings.from_root(dt.ot.settings)))
    runner.thread.start()
    try:
        ws.push(frame("m-1", ROBOT_TOPIC, dt.message_body("li", "下单 华兴 SKU-002 x4")))
        assert ws.wait_acks(1)[0]["code"] == 200
        dt.drain()
        number = only_order(dt)
        cards = dt.cards("approval_request")
        assert len(cards) == 2 and all(c.body["callbackType"] == "STREAM" for c in cards)

        zhao_card = dt.cards("approval_request", to="zhao")[0]
        click = dt.click_body("zhao", zhao_card, zhao_card.token("approve"))
        # DingTalk re-pushes an un-acked click, sometimes under the same messageId: three pushes, one approval.
        ws.push(frame("c-1", CARD_TOPIC, click), frame("c-1", CARD_TOPIC, click), frame("c-2", CARD_TOPIC, click))
        card_acks = ws.wait_acks(4)[1:]
        ws.push(frame("m-2", ROBOT_TOPIC, dt.message_body("li", f"where is {number}")))
        assert ws.wait_acks(5)[4]["code"] == 200
    finally:
        runner.stop()
        ws.stop()

    assert [a["code"] for a in card_acks] == [200, 200, 200]
    assert all("cardUpdateOptions" in json.loads(a["data"])["response"] for a in card_acks)
    assert dt.order(number).status == "approved"
    [approval] = dt.audit("approve")
    assert approval.actor_id == dt.world["boss2"] and approval.platform == "dingtalk"

    dt.drain()
    copies = {c.out_track_id for c in cards}
    assert {u["outTrackId"] for u in dt.fake.state.card_updates} >= copies
    assert all("赵经理" in dt.fake.state.cards[i]["cardData"]["cardParamMap"]["subtitle"] for i in copies)
    assert any(number in t and "状态：已审批" in t for t in dt.texts_to("li"))  # the status answer, after approval
    [answer] = dt.texts_to("zhao")  # one answer: the repeats were recognised, not refused as "already approved"
    assert "已同意订单" in answer
    assert len(dt.cards("shipping_task", group=WAREHOUSE_GROUP)) == 1


def test_status_query_by_message_in_group_and_one_to_one(dt: DingTalkDriver) -> None:
    dt.say("li", "下单 华兴 SKU-002 x2")
    number = only_order(dt)
    dt.drain()
    sent_before = len(dt.texts_to("li"))

    dt.say("li", f"@订单助手 订单 {number}", group=True)  # in a group only @robot messages arrive
    dt.say("li", f"where is {number}")
    dt.say("amy", f"where is {number}")  # not her order
    dt.drain()

    [group_answer] = dt.texts_in(SALES_GROUP)
    assert number in group_answer and "状态：待审批" in group_answer and "杭州华兴电子" in group_answer
    [direct] = dt.texts_to("li")[sent_before:]
    assert number in direct and "状态：待审批" in direct and "王经理" in direct  # who it waits for
    [refused] = dt.texts_to("amy")
    assert "may not view" in refused and "杭州华兴电子" not in refused
    assert len(dt.texts_to("li")) == sent_before + 1  # the group question was answered in the group only


# ---------------------------------------------------------------- signatures

HOUR_MS = 3_600_000


def forgeries(make: Callable[..., dict[str, str]]) -> dict[str, dict[str, str]]:
    """Header sets that must not pass: made with the real HMAC, each wrong in one way."""
    valid = make()
    ts_key, sign_key = list(valid)
    tampered = {**valid, sign_key: valid[sign_key][:-4] + ("AAA=" if valid[sign_key][-4:] != "AAA=" else "BBB=")}
    return {
        "no headers": {},
        "no signature": {ts_key: valid[ts_key]},
        "no timestamp": {sign_key: valid[sign_key]},
        "tampered signature": tampered,
        "signed with another secret": make(secret="not-the-app-secret"),
        "signature of another timestamp": {ts_key: str(now_ms() + 5000), sign_key: valid[sign_key]},
        "correctly signed, 1 h 1 min old": make(ts=now_ms() - HOUR_MS - 60_000),
        "correctly signed, 1 h 1 min ahead": make(ts=now_ms() + HOUR_MS + 60_000),
        "timestamp not a number": {ts_key: "yesterday", sign_key: valid[sign_key]},
    }


@pytest.mark.parametrize("endpoint", ["robot", "card"])
def test_forged_signatures_rejected_401_without_effect_and_valid_one_accepted(dt: DingTalkDriver, endpoint: str) -> None:
    dt.say("li", "下单 华兴 SKU-002 x1")
    dt.drain()
    number = only_order(dt)
    if endpoint == "robot":
        path, body, make = ROBOT_PATH, dt.message_body("li", "下单 华兴 SKU-001 x2"), robot_headers
    else:
        card = dt.cards("approval_request", to="wang")[0]
        path, body, make = CARD_PATH, dt.click_body("wang", card, card.token("approve")), card_headers
    before = dt.snapshot()

    for name, headers in forgeries(make).items():
        resp = dt.post(path, body, headers)
        assert resp.status_code == 401, (name, resp.text)
        assert resp.json()["error"] and APP_SECRET not in resp.text, name
        assert dt.snapshot() == before, name  # orders, audit trail, outbox and inbound keys all untouched

    # Inside the window (with drift to spare) and correctly signed: accepted, with its effect.
    resp = dt.post(path, body, make(ts=now_ms() - HOUR_MS + 60_000))
    assert resp.status_code == 200, resp.text
    after = dt.snapshot()
    if endpoint == "robot":
        assert len(after.orders) == 2
    else:
        assert dt.order(number).status == "approved" and after.audit > before.audit


# ---------------------------------------------------------------- outbound faults

@pytest.mark.parametrize("expiry", ["revoked", "invalid_once"])
def test_token_expiring_mid_run_is_refreshed_and_the_update_still_delivered(dt: DingTalkDriver, expiry: str) -> None:
    dt.say("li", "下单 华兴 SKU-002 x1")
    dt.drain()
    assert dt.fake.state.token_calls == 1  # cached across the first deliveries
    card = dt.cards("approval_request", to="wang")[0]
    assert dt.click("wang", card, "approve").status_code == 200
    if expiry == "revoked":
        dt.fake.state.revoke_tokens()  # DingTalk-side expiry before our cache thinks so
    else:
        dt.fake.state.invalid_token_once = True
    dt.drain()

    assert dt.fake.state.token_calls == 2
    rows = dt.outbox()
    assert [(r.status, r.attempts) for r in rows] == [("delivered", 1)] * len(rows)  # refreshed inside one try
    assert {c.out_track_id for c in dt.cards("approval_decided")} == {u["outTrackId"] for u in dt.fake.state.card_updates}
    assert len(dt.cards("approval_decided")) == 2


def test_qps_limit_is_retried_after_backoff_and_delivered_once(dt: DingTalkDriver, clock: Clock) -> None:
    dt.fake.state.qps_limit_once = True
    dt.say("li", "下单 华兴 SKU-002 x1")
    dt.drain()
    [waiting] = [r for r in dt.outbox() if r.status == "pending"]
    assert waiting.attempts == 1 and "QpsLimit" in (waiting.last_error or "")
    assert waiting.next_attempt_at >= clock() + timedelta(seconds=QPS_RETRY_AFTER)  # DingTalk asks for ≥ 1 s

    assert dt.drain() == 0  # not due yet: no hammering
    clock.advance(seconds=QPS_RETRY_AFTER + 0.5)
    assert dt.drain() == 1
    rows = {r.id: r for r in dt.outbox()}
    assert rows[waiting.id].status == "delivered" and rows[waiting.id].attempts == 2
    # delivered exactly once: one reply to the sales person, one card to each manager
    assert sum("已提交审批" in t for t in dt.texts_to("li")) == 1
    assert len(dt.cards("approval_request", to="wang")) == len(dt.cards("approval_request", to="zhao")) == 1


def test_per_user_failure_inside_a_200_is_not_reported_as_delivered(dt: DingTalkDriver) -> None:
    dt.fake.state.card_deliver_fails = True  # createAndDeliver: 200, deliverResults[].success = false
    dt.fake.state.invalid_users = {STAFF["li"]}  # batchSend: 200, li in invalidStaffIdList
    dt.say("li", "下单 华兴 SKU-002 x1")
    dt.drain()

    rows = dt.outbox()
    cards = [r for r in rows if (r.card_key or "").startswith("approval:")]
    assert len(cards) == 2
    assert all(r.status == "failed" and r.delivered_at is None and "could not deliver" in (r.last_error or "")
               for r in cards)
    [to_li] = [r for r in rows if r.recipient == STAFF["li"]]
    assert to_li.status == "failed" and "does not know staff id" in (to_li.last_error or "")
    with dt.ot.sessions() as s:
        assert s.scalar(select(func.count(CardCopy.id))) == 0  # no copy to update later
    # ... and the admin hears about each failure
    assert sum("Delivery failed" in t for t in dt.texts_to("admin")) == 3
