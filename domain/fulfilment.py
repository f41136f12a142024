"""Fulfilment and receivables: shipping tasks per warehouse, claim, (partial) shipment, receivables,
payments, completion, and cancelling what is left of a partly shipped order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import case, false, func, select
from sqlalchemy.orm import Session, joinedload

from domain import carriers, lifecycle, stock
from domain.audit import Actor, record, refused
from domain.errors import AlreadyDecided, NotFound, PermissionDenied, ValidationFailed
from domain.events import (
    OrderCompleted,
    PaymentRecorded,
    Shipped,
    ShippingTaskClaimed,
    ShippingTaskCreated,
    ShippingTasksClosed,
)
from domain.locking import lock_order
from domain.messages import N_
from domain.models import (
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Payment,
    Receivable,
    Reservation,
    Role,
    Shipment,
    ShipmentLine,
    ShippingTask,
    TaskStatus,
    User,
)
from domain.permissions import may_record_payment
from domain.types import money
from domain.uow import UnitOfWork

_TRACKING = re.compile(r"[A-Za-z0-9-]{1,64}")
OPEN_TASK = (TaskStatus.OPEN.value, TaskStatus.CLAIMED.value, TaskStatus.PARTIALLY_SHIPPED.value)


def create_tasks(uow: UnitOfWork, order: Order, actor: Actor) -> list[ShippingTask]:
    """One task per warehouse that holds a reservation of the approved order."""
    warehouses = sorted({r.warehouse_id for r in order.reservations if r.quantity > 0})
    tasks = [ShippingTask(order=order, warehouse_id=wid, created_at=uow.now()) for wid in warehouses]
    uow.session.add_all(tasks)
    uow.session.flush()  # one flush for every task: their numbers (T-12) are their ids
    uow.hold(*tasks)  # the task cards are drawn from these, not from the rows read back
    for task in tasks:
        record(uow, order, actor, "task_created", task=task.ref, warehouse=str(task.warehouse_id))
        uow.emit(ShippingTaskCreated(task.id))
    return tasks


def get_task(session: Session, task_id: int) -> ShippingTask:
    task = session.get(ShippingTask, task_id)
    if task is None:
        raise NotFound("No shipping task T-{task_id}", task_id=task_id)
    return task


def task_by_ref(session: Session, ref: str) -> ShippingTask:
    digits = ref.strip().upper().removeprefix("T-").removeprefix("T")
    if not digits.isdigit():
        raise NotFound("No shipping task {ref}", ref=ref)
    return get_task(session, int(digits))


def _staff_check(user: User, task: ShippingTask, msgid: str) -> None:
    if user.has_role(Role.ADMIN) or (user.has_role(Role.WAREHOUSE) and user.warehouse_id == task.warehouse_id):
        return
    raise PermissionDenied(msgid, warehouse=task.warehouse.name, ref=task.ref)


def _still_open(task: ShippingTask) -> None:
    if task.status == TaskStatus.CANCELLED.value:
        raise AlreadyDecided("Task {ref} is cancelled (order {number} will not ship)", ref=task.ref, number=task.order.number)
    if task.status not in OPEN_TASK:
        raise AlreadyDecided("Task {ref} is already done", ref=task.ref)


def claim(uow: UnitOfWork, task_id: int, user: User, actor: Actor) -> ShippingTask:
    task = get_task(uow.session, task_id)
    lock_order(uow, task.order_id)
    uow.session.refresh(task)
    try:
        _staff_check(user, task, N_("You are not staff of {warehouse} and cannot claim task {ref}"))
    except PermissionDenied as denied:
        raise refused(denied, task.order, actor, action_tried="claim", task=task.ref,
                      why="not staff of the warehouse") from None
    _still_open(task)
    if task.claimed_by_id is not None and task.claimed_by_id != user.id:
        who = task.claimed_by.display_name if task.claimed_by else "?"
        raise AlreadyDecided("Task {ref} was already claimed by {who}", ref=task.ref, who=who)
    if task.claimed_by_id == user.id:
        return task
    task.claimed_by_id = user.id
    task.claimed_at = uow.now()
    if task.status == TaskStatus.OPEN.value:
        task.status = TaskStatus.CLAIMED.value
    record(uow, task.order, actor, "claimed", task=task.ref)
    uow.emit(ShippingTaskClaimed(task.id, user.id))
    return task


def task_lines(session: Session, task: ShippingTask) -> list[Reservation]:
    """The task's reservations with their lines, products and warehouse, and the customer's contacts (what its card
    and its shipment read: the card prints the main contact), in one statement: not two loads per line, nor a load of
    the contacts after it."""
    return list(session.scalars(select(Reservation).where(
        Reservation.order_id == task.order_id, Reservation.warehouse_id == task.warehouse_id).order_by(Reservation.id)
        .options(joinedload(Reservation.line).joinedload(OrderLine.product), joinedload(Reservation.warehouse),
                 joinedload(Reservation.order).joinedload(Order.customer).joinedload(Customer.contacts))).unique())


def ship(uow: UnitOfWork, task_id: int, user: User, carrier: str, tracking: str,
         quantities: dict[int, int] | None, actor: Actor, local_today: date) -> Shipment:
    """Confirm shipment; `quantities` maps order-line id → quantity (None: everything still held here)."""
    task = get_task(uow.session, task_id)
    order = lock_order(uow, task.order_id)
    uow.session.refresh(task)
    _staff_check(user, task, N_("You are not staff of {warehouse} and cannot ship task {ref}"))
    _still_open(task)
    if task.claimed_by_id not in (None, user.id):
        who = task.claimed_by.display_name if task.claimed_by else "?"
        raise AlreadyDecided("Task {ref} belongs to {who}", ref=task.ref, who=who)
    if not carrier.strip() or not tracking.strip():
        raise ValidationFailed("Carrier and tracking number are required", field="tracking")
    if len(carrier.strip()) > carriers.MAX_NAME:
        raise ValidationFailed("A carrier name has at most {max} characters", field="carrier", max=carriers.MAX_NAME)
    if not _TRACKING.fullmatch(tracking.strip()):
        raise ValidationFailed("A tracking number is letters, digits and dashes (at most 64)", field="tracking")
    held = [r for r in task_lines(uow.session, task) if r.quantity > 0]
    plan: list[tuple[Reservation, int]] = []
    for res in held:
        qty = res.quantity if quantities is None else quantities.get(res.order_line_id, 0)
        if qty < 0 or qty > res.quantity:
            raise ValidationFailed("{sku}: at most {quantity} can ship", sku=res.line.product.sku, quantity=res.quantity, field=f"qty_{res.order_line_id}")
        if qty:
            plan.append((res, qty))
    if not plan:
        raise ValidationFailed("Nothing to ship", field="quantities")
    shipment = Shipment(task_id=task.id, order_id=order.id, warehouse_id=task.warehouse_id, carrier=carrier.strip(),
                        tracking_no=tracking.strip(), amount=Decimal("0"), shipped_at=uow.now(), shipped_by_id=user.id)
    total = Decimal("0.00")
    for res, qty in plan:
        line = res.line
        stock.ship_from_reservation(uow, res, qty, actor, f"{order.number} {task.ref}")
        before = line.shipped_qty
        line.shipped_qty += qty
        # The last units of a line take the remainder, so shipments add up to the line amount exactly.
        billed_before = money(line.amount * before / line.quantity)
        billed_after = line.amount if line.shipped_qty == line.quantity else money(line.amount * line.shipped_qty / line.quantity)
        total += billed_after - billed_before
        shipment.lines.append(ShipmentLine(order_line_id=line.id, quantity=qty))
    shipment.amount = total
    uow.session.add(shipment)
    uow.session.flush()
    c = order.customer
    uow.session.add(Receivable(order_id=order.id, shipment_id=shipment.id, customer_id=c.id, amount=total,
                               due_date=local_today + timedelta(days=c.payment_terms_days), created_at=uow.now()))
    task.claimed_by_id = task.claimed_by_id or user.id
    task.last_shipped_at = shipment.shipped_at  # the lead time reads it from the task, not from its shipments
    still_here = any(r.quantity > 0 for r in task_lines(uow.session, task))
    task.status = TaskStatus.PARTIALLY_SHIPPED.value if still_here else TaskStatus.SHIPPED.value
    everything = all(ln.shipped_qty >= ln.quantity for ln in order.lines)
    target = OrderStatus.SHIPPED if everything else OrderStatus.PARTIALLY_SHIPPED
    lifecycle.transition(uow, order, target, actor, "shipped" if everything else "partially_shipped",
                         tracking=f"{carrier} {tracking}", task=task.ref, amount=str(total))
    uow.emit(Shipped(shipment.id, task.id, order.id))
    return shipment


def open_amount(session: Session, order_id: int) -> Decimal:
    rows = session.scalars(select(Receivable).where(Receivable.order_id == order_id, Receivable.settled.is_(False))).all()
    return sum((r.open_amount for r in rows), Decimal("0.00"))


def record_payment(uow: UnitOfWork, order: Order, amount: Decimal, paid_on: date, method: str, user: User | None,
                   actor: Actor, reference: str | None = None) -> Payment:
    if user is not None and not may_record_payment(user):
        raise PermissionDenied("Only finance can record payments")
    amount = money(amount)
    if amount <= 0:
        raise ValidationFailed("The amount must be above 0", field="amount")
    order = lock_order(uow, order.id)
    placed_on, today = uow.local(order.created_at).date(), uow.local_today()
    if paid_on < placed_on:
        raise ValidationFailed("The payment date {paid_on} is before order {number} was placed ({placed_on})",
                               paid_on=paid_on, number=order.number, placed_on=placed_on, field="date")
    if paid_on > today:
        raise ValidationFailed("The payment date {paid_on} is after today ({today})", paid_on=paid_on, today=today,
                               field="date")
    open_ = open_amount(uow.session, order.id)
    if open_ == 0:
        raise ValidationFailed(_nothing_due(order), number=order.number, status=order.state, field="amount",
                               open_amount=str(open_))
    if amount > open_:
        raise ValidationFailed("Payment {amount} exceeds the open amount {open} of {number}", amount=amount, open=open_,
                               number=order.number, field="amount", open_amount=str(open_))
    payment = Payment(order_id=order.id, customer_id=order.customer_id, amount=amount, paid_on=paid_on, method=method,
                      reference=reference, recorded_by_id=user.id if user else None, created_at=uow.now())
    uow.session.add(payment)
    left = amount
    for r in uow.session.scalars(select(Receivable).where(Receivable.order_id == order.id, Receivable.settled.is_(False))
                                 .order_by(Receivable.due_date, Receivable.id)):
        take = min(left, r.open_amount)
        r.paid += take
        r.settled = r.paid >= r.amount
        left -= take
        if left == 0:
            break
    uow.session.flush()
    after = open_amount(uow.session, order.id)
    record(uow, order, actor, "payment", amount=str(amount), method=method, open_after=str(after))
    uow.emit(PaymentRecorded(payment.id, order.id, amount, after))
    if after == 0 and order.state == OrderStatus.SHIPPED:
        lifecycle.transition(uow, order, OrderStatus.COMPLETED, actor, "completed")
        uow.emit(OrderCompleted(order.id))
    return payment


def _nothing_due(order: Order) -> str:
    """Why an order has nothing to pay: a payment is recorded against what has shipped."""
    if order.state in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
        return N_("Nothing is due on order {number}: it is {status}")
    if order.state in (OrderStatus.DRAFT, OrderStatus.PENDING_APPROVAL, OrderStatus.APPROVED):
        return N_("Nothing is due yet on order {number}: it has not shipped ({status})")
    return N_("Nothing is due on order {number}: everything shipped is paid")


def cancel_rest(uow: UnitOfWork, order: Order, user: User, actor: Actor) -> None:
    """A partly shipped order whose rest will not ship: release the rest, the order counts as shipped."""
    order = lock_order(uow, order.id)
    if order.state != OrderStatus.PARTIALLY_SHIPPED:
        raise ValidationFailed("Order {number} is not partly shipped", number=order.number)
    if not user.has_role(Role.SALES_MANAGER, Role.ADMIN) and order.sales_user_id != user.id:
        raise PermissionDenied("You may not cancel the rest of this order")
    stock.release(uow, order)
    close_open_tasks(uow, order)
    lifecycle.transition(uow, order, OrderStatus.SHIPPED, actor, "rest_cancelled")
    if open_amount(uow.session, order.id) == 0:
        lifecycle.transition(uow, order, OrderStatus.COMPLETED, actor, "completed")
        uow.emit(OrderCompleted(order.id))


def close_open_tasks(uow: UnitOfWork, order: Order) -> None:
    """The order will ship nothing more: a task that shipped part is done, an untouched one is cancelled."""
    closed = []
    for task in uow.session.scalars(select(ShippingTask).where(ShippingTask.order_id == order.id)):
        if task.status in OPEN_TASK:
            task.status = TaskStatus.SHIPPED.value if task.status == TaskStatus.PARTIALLY_SHIPPED.value else TaskStatus.CANCELLED.value
            closed.append(task.id)
    if closed:
        uow.emit(ShippingTasksClosed(order.id, tuple(closed)))


def _open_tasks_query(user: User):
    q = select(ShippingTask).where(ShippingTask.status.in_(OPEN_TASK))
    if not user.has_role(Role.ADMIN):
        q = q.where(ShippingTask.warehouse_id == user.warehouse_id) if user.warehouse_id is not None else q.where(false())
    return q


def open_tasks_for(session: Session, user: User, offset: int = 0, limit: int | None = None) -> list[ShippingTask]:
    """The tasks a warehouse person can act on: unclaimed ones first, then those under way; newest first in each."""
    unclaimed_first = case((ShippingTask.status == TaskStatus.OPEN.value, 0), else_=1)
    q = _open_tasks_query(user).order_by(unclaimed_first, ShippingTask.created_at.desc(), ShippingTask.id.desc())
    return list(session.scalars(q.offset(offset).limit(limit)))


def count_open_tasks(session: Session, user: User) -> int:
    return session.scalar(select(func.count()).select_from(_open_tasks_query(user).subquery())) or 0


@dataclass(frozen=True)
class OverdueItem:
    """One open, past-due receivable with what a digest shows about it (a row, not an ORM object: the scan runs
    over every open receivable each morning). An opening balance has no order: its reference stands in for the
    order number, and the customer's sales owner is the one to chase it."""

    receivable_id: int
    order_id: int | None
    order_number: str
    customer_name: str
    sales_user_id: int | None
    manager_id: int | None
    amount: Decimal
    paid: Decimal
    due_date: date
    promised_date: date | None
    snoozed_until: date | None
    name_en: str | None = None  # the customer's English name (`name` is `customer_name`)

    @property
    def name(self) -> str:
        return self.customer_name

    @property
    def open_amount(self) -> Decimal:
        return self.amount - self.paid


