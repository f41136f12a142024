"""Where orders wait: approval cycle time per step, and fulfilment lead time (approved → shipped) per warehouse.

Both look at the orders placed in the period (the date every report uses). Times are wall-clock hours and days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from domain.fulfilment import OPEN_TASK
from domain.models import ApprovalStep, Order, ShippingTask, StepStatus, TaskStatus, Warehouse
from domain.parsing import Period
from domain.reports.sales import id_range
from domain.reports.scope import ReportKind, Scope, ScopeKind
from domain.reports.sql import seconds_between
from domain.reports.window import window

TENTH = Decimal("0.1")


def _per(seconds: float | None, unit: int) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / unit).quantize(TENTH, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class StepRow:
    seq: int
    name: str
    name_en: str | None
    decided: int
    average_hours: Decimal | None
    longest_hours: Decimal | None
    waiting: int  # still pending now
    oldest_wait_hours: Decimal | None  # the longest a pending one has waited so far


@dataclass(frozen=True)
class ApprovalCycle:
    period: Period
    steps: tuple[StepRow, ...]  # in step order


def approval_cycle(session: Session, scope: Scope, period: Period, tz: ZoneInfo, now: datetime) -> ApprovalCycle:
    scope.require(ReportKind.APPROVALS)
    lo, hi = window(period, tz)
    decided = ApprovalStep.status.in_((StepStatus.APPROVED.value, StepStatus.REJECTED.value))
    took = seconds_between(ApprovalStep.decided_at, ApprovalStep.opened_at)
    pending = ApprovalStep.status == StepStatus.PENDING.value
    first, last = id_range(session, period, tz)
    q = (select(func.min(ApprovalStep.seq), ApprovalStep.name, ApprovalStep.name_en,
                func.count(case((decided, 1))), func.avg(case((decided, took))), func.max(case((decided, took))),
                func.count(case((pending, 1))), func.min(case((pending, ApprovalStep.opened_at))))
         .join(Order, Order.id == ApprovalStep.order_id)
         .where(Order.created_at >= lo, Order.created_at < hi, scope.orders(), ApprovalStep.opened_at.is_not(None),
                Order.id.between(first, last), ApprovalStep.order_id.between(first, last))
         .group_by(ApprovalStep.name, ApprovalStep.name_en))
    rows = []
    for seq, name, name_en, n, avg, longest, waiting, oldest in session.execute(q):
        oldest_at = _aware(oldest)
        wait = _per((now - oldest_at).total_seconds(), 3600) if oldest_at is not None else None
        rows.append(StepRow(seq, name, name_en, n, _per(avg, 3600), _per(longest, 3600), waiting, wait))
    rows.sort(key=lambda r: (r.seq, r.name))
    return ApprovalCycle(period, tuple(rows))


def _aware(value: datetime | str | None) -> datetime | None:
    """min() over a timestamp comes back untyped from SQLite (text) and typed from PostgreSQL."""
    from datetime import UTC

    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@dataclass(frozen=True)
class WarehouseRow:
    warehouse_id: int
    code: str
    name: str
    shipped: int  # tasks fully shipped
    average_days: Decimal | None  # approved (task created) → last shipment of the task
    longest_days: Decimal | None
    open: int  # tasks not yet (fully) shipped
    oldest_open_days: Decimal | None


@dataclass(frozen=True)
class LeadTime:
    period: Period
    warehouses: tuple[WarehouseRow, ...]


def lead_time(session: Session, scope: Scope, period: Period, tz: ZoneInfo, now: datetime) -> LeadTime:
    scope.require(ReportKind.FULFILMENT)
    lo, hi = window(period, tz)
    first, last = id_range(session, period, tz)
    where = and_(Order.created_at >= lo, Order.created_at < hi, Order.id.between(first, last),
                 ShippingTask.order_id.between(first, last),
                 ShippingTask.warehouse_id == scope.warehouse_id if scope.kind == ScopeKind.WAREHOUSE else scope.orders())
    # A shipped task's last shipment time is kept on the task (last_shipped_at): one pass over the period's tasks,
    # read from ix_shipping_tasks_order_times alone.
    task = (select(ShippingTask.warehouse_id.label("wid"), ShippingTask.status.label("status"),
                   ShippingTask.created_at.label("created_at"),
                   case((ShippingTask.status == TaskStatus.SHIPPED.value,
                         seconds_between(ShippingTask.last_shipped_at, ShippingTask.created_at))).label("took"))
            .select_from(ShippingTask).join(Order, Order.id == ShippingTask.order_id).where(where).subquery())
    done = task.c.status == TaskStatus.SHIPPED.value
    is_open = task.c.status.in_(OPEN_TASK)
    q = (select(task.c.wid, func.count(case((done, 1))), func.avg(case((done, task.c.took))),
                func.max(case((done, task.c.took))), func.count(case((is_open, 1))),
                func.min(case((is_open, task.c.created_at))))
         .group_by(task.c.wid))
    names = {wid: (code, name) for wid, code, name in session.execute(select(Warehouse.id, Warehouse.code, Warehouse.name))}
    rows = []
    for wid, n, avg, longest, open_, oldest in session.execute(q):
        oldest_at = _aware(oldest)
        code, name = names[wid]
        rows.append(WarehouseRow(wid, code, name, n, _per(avg, 86400), _per(longest, 86400), open_,
                                 _per((now - oldest_at).total_seconds(), 86400) if oldest_at is not None else None))
    rows.sort(key=lambda r: r.code)
    return LeadTime(period, tuple(rows))
