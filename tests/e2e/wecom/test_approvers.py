"""Separation of duties on WeCom: the creator or sales owner of an order cannot decide it — by text, by a card, as
a delegate — an ineligible delegate is refused with who would be eligible, and a step whose only approver is the
creator escalates to the next level."""

from __future__ import annotations

from domain.models import User
from tests.e2e.wecom.harness import WeComDriver

FIRST, SECOND, THIRD = (f"SO-20261123-000{n}" for n in (1, 2, 3))


def told(wx: WeComDriver, who: str, text: str) -> int:
    wx.drain()
    return sum(text in t for t in wx.texts_to(who)) + sum(text in c.text for c in wx.cards(who))


def test_nobody_decides_an_order_they_created_or_own_on_wecom(wx: WeComDriver) -> None:
    wx.say("wang", "外出 至 12-05 转交 李四")
    assert told(wx, "wang", "可以转交给：赵经理") == 1

    wx.say("li", "下单 华兴 SKU-001 x10")
    wx.drain()
    [wang_card] = wx.cards("wang", FIRST)
    wx.click("li", wang_card, wang_card.key("approve"))  # li clicks a copy of wang's card
    wx.say("li", f"同意 {FIRST}")
    assert told(wx, "li", "您创建并负责这张订单") == 2
    assert wx.order(FIRST).status == "pending_approval" and wx.audit("approve") == []

    wx.say("wang", "外出 至 12-05 转交 赵经理")
    wx.say("zhao", "下单 华兴 SKU-002 x1")
    wx.drain()
    assert wx.cards("zhao", SECOND) == [] and len(wx.cards("wang", SECOND)) == 1
    wx.say("zhao", f"同意 {SECOND}")
    assert told(wx, "zhao", "您创建并负责这张订单") == 1 and wx.order(SECOND).status == "pending_approval"

    with wx.ot.sessions() as s:
        s.get(User, wx.world["boss2"]).active = False
        s.commit()
    wx.say("wang", "下单 华兴 SKU-002 x2")
    wx.drain()
    [escalated] = wx.cards("admin", THIRD)
    assert "转到您" in escalated.text
    wx.click("admin", escalated, escalated.key("approve"))
    assert wx.order(THIRD).status == "approved"