def overdue_receivables(session: Session, as_of: date, sales_user_id: int | None = None) -> list[OverdueItem]:
    owner = func.coalesce(Order.sales_user_id, Customer.sales_user_id)
    q = (select(Receivable.id, Receivable.order_id, func.coalesce(Order.number, Receivable.reference), Customer.name, owner,
                User.manager_id, Receivable.amount, Receivable.paid, Receivable.due_date, Receivable.promised_date,
                Receivable.snoozed_until, Customer.name_en)
         .outerjoin(Order, Order.id == Receivable.order_id).join(Customer, Customer.id == Receivable.customer_id)
         .outerjoin(User, User.id == owner)
         .where(Receivable.settled.is_(False), Receivable.due_date < as_of)
         .order_by(Receivable.due_date, Receivable.id))
    if sales_user_id is not None:
        q = q.where(owner == sales_user_id)
    return [OverdueItem(*row) for row in session.execute(q)]


def receivables_to_chase(session: Session, today: date) -> list[OverdueItem]:
    """The past-due receivables a reminder may name today: the promised day itself still belongs to the customer,
    and a snooze ends on its day."""
    return [r for r in overdue_receivables(session, today)
            if not (r.promised_date and r.promised_date >= today) and not (r.snoozed_until and r.snoozed_until > today)]


