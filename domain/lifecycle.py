"""The order state machine. Every status change goes through `transition`, which also writes the audit trail."""

from __future__ import annotations

from typing import Any

from domain.audit import Actor, record
from domain.errors import IllegalTransition
from domain.messages import N_, Message
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

WHY_NOT: dict[S, str] = {
    S.COMPLETED: N_("the order is completed and can no longer change"),
    S.REJECTED: N_("the order was rejected; place a new order instead"),
    S.CANCELLED: N_("the order is cancelled"),
    S.SHIPPED: N_("the order is fully shipped; it can only complete once paid"),
    S.PARTIALLY_SHIPPED: N_("the order is partly shipped; it cannot be cancelled or re-approved"),
    S.APPROVED: N_("the order is approved; next come shipment or cancellation"),
    S.PENDING_APPROVAL: N_("the order is waiting for approval"),
    S.DRAFT: N_("the order has not been submitted yet"),
}


def can_transition(current: S, target: S) -> bool:
    return target in ALLOWED[current]


def transition(
    uow: UnitOfWork, order: Order, target: S, actor: Actor, action: str, **details: Any
) -> None:
    current = order.state
    if not can_transition(current, target):
        raise IllegalTransition(
            "Order {number} cannot go from {current} to {target}: {why}",
            number=order.number, current=current, target=target, why=Message(WHY_NOT[current]),
        )
    order.status = target.value
    order.version += 1
    order.updated_at = uow.now()
    record(uow, order, actor, action, current, target, **details)
