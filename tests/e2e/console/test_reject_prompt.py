"""The rejection-reason prompt ("其他原因…" on platforms whose cards take no free text) takes only a plain answer,
echoes it for confirmation before rejecting, is cancelled by a command (and says so), and expires."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.records import PendingPrompt
from domain.orders import get_order
from tests.sandbox import Chat, button, text_of
from tests.world import build_world

NUMBER = "SO-20261123-0001"


def _asked(chat: Chat) -> dict[str, Any]:
    """li submits an order; wang taps 驳回 → 其他原因…; the bot asks wang for the reason."""
    chat.say("li", "下单 华兴 SKU-001 x10")
    card = chat.cards("wang", "approval_request")[0]
    other = next(p for p in button(card, "reject")["presets"] if p["label"].startswith("其他原因"))
    assert "请直接回复" in text_of(chat.click("wang", other["token"]))
    return card


def _status(chat: Chat) -> str:
    with chat.ot.sessions() as s:
        return get_order(s, NUMBER).status


def _prompt(chat: Chat) -> PendingPrompt | None:
    with chat.ot.sessions() as s:
        return s.scalars(select(PendingPrompt)).one_or_none()


def test_a_command_cancels_the_prompt_and_says_so(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    _asked(chat)
    replies = chat.say("wang", "待审批")  # this used to reject the order with the reason "待审批"
    assert "已取消驳回订单" in text_of(replies) and f"待审批：订单 {NUMBER}" in text_of(replies)
    assert _status(chat) == "pending_approval" and _prompt(chat) is None


def test_approve_by_text_while_asked_approves(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    _asked(chat)
    replies = chat.say("wang", f"approve {NUMBER}")
    assert "已取消驳回订单" in text_of(replies) and "已同意订单" in text_of(replies)
    assert _status(chat) == "approved"


def test_a_plain_answer_is_echoed_and_rejects_only_when_confirmed(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    _asked(chat)
    replies = chat.say("wang", "客户信用有问题")
    card = replies[0]["card"]
    assert card["kind"] == "reject_confirm" and "客户信用有问题" in text_of(replies)
    assert _status(chat) == "pending_approval"
    assert "已驳回订单" in text_of(chat.say("wang", "确认"))
    with ot.sessions() as s:
        order = get_order(s, NUMBER)
        assert order.status == "rejected" and order.steps[0].reason == "客户信用有问题"
    assert _prompt(chat) is None


def test_the_confirm_button_rejects_and_the_cancel_button_does_not(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    _asked(chat)
    card = chat.say("wang", "价格太低")[0]["card"]
    assert "未被驳回" in text_of(chat.click("wang", button(card, "cancel_prompt")["token"]))
    assert _status(chat) == "pending_approval" and _prompt(chat) is None
    # a stale confirm button does nothing either
    assert "已过期或已取消" in text_of(chat.click("wang", button(card, "confirm_reject")["token"]))
    assert _status(chat) == "pending_approval"
    _ask_again = next(p for p in button(chat.cards("wang", "approval_request")[0], "reject")["presets"]
                      if p["label"].startswith("其他原因"))
    chat.click("wang", _ask_again["token"])
    card = chat.say("wang", "价格太低")[0]["card"]
    assert "已驳回订单" in text_of(chat.click("wang", button(card, "confirm_reject")["token"]))
    assert _status(chat) == "rejected"


def test_cancel_by_text_and_a_new_answer_replaces_the_reason(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    _asked(chat)
    chat.say("wang", "价格太低")
    replies = chat.say("wang", "价格低于底价 5%")  # another plain answer: the new reason, echoed again
    assert replies[0]["card"]["kind"] == "reject_confirm" and "价格低于底价 5%" in text_of(replies)
    assert "未被驳回" in text_of(chat.say("wang", "取消"))
    assert _status(chat) == "pending_approval" and _prompt(chat) is None


def test_reasons_that_look_like_commands(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    _asked(chat)
    replies = chat.say("wang", "库存不足")  # reads like a stock query, but there is no product 不足: a reason
    assert replies[0]["card"]["kind"] == "reject_confirm" and "库存不足" in text_of(replies)
    replies = chat.say("wang", "理由：待审批太久")  # an explicit 理由： always answers
    assert replies[0]["card"]["kind"] == "reject_confirm" and "待审批太久" in text_of(replies)
    assert _status(chat) == "pending_approval"


def test_the_prompt_expires(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _asked(chat)
    clock.advance(minutes=31)
    replies = chat.say("wang", "价格太低")
    assert "超时" in text_of(replies) and _status(chat) == "pending_approval" and _prompt(chat) is None
    _asked_again = next(p for p in button(chat.cards("wang", "approval_request")[0], "reject")["presets"]
                        if p["label"].startswith("其他原因"))
    chat.click("wang", _asked_again["token"])
    chat.say("wang", "价格太低")
    clock.advance(minutes=31)
    assert "超时" in text_of(chat.say("wang", "确认")) and _status(chat) == "pending_approval"
    assert "没有待您审批" not in text_of(chat.say("wang", "待审批"))  # and commands run as usual afterwards


def test_a_redelivered_answer_is_one_answer(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    _asked(chat)
    chat.say("wang", "价格太低", event_id="ans-1")
    assert chat.say("wang", "价格太低", event_id="ans-1") == []
    assert chat.say("wang", "确认", event_id="yes-1") and chat.say("wang", "确认", event_id="yes-1") == []
    assert _status(chat) == "rejected"
