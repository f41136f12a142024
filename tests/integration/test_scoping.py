"""What a person may see and do: customer searches list only the asker's customers, a sales person does not order
for another sales person's customer (unless the deployment routes it to the owner's manager), and times in answers
are in the configured zone."""

from __future__ import annotations

from sqlalchemy import select

from bot.bootstrap import build
from domain.models import ApprovalStep, Order
from tests.sandbox import Chat, button, text_of
from tests.world import build_world


def test_an_ambiguous_customer_search_lists_only_the_askers_customers(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    mine = text_of(chat.say("li", "客户 C00"))  # C001 (li's) and C002 (amy's) both match
    assert "杭州华兴" in mine and "ACME" not in mine and "C002" not in mine
    everyone = text_of(chat.say("wang", "客户 C00"))  # a manager sees both
    assert "杭州华兴" in everyone and "ACME" in everyone
    for probe in ("客户 C00", "客户 ACME", "客户 %", "客户 _"):
        refused = text_of(chat.say("sun", probe))  # the warehouse sees no customer at all
        assert "杭州华兴" not in refused and "ACME" not in refused and "C00" not in refused.replace(probe[3:], "")


def test_like_wildcards_match_only_themselves(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    assert "ACME" not in text_of(chat.say("wang", "客户 %")) and "华兴" not in text_of(chat.say("wang", "客户 _"))


def test_statements_and_suggestions_are_scoped(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    refused = text_of(chat.say("amy", "对账单 C00"))
    assert "华兴" not in refused and "ACME" in refused  # amy's own customer only
    options = chat.client.get(f"/sandbox/api/suggest?user={chat.users['li']}&source=customers&q=").get_json()
    assert [o["label"] for o in options] == ["C001 杭州华兴电子有限公司"]
    options = chat.client.get(f"/sandbox/api/suggest?user={chat.users['li']}&source=customers&q=C00").get_json()
    assert [o["label"] for o in options] == ["C001 杭州华兴电子有限公司"]


def test_sales_cannot_order_for_another_sales_persons_customer(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    assert "ACME" not in text_of(chat.say("li", "下单 C002 SKU-002 x1"))  # not found among li's customers
    submit = button(chat.say("li", "新订单")[0]["card"], "submit_order")
    refused = chat.click("li", submit["token"], {"customer": str(w["c2"]), "product_1": "SKU-002", "qty_1": "1"})
    assert refused[0]["card"]["kind"] == "error" and "Amy Chen" in text_of(refused), text_of(refused)
    with ot.sessions() as s:
        assert s.scalars(select(Order)).all() == []
    assert "created" in text_of(chat.say("amy", "order C002 SKU-002 x1"))  # amy orders for her own customer


def test_a_setting_routes_such_orders_to_the_owners_manager(engine, db_url, clock, tmp_path):
    from bot.settings import Settings
    from tests.conftest import TEST_SECRET_KEY

    ot = build(Settings(_env_file=None, database_url=db_url, sandbox=True, run_dispatcher=False, run_scheduler=False,
                        secret_key=TEST_SECRET_KEY, data_dir=tmp_path, orders_for_other_sales="owner_manager"),
               clock=clock, engine=engine)
    w = build_world(ot.sessions)
    chat = Chat(ot)
    assert "已创建" in text_of(chat.say("li", "下单 ACME SKU-002 x1"))  # li may find amy's customer now
    with ot.sessions() as s:
        order = s.scalars(select(Order)).one()
        assert (order.sales_user_id, order.created_by_id) == (w["sales2"], w["sales"])  # amy keeps her customer
        first = s.scalars(select(ApprovalStep).where(ApprovalStep.order_id == order.id).order_by(ApprovalStep.seq)).first()
        assert first is not None and first.name_en == "Customer owner's manager" and first.name == "客户负责人的经理审批"
        assert [a.user_id for a in first.assignments] == [w["boss"]]  # amy's manager, and only them
    assert chat.cards("wang", "approval_request") and not chat.cards("zhao", "approval_request")


def test_already_decided_shows_the_local_time(ot):
    build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 华兴 SKU-001 x1")
    token = button(chat.cards("wang", "approval_request")[0], "approve")["token"]
    chat.click("wang", token)  # 2026-11-23 02:00 UTC = 10:00 in Shanghai
    late = text_of(chat.click("zhao", token))
    assert "2026年11月23日 10:00" in late and "02:00" not in late, late
