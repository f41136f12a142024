"""End to end through the sandbox adapter: chat → intents → domain → outbox → inboxes."""

from __future__ import annotations

from sqlalchemy import func, select

from domain.audit import timeline
from domain.models import AuditEntry, Order, Stock
from domain.orders import get_order
from tests.sandbox import Chat, button, text_of
from tests.world import build_world


def test_order_approve_and_every_copy_updates(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    replies = chat.say("li", "下单 华兴 SKU-001 x10 SKU-002 x5")
    assert "SO-20261123-0001" in text_of(replies) and "已提交审批" in text_of(replies)
    wang, zhao = chat.cards("wang", "approval_request"), chat.cards("zhao", "approval_request")
    assert len(wang) == 1 and len(zhao) == 1  # 或签: both managers get the card
    assert "¥1,277.50" in text_of([{"card": wang[0]}])  # 10×110 (tier A) + 5×35.50
    replies = chat.click("wang", button(wang[0], "approve")["token"])
    assert "已同意订单 SO-20261123-0001" in text_of(replies)
    for who in ("wang", "zhao"):
        items = chat.inbox(who)
        decided = [i for i in items if i["card"] and i["card"]["kind"] == "approval_decided"]
        assert len(decided) == 1 and decided[0]["updated_at"] is not None  # replaced in place, not a new message
        assert "已同意 · 王经理" in decided[0]["card"]["subtitle"]
        assert not decided[0]["card"]["buttons"]
    assert "已审批通过" in text_of([{"card": c} for c in chat.cards("li", "info")])
    tasks = chat.cards("sun", "shipping_task")
    assert len(tasks) == 1 and "¥" not in str(tasks[0])  # warehouse staff see no prices
    # the second manager clicks the stale card: told who decided
    replies = chat.click("zhao", button(zhao[0], "approve")["token"])
    assert "已由 王经理" in text_of(replies)


def test_large_order_goes_to_finance_then_approved(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("amy", "order ACME SKU-003 x20")  # 13,600 > ACME's credit limit of 10,000
    card = chat.cards("wang", "approval_request")[0]
    chat.click("wang", button(card, "approve")["token"])
    fin = chat.cards("qian", "approval_request")
    assert len(fin) == 1 and "财务审批" in fin[0]["fields"][4]["value"]
    chat.click("qian", button(fin[0], "approve")["token"])
    with ot.sessions() as s:
        assert get_order(s, "SO-20261123-0001").status == "approved"
    assert any("approved" in c["title"] for c in chat.cards("amy", "info"))  # Amy reads English


def test_reject_with_reason_releases_and_tells_sales(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 C001 SKU-001 x10")
    card = chat.cards("wang", "approval_request")[0]
    reject = button(card, "reject")
    assert reject["inputs"][0]["name"] == "reason" and reject["presets"]
    assert "理由" in text_of(chat.click("wang", reject["token"], {"reason": "  "}))  # empty reason refused, nothing changed
    chat.click("wang", reject["token"], {"reason": "价格太低"})
    told = chat.cards("li", "info")
    assert any("价格太低" in " ".join(c["text"]) for c in told)
    with ot.sessions() as s:
        assert s.scalar(select(Stock.reserved).where(Stock.product_id == w["p1"], Stock.warehouse_id == w["east"])) == 0


def test_reject_other_reason_taken_from_next_message(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 C001 SKU-002 x1")
    card = chat.cards("wang", "approval_request")[0]
    other = next(p for p in button(card, "reject")["presets"] if "其他" in p["label"])
    assert "请直接回复" in text_of(chat.click("wang", other["token"]))
    assert "确认驳回" in text_of(chat.say("wang", "客户信用有问题"))  # echoed back first (tests/e2e/console/test_reject_prompt.py)
    assert "已驳回" in text_of(chat.say("wang", "确认"))
    with ot.sessions() as s:
        order = get_order(s, "SO-20261123-0001")
        assert order.status == "rejected" and order.steps[0].reason == "客户信用有问题"


def test_tampered_token_refused_and_nothing_changes(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 C001 SKU-002 x1")
    token = button(chat.cards("wang", "approval_request")[0], "approve")["token"]
    parts = token.split("@")
    forged = "@".join([parts[0], str(int(parts[1]) + 1)] + parts[2:])
    assert "无效" in text_of(chat.click("wang", forged))
    assert "无效" in text_of(chat.click("wang", "approve@1@0@@AAAAAAAAAAAAAAAA"))
    with ot.sessions() as s:
        assert get_order(s, "SO-20261123-0001").status == "pending_approval"


def test_redelivered_event_has_one_effect(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    first = chat.say("li", "下单 C001 SKU-002 x1", event_id="evt-1")
    again = chat.say("li", "下单 C001 SKU-002 x1", event_id="evt-1")
    assert first and again == []
    with ot.sessions() as s:
        assert s.scalar(select(func.count(Order.id))) == 1
    card = chat.cards("wang", "approval_request")[0]
    chat.click("wang", button(card, "approve")["token"], event_id="click-1")
    assert chat.click("wang", button(card, "approve")["token"], event_id="click-1") == []


def test_unlinked_person_is_told_how_to_link(ot):
    from bot.ports import InboundMessage

    build_world(ot.sessions)
    replies = ot.core.handle_message(InboundMessage(platform="dingtalk", external_user_id="manager4711", text="帮助",
                                                    event_id="x1"), deliver_replies=False)
    text = replies[0].text or ""
    # Nobody is identified: the answer is in the language they wrote in (Chinese here), in one language.
    assert "dingtalk / manager4711" in text and "管理员" in text and "Hello" not in text


def test_non_approver_click_refused_and_audited(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 C001 SKU-002 x1")
    token = button(chat.cards("wang", "approval_request")[0], "approve")["token"]
    replies = chat.click("qian", token)  # a forwarded card, clicked by finance
    assert "不是" in text_of(replies) and "审批人" in text_of(replies)
    with ot.sessions() as s:
        order = get_order(s, "SO-20261123-0001")
        assert order.status == "pending_approval"
        refused = [e for e in timeline(s, order.id) if e.action == "refused"]
        assert len(refused) == 1 and refused[0].platform == "console"


def test_status_card_respects_viewer(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 C001 SKU-001 x3")
    sales_view = chat.say("li", "订单 so-20261123-0001")[0]["card"]
    assert sales_view["kind"] == "order_status" and "¥" in str(sales_view["table"])
    assert any("提交审批" in t for t in sales_view["text"])  # the timeline
    wh_view = chat.say("sun", "ＳＯ－２０２６１１２３－０００１")[0]["card"]  # full-width digits
    assert "¥" not in str(wh_view) and wh_view["table"]["columns"][-1] == "数量"
    assert "may not view" in text_of(chat.say("amy", "status SO-20261123-0001"))
    assert "找不到订单" in text_of(chat.say("li", "查 SO-20261123-0099"))


def test_help_depends_on_roles_and_unknown_gets_a_hint(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    sales_help = text_of(chat.say("li", "帮助"))
    wh_help = text_of(chat.say("sun", "help"))
    assert "下单" in sales_help and "发货" not in sales_help
    assert "发货" in wh_help and "下单" not in wh_help
    assert "帮助" in text_of(chat.say("li", "今天天气不错"))
    assert "help" in text_of(chat.say("amy", "what's up"))


def test_nudge_at_most_once_an_hour(ot, clock):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 C001 SKU-002 x1")
    assert "已催办" in text_of(chat.say("li", "催办 SO-20261123-0001"))
    assert "分钟后再试" in text_of(chat.say("li", "催办 SO-20261123-0001"))
    clock.advance(minutes=61)
    assert "已催办" in text_of(chat.say("li", "remind SO-20261123-0001"))
    nudges = [c for c in chat.cards("wang", "approval_request") if "催办" in (c.get("subtitle") or "")]
    assert len(nudges) == 2


def test_away_delegates_new_approvals_until_back(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    refused = text_of(chat.say("wang", "外出 至 12-01 转交 管理员"))  # the admin is no sales manager
    assert "管理员 不能代您审批" in refused and "可以转交给：赵经理" in refused
    assert "转交 赵经理" in text_of(chat.say("wang", "外出 至 12-01 转交 赵经理"))
    chat.say("li", "下单 C001 SKU-002 x1")
    assert chat.cards("wang", "approval_request") == []
    assert len(chat.cards("zhao", "approval_request")) == 1 and chat.cards("admin", "approval_request") == []
    assert "欢迎回来" in text_of(chat.say("wang", "回来了"))
    chat.say("li", "下单 C001 SKU-002 x2")  # (the same lines again within minutes would first ask to confirm)
    assert len(chat.cards("wang", "approval_request")) == 1


def test_quick_order_ambiguity_offers_choices(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    replies = chat.say("wang", "下单 C00 SKU-002 x2")  # C001 and C002 both match "C00" (a manager orders for either)
    card = replies[0]["card"]
    assert card["kind"] == "choices" and len(card["buttons"]) == 2
    pick = next(b for b in card["buttons"] if "C001" in b["label"])
    assert "SO-20261123-0001" in text_of(chat.click("wang", pick["token"]))


def test_order_form_submission_and_field_errors(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    form = chat.say("li", "new order")[0]["card"]
    assert form["kind"] == "form" and {i["name"] for i in form["inputs"]} >= {"customer", "product_1", "qty_1"}
    submit = button(form, "submit_order")["token"]
    err = chat.click("li", submit, {"customer": str(w["c1"]), "product_1": str(w["p1"]), "qty_1": "-3"})
    assert err[0]["card"]["kind"] == "error" and err[0]["card"]["field_error"] == "qty_1"
    ok = chat.click("li", submit, {"customer": str(w["c1"]), "product_1": "SKU-002", "qty_1": "4", "requested_date": "2026-12-05"})
    assert "SO-20261123-0001" in text_of(ok)
    with ot.sessions() as s:
        assert str(get_order(s, "SO-20261123-0001").requested_date) == "2026-12-05"


def test_cancel_button_refused_when_card_is_stale(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 C001 SKU-002 x1")
    status = chat.say("li", "SO-20261123-0001")[0]["card"]
    cancel = button(status, "cancel")["token"]
    chat.say("li", "催办 SO-20261123-0001")  # a nudge does not change the order
    approve = button(chat.cards("wang", "approval_request")[0], "approve")["token"]
    chat.click("wang", approve)  # the order changes: the status card is now stale
    assert "过时" in text_of(chat.click("li", cancel))
    with ot.sessions() as s:
        assert get_order(s, "SO-20261123-0001").status == "approved"
        assert s.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "cancelled")) == 0


def test_control_characters_and_lone_surrogates_cannot_break_a_turn(ot):
    """PostgreSQL refuses NUL in text and nothing encodes a lone surrogate: cleaned at the port, never a 500."""
    build_world(ot.sessions)
    chat = Chat(ot)
    assert "SO-20261123-0001" in text_of(chat.say("li", "下单 华\x00兴 SKU-001 x10"))
    assert "\ufffd" in text_of(chat.say("li", "客户 \ud800"))  # answered (not found), the character replaced
    r = chat.client.post("/sandbox/api/messages", json={"user": chat.users["li"], "text": "hi", "event_id": "e" * 500})
    assert r.status_code == 200  # a long platform key is kept as its digest
    r2 = chat.client.post("/sandbox/api/messages", json={"user": chat.users["li"], "text": "hi", "event_id": "e" * 500})
    assert r2.get_json()["replies"] == []  # and still deduplicates
