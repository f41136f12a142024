"""The stock ledger: every change of on-hand stock is a movement row (who, when, why, reference).

`on_hand` of a stock row is only changed by `move`, which writes the movement in the same flush, so on hand always
equals the sum of the row's movements. On top of it the warehouse commands: receipt (入库), count (盘点) and transfer
(调拨) — permission, rule, state change, audit entry, events — and the low-stock state of a row: set when available
falls below safety stock (one alert per spell), cleared when it is back at or above it (a restock, a released order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from domain.audit import Actor, record
from domain.errors import PermissionDenied, ValidationFailed
from domain.events import StockLow, StockRestocked
from domain.models import MovementKind, Product, Stock, StockMovement, User, Warehouse
from domain.permissions import may_move_stock
from domain.uow import UnitOfWork

NOTE_MAX = 300


def lock_row(uow: UnitOfWork, warehouse_id: int, product_id: int) -> Stock:
    """The stock row of a product in a warehouse, locked; created (empty) when the warehouse never held it.

    INSERT … ON CONFLICT DO NOTHING first, so two first receipts of a product into a warehouse do not collide."""
    s = uow.session
    dialect = s.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    s.execute(insert(Stock).values(warehouse_id=warehouse_id, product_id=product_id, on_hand=0, reserved=0)
              .on_conflict_do_nothing(index_elements=["warehouse_id", "product_id"]))
    row = s.scalars(select(Stock).where(Stock.warehouse_id == warehouse_id, Stock.product_id == product_id)
                    .with_for_update().execution_options(populate_existing=True)).one()
    return row


def move(uow: UnitOfWork, row: Stock, delta: int, kind: MovementKind, actor: Actor, reference: str = "",
         note: str = "") -> StockMovement:
    """Change on hand by `delta` (the row must be locked) and write the movement that says so."""
    if row.on_hand + delta < row.reserved:
        raise ValidationFailed("On hand cannot go below the {reserved} reserved", reserved=row.reserved)
    row.on_hand += delta
    movement = StockMovement(stock_id=row.id, kind=kind.value, quantity=delta, on_hand_after=row.on_hand,
                             reference=reference[:64], note=note[:NOTE_MAX], actor_id=actor.user_id, at=uow.now())
    uow.session.add(movement)
    return movement


def level_changed(uow: UnitOfWork, row: Stock, product: Product | None = None) -> None:
    """Enter or leave the low-stock state after available changed (reservation, release, receipt, count…)."""
    product = product or uow.session.get(Product, row.product_id)
    assert product is not None
    available = row.on_hand - row.reserved
    if available < product.safety_stock and row.low_since is None:
        row.low_since = uow.now()
        uow.emit(StockLow(product.id, row.warehouse_id, available, product.safety_stock, row.low_since))
    elif available >= product.safety_stock and row.low_since is not None:
        row.low_since = None
        uow.emit(StockRestocked(product.id, row.warehouse_id, available, product.safety_stock))


# ---------------------------------------------------------------- warehouse commands


@dataclass(frozen=True)
class Moved:
    """The outcome of a warehouse command: the rows it changed, with their new figures."""

    product: Product
    rows: tuple[tuple[Warehouse, Stock], ...]
    movements: tuple[StockMovement, ...]


def _check(user: User, warehouse: Warehouse, what: str) -> None:
    """`what`: the refusal's msgid, with the warehouse as {warehouse}."""
    if not may_move_stock(user, warehouse.id):
        raise PermissionDenied(what, warehouse=warehouse.name)


def _note(note: str) -> str:
    note = " ".join(note.split())
    if len(note) > NOTE_MAX:
        raise ValidationFailed("The note is longer than {NOTE_MAX} characters", NOTE_MAX=NOTE_MAX, field="note")
    return note


def receive(uow: UnitOfWork, user: User, actor: Actor, warehouse: Warehouse, lines: Sequence[tuple[Product, int]],
            note: str = "", reference: str = "", kind: MovementKind = MovementKind.RECEIPT) -> list[Moved]:
    """入库: goods arrive (a purchase, or a customer's return with kind RETURN). Several lines in one receipt."""
    _check(user, warehouse, "Only staff of {warehouse} or an admin can receive goods there")
    if not lines:
        raise ValidationFailed("A receipt needs at least one line", field="lines")
    if len({p.id for p, _ in lines}) != len(lines):
        raise ValidationFailed("A product appears twice in the receipt", field="lines")
    note = _note(note)
    done = []
    for product, qty in sorted(lines, key=lambda pq: pq[0].id):  # lock rows in one order: no deadlock between receipts
        if qty <= 0:
            raise ValidationFailed("{sku}: quantity must be above 0", sku=product.sku, field="quantity")
        row = lock_row(uow, warehouse.id, product.id)
        mv = move(uow, row, qty, kind, actor, reference, note)
        level_changed(uow, row, product)
        done.append(Moved(product, ((warehouse, row),), (mv,)))
    uow.session.flush()
    record(uow, None, actor, "stock_" + kind.value, subject=f"warehouse:{warehouse.id}",
           lines=";".join(f"{p.sku}+{q}" for p, q in lines), note=note)
    return done


