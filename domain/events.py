"""Domain events: what happened, for the bot layer to tell people about. Plain data, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class OrderSubmitted(Event):
    order_id: int


@dataclass(frozen=True)
class ApprovalRequested(Event):
    order_id: int
    step_id: int
    approver_ids: tuple[int, ...]


@dataclass(frozen=True)
class ApprovalDecided(Event):
    order_id: int
    step_id: int
    decided_by_id: int
    approved: bool
    step_closed: bool  # False while a 会签 step still waits for others
    reason: str | None = None


@dataclass(frozen=True)
class OrderApproved(Event):
    order_id: int


@dataclass(frozen=True)
class OrderRejected(Event):
    order_id: int
    step_id: int
    rejected_by_id: int
    reason: str


@dataclass(frozen=True)
class OrderCancelled(Event):
    order_id: int
    cancelled_by_id: int
    reason: str | None


@dataclass(frozen=True)
class StockLow(Event):
    product_id: int
    warehouse_id: int
    available: int
    safety_stock: int
    since: datetime | None = None  # when this low-stock spell began: one alert per spell


@dataclass(frozen=True)
class StockRestocked(Event):
    """Available is back at or above safety stock: the low-stock state is cleared."""

    product_id: int
    warehouse_id: int
    available: int
    safety_stock: int


@dataclass(frozen=True)
class ApprovalNudged(Event):
    order_id: int
    step_id: int
    by_user_id: int | None
    approver_ids: tuple[int, ...]
    escalated_to_ids: tuple[int, ...] = ()
    kind: str = "nudge"  # nudge | reminder | escalation


@dataclass(frozen=True)
class ShippingTaskCreated(Event):
    task_id: int


@dataclass(frozen=True)
class ShippingTaskClaimed(Event):
    task_id: int
    user_id: int


@dataclass(frozen=True)
class Shipped(Event):
    shipment_id: int
    task_id: int
    order_id: int


@dataclass(frozen=True)
class PaymentRecorded(Event):
    payment_id: int
    order_id: int
    amount: Decimal
    open_after: Decimal


@dataclass(frozen=True)
class OrderCompleted(Event):
    order_id: int


@dataclass(frozen=True)
class ShippingTasksClosed(Event):
    """Open tasks of an order were closed without shipping (order cancelled, or the rest cancelled)."""

    order_id: int
    task_ids: tuple[int, ...]


@dataclass(frozen=True)
class PaymentPromised(Event):
    """The customer promised to pay a receivable by this date (no reminders until then)."""

    receivable_id: int
    order_id: int | None
    promised_date: date
    by_user_id: int


@dataclass(frozen=True)
class ReceivableSnoozed(Event):
    receivable_id: int
    order_id: int | None
    until: date
    by_user_id: int


@dataclass(frozen=True)
class NoEligibleApprover(Event):
    """A step became due that nobody may decide (separation of duties left no approver, no manager, no admin)."""

    order_id: int
    step_id: int
