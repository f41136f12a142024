"""Separation of duties through the whole application: when truly nobody may decide, admins are told and the
scheduler hands the step on as soon as someone can; the sandbox chat refuses the creator and the owner by text and by
card. The domain rules themselves: tests/unit/test_separation_of_duties.py."""

from __future__ import annotations

from sqlalchemy import select

from bot.jobs import Jobs
from domain.events import ApprovalRequested, NoEligibleApprover
from domain.models import AuditEntry, Role, StepStatus, User
from domain.orders import get_order
from tests.unit.test_separation_of_duties import assigned, create, decide, rules
from tests.world import build_world


def test_when_truly_nobody_may_decide_admins_are_told_and_the_scheduler_hands_it_on_later(ot, clock):
    w = build_world(ot.sessions)
    with ot.sessions() as s:  # the only admin creates an order whose rule names only them
        s.get(User, w["admin"]).roles = {Role.ADMIN, Role.SALES}
        s.commit()
    number, events = create(ot.sessions, clock, w, "admin", rules("admin"))
    assert assigned(ot.sessions, number) == {}
    assert [type(e) for e in events if isinstance(e, NoEligibleApprover | ApprovalRequested)] == [NoEligibleApprover]
    with ot.sessions() as s:
        order = get_order(s, number)
        assert order.status == "pending_approval" and order.steps[0].status == StepStatus.PENDING.value
        assert s.scalars(select(AuditEntry.action).where(AuditEntry.order_id == order.id)).all()[-1] == "no_eligible_approver"
    jobs = Jobs(ot.sessions, ot.ctx)
    assert jobs.approval_reminders() == 0  # still nobody
    with ot.sessions() as s:  # an admin adds a second admin
        second = User(username="admin2", display_name="第二管理员", locale="zh-CN")
        second.roles = {Role.ADMIN}
        s.add(second)
        s.commit()
        second_id = second.id
    assert jobs.approval_reminders() == 1
    assert assigned(ot.sessions, number) == {second_id: (None, "escalation")}
    decide(ot.sessions, clock, number, second_id)


# ---------------------------------------------------------------- the same through the sandbox chat (text and card)

NUMBER = "SO-20261123-0001"


def test_sandbox_creator_and_owner_cannot_approve_by_text_or_card_and_bad_delegates_are_refused(ot):
    from tests.sandbox import Chat, button, text_of

    w = build_world(ot.sessions)
    chat = Chat(ot)
    refused = text_of(chat.say("wang", "外出 至 12-05 转交 李四"))
    assert "李四 不能代您审批" in refused and "可以转交给：赵经理" in refused

    chat.say("li", "下单 华兴 SKU-001 x10")
    token = button(chat.cards("wang", "approval_request")[0], "approve")["token"]
    told = text_of(chat.click("li", token))  # li clicks a forwarded copy of wang's card
    assert "您不能审批订单" in told and "您创建并负责这张订单" in told
    assert "您创建并负责这张订单" in text_of(chat.say("li", f"同意 {NUMBER}"))
    assert "您创建并负责这张订单" in text_of(chat.say("li", f"驳回 {NUMBER} 不要了"))
    with ot.sessions() as s:
        assert get_order(s, NUMBER).status == "pending_approval"

    # wang orders himself: he is neither approver nor able to decide; zhao is
    chat.say("wang", "下单 华兴 SKU-002 x1")
    assert len(chat.cards("zhao", "approval_request")) == 2 and len(chat.cards("wang", "approval_request")) == 1
    assert "您创建并负责这张订单" in text_of(chat.say("wang", "同意 SO-20261123-0002"))

    # zhao steps out: the only sales manager left for wang's next order is wang himself → his manager, the admin
    with ot.sessions() as s:
        s.get(User, w["boss2"]).active = False
        s.commit()
    chat.say("wang", "下单 华兴 SKU-002 x2")
    [escalated] = chat.cards("admin", "approval_request")
    assert "SO-20261123-0003" in escalated["title"] and escalated["subtitle"].startswith("转到您")
    assert "已同意" in text_of(chat.click("admin", button(escalated, "approve")["token"]))


def test_sandbox_admins_are_told_when_nobody_may_decide(ot):
    from tests.sandbox import Chat, text_of

    w = build_world(ot.sessions)
    with ot.sessions() as s:
        for who in ("boss", "boss2"):
            s.get(User, w[who]).active = False
        s.get(User, w["admin"]).roles = {Role.ADMIN, Role.SALES}
        s.commit()
    chat = Chat(ot)
    chat.say("admin", "下单 华兴 SKU-002 x1")  # no sales manager left, and the only admin is the creator
    told = text_of([{"card": c} for c in chat.cards("admin", "info")])
    assert f"订单 {NUMBER} 无人可审批" in told and "不能审批自己的订单" in told
    assert chat.cards("admin", "approval_request") == []