def count(uow: UnitOfWork, user: User, actor: Actor, warehouse: Warehouse, product: Product, counted: int,
          note: str = "") -> Moved:
    """盘点: the counted quantity becomes on hand; the difference is the movement (none when it matches)."""
    _check(user, warehouse, "Only staff of {warehouse} or an admin can count stock there")
    if counted < 0:
        raise ValidationFailed("A count cannot be negative", field="quantity")
    note = _note(note)
    row = lock_row(uow, warehouse.id, product.id)
    if counted < row.reserved:
        raise ValidationFailed(
            "The count of {counted} is below the {reserved} reserved for orders: settle those orders first (cancel or reduce them), then count again", counted=counted, reserved=row.reserved, field="quantity")
    movements: tuple[StockMovement, ...] = ()
    delta = counted - row.on_hand
    if delta:
        movements = (move(uow, row, delta, MovementKind.COUNT, actor, "", note),)
    level_changed(uow, row, product)
    uow.session.flush()
    record(uow, None, actor, "stock_count", subject=f"warehouse:{warehouse.id}", sku=product.sku, counted=counted,
           difference=delta, note=note)
    return Moved(product, ((warehouse, row),), movements)


def transfer(uow: UnitOfWork, user: User, actor: Actor, product: Product, source: Warehouse, target: Warehouse,
             qty: int, note: str = "") -> Moved:
    """调拨: goods leave one warehouse and arrive in another (the source's staff send them)."""
    _check(user, source, "Only staff of {warehouse} or an admin can transfer goods out of it")
    if source.id == target.id:
        raise ValidationFailed("The two warehouses must differ", field="warehouse")
    if qty <= 0:
        raise ValidationFailed("The quantity must be above 0", field="quantity")
    note = _note(note)
    first, second = sorted((source, target), key=lambda w: w.id)  # one lock order for every transfer
    rows = {w.id: lock_row(uow, w.id, product.id) for w in (first, second)}
    out_row, in_row = rows[source.id], rows[target.id]
    if out_row.on_hand - out_row.reserved < qty:
        raise ValidationFailed(
            "{name} has only {value} of {sku} available; cannot transfer {qty}", name=source.name, value=out_row.on_hand - out_row.reserved, sku=product.sku, qty=qty, field="quantity")
    ref = f"{source.code}>{target.code}"
    out_mv = move(uow, out_row, -qty, MovementKind.TRANSFER_OUT, actor, ref, note)
    in_mv = move(uow, in_row, qty, MovementKind.TRANSFER_IN, actor, ref, note)
    level_changed(uow, out_row, product)
    level_changed(uow, in_row, product)
    uow.session.flush()
    record(uow, None, actor, "stock_transfer", subject=f"warehouse:{source.id}", sku=product.sku, quantity=qty,
           to=target.code, note=note)
    return Moved(product, ((source, out_row), (target, in_row)), (out_mv, in_mv))


def set_on_hand(uow: UnitOfWork, row: Stock, quantity: int, actor: Actor, reference: str) -> StockMovement | None:
    """Moving in: the figure from the old system becomes on hand — an opening movement for a row with no history,
    a count for one that has it. No movement when it already matches."""
    if quantity < row.reserved:
        raise ValidationFailed("On hand {quantity} is below the {reserved} reserved", quantity=quantity, reserved=row.reserved)
    delta = quantity - row.on_hand
    if not delta:
        return None
    has_history = uow.session.scalar(select(StockMovement.id).where(StockMovement.stock_id == row.id).limit(1))
    kind = MovementKind.COUNT if has_history is not None else MovementKind.OPENING
    return move(uow, row, delta, kind, actor, reference)


def last_movements(session: Session, product_id: int, limit: int = 8) -> list[tuple[StockMovement, Warehouse]]:
    return [(mv, w) for mv, w in session.execute(
        select(StockMovement, Warehouse).join(Stock, Stock.id == StockMovement.stock_id).join(Warehouse, Warehouse.id == Stock.warehouse_id)
        .where(Stock.product_id == product_id).order_by(StockMovement.id.desc()).limit(limit))]
