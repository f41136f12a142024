"""The words for the model's codes: order and task statuses, approval modes, roles (glossary terms)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from domain.messages import N_
from domain.models import OrderStatus, Role, StepMode, StepStatus, TaskStatus

if TYPE_CHECKING:
    from bot.i18n import Texts

ORDER_STATUS = {
    OrderStatus.DRAFT: N_("Draft"),
    OrderStatus.PENDING_APPROVAL: N_("Pending approval"),
    OrderStatus.APPROVED: N_("Approved"),
    OrderStatus.PARTIALLY_SHIPPED: N_("Partially shipped"),
    OrderStatus.SHIPPED: N_("Shipped"),
    OrderStatus.COMPLETED: N_("Completed"),
    OrderStatus.REJECTED: N_("Rejected"),
    OrderStatus.CANCELLED: N_("Cancelled"),
}

TASK_STATUS = {
    TaskStatus.OPEN: N_("Open"),
    TaskStatus.CLAIMED: N_("Claimed"),
    TaskStatus.PARTIALLY_SHIPPED: N_("Partly shipped"),
    TaskStatus.SHIPPED: N_("Shipped"),
    TaskStatus.CANCELLED: N_("Cancelled"),
}

STEP_STATUS = {
    StepStatus.WAITING: N_("Waiting for an earlier step"),
    StepStatus.PENDING: N_("Pending approval"),
    StepStatus.APPROVED: N_("Approved"),
    StepStatus.REJECTED: N_("Rejected"),
    StepStatus.CANCELLED: N_("Closed"),
}

STEP_MODE = {
    StepMode.ANY: N_("any one approver"),
    StepMode.ALL: N_("all approvers"),
}

ROLE = {
    Role.SALES: N_("Sales"),
    Role.SALES_MANAGER: N_("Sales manager"),
    Role.FINANCE: N_("Finance"),
    Role.WAREHOUSE: N_("Warehouse"),
    Role.ADMIN: N_("Administrator"),
}

_TABLES: dict[type[Enum], dict] = {  # type: ignore[type-arg]
    OrderStatus: ORDER_STATUS, TaskStatus: TASK_STATUS, StepStatus: STEP_STATUS, StepMode: STEP_MODE, Role: ROLE,
}


def enum_label(texts: Texts, value: Enum) -> str:
    table = _TABLES.get(type(value))
    if table is None:
        return str(value.value)
    return texts.t(table[value])


def status_label(texts: Texts, status: OrderStatus | str) -> str:
    return texts.t(ORDER_STATUS[OrderStatus(status)])


def roles_label(texts: Texts, roles: frozenset[Role] | set[Role]) -> str:
    order = list(Role)
    return texts.join(texts.t(ROLE[r]) for r in sorted(roles, key=order.index))