def late_tasks(session: Session, today: date) -> list[ShippingTask]:
    """Open shipping tasks whose order's requested date has passed."""
    return list(session.scalars(select(ShippingTask).join(Order).where(
        ShippingTask.status.in_(OPEN_TASK), Order.requested_date.is_not(None), Order.requested_date < today)
        .order_by(ShippingTask.id)))


@dataclass(frozen=True)
class Balance:
    """Receivables summed: what was billed (shipped), paid, is still open, and of that is past due."""

    billed: Decimal
    paid: Decimal
    overdue: Decimal

    @property
    def open(self) -> Decimal:
        return self.billed - self.paid


def _balance(session: Session, where: object, as_of: date) -> Balance:
    rows = session.execute(select(Receivable.amount, Receivable.paid, Receivable.due_date, Receivable.settled)
                           .where(where)).all()  # type: ignore[arg-type]
    zero = Decimal("0.00")
    billed = sum((a for a, _, _, _ in rows), zero)
    paid = sum((p for _, p, _, _ in rows), zero)
    overdue = sum((a - p for a, p, due, settled in rows if not settled and due < as_of), zero)
    return Balance(billed, paid, overdue)


def order_balance(session: Session, order_id: int, as_of: date) -> Balance:
    return _balance(session, Receivable.order_id == order_id, as_of)


