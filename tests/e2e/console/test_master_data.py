"""Master data in chat (issue 17): the customer card, customers and products created and edited by form or by one
message, who may do what, the audit trail behind the card's history, and prices that change without touching the
orders already placed. Through the sandbox API (the same core every platform calls) on SQLite and PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from domain.audit import Actor
from domain.customers import CustomerFields, create_customer, update_customer
from domain.errors import PermissionDenied
from domain.events import StockLow
from domain.models import AuditEntry, Customer, OrderLine, Product, Receivable, Stock, TierPrice, User
from domain.orders import get_order
from domain.products import ProductFields, update_product
from domain.uow import UnitOfWork
from tests.sandbox import Chat, button, text_of
from tests.world import build_world, place


def _count(ot, model) -> int:  # type: ignore[no-untyped-def]
    with ot.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _customer(ot, code: str) -> Customer:  # type: ignore[no-untyped-def]
    with ot.sessions() as s:
        c = s.scalars(select(Customer).where(Customer.code == code)).one()
        _ = c.contacts, c.sales_user
        return c


def _form(card: dict) -> tuple[str, dict[str, str]]:  # type: ignore[type-arg]
    """A form card's submit token and its inputs as the form shows them (what a person submits untouched)."""
    return button(card, card["buttons"][0]["action"])["token"], {i["name"]: i.get("initial") or "" for i in card["inputs"]}


# ---------------------------------------------------------------- the customer card


def test_customer_card_shows_contacts_credit_use_receivables_orders_and_owner(ot, clock):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    number = place(ot.sessions, clock, w, "c1", [("p1", 10)])  # 10 × tier-A 110.00, pending approval
    with ot.sessions() as s:  # an opening balance past due, and one not yet due
        s.add_all([Receivable(customer_id=w["c1"], reference="INV-OLD-1", amount=Decimal("5000.00"),
                              due_date=clock().date().replace(day=1)),
                   Receivable(customer_id=w["c1"], reference="INV-OLD-2", amount=Decimal("15000.00"),
                              due_date=clock().date().replace(month=12))])
        s.commit()
    card = chat.say("li", "客户 华兴")[0]["card"]
    fields = {f["label"]: f["value"] for f in card["fields"]}
    assert card["kind"] == "customer" and card["title"] == "杭州华兴电子有限公司（C001）"
    assert fields["负责销售"] == "李四" and fields["客户等级"] == "A" and fields["信用额度"] == "¥200,000.00"
    assert fields["已用额度"] == "¥20,000.00，占额度 ¥200,000.00 的 10%，剩余 ¥180,000.00"
    assert fields["应收款"] == "未收 ¥20,000.00，其中逾期 ¥5,000.00"
    assert fields["未发货金额"] == "¥1,100.00" and fields["账期"] == "30 天"
    assert "陈先生 · 13800000001" in card["text"]
    assert card["table"]["rows"] == [[number, "2026年11月23日", "待审批", "¥1,100.00"]]
    assert card["tone"] == "warning"  # something is overdue
    assert [b["action"] for b in card["buttons"]] == ["edit_customer"]  # li may edit his own customer

    english = chat.say("amy", "customer ACME")[0]["card"]  # amy's own customer, in English
    fields = {f["label"]: f["value"] for f in english["fields"]}
    assert fields["Credit used"] == "¥0.00 of ¥10,000.00 (0%), ¥10,000.00 left" and fields["Sales owner"] == "Amy Chen"
    assert "No orders yet" in english["text"]

    assert "找不到客户「ACME」" in text_of(chat.say("li", "客户 ACME"))  # not li's customer: not found for him
    assert "销售、经理和财务" in text_of(chat.say("sun", "客户 华兴"))  # the warehouse sees no customers
    finance = chat.say("qian", "客户 华兴")[0]["card"]
    assert finance["buttons"] == [] and "¥200,000.00" in text_of([{"card": finance}])  # finance reads, does not edit


# ---------------------------------------------------------------- creating and editing customers


