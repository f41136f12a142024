"""Master data on WeCom, end to end (encrypted callbacks, the outbox to the fake WeCom API): the form card tells the
one-message form (a template card cannot take typed input); that message creates or edits; refusals write nothing."""

from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select

from domain.models import Customer
from tests.e2e.wecom.harness import WeComDriver


def _customer(wx: WeComDriver, code: str) -> Customer:
    with wx.ot.sessions() as s:
        c = s.scalars(select(Customer).where(Customer.code == code)).one()
        s.expunge_all()
        return c


def _said(wx: WeComDriver, who: str) -> str:
    return json.dumps(wx.sends_to(who)[-1], ensure_ascii=False)


def test_customer_form_and_one_message_edit(wx: WeComDriver) -> None:
    wx.say("wang", "新建客户")
    wx.drain()
    form = _said(wx, "wang")
    assert "新建客户 名称=杭州新华电子 联系人=陈先生 电话=13800000001 信用额度=50000 账期=30" in form
    assert "可填字段" in form and "信用额度" in form

    wx.say("wang", "新建客户 名称=杭州新华电子 联系人=陈先生 电话=13800000001 信用额度=50000 账期=30")
    wx.drain()
    assert "已新建客户 杭州新华电子（C003）" in _said(wx, "wang")
    c = _customer(wx, "C003")
    assert (c.credit_limit, c.payment_terms_days, c.sales_user_id) == (Decimal("50000.00"), 30, wx.world["boss"])
    [created] = wx.audit("customer_created")
    assert created.platform == "wecom" and created.details["credit_limit"] == "50000.00"

    before = wx.snapshot()
    wx.say("wang", "修改客户 C003 信用额度=abc 账期=-3")
    wx.drain()
    said = json.dumps(wx.sends_to("wang")[-2:], ensure_ascii=False)  # one answer per bad field
    assert "金额「abc」无效" in said and "账期应为 0 到 365" in said
    assert wx.snapshot().audit == before.audit and _customer(wx, "C003").credit_limit == Decimal("50000.00")

    wx.say("sun", "修改客户 C003 电话=1")
    wx.drain()
    assert "客户资料由销售经理、管理员和负责销售修改" in _said(wx, "sun")


def test_the_customer_cards_edit_button_answers_with_the_form(wx: WeComDriver) -> None:
    wx.say("li", "客户 华兴")
    wx.drain()
    [card] = wx.cards("li", "杭州华兴电子有限公司")
    assert "¥200,000.00" in card.text and "陈先生" in card.text
    wx.click("li", card, card.key("edit_customer"))
    wx.drain()
    form = _said(wx, "li")
    # li's form: his own customer's contacts and address, not its credit terms; the one message that does it
    assert "修改客户 C001 电话=13800000001" in form and "信用额度、账期和客户等级由销售经理或管理员设置" in form
    wx.say("li", "修改客户 C001 电话=13800000099 地址=文三路 9 号")
    wx.drain()
    c = _customer(wx, "C001")
    assert (c.address, wx.audit("customer_updated")[-1].platform) == ("文三路 9 号", "wecom")
