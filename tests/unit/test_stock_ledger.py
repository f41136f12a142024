"""The stock ledger's commands: on hand is the sum of the movements after a run of random operations; bad counts,
transfers and outsiders are refused; a restock clears the low-stock state. The warehouse's chat commands:
tests/integration/test_stock_ledger.py."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from domain import approvals, fulfilment, ledger, orders
from domain.audit import Actor
from domain.errors import DomainError
from domain.events import StockLow, StockRestocked
from domain.models import (
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
from tests.world import build_world, policy


def check_ledger(factory) -> None:  # type: ignore[no-untyped-def]
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
        check_ledger(session_factory)
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
    check_ledger(session_factory)


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