def test_manager_edits_credit_terms_by_form_and_the_card_shows_the_history(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    form = chat.say("wang", "修改客户 C001")[0]["card"]
    assert form["kind"] == "form" and {"credit_limit", "payment_terms_days", "tier", "sales"} <= {i["name"] for i in form["inputs"]}
    token, inputs = _form(form)
    saved = chat.click("wang", token, {**inputs, "credit_limit": "300,000", "payment_terms_days": "45天",
                                       "contact2_name": "王会计", "contact2_role": "财务"})
    assert "已保存客户" in saved[0]["text"]
    c = _customer(ot, "C001")
    assert (c.credit_limit, c.payment_terms_days) == (Decimal("300000.00"), 45)
    assert [(k.seq, k.name, k.role) for k in c.contacts] == [(1, "陈先生", ""), (2, "王会计", "财务")]
    assert c.address == "文三路 1 号"  # fields the form showed and nobody touched stay as they were
    with ot.sessions() as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.subject == f"customer:{c.id}")).all()
        assert entry.action == "customer_updated" and entry.actor.username == "wang" and entry.platform == "console"
        assert entry.details["credit_limit"] == "200000.00 → 300000.00" and entry.details["payment_terms_days"] == "30 → 45"
    card = saved[0]["card"]
    assert "2026年11月23日 王经理：信用额度 ¥200,000.00 → ¥300,000.00，账期 30 天 → 45 天，联系人2 — → 王会计，职务2 — → 财务" in card["text"]
    with ot.sessions() as s:
        s.scalars(select(User).where(User.username == "li")).one().locale = "en"
        s.commit()
    english = text_of(chat.say("li", "customer C001"))
    assert "王经理: Credit limit ¥200,000.00 → ¥300,000.00; Payment terms 30 days → 45 days" in english

    # the same form submitted again after that change: refused as out of date, nothing written
    before = _count(ot, AuditEntry)
    assert "已被修改" in text_of(chat.click("wang", token, {**inputs, "credit_limit": "1"}))
    assert _count(ot, AuditEntry) == before and _customer(ot, "C001").credit_limit == Decimal("300000.00")


