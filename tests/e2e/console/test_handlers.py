"""The read-only and presence handlers through the sandbox, in both languages: my orders, my approvals, tasks,
customer, stock, approve/reject by text, away and back (reports: tests/e2e/console/test_report_cards.py)."""

from __future__ import annotations

from tests.sandbox import Chat, button, text_of
from tests.world import build_world

NUMBER = "SO-20261123-0001"


def test_my_orders_and_my_approvals_in_both_languages(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 华兴 SKU-001 x10")
    chat.say("amy", "order ACME SKU-002 x4")
    mine = text_of(chat.say("li", "我的订单"))
    assert NUMBER in mine and "SO-20261123-0002" not in mine  # only li's own
    assert "SO-20261123-0002" in text_of(chat.say("amy", "MY ORDERS"))
    pending = text_of(chat.say("wang", "待审批"))
    assert NUMBER in pending and "SO-20261123-0002" in pending
    assert NUMBER in text_of(chat.say("wang", "ｐｅｎｄｉｎｇ"))  # full-width letters
    assert "没有" in text_of(chat.say("qian", "待审批")) or "No" in text_of(chat.say("qian", "pending"))


def test_approve_and_reject_by_text(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 华兴 SKU-001 x10")
    chat.say("li", "下单 华兴 SKU-002 x10")
    assert "已同意" in text_of(chat.say("wang", f"同意 {NUMBER}"))
    assert "理由" in text_of(chat.say("wang", "驳回 SO-20261123-0002"))  # a reason is required
    assert "已驳回" in text_of(chat.say("wang", "驳回 SO-20261123-0002 价格太低"))
    assert "已驳回" in text_of(chat.say("li", "订单 SO-20261123-0002"))


def test_customer_and_stock_views_respect_roles(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 华兴 SKU-001 x10")
    customer = text_of(chat.say("li", "客户 华兴"))
    assert "杭州华兴电子有限公司" in customer and NUMBER in customer
    assert "ACME" in text_of(chat.say("amy", "customer acme"))
    stock = text_of(chat.say("sun", "库存 SKU-001"))
    assert "上海仓" in stock and "90" in stock  # 100 on hand, 10 reserved
    assert "SKU-001" in text_of(chat.say("li", "stock 不锈钢螺丝"))
    assert "找不到" in text_of(chat.say("li", "库存 SKU-999")) or "No" in text_of(chat.say("li", "库存 SKU-999"))


def test_tasks_for_warehouse_staff(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    assert "没有待处理" in text_of(chat.say("sun", "我的任务"))
    chat.say("li", "下单 华兴 SKU-001 x10")
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "approve")["token"])
    replies = chat.say("sun", "tasks")
    cards = [r["card"] for r in replies if r.get("card")]
    assert len(cards) == 1 and cards[0]["kind"] == "shipping_task" and NUMBER in cards[0]["title"]
    ref = cards[0]["data"]["task"]  # ids are not reset between tests on PostgreSQL
    assert ref in text_of(chat.say("sun", f"领取 {ref}"))
    assert "孙仓管" in text_of(chat.say("sun", "tasks"))


def test_away_delegate_and_back(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    replies = text_of(chat.say("wang", "外出 至 12-01 转交 赵经理"))
    assert "2026年12月1日" in replies and "赵经理" in replies
    assert "回来" in text_of(chat.say("wang", "回来了")) or "back" in text_of(chat.say("wang", "back")).lower()
    chat.say("li", "下单 华兴 SKU-001 x10")
    assert len(chat.cards("wang", "approval_request")) == 1  # back: gets approvals again
