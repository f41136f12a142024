"""Cards and lists as a first user meets them: tasks, pending approvals, the order card, payments, twins."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from tests.sandbox import Chat, button, text_of
from tests.world import build_world


def _number(replies) -> str:
    return re.search(r"SO-\d{8}-\d{4}", text_of(replies))[0]


def _at(clock, y: int, m: int, d: int, hh: int = 10) -> None:
    clock.current = datetime(y, m, d, hh - 8, 0, tzinfo=UTC)


def _approve_all(chat: Chat) -> None:
    for c in chat.cards("wang", "approval_request"):
        if c["buttons"]:
            chat.click("wang", button(c, "approve")["token"])


def test_my_tasks_open_first_newest_first_counted_paged_and_late_ones_marked(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _at(clock, 2026, 11, 23)
    numbers = [_number(chat.say("li", f"下单 华兴 SKU-002 x{q}"))
               for q in range(1, 8)]
    _approve_all(chat)
    first = chat.say("sun", "我的任务")
    assert first[0]["text"] == "待处理的发货任务：7 个 · 第 1–5 个"
    cards = [r["card"] for r in first if r.get("card")]
    tasks = [c for c in cards if c["kind"] == "shipping_task"]
    assert [t["data"]["order_no"] for t in tasks] == numbers[::-1][:5]  # newest first
    more = cards[-1]
    assert more["kind"] == "more" and more["title"] == "还有 2 个任务"
    page2 = chat.click("sun", more["buttons"][0]["token"])
    assert [r["card"]["data"]["order_no"] for r in page2 if r.get("card")] == numbers[1::-1]
    # A claimed task goes below the unclaimed ones.
    chat.click("sun", button(tasks[0], "claim")["token"])
    again = [r["card"] for r in chat.say("sun", "我的任务") if r.get("card") and r["card"]["kind"] == "shipping_task"]
    assert again[0]["data"]["order_no"] == numbers[-2] and numbers[-1] not in [c["data"]["order_no"] for c in again]


def test_a_passed_requested_date_stands_out_on_the_task(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _at(clock, 2026, 11, 23)
    form = chat.say("li", "下单")[0]["card"]
    chat.click("li", button(form, "submit_order")["token"],
               {"customer": "C001", "product_1": "SKU-002", "qty_1": "3", "requested_date": "11月25日"})
    _approve_all(chat)
    task = next(c for c in chat.cards("sun", "shipping_task"))
    assert dict((f["label"], f["value"]) for f in task["fields"])["要求交期"] == "2026年11月25日"
    _at(clock, 2026, 11, 27)
    late = [r["card"] for r in chat.say("sun", "我的任务") if r.get("card")][0]
    assert dict((f["label"], f["value"]) for f in late["fields"])["要求交期"] == "⚠ 2026年11月25日（已逾期）"
    assert late["tone"] == "warning"


def test_the_order_form_date_field_shows_the_readers_date_format(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    _at(clock, 2026, 11, 23)
    zh = {i["name"]: i for i in chat.say("li", "下单")[0]["card"]["inputs"]}
    en = {i["name"]: i for i in chat.say("amy", "new order")[0]["card"]["inputs"]}
    assert zh["requested_date"]["placeholder"] == "2026年11月30日" and en["requested_date"]["placeholder"] == "Nov 30, 2026"


def test_more_than_three_approvals_come_as_one_list_with_a_decide_button_each(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    numbers = [_number(chat.say("li", f"下单 华兴 SKU-002 x{q}")) for q in (1, 2, 3)]
    three = chat.say("wang", "待审批")
    assert [r["card"]["kind"] for r in three] == ["approval_request"] * 3
    numbers.append(_number(chat.say("li", "下单 华兴 SKU-002 x4")))
    listed = chat.say("wang", "待审批")
    assert len(listed) == 1
    card = listed[0]["card"]
    assert card["kind"] == "approval_list" and card["title"] == "待您审批：4 个订单"
    assert [row[0] for row in card["table"]["rows"]] == numbers
    assert [b["label"] for b in card["buttons"]] == [f"审批 {n}" for n in numbers]
    opened = chat.click("wang", card["buttons"][2]["token"])[0]["card"]
    assert opened["kind"] == "approval_request" and opened["data"]["order_no"] == numbers[2]
    assert "已同意订单" in text_of(chat.click("wang", button(opened, "approve")["token"]))
    refused = chat.click("wang", card["buttons"][2]["token"])  # a stale list button: that order is decided
    assert "已不需要您审批" in text_of(refused)


def test_order_card_payment_state_timeline_with_amounts_and_one_rejection(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    paid_no = _number(chat.say("li", "下单 华兴 SKU-002 x10"))  # 10 × 35.50 = ¥355.00
    _approve_all(chat)
    task = chat.cards("sun", "shipping_task")[0]
    chat.click("sun", button(task, "ship")["token"], {"carrier": "顺丰", "tracking": "SF1"})
    chat.say("qian", f"收款 {paid_no} 100")
    card = chat.say("li", paid_no)[0]["card"]
    fields = dict((f["label"], f["value"]) for f in card["fields"])
    assert fields["收款情况"] == "未收 ¥255.00（应收 ¥355.00）"
    timeline = "\n".join(card["text"])
    assert "李四 创建订单（¥355.00）" in timeline and "等待销售经理审批" in timeline
    assert "钱会计 收款 ¥100.00" in timeline and "孙仓管 发货 ¥355.00（顺丰 SF1）" in timeline
    assert "sales_manager_review" not in timeline and "（销售经理审批）" in timeline  # 王经理 同意（销售经理审批）
    warehouse = chat.say("sun", paid_no)[0]["card"]
    assert "¥" not in str(warehouse) and "收款情况" not in str(warehouse)  # no prices, no payments for the warehouse
    rejected_no = _number(chat.say("li", "下单 华兴 SKU-002 x11"))
    chat.click("wang", button(chat.cards("wang", "approval_request")[-1], "reject")["token"], {"reason": "价格太低"})
    rejected = chat.say("li", rejected_no)[0]["card"]
    lines = [t for t in rejected["text"] if "价格太低" in t]
    assert len(lines) == 1 and "王经理 驳回" in lines[0]
    assert "收款情况" not in str(rejected)
    en = chat.say("amy", "order ACME SKU-002 x2")
    en_no = _number(en)
    en_card = chat.say("amy", en_no)[0]["card"]
    assert dict((f["label"], f["value"]) for f in en_card["fields"])["Payment"] == "Nothing due yet (not shipped)"


def test_finance_approval_card_shows_credit_limit_open_and_overdue(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    no = _number(chat.say("amy", "order ACME SKU-002 x300"))  # ¥10,650.00 over ACME's ¥10,000.00 limit
    _approve_all(chat)
    card = next(c for c in chat.cards("qian", "approval_request") if c["data"]["order_no"] == no)
    fields = dict((f["label"], f["value"]) for f in card["fields"])
    assert fields["信用额度"] == "¥10,000.00" and fields["未收应收款"] == "¥0.00" and fields["逾期应收款"] == "¥0.00"
    assert fields["加上本单"] == "¥10,650.00，超出额度 ¥650.00"
    assert "超出客户信用额度" in "".join(card["text"]) and "over_credit_limit" not in str(card)
    manager = chat.cards("wang", "approval_decided")[0]
    assert "信用额度" not in str(manager["fields"])  # the sales manager's card stays about the order


def test_payment_on_an_order_with_nothing_due_says_why(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    pending = _number(chat.say("li", "下单 华兴 SKU-002 x1"))
    assert "还没有应收款：尚未发货（待审批）" in text_of(chat.say("qian", f"收款 {pending} 10"))
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "reject")["token"], {"reason": "不要了"})
    said = text_of(chat.say("qian", f"收款 {pending} 10"))
    assert "没有应收款：订单已驳回" in said and "0.00" not in said
    en = _number(chat.say("amy", "order ACME SKU-002 x2"))
    assert "还没有应收款" in text_of(chat.say("qian", f"收款 {en} 10"))


def test_the_same_order_again_within_ten_minutes_asks_first(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    first = _number(chat.say("li", "下单 华兴 SKU-001 x10 SKU-002 x5"))
    clock.advance(minutes=3)
    ask = chat.say("li", "下单 华兴 SKU-002 x5 SKU-001 x10")[0]["card"]  # same lines, another order
    assert ask["kind"] == "confirm" and first in ask["text"][0] and "3 分钟前" in ask["text"][0]
    with ot.sessions() as s:
        from domain.models import Order

        assert s.query(Order).count() == 1
    placed = text_of(chat.click("li", button(ask, "confirm_order")["token"]))
    assert "已创建" in placed and _number([{"text": placed}]) != first
    assert "这个确认已过期" in text_of(chat.click("li", button(ask, "confirm_order")["token"]))  # used once
    clock.advance(minutes=11)
    assert "已创建" in text_of(chat.say("li", "下单 华兴 SKU-001 x10 SKU-002 x5"))  # later on, no question
    assert "已创建" in text_of(chat.say("li", "下单 华兴 SKU-001 x10 SKU-002 x6"))  # other lines, no question
