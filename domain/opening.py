"""What a company brings from its old system besides master data: stock on hand (through the ledger, as an opening
or count movement), open receivables (opening balances: no order, the old invoice's reference) and historical
orders (closed ones, so reports have a past). Bulk commands like those in domain.masterdata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from domain import ledger
from domain.audit import Actor, record
from domain.bulk import Action, Batch, check_importer, diff
from domain.models import (
    Channel,
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Receivable,
    Role,
    Stock,
    User,
    Warehouse,
)
from domain.orders import line_amount
from domain.uow import UnitOfWork

HISTORY_STATES = (OrderStatus.COMPLETED, OrderStatus.SHIPPED, OrderStatus.CANCELLED, OrderStatus.REJECTED)


def _warehouses(uow: UnitOfWork) -> dict[str, int]:
    found: dict[str, int] = {}
    for w in uow.session.scalars(select(Warehouse)):
        found.setdefault(w.code.casefold(), w.id)
        found.setdefault(w.name.casefold(), w.id)
    return found


# ---------------------------------------------------------------- stock on hand


@dataclass(frozen=True)
class StockRecord:
    row: int
    warehouse: str  # code or name
    sku: str
    on_hand: int


class StockImport:
    def __init__(self, uow: UnitOfWork, user: User | None, actor: Actor, reference: str = "import") -> None:
        check_importer(user)
        self.uow, self.actor, self.reference = uow, actor, reference[:64]
        self.warehouses = _warehouses(uow)

    def batch(self, records: Sequence[StockRecord], apply: bool) -> Batch:
        out = Batch()
        s = self.uow.session
        products = {sku: (pid, safety) for pid, sku, safety in s.execute(
            select(Product.id, Product.sku, Product.safety_stock).where(Product.sku.in_([r.sku for r in records])))}
        rows = {(w, p): (on_hand, reserved) for w, p, on_hand, reserved in s.execute(
            select(Stock.warehouse_id, Stock.product_id, Stock.on_hand, Stock.reserved)
            .where(Stock.product_id.in_([pid for pid, _ in products.values()])))}
        todo: list[tuple[int, int, int, int]] = []
        for rec in records:
            wid = self.warehouses.get(rec.warehouse.casefold())
            if wid is None:
                out.problem(rec.row, "warehouse", rec.warehouse, "no such warehouse (write its code or name)")
            if rec.sku not in products:
                out.problem(rec.row, "sku", rec.sku, "no product with this SKU; import the products first")
            if wid is None or rec.sku not in products:
                continue
            pid, safety = products[rec.sku]
            key = f"{rec.warehouse}/{rec.sku}"
            have = rows.get((wid, pid))
            if have is not None and rec.on_hand < have[1]:
                out.problem(rec.row, "on_hand", rec.on_hand, "below the {reserved} reserved for orders", reserved=have[1])
                continue
            if have is None:
                out.done(rec.row, key, Action.CREATED)
            elif have[0] != rec.on_hand:
                out.done(rec.row, key, Action.UPDATED, {"on_hand": (str(have[0]), str(rec.on_hand))})
            else:
                out.done(rec.row, key, Action.UNCHANGED)
                continue
            todo.append((wid, pid, rec.on_hand, safety))
        if apply and not out.problems:
            for wid, pid, qty, safety in todo:
                row = ledger.lock_row(self.uow, wid, pid)
                ledger.set_on_hand(self.uow, row, qty, self.actor, self.reference)
                # Moving in is not news: the state is set, without an alert per product.
                low = row.on_hand - row.reserved < safety
                row.low_since = (row.low_since or self.uow.now()) if low else None
            s.flush()
        return out


# ---------------------------------------------------------------- opening balances


@dataclass(frozen=True)
class ReceivableRecord:
    row: int
    customer: str  # customer code
    reference: str  # the old system's invoice or document number
    amount: Decimal
    due_date: date


class OpeningBalanceImport:
    def __init__(self, uow: UnitOfWork, user: User | None, actor: Actor) -> None:
        check_importer(user)
        self.uow, self.actor = uow, actor

    def batch(self, records: Sequence[ReceivableRecord], apply: bool) -> Batch:
        out = Batch()
        s = self.uow.session
        customers = {code: cid for code, cid in s.execute(
            select(Customer.code, Customer.id).where(Customer.code.in_([r.customer for r in records])))}
        r = Receivable.__table__.c
        existing = {row.reference: row._asdict() for row in s.execute(
            select(r.id, r.reference, r.customer_id, r.amount, r.paid, r.due_date, r.order_id)
            .where(r.reference.in_([rec.reference for rec in records])))}
        creates, updates = [], []
        for rec in records:
            cid = customers.get(rec.customer)
            if cid is None:
                out.problem(rec.row, "customer", rec.customer, "no customer with this code; import the customers first")
                continue
            wanted = {"customer_id": cid, "amount": rec.amount, "due_date": rec.due_date}
            current = existing.get(rec.reference)
            if current is None:
                creates.append({**wanted, "reference": rec.reference, "paid": Decimal("0.00"), "settled": False,
                                "created_at": self.uow.now()})
                out.done(rec.row, rec.reference, Action.CREATED)
                continue
            changes = diff(current, wanted)
            if "customer_id" in changes:
                out.problem(rec.row, "customer", rec.customer, "this opening balance belongs to another customer")
                continue
            if "amount" in changes and current["paid"] > 0:
                out.problem(rec.row, "amount", rec.amount, "{paid} is paid already; the amount cannot change", paid=current["paid"])
                continue
            if not changes:
                out.done(rec.row, rec.reference, Action.UNCHANGED)
                continue
            updates.append({"id": current["id"], **wanted})
            out.done(rec.row, rec.reference, Action.UPDATED, changes)
        if apply and not out.problems:
            if creates:
                s.execute(insert(Receivable), creates)
            if updates:
                s.execute(update(Receivable), updates)
            for o in out.outcomes:
                if o.action != Action.UNCHANGED:
                    record(self.uow, None, self.actor, "opening_balance_" + o.action.value, subject=f"receivable:{o.key}",
                           **{f: f"{a} → {b}" for f, (a, b) in o.changes.items()})
        return out


# ---------------------------------------------------------------- historical orders


@dataclass(frozen=True)
class HistoryLine:
    row: int
    sku: str
    quantity: int
    unit_price: Decimal
    discount_pct: Decimal = Decimal("0")


@dataclass(frozen=True)
class HistoricalOrder:
    row: int  # the order's first row
    number: str
    order_date: date
    customer: str  # customer code
    lines: tuple[HistoryLine, ...]
    sales: str | None = None  # username or name; default: the customer's sales owner
    status: OrderStatus = OrderStatus.COMPLETED
    notes: str = ""


class OrderHistoryImport:
    def __init__(self, uow: UnitOfWork, user: User | None, actor: Actor, tz: ZoneInfo, today: date) -> None:
        check_importer(user)
        self.uow, self.actor, self.tz, self.today = uow, actor, tz, today
        self.people: dict[str, User] = {}
        for u in uow.session.scalars(select(User)):
            self.people.setdefault(u.username.casefold(), u)
            self.people.setdefault(u.display_name.casefold(), u)

    def batch(self, orders: Sequence[HistoricalOrder], apply: bool) -> Batch:
        out = Batch()
        s = self.uow.session
        customers = {c.code: c for c in s.scalars(select(Customer).where(Customer.code.in_([o.customer for o in orders])))}
        skus = {ln.sku for o in orders for ln in o.lines}
        products = {p.sku: p for p in s.scalars(select(Product).where(Product.sku.in_(skus)))}
        existing = {o.number: o for o in s.scalars(select(Order).where(Order.number.in_([o.number for o in orders])))}
        creates: list[tuple[HistoricalOrder, dict[str, Any]]] = []
        replaces: list[tuple[Order, HistoricalOrder, dict[str, Any]]] = []
        for o in orders:
            plan = self._check(out, o, customers, products)
            if plan is None:
                continue
            current = existing.get(o.number)
            if current is None:
                creates.append((o, plan))
                out.done(o.row, o.number, Action.CREATED)
                continue
            have = {"order_date": current.created_at.astimezone(self.tz).date(), "customer_id": current.customer_id, "sales_user_id": current.sales_user_id,
                    "status": current.status, "notes": current.notes, "total": current.total,
                    "lines": _lines_text((ln.product.sku, ln.quantity, ln.unit_price, ln.discount_pct) for ln in current.lines)}
            want = {k: plan[k] for k in have if k != "lines"} | {"lines": _lines_text(
                (ln.sku, ln.quantity, ln.unit_price, ln.discount_pct) for ln in o.lines)}
            changes = diff(have, want)
            if not changes:
                out.done(o.row, o.number, Action.UNCHANGED)
            elif current.channel != Channel.IMPORT.value:
                out.problem(o.row, "number", o.number, "this order was placed in OrderTalk; an import cannot change it")
            else:
                replaces.append((current, o, plan))
                out.done(o.row, o.number, Action.UPDATED, changes)
        if apply and not out.problems:
            self._write(creates, replaces)
        return out

    def _check(self, out: Batch, o: HistoricalOrder, customers: dict[str, Customer], products: dict[str, Product]) -> dict[str, Any] | None:
        before = len(out.problems)
        customer = customers.get(o.customer)
        if customer is None:
            out.problem(o.row, "customer", o.customer, "no customer with this code; import the customers first")
        if o.status not in HISTORY_STATES:
            out.problem(o.row, "status", o.status.value, "a historical order is completed, shipped, cancelled or rejected")
        if o.order_date > self.today:
            out.problem(o.row, "order_date", o.order_date.isoformat(), "a historical order cannot be dated after today")
        sales = self.people.get(o.sales.casefold()) if o.sales else (customer.sales_user if customer else None)
        if sales is None or not sales.has_role(Role.SALES, Role.SALES_MANAGER, Role.ADMIN):
            if o.sales or customer is not None:
                out.problem(o.row, "sales", o.sales or "", "no such salesperson (and the customer has none)")
        seen: set[str] = set()
        for ln in o.lines:
            if ln.sku not in products:
                out.problem(ln.row, "sku", ln.sku, "no product with this SKU; import the products first")
            elif ln.sku in seen:
                out.problem(ln.row, "sku", ln.sku, "the product appears twice in this order")
            seen.add(ln.sku)
        if len(out.problems) > before or customer is None or sales is None:
            return None
        noon = datetime.combine(o.order_date, time(12), self.tz).astimezone(UTC)
        lines: list[dict[str, Any]] = [{"product_id": products[ln.sku].id, "quantity": ln.quantity, "unit_price": ln.unit_price,
                  "list_price": products[ln.sku].list_price, "discount_pct": ln.discount_pct,
                  "amount": line_amount(ln.quantity, ln.unit_price, ln.discount_pct),
                  "shipped_qty": ln.quantity if o.status in (OrderStatus.COMPLETED, OrderStatus.SHIPPED) else 0}
                 for ln in o.lines]
        return {"created_at": noon, "order_date": o.order_date, "customer_id": customer.id, "sales_user_id": sales.id, "status": o.status.value,
                "notes": o.notes, "total": sum((Decimal(ln["amount"]) for ln in lines), Decimal("0.00")), "line_rows": lines}

    def _write(self, creates: list[tuple[HistoricalOrder, dict[str, Any]]],
               replaces: list[tuple[Order, HistoricalOrder, dict[str, Any]]]) -> None:
        s = self.uow.session
        if creates:
            rows = [{"number": o.number, "channel": Channel.IMPORT.value, "created_by_id": plan["sales_user_id"],
                     "updated_at": plan["created_at"], "version": 1, "requested_date": None,
                     **{k: v for k, v in plan.items() if k not in ("line_rows", "order_date")}} for o, plan in creates]
            ids = s.scalars(insert(Order).returning(Order.id, sort_by_parameter_order=True), rows).all()
            s.execute(insert(OrderLine), [{"order_id": oid, "line_no": n, **ln} for oid, (_, plan) in zip(ids, creates, strict=True)
                                          for n, ln in enumerate(plan["line_rows"], start=1)])
            for oid, (o, _) in zip(ids, creates, strict=True):
                record(self.uow, None, self.actor, "imported", subject=f"order:{oid}", number=o.number)
        for order, o, plan in replaces:
            s.execute(delete(OrderLine).where(OrderLine.order_id == order.id))
            s.execute(update(Order).where(Order.id == order.id).values(
                version=Order.version + 1, updated_at=self.uow.now(),
                **{k: v for k, v in plan.items() if k not in ("line_rows", "order_date")}))
            s.execute(insert(OrderLine), [{"order_id": order.id, "line_no": n, **ln} for n, ln in enumerate(plan["line_rows"], start=1)])
            record(self.uow, order, self.actor, "imported_update", number=o.number)
        s.flush()


def _lines_text(lines: Any) -> str:
    return ";".join(f"{sku}x{q}@{p:.2f}-{d:.2f}" for sku, q, p, d in sorted(lines))


def opening_balance(session: Session, reference: str) -> Receivable | None:
    """A balance moved in from the old system, by its reference (case ignored)."""
    return session.scalar(select(Receivable).where(func.upper(Receivable.reference) == reference.strip().upper(),
                                                   Receivable.order_id.is_(None)))
