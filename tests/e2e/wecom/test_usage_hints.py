"""The text command the WeCom README shows for what a card cannot do (ship: carrier + tracking number), typed as
shown: understood, and the task ships."""

from __future__ import annotations

from tests.e2e.wecom.harness import WeComDriver
from tests.usage_hints import fill, readme_commands, understood


def test_the_readme_ship_command_is_understood(wx: WeComDriver) -> None:
    [command] = readme_commands("wecom", r".*请发送「.+」.*")
    typed = command.split("「", 1)[1].rstrip("」")
    assert typed.startswith("发货 T-12 ")
    wx.say("li", "下单 华兴 SKU-001 x10")
    wx.drain()
    [card] = wx.cards("wang")
    wx.click("wang", card, card.key("approve"))
    wx.drain()
    [task] = wx.tasks()
    number = wx.order("SO-20261123-0001").number
    wx.say("sun", fill(typed, number, task.ref))
    wx.drain()
    answers = wx.texts_to("sun")
    assert all(understood(a) for a in answers) and any("已确认发货" in a for a in answers)
    assert wx.order(number).status == "shipped"
