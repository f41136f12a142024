"""Order services: create and submit, cancel, look up with the viewer's permissions, list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session, joinedload, selectinload

from domain import approvals, fulfilment, lifecycle, stock
from domain.audit import Actor, record, write_pending
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.events import OrderCancelled, OrderSubmitted
from domain.fulfilment import Balance, order_balance
from domain.locking import lock_order
from domain.messages import Name
from domain.models import (
    ApprovalAssignment,
    ApprovalStep,
    AuditEntry,
    Channel,
    Customer,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Receivable,
    User,
)
from domain.numbering import next_order_number
from domain.permissions import (
    may_cancel,
    may_create_orders,
    may_order_for_any_customer,
    may_override_price,
    may_view_order,
    orders_visible_to,
)
from domain.rules import OrderFacts, PlannedStep, RuleSet, Title, plan_steps
from domain.types import Money, money
from domain.uow import UnitOfWork

HUNDRED = Decimal(100)


@dataclass(frozen=True)
class LineRequest:
    product_id: int
    quantity: int
    unit_price: Decimal | None = None  # override: sales managers / admins only
    discount_pct: Decimal = Decimal("0")


@dataclass(frozen=True)
class OrderRequest:
    customer_id: int
    lines: list[LineRequest]
    requested_date: date | None = None
    notes: str = ""
    channel: Channel = Channel.CHAT
    sales_user_id: int | None = None  # defaults to the creator


@dataclass
class Policy:
    """What services need from configuration."""

    rules: RuleSet
    order_prefix: str = "SO"
    local_today: date = field(default_factory=date.today)
    orders_for_others: str = "refuse"  # a sales person ordering for another's customer: "refuse" | "owner_manager"


def line_amount(quantity: int, unit_price: Decimal, discount_pct: Decimal) -> Decimal:
    return money(Decimal(quantity) * unit_price * (HUNDRED - discount_pct) / HUNDRED)


def create_order(uow: UnitOfWork, creator: User, req: OrderRequest, policy: Policy, actor: Actor, submit: bool = True) -> Order:
    s = uow.session
    if not may_create_orders(creator):
        raise PermissionDenied("Only sales staff can place orders")
    if not req.lines:
        raise ValidationFailed("An order needs at least one line", field="lines")
    customer = s.get(Customer, req.customer_id)
    if customer is None:
        raise NotFound("No such customer")
    owner_id = req.sales_user_id or _owner_for(s, creator, customer, policy)
    # every product of the order with its tier prices, in one query
    products = {p.id: p for p in s.scalars(select(Product).where(Product.id.in_({lr.product_id for lr in req.lines}))
                                             .options(joinedload(Product.tier_prices))).unique()}
    order = Order(
        number=next_order_number(s, policy.order_prefix, policy.local_today),
        customer=customer,
        sales_user_id=owner_id,
        created_by_id=creator.id,
        created_by=creator,
        requested_date=req.requested_date,
        notes=req.notes,
        channel=req.channel.value,
        status=OrderStatus.DRAFT.value,
        version=1,
        created_at=uow.now(),
        updated_at=uow.now(),
        steps=[],  # a new order's collections are known to be empty: no loads for them later in this unit of work
        reservations=[],
    )
    for n, lr in enumerate(req.lines, start=1):
        product = products.get(lr.product_id)
        if product is None:
            raise NotFound("No such product", field=f"line {n}")
        if not product.active:  # kept for history, no longer sold
            raise ValidationFailed("Line {n}: {sku} {name} is no longer sold", n=n, sku=product.sku,
                                   name=Name.of(product), field=f"line {n}")
        if lr.quantity <= 0:
            raise ValidationFailed("Line {n}: quantity must be above 0", n=n, field=f"line {n}")
        if not (Decimal(0) <= lr.discount_pct < HUNDRED):
            raise ValidationFailed("Line {n}: discount must be 0–100 %", n=n, field=f"line {n}")
        price = product.price_for(customer.tier)
        if lr.unit_price is not None and money(lr.unit_price) != price:
            if not may_override_price(creator):
                raise PermissionDenied(
                    "Line {n}: only a sales manager may change the unit price", n=n)
            price = money(lr.unit_price)
        order.lines.append(
            OrderLine(
                line_no=n, product=product, product_id=product.id, quantity=lr.quantity, unit_price=price, list_price=product.list_price,
                discount_pct=lr.discount_pct, amount=line_amount(lr.quantity, price, lr.discount_pct),
            )
        )
    order.total = sum((ln.amount for ln in order.lines), Decimal("0.00"))
    s.add(order)
    record(uow, order, actor, "created", None, OrderStatus.DRAFT, total=str(order.total), lines=len(order.lines))
    if submit:
        submit_order(uow, order, policy, actor)
    return order


def _owner_for(session: Session, creator: User, customer: Customer, policy: Policy) -> int:
    """Whose order it is. A sales person orders for their own customers; for another's customer only when the
    deployment routes such orders (the owner keeps the order, their manager approves it), else refused."""
    if customer.sales_user_id in (None, creator.id) or may_order_for_any_customer(creator):
        return creator.id
    owner = session.get(User, customer.sales_user_id)
    who = owner.display_name if owner else "—"
    if policy.orders_for_others != "owner_manager":
        raise PermissionDenied("{name} is {who}'s customer; you cannot order for them. Ask {who} or a sales manager",
                               name=Name.of(customer), who=who)
    if owner is None or owner.manager is None or not owner.manager.active:
        raise PermissionDenied("{name} is {who}'s customer, and {who} has no manager to approve your order",
                               name=Name.of(customer), who=who)
    return owner.id


def _owner_manager_step(session: Session, order: Order) -> list[PlannedStep]:
    """An order placed for another sales person's customer first goes to the owner's manager."""
    creator = order.created_by
    if creator is None or order.created_by_id == order.sales_user_id or may_order_for_any_customer(creator):
        return []
    manager = order.sales_user.manager
    if manager is None:
        return []
    return [PlannedStep(name="客户负责人的经理审批", name_en="Customer owner's manager", mode="any", roles=(),
                        users=(manager.username,), reasons=("order_for_another_sales_person",),
                        reason_titles=(Title(zh="为其他销售的客户下单", en="Order for another sales person's customer"),))]


def submit_order(uow: UnitOfWork, order: Order, policy: Policy, actor: Actor) -> None:
    lifecycle.transition(uow, order, OrderStatus.PENDING_APPROVAL, actor, "submitted")
    stock.reserve(uow, order)
    uow.emit(OrderSubmitted(order.id))
    facts = order_facts(uow.session, order)
    planned = _owner_manager_step(uow.session, order) + plan_steps(policy.rules, facts)
    approvals.open_steps(uow, order, planned, actor, policy.local_today)


def order_facts(session: Session, order: Order) -> OrderFacts:
    c = order.customer
    earlier = (select(func.count(Order.id)).where(
        Order.customer_id == c.id,
        Order.id != order.id,
        Order.status.notin_([OrderStatus.DRAFT.value, OrderStatus.CANCELLED.value, OrderStatus.REJECTED.value]),
    ).scalar_subquery())
    open_ = (select(type_coerce(func.coalesce(func.sum(Receivable.amount - Receivable.paid), 0), Money))
             .where(Receivable.customer_id == c.id, Receivable.settled.is_(False)).scalar_subquery())
    earlier_count, open_sum = session.execute(select(earlier, open_)).one()  # both facts in one round trip
    return OrderFacts(
        total=order.total,
        max_discount=max((ln.discount_pct for ln in order.lines), default=Decimal(0)),
        open_receivables=open_sum if open_sum is not None else Decimal("0.00"),
        credit_limit=c.credit_limit,
        customer_tier=c.tier,
        first_order=not earlier_count,
    )


def open_receivables(session: Session, customer_id: int) -> Decimal:
    rows = session.execute(
        select(Receivable.amount, Receivable.paid).where(
            Receivable.customer_id == customer_id, Receivable.settled.is_(False)
        )
    ).all()
    return sum((a - p for a, p in rows), Decimal("0.00"))


def oldest_open_receivable(session: Session, customer_id: int) -> datetime | None:
    """When the oldest receivable still open was booked (its shipment), or None when nothing is open."""
    return session.scalar(select(func.min(Receivable.created_at)).where(
        Receivable.customer_id == customer_id, Receivable.settled.is_(False)))


def cancel_order(uow: UnitOfWork, user: User, number: str, reason: str | None, actor: Actor) -> Order:
    order = get_order(uow.session, number)
    order = lock_order(uow, order.id)
    if not may_cancel(user, order):
        raise PermissionDenied(
            "Only the order's salesperson or a sales manager may cancel {number}", number=order.number)
    lifecycle.transition(uow, order, OrderStatus.CANCELLED, actor, "cancelled", reason=reason or "")
    approvals.cancel_open_steps(order)
    stock.release(uow, order)
    fulfilment.close_open_tasks(uow, order)  # an approved order's tasks must not stay claimable
    uow.emit(OrderCancelled(order.id, user.id, reason))
    return order


def get_order(session: Session, number: str) -> Order:
    order = session.scalars(select(Order).where(Order.number == number.strip().upper())).one_or_none()
    if order is None:
        raise NotFound("No order {number}", number=number)
    return order


def view_order(session: Session, user: User, number: str) -> Order:
    order = get_order(session, number)
    if not may_view_order(session, user, order):
        raise PermissionDenied("You may not view order {number}", number=order.number)
    return order


@dataclass(frozen=True)
class StatusView:
    """What an order's status card shows, read in a fixed number of round trips: the order with its customer, sales
    person, lines and products, steps, assignments and approvers; its audit trail with the actors; its balance."""

    order: Order
    timeline: list[AuditEntry]
    balance: Balance


def status_view(session: Session, user: User, number: str, as_of: date) -> StatusView:
    """An order's status for `user` (refused when they may not see it)."""
    row = session.execute(
        select(Order, orders_visible_to(user).label("visible")).where(Order.number == number.strip().upper())
        .options(joinedload(Order.customer), joinedload(Order.sales_user),
                 selectinload(Order.lines).joinedload(OrderLine.product),
                 selectinload(Order.steps).options(
                     joinedload(ApprovalStep.decided_by),
                     joinedload(ApprovalStep.assignments).options(joinedload(ApprovalAssignment.user),
                                                                  joinedload(ApprovalAssignment.on_behalf_of))))
    ).unique().one_or_none()
    if row is None:
        raise NotFound("No order {number}", number=number)
    order, visible = row
    if not visible:  # may_view_order, asked in the same statement
        raise PermissionDenied("You may not view order {number}", number=order.number)
    write_pending(session)
    trail = list(session.scalars(select(AuditEntry).where(AuditEntry.order_id == order.id)
                                 .options(joinedload(AuditEntry.actor)).order_by(AuditEntry.id)))
    return StatusView(order, trail, order_balance(session, order.id, as_of))


