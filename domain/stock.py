"""Stock reservation, release and shipment deduction, with the warehouse allocation rule.

Allocation: prefer one warehouse that can ship the whole order (the customer's regional warehouse
first); otherwise take each line from the regional warehouse first and split across others only when
needed. Stock rows are locked in id order (FOR UPDATE on PostgreSQL; SQLite's write lock serialises
anyway) before availability is read, and the table checks on_hand >= reserved >= 0, so stock is never oversold
nor negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from domain import ledger
from domain.audit import Actor
from domain.errors import InsufficientStock
from domain.messages import Message, Name
from domain.models import Customer, MovementKind, Order, OrderLine, Product, Reservation, Stock, Warehouse
from domain.uow import UnitOfWork


@dataclass(frozen=True)
class Shortfall:
    sku: str
    name: Name
    requested: int
    available: int


@dataclass(frozen=True)
class LowStockItem:
    sku: str
    name: str
    name_en: str | None
    unit: str
    warehouse: str
    available: int
    safety_stock: int


def low_stock(session: Session, warehouse_id: int | None = None) -> list[LowStockItem]:
    """Stock rows whose available quantity is below the product's safety stock, the largest shortfall first."""
    available = Stock.on_hand - Stock.reserved
    q = (select(Product.sku, Product.name, Product.name_en, Product.unit, Warehouse.name, available, Product.safety_stock)
         .join(Product, Product.id == Stock.product_id).join(Warehouse, Warehouse.id == Stock.warehouse_id)
         .where(available < Product.safety_stock)
         .order_by((Product.safety_stock - available).desc(), Product.sku, Warehouse.code))
    if warehouse_id is not None:
        q = q.where(Stock.warehouse_id == warehouse_id)
    return [LowStockItem(*row) for row in session.execute(q)]


def levels(session: Session, product_id: int) -> list[tuple[Stock, Warehouse]]:
    """One product's stock row in each warehouse that holds it, by warehouse code."""
    rows = session.execute(select(Stock, Warehouse).join(Warehouse).where(Stock.product_id == product_id)
                           .order_by(Warehouse.code)).all()
    return [(st, w) for st, w in rows]


def available_in_all(session: Session, product_id: int) -> int:
    """Available (on hand less reserved) in every warehouse together."""
    return int(session.scalar(select(func.coalesce(func.sum(Stock.on_hand - Stock.reserved), 0))
                              .where(Stock.product_id == product_id)) or 0)


def _regional_first(warehouses: Sequence[Warehouse], customer: Customer) -> list[Warehouse]:
    def serves(w: Warehouse) -> bool:
        regions = [r.strip() for r in w.region.split(",") if r.strip()]
        return bool(customer.province) and customer.province in regions

    return sorted(warehouses, key=lambda w: (not serves(w), w.code))


def plan(
    lines: Sequence[OrderLine], stock: dict[tuple[int, int], int], warehouses: list[Warehouse]
) -> list[tuple[OrderLine, int, int]] | None:
    """(line, warehouse id, quantity) for every line, or None when the stock cannot cover the order."""
    for w in warehouses:
        if all(stock.get((w.id, ln.product_id), 0) >= ln.quantity for ln in lines):
            return [(ln, w.id, ln.quantity) for ln in lines]
    left = dict(stock)
    result: list[tuple[OrderLine, int, int]] = []
    for ln in lines:
        need = ln.quantity
        for w in warehouses:
            take = min(need, left.get((w.id, ln.product_id), 0))
            if take > 0:
                result.append((ln, w.id, take))
                left[(w.id, ln.product_id)] -= take
                need -= take
            if need == 0:
                break
        if need:
            return None
    return result


def reserve(uow: UnitOfWork, order: Order) -> list[Reservation]:
    """Hold the order's quantities. The stock rows are locked (FOR UPDATE on PostgreSQL; SQLite's write lock holds
    for the whole transaction) and read afresh, so the availability read here cannot change before the commit; the
    table's CHECK (on_hand >= reserved) stays the last guard. The rows are written in one batch at the next flush."""
    s = uow.session
    product_ids = sorted({ln.product_id for ln in order.lines})
    rows = s.scalars(
        select(Stock).where(Stock.product_id.in_(product_ids)).order_by(Stock.id)
        .options(joinedload(Stock.warehouse)).with_for_update(of=Stock).execution_options(populate_existing=True)
    ).all()
    available = {(r.warehouse_id, r.product_id): r.on_hand - r.reserved for r in rows}
    warehouses = _regional_first(list({r.warehouse_id: r.warehouse for r in rows}.values()), order.customer)
    allocation = plan(order.lines, available, warehouses)
    if allocation is None:
        raise raise_shortfall(order.lines, available)
    by_key = {(r.warehouse_id, r.product_id): r for r in rows}
    made = []
    for line, wh_id, qty in allocation:
        row = by_key[(wh_id, line.product_id)]
        row.reserved += qty
        ledger.level_changed(uow, row, line.product)
        res = Reservation(order=order, line=line, warehouse_id=wh_id, product_id=line.product_id, quantity=qty)
        s.add(res)
        made.append(res)
    return made


def raise_shortfall(lines: Sequence[OrderLine], available: dict[tuple[int, int], int]) -> NoReturn:
    short = []
    for ln in lines:
        total = sum(v for (_, pid), v in available.items() if pid == ln.product_id)
        if total < ln.quantity:
            short.append(Shortfall(ln.product.sku, Name.of(ln.product), ln.quantity, total))
    said = [Message("{sku} {name} needs {requested}, available {available}, short by {short}",
                    {"sku": x.sku, "name": x.name, "requested": x.requested, "available": x.available,
                     "short": x.requested - x.available}) for x in short]
    raise InsufficientStock("Not enough stock; nothing was reserved: {lines}", lines=said, shortfall=short)


def _locked(uow: UnitOfWork, warehouse_id: int, product_id: int) -> Stock:
    return uow.session.scalars(
        select(Stock).where(Stock.warehouse_id == warehouse_id, Stock.product_id == product_id)
        .with_for_update().execution_options(populate_existing=True)
    ).one()


def release(uow: UnitOfWork, order: Order) -> None:
    """Give back whatever is still held for this order (rejection, cancellation, cancel of the rest)."""
    for res in sorted(order.reservations, key=lambda r: (r.warehouse_id, r.product_id)):
        if res.quantity > 0:
            row = _locked(uow, res.warehouse_id, res.product_id)
            row.reserved -= res.quantity
            res.quantity = 0
            ledger.level_changed(uow, row)
    uow.session.flush()


def ship_from_reservation(uow: UnitOfWork, res: Reservation, qty: int, actor: Actor, reference: str) -> None:
    """Shipment: the held quantity leaves the warehouse (reserved and on hand both go down, one movement)."""
    if qty > res.quantity:
        raise InsufficientStock(
            "Shipping {qty} exceeds the reserved {quantity}", qty=qty, quantity=res.quantity)
    row = _locked(uow, res.warehouse_id, res.product_id)
    row.reserved -= qty
    ledger.move(uow, row, -qty, MovementKind.SHIPMENT, actor, reference)
    res.quantity -= qty
    res.shipped += qty
    uow.session.flush()
