"""Separation of duties on DingTalk: the creator or sales owner of an order cannot decide it — by text, by a card, as
a delegate — an ineligible delegate is refused with who would be eligible, and a step whose only approver is the
creator escalates to the next level."""

from __future__ import annotations

from domain.models import User

from .harness import DingTalkDriver

FIRST, SECOND, THIRD = (f"SO-20261123-000{n}" for n in (1, 2, 3))


def told(dt: DingTalkDriver, who: str, text: str) -> int:
    dt.drain()
    return sum(text in t for t in dt.texts_to(who))


def test_nobody_decides_an_order_they_created_or_own_on_dingtalk(dt: DingTalkDriver) -> None:
    dt.say("wang", "外出 至 12-05 转交 李四")
    assert told(dt, "wang", "可以转交给：赵经理") == 1

    dt.say("li", "下单 华兴 SKU-001 x10")
    dt.drain()
    [wang_card] = dt.cards("approval_request", to="wang")
    assert dt.click("li", wang_card, "approve").status_code == 200  # li clicks a copy of wang's card
    dt.say("li", f"同意 {FIRST}")
    assert told(dt, "li", "您创建并负责这张订单") == 2
    assert dt.order(FIRST).status == "pending_approval" and dt.audit("approve") == []

    dt.say("wang", "外出 至 12-05 转交 赵经理")
    dt.say("zhao", "下单 华兴 SKU-002 x1")
    dt.drain()
    assert [c.params["order_no"] for c in dt.cards("approval_request", to="zhao")] == [FIRST]  # not SECOND
    assert SECOND in [c.params["order_no"] for c in dt.cards("approval_request", to="wang")]
    dt.say("zhao", f"同意 {SECOND}")
    assert told(dt, "zhao", "您创建并负责这张订单") == 1 and dt.order(SECOND).status == "pending_approval"

    with dt.ot.sessions() as s:
        s.get(User, dt.world["boss2"]).active = False
        s.commit()
    dt.say("wang", "下单 华兴 SKU-002 x2")
    dt.drain()
    [escalated] = dt.cards("approval_request", to="admin")
    assert escalated.params["order_no"] == THIRD and escalated.params["subtitle"].startswith("转到您")
    assert dt.click("admin", escalated, "approve").status_code == 200
    assert dt.order(THIRD).status == "approved"
