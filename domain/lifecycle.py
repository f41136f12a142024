"""The order state machine. Every status change goes through `transition`, which also writes the audit trail."""

from __future__ import annotations

from typing import Any

from domain.audit import Actor, record
from domain.errors import IllegalTransition
from domain.models import Order
from domain.models import OrderStatus as S
from domain.uow import UnitOfWork

ALLOWED: dict[S, frozenset[S]] = {
    S.DRAFT: frozenset({S.PENDING_APPROVAL, S.CANCELLED}),
    S.PENDING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.CANCELLED}),
    S.APPROVED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED}),
    S.SHIPPED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}

LABELS: dict[S, tuple[str, str]] = {
    S.DRAFT: ("草稿", "Draft"),
    S.PENDING_APPROVAL: ("待审批", "Pending approval"),
    S.APPROVED: ("已审批", "Approved"),
    S.PARTIALLY_SHIPPED: ("部分发货", "Partially shipped"),
    S.SHIPPED: ("已发货", "Shipped"),
    S.COMPLETED: ("已完成", "Completed"),
    S.REJECTED: ("已驳回", "Rejected"),
    S.CANCELLED: ("已取消", "Cancelled"),
}

WHY_NOT: dict[S, tuple[str, str]] = {
    S.COMPLETED: ("订单已完成，不能再变更", "the order is completed and can no longer change"),
    S.REJECTED: ("订单已被驳回，请重新下单", "the order was rejected; place a new order instead"),
    S.CANCELLED: ("订单已取消", "the order is cancelled"),
    S.SHIPPED: ("订单已全部发货，只能在收款后完成", "the order is fully shipped; it can only complete once paid"),
    S.PARTIALLY_SHIPPED: ("订单已部分发货，不能取消或退回审批", "the order is partly shipped; it cannot be cancelled or re-approved"),
    S.APPROVED: ("订单已审批，下一步是发货或取消", "the order is approved; next come shipment or cancellation"),
    S.PENDING_APPROVAL: ("订单正在审批中", "the order is waiting for approval"),
    S.DRAFT: ("订单尚未提交", "the order has not been submitted yet"),
}


def label(status: S | str, locale: str) -> str:
    zh, en = LABELS[S(status)]
    return zh if locale.startswith("zh") else en


def can_transition(current: S, target: S) -> bool:
    return target in ALLOWED[current]


def transition(
    uow: UnitOfWork, order: Order, target: S, actor: Actor, action: str, **details: Any
) -> None:
    current = order.state
    if not can_transition(current, target):
        why_zh, why_en = WHY_NOT[current]
        raise IllegalTransition(
            f"订单 {order.number} 不能从「{label(current, 'zh')}」变为「{label(target, 'zh')}」：{why_zh}",
            f"Order {order.number} cannot go from {label(current, 'en')} to {label(target, 'en')}: {why_en}",
            order=order.number,
            current=current.value,
            target=target.value,
        )
    order.status = target.value
    order.version += 1
    order.updated_at = uow.now()
    record(uow, order, actor, action, current, target, **details)
