"""What a daily digest says, for one reader's scope: the named queries the reports and the lists already use, summed.

- **Sales**: orders and amount placed in the days the digest covers (sales as every report counts them: approved or
  beyond, dated when placed, in the configured zone), against the same number of days just before.
- **Approvals waiting**: open approval steps of orders the scope shows, the one waiting longest, and how many wait for
  the reader themselves (what `待审批` lists).
- **Overdue receivables**: every open receivable past its due date that the scope shows, as `逾期` lists them (a
  promised date or a snooze quiets the reminder to the sales person, not the figure).
- **Low stock**: products below their safety stock in any warehouse, as `低库存` lists them. Stock is the company's,
  not a team's: a sales person's own line leaves it out.
- **Late shipping tasks**: open tasks of orders the scope shows whose requested date has passed.

A day with none of these (no sales in either span, nothing waiting) is quiet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from domain import fulfilment, stock
from domain.messages import Name
from domain.models import (
    ApprovalAssignment,
    ApprovalStep,
    Customer,
    Order,
    Receivable,
    ShippingTask,
    StepStatus,
)
from domain.parsing import Period
from domain.reports.sales import change, trend
from domain.reports.scope import Scope, ScopeKind
from domain.reports.sql import money_sum
from domain.reports.window import Grain
from domain.stock import LowStockItem

ZERO = Decimal("0.00")


def covered_days(today: date, previous_work_day: date | None) -> Period:
    """The days a digest sent today reports on: from the previous work day up to yesterday, so Friday, Saturday and
    Sunday on a Monday, and a holiday with the day before it; just yesterday when there is no work day before."""
    yesterday = date.fromordinal(today.toordinal() - 1)
    start = previous_work_day if previous_work_day is not None and previous_work_day <= yesterday else yesterday
    return Period(start, yesterday, "days")


@dataclass(frozen=True)
class OldestApproval:
    number: str
    step: Name
    since: datetime


@dataclass(frozen=True)
class LateTask:
    ref: str
    number: str
    requested: date


@dataclass(frozen=True)
class Daily:
    covered: Period
    previous: Period
    orders: int
    amount: Decimal
    previous_orders: int
    previous_amount: Decimal
    approvals: int  # open steps of orders in scope
    approvals_mine: int  # of those and any others: steps waiting for the reader's own decision
    oldest_approval: OldestApproval | None
    overdue: int
    overdue_amount: Decimal  # still open
    longest_overdue_days: int
    low_stock: tuple[LowStockItem, ...]
    late_tasks: int
    oldest_late_task: LateTask | None

    @property
    def amount_change(self) -> Decimal | None:
        return change(self.amount, self.previous_amount)

    @property
    def quiet(self) -> bool:
        return not (self.orders or self.previous_orders or self.approvals or self.approvals_mine or self.overdue
                    or self.low_stock or self.late_tasks)


def daily(session: Session, scope: Scope, reader_id: int, covered: Period, today: date, tz: ZoneInfo) -> Daily:
    if scope.kind == ScopeKind.WAREHOUSE:
        raise ValueError("digests show money; warehouse staff have none")
    sales = trend(session, scope, covered, tz, Grain.DAY)
    now, before = sales.total, sales.previous_total
    pending = (select(ApprovalStep.opened_at, Order.number, ApprovalStep.name, ApprovalStep.name_en)
               .join(Order, Order.id == ApprovalStep.order_id)
               .where(ApprovalStep.status == StepStatus.PENDING.value, scope.orders()))
    waiting = session.scalar(select(func.count()).select_from(pending.subquery())) or 0
    first = session.execute(pending.where(ApprovalStep.opened_at.is_not(None))
                            .order_by(ApprovalStep.opened_at, ApprovalStep.id).limit(1)).first()
    mine = session.scalar(select(func.count()).select_from(ApprovalAssignment).join(
        ApprovalStep, ApprovalStep.id == ApprovalAssignment.step_id).where(
        ApprovalAssignment.user_id == reader_id, ApprovalAssignment.status == StepStatus.PENDING.value,
        ApprovalStep.status == StepStatus.PENDING.value)) or 0
    # What `逾期` lists (domain.fulfilment.overdue_receivables), summed in the database: an opening balance without
    # an order counts for the customer's sales person.
    owner = func.coalesce(Order.sales_user_id, Customer.sales_user_id)
    overdue, overdue_amount, oldest_due = session.execute(
        select(func.count(Receivable.id), money_sum(Receivable.amount - Receivable.paid), func.min(Receivable.due_date))
        .select_from(Receivable).outerjoin(Order, Order.id == Receivable.order_id)
        .join(Customer, Customer.id == Receivable.customer_id)
        .where(Receivable.settled.is_(False), Receivable.due_date < today, scope.people(owner))).one()
    late = (select(ShippingTask).join(Order, Order.id == ShippingTask.order_id)
            .where(ShippingTask.status.in_(fulfilment.OPEN_TASK), Order.requested_date.is_not(None),
                   Order.requested_date < today, scope.orders()))
    late_count = session.scalar(select(func.count()).select_from(late.subquery())) or 0
    oldest_late = session.scalars(late.order_by(Order.requested_date, ShippingTask.id).limit(1)).first()
    return Daily(
        covered=covered, previous=sales.previous, orders=now.orders, amount=now.amount or ZERO,
        previous_orders=before.orders, previous_amount=before.amount or ZERO,
        approvals=waiting, approvals_mine=mine,
        oldest_approval=OldestApproval(first[1], Name(first[2], first[3]), first[0]) if first and first[0] else None,
        overdue=overdue, overdue_amount=overdue_amount,
        longest_overdue_days=(today - oldest_due).days if oldest_due is not None else 0,
        low_stock=tuple(stock.low_stock(session)) if scope.kind != ScopeKind.OWN else (),
        late_tasks=late_count,
        oldest_late_task=(LateTask(oldest_late.ref, oldest_late.order.number, oldest_late.order.requested_date)
                          if oldest_late is not None and oldest_late.order.requested_date is not None else None),
    )