def customer_balance(session: Session, customer_id: int, as_of: date) -> Balance:
    return _balance(session, Receivable.customer_id == customer_id, as_of)


def pay_opening_balance(uow: UnitOfWork, receivable: Receivable, amount: Decimal, paid_on: date, method: str,
                        user: User | None, actor: Actor, reference: str | None = None) -> Payment:
    """A payment of a balance moved in from the old system (no order): same rules as an order's payment."""
    if user is not None and not may_record_payment(user):
        raise PermissionDenied("Only finance can record payments")
    amount = money(amount)
    if amount <= 0:
        raise ValidationFailed("The amount must be above 0", field="amount")
    r = uow.session.scalars(select(Receivable).where(Receivable.id == receivable.id).with_for_update()
                            .execution_options(populate_existing=True)).one()
    if amount > r.open_amount:
        raise ValidationFailed("Payment {amount} exceeds the open amount {open} of {number}", amount=amount,
                               open=r.open_amount, number=r.label, field="amount")
    payment = Payment(order_id=None, receivable_id=r.id, customer_id=r.customer_id, amount=amount, paid_on=paid_on,
                      method=method, reference=reference, recorded_by_id=user.id if user else None, created_at=uow.now())
    uow.session.add(payment)
    r.paid += amount
    r.settled = r.paid >= r.amount
    uow.session.flush()
    record(uow, None, actor, "payment", subject=f"receivable:{r.reference}", amount=str(amount), method=method,
           open_after=str(r.open_amount))
    return payment