def test_one_message_create_and_edit_and_the_next_free_code(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    made = chat.say("wang", "新建客户 名称=杭州新华电子 联系人=周先生 电话=13900000002 信用额度=5万 账期=60 销售=李四 省份=浙江")
    assert "已新建客户 杭州新华电子（C003）" in made[0]["text"]  # C001 and C002 exist
    c = _customer(ot, "C003")
    assert (c.credit_limit, c.payment_terms_days, c.sales_user.username, c.tier) == (Decimal("50000.00"), 60, "li", "B")
    assert (c.contact_name, c.contact_phone, c.province) == ("周先生", "13900000002", "浙江")
    assert "王经理 新建客户：信用额度 ¥50,000.00，账期 60 天，客户等级 B" in text_of(made)
    english = chat.say("amy", "new customer Nova Tech phone=13800000009 city=Shenzhen")
    assert "Customer Nova Tech (C004) created." in english[0]["text"]  # the words before the first field: the name
    assert _customer(ot, "C004").sales_user.username == "amy"  # a sales person's new customer is their own
    edited = text_of(chat.say("amy", "edit customer C004 e-mail=ops@nova.example contact role=buyer"))
    assert "saved" in edited and _customer(ot, "C004").contacts[0].email == "ops@nova.example"
    assert "Nothing changed" in text_of(chat.say("amy", "edit customer C004 city=Shenzhen"))
    assert "已存在" in text_of(chat.say("wang", "新建客户 名称=杭州新华电子"))
    assert "客户编码不能修改" in text_of(chat.say("wang", "修改客户 C001 客户编码=C999"))


def test_bad_fields_are_each_refused_and_nothing_is_written(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    before = (_count(ot, Customer), _count(ot, AuditEntry))
    replies = chat.say("wang", "新建客户 名称=坏数据 信用额度=12,5 账期=400 邮箱=not-an-address")
    errors = {r["card"]["field_error"]: r["card"]["text"][0] for r in replies}
    assert set(errors) == {"credit_limit", "payment_terms_days"}  # every bad number at once
    assert "12,5" in errors["credit_limit"] and "365" in errors["payment_terms_days"]
    assert "邮箱" in text_of(chat.say("wang", "新建客户 名称=坏数据 邮箱=not-an-address"))
    assert "客户等级" in text_of(chat.say("wang", "新建客户 名称=坏数据 客户等级=Z"))
    assert "不是可填字段" in text_of(chat.say("wang", "新建客户 名称=坏数据 颜色=红"))
    long_name = "长" * 201
    assert "200" in text_of(chat.say("wang", f"新建客户 名称={long_name}"))
    form = chat.say("wang", "新建客户")[0]["card"]
    token, inputs = _form(form)
    blank = chat.click("wang", token, {**inputs, "name": "", "credit_limit": "-5"})
    assert {r["card"]["field_error"] for r in blank} == {"name", "credit_limit"}
    assert (_count(ot, Customer), _count(ot, AuditEntry)) == before


@pytest.mark.parametrize(("who", "text", "allowed"), [
    ("admin", "修改客户 C001 信用额度=1", True),
    ("wang", "修改客户 C002 账期=60", True),  # a manager edits any customer's terms
    ("li", "修改客户 C001 地址=文三路 2 号", True),  # his own customer's address
    ("li", "修改客户 C001 信用额度=500000", False),  # not its credit limit …
    ("li", "修改客户 C001 账期=90", False),  # … its payment terms …
    ("li", "修改客户 C001 客户等级=C 电话=1", False),  # … or its tier (restating it is fine, see below)
    ("li", "修改客户 C001 负责销售=张伟", False),  # nor hand it over
    ("li", "新建客户 名称=李四的新客户 信用额度=1000", False),  # a sales person's new customer has no credit yet
    ("li", "新建客户 名称=李四的新客户 销售=Amy Chen", False),
    ("amy", "edit customer C001 phone=1", False),  # not her customer
    ("qian", "修改客户 C001 电话=1", False),  # finance reads customers, does not edit them
    ("sun", "新建客户 名称=仓库的客户", False),  # the warehouse neither
    ("sun", "修改客户 C001 电话=1", False),
    ("admin", "修改商品 SKU-001 单价=130", True),
    ("wang", "修改商品 SKU-001 单价=130", False),  # products and prices: admins only
    ("li", "新建商品 SKU=SKU-900 名称=私货 单价=1", False),
    ("sun", "修改商品 SKU-001 安全库存=5", False),
])
def test_permission_matrix(ot, who, text, allowed):
    build_world(ot.sessions)
    chat = Chat(ot)
    before = (_count(ot, AuditEntry), _count(ot, Customer), _count(ot, Product))
    reply = chat.say(who, text)
    card = reply[0].get("card") or {}
    if allowed:
        assert card.get("kind") in ("customer", "product"), text_of(reply)
        assert _count(ot, AuditEntry) == before[0] + 1
    else:
        assert card.get("kind") == "error", text_of(reply)
        assert (_count(ot, Customer), _count(ot, Product)) == before[1:]
        with ot.sessions() as s:  # nothing changed; at most the attempt, kept as a refusal
            added = s.scalars(select(AuditEntry).order_by(AuditEntry.id).offset(before[0])).all()
            assert {e.action for e in added} <= {"refused"}, [(e.action, e.details) for e in added]


def test_a_sales_person_is_told_who_sets_credit_terms(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    said = chat.say("li", "修改客户 C001 信用额度=500000")[0]["card"]
    assert said["field_error"] == "credit_limit" and "由销售经理或管理员设置" in said["text"][0] and "王经理" in said["text"][0]
    with ot.sessions() as s:  # the attempt is in the audit trail, with who tried what
        [tried] = s.scalars(select(AuditEntry).where(AuditEntry.action == "refused")).all()
        assert (tried.actor_id, tried.platform) == (w["sales"], "console")
        assert tried.details == {"action_tried": "customer_credit_terms", "subject": f"customer:{w['c1']}",
                                 "credit_limit": "200000.00 → 500000.00"}
    english = text_of(chat.say("amy", "edit customer C002 credit limit=99999"))
    assert "set by a sales manager or an admin" in english and "王经理" in english  # amy's manager
    assert "saved" in text_of(chat.say("amy", "edit customer C002 tier=B phone=1"))  # restating the tier is no change
    form = chat.say("li", "修改客户 C001")[0]["card"]  # his form has no credit inputs; it shows them as fields
    assert not {"credit_limit", "payment_terms_days", "tier", "sales"} & {i["name"] for i in form["inputs"]}
    assert {f["label"] for f in form["fields"]} == {"客户等级", "信用额度", "账期", "负责销售"}


def test_domain_commands_refuse_and_never_commit(session_factory, clock):
    w = build_world(session_factory)
    uow = UnitOfWork(session_factory, clock)
    with uow:
        li = uow.session.get(User, w["sales"])
        with pytest.raises(PermissionDenied) as refused:
            update_customer(uow, li, Actor(li.id, "t"), w["c1"], CustomerFields(credit_limit=Decimal("1")))
        assert refused.value.field == "credit_limit"
        saved = create_customer(uow, li, Actor(li.id, "t"), CustomerFields(name="新客户"))
        assert saved.customer.code == "C003" and saved.customer.sales_user_id == li.id
    with session_factory() as s:  # the unit of work was never committed: nothing stayed
        assert s.scalar(select(func.count()).select_from(Customer)) == 2


# ---------------------------------------------------------------- products and prices


def test_a_price_change_leaves_open_orders_at_their_price(ot, clock):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    number = chat.say("li", "下单 华兴 SKU-001 x10")[0]["text"].split()[1]  # tier A: 110.00
    assert number.startswith("SO-")
    form = chat.say("admin", "修改商品 SKU-001")[0]["card"]
    token, inputs = _form(form)
    saved = chat.click("admin", token, {**inputs, "list_price": "150", "price_A": "140", "price_B": "145"})
    assert "已保存商品 SKU-001" in saved[0]["text"]
    with ot.sessions() as s:
        p = s.get(Product, w["p1"])
        assert (p.list_price, {t.tier: t.price for t in p.tier_prices}) == (
            Decimal("150.00"), {"A": Decimal("140.00"), "B": Decimal("145.00")})
        entry = s.scalars(select(AuditEntry).where(AuditEntry.subject == f"product:{p.id}")).one()
        assert entry.details == {"list_price": "120.00 → 150.00", "price_A": "110.00 → 140.00", "price_B": " → 145.00"}
    assert "管理员：单价 ¥120.00 → ¥150.00，A级价 ¥110.00 → ¥140.00，B级价 — → ¥145.00" in text_of(saved)
    # the open order keeps its price through approval and shipment, and is billed at it
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "approve")["token"])
    task = next(r["card"] for r in chat.say("sun", "tasks") if r.get("card") and r["card"]["kind"] == "shipping_task")
    chat.click("sun", button(task, "ship")["token"], {"carrier": "顺丰", "tracking": "SF1234567890"})
    with ot.sessions() as s:
        order = get_order(s, number)
        assert [(ln.unit_price, ln.amount) for ln in order.lines] == [(Decimal("110.00"), Decimal("1100.00"))]
        assert order.total == Decimal("1100.00") and order.status == "shipped"
        assert s.scalar(select(Receivable.amount).where(Receivable.order_id == order.id)) == Decimal("1100.00")
    newer = place(ot.sessions, clock, w, "c1", [("p1", 1)])  # an order placed now pays the new tier-A price
    with ot.sessions() as s:
        assert s.scalar(select(OrderLine.unit_price).join(OrderLine.order).where(OrderLine.order.has(number=newer))) == Decimal("140.00")


def test_products_by_one_message_both_languages_and_bad_input(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    made = chat.say("admin", "新建商品 SKU=SKU-100 名称=六角螺栓 M8 规格=M8x30 单位=盒 单价=25 A级价=22 安全库存=50")
    assert "已新建商品 SKU-100" in made[0]["text"] and made[0]["card"]["kind"] == "product"
    with ot.sessions() as s:
        p = s.scalars(select(Product).where(Product.sku == "SKU-100")).one()
        assert (p.name, p.spec, p.unit, p.list_price, p.safety_stock, p.active) == (
            "六角螺栓 M8", "M8x30", "盒", Decimal("25.00"), 50, True)
        assert {t.tier: t.price for t in p.tier_prices} == {"A": Decimal("22.00")}
        s.get(User, w["admin"]).locale = "en"
        s.commit()
    english = chat.say("admin", "edit product SKU-100 English name=Hex bolt M8 tier A price= active=no")
    assert english[0]["text"] == "Product SKU-100 saved." and english[0]["card"]["title"] == "SKU-100 Hex bolt M8"
    assert "Tier A price ¥22.00 → —" in text_of(english) and "Active Yes → No" in text_of(english)
    with ot.sessions() as s:
        assert s.scalar(select(func.count()).select_from(TierPrice).where(TierPrice.product_id == p.id)) == 0
    before = (_count(ot, Product), _count(ot, AuditEntry))
    bad = chat.say("admin", "new product SKU=SKU 101 name=x list price=abc safety stock=-1")
    assert {r["card"]["field_error"] for r in bad} == {"list_price", "safety_stock"}
    assert "SKU" in text_of(chat.say("admin", "new product SKU=SKU 101 name=x list price=3"))  # a SKU has no spaces
    assert "taken" in text_of(chat.say("admin", "new product SKU=sku-001 name=x list price=3"))
    assert "list price" in text_of(chat.say("admin", "new product SKU=SKU-101 name=x")).lower()
    assert (_count(ot, Product), _count(ot, AuditEntry)) == before


def test_raising_the_safety_stock_raises_the_low_stock_alert(session_factory, clock):
    w = build_world(session_factory)
    uow = UnitOfWork(session_factory, clock)
    with uow:
        admin = uow.session.get(User, w["admin"])
        update_product(uow, admin, Actor(admin.id, "t"), w["p1"], ProductFields(safety_stock=80))  # 50 in WH-GZ
        uow.commit()
        assert [(e.warehouse_id, e.available) for e in uow.events if isinstance(e, StockLow)] == [(w["south"], 50)]
    with session_factory() as s:
        low = s.scalars(select(Stock).where(Stock.product_id == w["p1"], Stock.low_since.is_not(None))).all()
        assert [r.warehouse_id for r in low] == [w["south"]]


def test_two_people_creating_customers_at_once_get_two_codes(session_factory, clock):
    """B computes the same next code while A's new customer is not committed yet; B's insert waits for A's, then
    takes the next number (PostgreSQL: the unique index and a savepoint; SQLite: writers queue)."""
    import threading

    w = build_world(session_factory)
    first = UnitOfWork(session_factory, clock)
    codes: list[str] = []
    with first:
        boss = first.session.get(User, w["boss"])
        codes.append(create_customer(first, boss, Actor(boss.id, "t"), CustomerFields(name="甲")).customer.code)

        def second() -> None:
            uow = UnitOfWork(session_factory, clock)
            with uow:
                other = uow.session.get(User, w["boss2"])
                codes.append(create_customer(uow, other, Actor(other.id, "t"), CustomerFields(name="乙")).customer.code)
                uow.commit()

        t = threading.Thread(target=second)
        t.start()
        t.join(0.5)  # B is waiting for A (its insert, or its transaction)
        first.commit()
    t.join(30)
    assert sorted(codes) == ["C003", "C004"]
    with session_factory() as s:
        assert sorted(s.scalars(select(Customer.code))) == ["C001", "C002", "C003", "C004"]


def test_admins_reach_the_product_form_from_the_stock_card(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    stock = chat.say("admin", "库存 SKU-001")[0]["card"]
    form = chat.click("admin", button(stock, "edit_product")["token"])[0]["card"]
    assert form["kind"] == "form" and form["title"] == "修改 SKU-001 不锈钢螺丝 M6"
    initial = {i["name"]: i.get("initial") for i in form["inputs"]}
    assert (initial["list_price"], initial["price_A"], initial["price_B"], initial["active"]) == ("120.00", "110.00", None, "yes")
    assert chat.say("sun", "库存 SKU-001")[0]["card"]["buttons"] == []  # the warehouse changes stock, not products


def test_the_history_shows_an_imports_changes_too(ot, clock):
    from domain.masterdata import CustomerImport, CustomerRecord

    w = build_world(ot.sessions)
    uow = UnitOfWork(ot.sessions, clock)
    with uow:
        admin = uow.session.get(User, w["admin"])
        run = CustomerImport(uow, admin, Actor(admin.id, "cli"))
        batch = run.batch([CustomerRecord(row=2, code="C001", credit_limit=Decimal("250000"), payment_terms_days=60,
                                          sales="wang")], apply=True)
        assert not batch.problems
        uow.commit()
    text = text_of(Chat(ot).say("wang", "客户 C001"))
    assert "管理员：信用额度 ¥200,000.00 → ¥250,000.00，账期 30 天 → 60 天，负责销售 李四 → 王经理（导入）" in text, text


def test_a_product_made_inactive_is_no_longer_sold_but_its_orders_stay(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    placed = chat.say("li", "下单 华兴 SKU-002 x2")[0]["text"]
    assert "SO-" in placed
    assert "已保存商品" in text_of(chat.say("admin", "修改商品 SKU-002 在售=否"))
    refused = text_of(chat.say("li", "下单 华兴 SKU-002 x3"))
    assert "第 1 行：SKU-002 工业轴承 6204 已停售" in refused
    with ot.sessions() as s:  # the order placed before is untouched
        assert s.scalar(select(func.count()).select_from(OrderLine)) == 1
    assert "已保存商品" in text_of(chat.say("admin", "修改商品 SKU-002 在售=是"))
    assert "SO-" in chat.say("li", "下单 华兴 SKU-002 x3")[0]["text"]
