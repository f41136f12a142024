"""The words for the model's codes: order and task statuses, approval modes, roles (glossary terms)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from domain import carriers
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

_TABLES: dict[type[Enum], dict] = {
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


# Units as products carry them (Chinese, master data) → what an English reader expects (singular, plural).
UNITS_EN: dict[str, tuple[str, str]] = {
    "个": ("pc", "pcs"), "件": ("pc", "pcs"), "只": ("pc", "pcs"), "支": ("pc", "pcs"), "根": ("pc", "pcs"),
    "条": ("pc", "pcs"), "片": ("pc", "pcs"), "盒": ("box", "boxes"), "箱": ("carton", "cartons"),
    "桶": ("drum", "drums"), "包": ("pack", "packs"), "袋": ("bag", "bags"), "瓶": ("bottle", "bottles"),
    "台": ("unit", "units"), "套": ("set", "sets"), "卷": ("roll", "rolls"), "张": ("sheet", "sheets"),
    "对": ("pair", "pairs"), "副": ("pair", "pairs"), "米": ("m", "m"), "千克": ("kg", "kg"), "公斤": ("kg", "kg"),
    "吨": ("t", "t"), "升": ("L", "L"),
}


def unit_label(texts: Texts, unit: str, quantity: int) -> str:
    if texts.zh:
        return unit
    forms = UNITS_EN.get(unit.strip())
    if forms is None:
        return unit
    return forms[0] if quantity == 1 else forms[1]


# Carriers people pick in the shipping form: domain.carriers, the list the text parser reads too. The Chinese name is
# what is stored; an English reader sees the carrier's English name.
CARRIERS = carriers.CANONICAL


def carrier_label(texts: Texts, carrier: str) -> str:
    return carrier if texts.zh else carriers.english(carrier) or carrier