def orders_of(session: Session, user: User, limit: int = 10) -> list[Order]:
    return list(
        session.scalars(
            select(Order).where(Order.sales_user_id == user.id).order_by(Order.created_at.desc(), Order.id.desc()).limit(limit)
        )
    )


def open_orders_of_customer(session: Session, customer_id: int) -> list[Order]:
    closed = [OrderStatus.COMPLETED.value, OrderStatus.CANCELLED.value, OrderStatus.REJECTED.value, OrderStatus.DRAFT.value]
    return list(
        session.scalars(
            select(Order).where(Order.customer_id == customer_id, Order.status.notin_(closed)).order_by(Order.created_at.desc())
        )
    )


def recent_duplicate(session: Session, creator_id: int, req: OrderRequest, since: datetime) -> Order | None:
    """The creator's latest live order since `since` for the same customer with the same lines (product and
    quantity, in any order) — a second click or a message sent twice, most likely."""
    wanted = sorted((lr.product_id, lr.quantity) for lr in req.lines)
    dead = [OrderStatus.CANCELLED.value, OrderStatus.REJECTED.value]
    candidates = session.scalars(
        select(Order).where(Order.created_by_id == creator_id, Order.customer_id == req.customer_id,
                            Order.created_at >= since, Order.status.notin_(dead))
        .order_by(Order.created_at.desc(), Order.id.desc()).limit(5)
    )
    for order in candidates:
        if sorted((ln.product_id, ln.quantity) for ln in order.lines) == wanted:
            return order
    return None
