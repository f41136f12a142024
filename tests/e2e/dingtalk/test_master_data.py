"""Master data on DingTalk, end to end (signed HTTP callbacks, the outbox to the fake OpenAPI): a form card arrives
as markdown that spells out the one-message form and its fields; that message creates or edits the customer or
product; a refusal says who can, and nothing is written."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from domain.models import Customer, Product
from tests.e2e.dingtalk.harness import DingTalkDriver


def _customer(dt: DingTalkDriver, code: str) -> Customer:
    with dt.ot.sessions() as s:
        c = s.scalars(select(Customer).where(Customer.code == code)).one()
        _ = c.contacts
        s.expunge_all()
        return c


def test_customer_form_by_one_message(dt: DingTalkDriver) -> None:
    dt.say("wang", "修改客户 C001")
    dt.drain()
    form = dt.texts_to("wang")[-1]
    assert "修改 杭州华兴电子有限公司（C001）" in form
    assert "修改客户 C001 信用额度=80000 账期=45" in form and "可填字段：客户名称、英文名称、联系人" in form
    assert "dtmd://" not in form.split("保存客户")[-1]  # a pattern to complete is shown as text, not a link that sends it

    dt.say("wang", "修改客户 C001 信用额度=30万 账期=45 联系人2=王会计 职务2=财务")
    dt.drain()
    c = _customer(dt, "C001")
    assert (c.credit_limit, c.payment_terms_days) == (Decimal("300000.00"), 45)
    assert [(k.name, k.role) for k in c.contacts] == [("陈先生", ""), ("王会计", "财务")]
    [entry] = dt.audit("customer_updated")
    assert entry.platform == "dingtalk" and entry.details["payment_terms_days"] == "30 → 45"
    answer = dt.texts_to("wang")[-1]
    assert "已保存客户" in answer and "信用额度 ¥200,000.00 → ¥300,000.00" in answer and "王会计 · 财务" in answer

    before = dt.snapshot()
    dt.say("li", "修改客户 C001 信用额度=50万")
    dt.drain()
    assert "由销售经理或管理员设置" in dt.texts_to("li")[-1] and "王经理" in dt.texts_to("li")[-1]
    assert dt.snapshot().audit == before.audit + 1 and dt.audit("refused")[-1].platform == "dingtalk"  # the attempt
    assert _customer(dt, "C001").credit_limit == Decimal("300000.00")

    dt.say("li", "新建客户 名称=宁波新材料 电话=13700000003")
    dt.drain()
    assert "已新建客户 宁波新材料（C003）" in dt.texts_to("li")[-1]
    assert _customer(dt, "C003").sales_user_id == dt.world["sales"]


def test_product_price_by_one_message(dt: DingTalkDriver) -> None:
    dt.say("admin", "修改商品 SKU-001 单价=130 A级价=118")
    dt.drain()
    assert "已保存商品 SKU-001" in dt.texts_to("admin")[-1]
    with dt.ot.sessions() as s:
        p = s.scalars(select(Product).where(Product.sku == "SKU-001")).one()
        assert (p.list_price, p.price_for("A")) == (Decimal("130.00"), Decimal("118.00"))
    dt.say("wang", "修改商品 SKU-001 单价=1")
    dt.drain()
    assert "只有管理员" in dt.texts_to("wang")[-1]
