"""The stock ledger on SQLite and PostgreSQL: on hand is the sum of the movements after a run of random operations,
and the warehouse's chat commands (入库 / 盘点 / 调拨, the receipt form, 库存) with their permissions and the
low-stock state a restock clears."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from domain import approvals, fulfilment, ledger, orders
from domain.audit import Actor
from domain.errors import DomainError
from domain.events import StockLow, StockRestocked
from domain.models import (
    MovementKind,
    OrderStatus,
    Product,
    Reservation,
    Stock,
    StockMovement,
    User,
    Warehouse,
)
from domain.orders import LineRequest, OrderRequest
from domain.uow import UnitOfWork
from tests.sandbox import Chat, button, text_of
from tests.world import build_world, policy


def _check_ledger(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as s:
        for st in s.scalars(select(Stock)):
            moved = s.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0)).where(StockMovement.stock_id == st.id))
            held = s.scalar(select(func.coalesce(func.sum(Reservation.quantity), 0))
                            .where(Reservation.warehouse_id == st.warehouse_id, Reservation.product_id == st.product_id))
            assert st.on_hand == moved, (st.warehouse_id, st.product_id)
            assert st.reserved == held and 0 <= st.reserved <= st.on_hand
            last = s.scalar(select(StockMovement.on_hand_after).where(StockMovement.stock_id == st.id)
                            .order_by(StockMovement.id.desc()).limit(1))
            assert last in (None, st.on_hand)


def test_on_hand_is_the_sum_of_movements_after_random_operations(session_factory, clock):
    w = build_world(session_factory)
    rng = random.Random(17)
    products = [w["p1"], w["p2"], w["p3"]]
    houses = [w["east"], w["south"]]
    placed: list[str] = []
    done = {"order": 0, "cancel": 0, "ship": 0, "receive": 0, "count": 0, "transfer": 0}
    for step in range(120):
        op = rng.choice(list(done))
        uow = UnitOfWork(session_factory, clock)
        try:
            with uow:
                s = uow.session
                admin = s.get(User, w["admin"])
                actor = Actor(admin.id, "test")
                if op == "order":
                    sales = s.get(User, w["sales"])
                    lines = [LineRequest(p, rng.randint(1, 40)) for p in rng.sample(products, rng.randint(1, 2))]
                    placed.append(orders.create_order(uow, sales, OrderRequest(w["c1"], lines), policy(), Actor(sales.id, "t")).number)
                elif op == "cancel" and placed:
                    number = placed.pop(rng.randrange(len(placed)))
                    order = orders.get_order(s, number)
                    if order.state in (OrderStatus.PENDING_APPROVAL, OrderStatus.APPROVED):
                        orders.cancel_order(uow, s.get(User, w["boss"]), number, "test", actor)
                elif op == "ship" and placed:
                    order = orders.get_order(s, rng.choice(placed))
                    while (st := approvals.current_step(order)) is not None:
                        approver = st.assignments[0].user
                        approvals.decide(uow, st.id, approver, True, Actor(approver.id, "t"))
                    s.flush()
                    for task in fulfilment.open_tasks_for(s, admin):
                        if task.order_id == order.id:
                            held = {r.order_line_id: max(1, r.quantity // 2) for r in fulfilment.task_lines(s, task) if r.quantity}
                            fulfilment.ship(uow, task.id, admin, "顺丰", f"SF{step:08d}", held if rng.random() < 0.5 else None,
                                            actor, policy().local_today)
                elif op in ("receive", "count", "transfer"):
                    product, house = s.get(Product, rng.choice(products)), s.get(Warehouse, rng.choice(houses))
                    if op == "receive":
                        ledger.receive(uow, admin, actor, house, [(product, rng.randint(1, 50))], "补货")
                    elif op == "count":
                        row = ledger.lock_row(uow, house.id, product.id)
                        ledger.count(uow, admin, actor, house, product, row.reserved + rng.randint(0, 60))
                    else:
                        other = s.get(Warehouse, next(h for h in houses if h != house.id))
                        ledger.transfer(uow, admin, actor, product, house, other, rng.randint(1, 30))
                uow.commit()
                done[op] += 1
        except DomainError:
            pass  # refused (not enough stock, nothing to ship…): nothing may have changed
        _check_ledger(session_factory)
    assert all(n > 3 for n in done.values()), done
    with session_factory() as s:
        kinds = set(s.scalars(select(StockMovement.kind)))
    assert kinds >= {"opening", "shipment", "receipt", "count", "transfer_out", "transfer_in"}


def test_commands_refuse_bad_counts_and_transfers_and_outsiders(session_factory, clock):
    w = build_world(session_factory)
    number = None
    uow = UnitOfWork(session_factory, clock)
    with uow:
        sales = uow.session.get(User, w["sales"])
        number = orders.create_order(uow, sales, OrderRequest(w["c1"], [LineRequest(w["p1"], 30)]), policy(),
                                     Actor(sales.id, "t")).number
        uow.commit()
    assert number
    with uow:
        s = uow.session
        sun, li = s.get(User, w["wh"]), s.get(User, w["sales"])
        east, south, p1 = s.get(Warehouse, w["east"]), s.get(Warehouse, w["south"]), s.get(Product, w["p1"])
        with pytest.raises(DomainError, match="reserved"):
            ledger.count(uow, sun, Actor(sun.id, "t"), east, p1, 29)  # 30 are held for the order
        with pytest.raises(DomainError, match="available"):
            ledger.transfer(uow, sun, Actor(sun.id, "t"), p1, east, south, 71)  # 100 on hand − 30 held
        with pytest.raises(DomainError, match="Only staff"):
            ledger.receive(uow, sun, Actor(sun.id, "t"), south, [(p1, 5)])  # not his warehouse
        with pytest.raises(DomainError, match="Only staff"):
            ledger.receive(uow, li, Actor(li.id, "t"), east, [(p1, 5)])
    _check_ledger(session_factory)


def test_a_restock_above_safety_stock_clears_the_low_stock_state(session_factory, clock):
    w = build_world(session_factory)
    events = []
    uow = UnitOfWork(session_factory, clock)
    for qty in (85, 5):  # east SKU-001: 100 on hand, safety 20 → 15 available (low), then 10 (still the same spell)
        with uow:
            sales = uow.session.get(User, w["sales"])
            orders.create_order(uow, sales, OrderRequest(w["c1"], [LineRequest(w["p1"], qty)]), policy(), Actor(sales.id, "t"))
            uow.commit()
            events += uow.events
    lows = [e for e in events if isinstance(e, StockLow)]
    assert len(lows) == 1 and lows[0].available == 15 and lows[0].since is not None
    with uow:
        sun = uow.session.get(User, w["wh"])
        ledger.receive(uow, sun, Actor(sun.id, "t"), uow.session.get(Warehouse, w["east"]),
                       [(uow.session.get(Product, w["p1"]), 40)])
        uow.commit()
        assert [e for e in uow.events if isinstance(e, StockRestocked)][0].available == 50
    with session_factory() as s:
        assert s.scalar(select(Stock.low_since).where(Stock.warehouse_id == w["east"], Stock.product_id == w["p1"])) is None
    clock.advance(minutes=5)
    with uow:  # the same day, below again: a new spell, so a new alert
        sales = uow.session.get(User, w["sales"])
        orders.create_order(uow, sales, OrderRequest(w["c1"], [LineRequest(w["p1"], 35)]), policy(), Actor(sales.id, "t"))
        uow.commit()
        assert [e.available for e in uow.events if isinstance(e, StockLow)] == [15]


def test_warehouse_chat_commands(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    reply = text_of(chat.say("sun", "入库 SKU-001 100 供应商到货"))
    assert "已入库" in reply and "上海仓 可用 200" in reply and "全部仓库可用 250" in reply
    counted = text_of(chat.say("sun", "盘点 SKU-001 195"))
    assert "差异 -5" in counted and "上海仓 可用 195" in counted
    assert "与账面一致" in text_of(chat.say("sun", "盘点 SKU-001 195 上海仓"))
    moved = text_of(chat.say("sun", "调拨 SKU-001 20 上海仓 广州仓"))
    assert "上海仓 可用 175" in moved and "广州仓 可用 70" in moved
    assert "only" in text_of(chat.say("amy", "receive SKU-001 5")).lower()  # sales may not
    assert "广州仓" in text_of(chat.say("sun", "入库 SKU-001 5 广州仓"))  # not his warehouse: refused
    assert "仓库人员" in text_of(chat.say("sun", "入库 SKU-001 5 广州仓"))
    assert "整数" in text_of(chat.say("sun", "入库 SKU-001 1.5"))
    view = chat.say("sun", "库存 SKU-001")
    text = text_of(view)
    assert "上海仓 | 175 | 0 | 175" in text and "广州仓 | 70 | 0 | 70" in text
    assert "调拨出 -20 → 175 · 孙仓管 · WH-SH>WH-GZ" in text and "入库 +100 → 200 · 孙仓管 · 供应商到货" in text
    with ot.sessions() as s:  # an English-speaking admin reads the same in English, units included
        s.get(User, w["admin"]).locale = "en"
        s.commit()
    english = text_of(chat.say("admin", "receive SKU-001 5 WH-GZ"))
    assert "Received 5 boxes of SKU-001" in english and "广州仓: 75 boxes available" in english, english
    assert "Last movements" in text_of(chat.say("admin", "stock SKU-001"))
    assert "Only warehouse staff" in text_of(chat.say("amy", "transfer SKU-001 1 WH-SH WH-GZ"))
    with ot.sessions() as s:
        east = s.scalar(select(Stock).where(Stock.warehouse_id == w["east"], Stock.product_id == w["p1"]))
        assert east.on_hand == 175
        assert s.scalar(select(func.sum(StockMovement.quantity)).where(StockMovement.stock_id == east.id)) == 175
    _check_ledger(ot.sessions)


def test_receipt_form_card(ot):
    w = build_world(ot.sessions)
    chat = Chat(ot)
    form = chat.say("sun", "入库")[0]["card"]
    assert form["kind"] == "form" and [o["label"] for o in form["inputs"][0]["options"]] == ["上海仓（WH-SH）"]
    token = button(form, "receive_goods")["token"]
    bad = text_of(chat.click("sun", token, {"warehouse": str(w["east"]), "product_1": str(w["p1"]), "qty_1": "0"}))
    assert "大于 0" in bad
    done = chat.click("sun", token, {"warehouse": str(w["east"]), "product_1": str(w["p1"]), "qty_1": "1,000",
                                     "product_2": "SKU-003", "qty_2": "5", "note": "采购单 PO-7"})
    table = done[0]["card"]["table"]["rows"]
    assert table == [["SKU-001", "不锈钢螺丝 M6", "+1000", "1100"], ["SKU-003", "液压油 46#", "+5", "15"]]
    admin_form = chat.say("admin", "receive")[0]["card"]
    assert len(admin_form["inputs"][0]["options"]) == 2  # an admin may receive anywhere
    assert "仓库人员" in text_of(chat.say("li", "入库"))
    with ot.sessions() as s:
        notes = set(s.scalars(select(StockMovement.note).where(StockMovement.kind == MovementKind.RECEIPT.value)))
        assert notes == {"采购单 PO-7"}
