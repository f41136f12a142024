"""Order cards: the live status card with its timeline, and short order lists."""

from __future__ import annotations

from collections.abc import Sequence

from bot.cards.context import Viewer
from bot.cards.model import Button, Card, Field, LineTable, Tone
from bot.i18n import fmt_date, fmt_pct, fmt_time
from domain import lifecycle
from domain.approvals import current_step, pending_approvers
from domain.models import AuditEntry, Order, OrderStatus
from domain.permissions import may_cancel

TONES = {
    OrderStatus.DRAFT: Tone.NEUTRAL,
    OrderStatus.PENDING_APPROVAL: Tone.INFO,
    OrderStatus.APPROVED: Tone.SUCCESS,
    OrderStatus.PARTIALLY_SHIPPED: Tone.INFO,
    OrderStatus.SHIPPED: Tone.SUCCESS,
    OrderStatus.COMPLETED: Tone.SUCCESS,
    OrderStatus.REJECTED: Tone.DANGER,
    OrderStatus.CANCELLED: Tone.DANGER,
}

ACTION_WORDS = {
    "created": ("创建", "created"),
    "submitted": ("提交审批", "submitted for approval"),
    "approval_requested": ("等待审批", "approval requested"),
    "approve": ("同意", "approved"),
    "reject": ("驳回", "rejected"),
    "approved": ("审批通过", "fully approved"),
    "rejected": ("订单驳回", "order rejected"),
    "cancelled": ("取消", "cancelled"),
    "refused": ("操作被拒绝", "action refused"),
    "nudge": ("催办", "nudged"),
    "reminder": ("审批提醒", "approval reminder"),
    "escalation": ("审批升级", "escalated"),
    "task_created": ("生成发货任务", "shipping task created"),
    "claimed": ("领取发货任务", "claimed shipping task"),
    "shipped": ("发货", "shipped"),
    "partially_shipped": ("部分发货", "partly shipped"),
    "payment": ("收款", "payment recorded"),
    "completed": ("完成", "completed"),
}


def line_table(order: Order, v: Viewer, max_rows: int | None = None) -> LineTable:
    rows = []
    lines = order.lines if max_rows is None else order.lines[:max_rows]
    if v.sees_prices:
        cols = [v.t("SKU", "SKU"), v.t("Product"), v.t("Qty"), v.t("Unit price"),
                v.t("Discount"), v.t("Subtotal")]
        for ln in lines:
            rows.append([ln.product.sku, ln.product.name, f"{ln.quantity} {ln.product.unit}", v.money(ln.unit_price),
                         fmt_pct(ln.discount_pct), v.money(ln.amount)])
        note = f"{v.t('Total')} {v.money(order.total)}"
    else:
        cols = [v.t("SKU", "SKU"), v.t("Product"), v.t("Spec"), v.t("Qty")]
        for ln in lines:
            rows.append([ln.product.sku, ln.product.name, ln.product.spec, f"{ln.quantity} {ln.product.unit}"])
        note = None
    if max_rows is not None and len(order.lines) > max_rows:
        more = len(order.lines) - max_rows
        note = (note + " · " if note else "") + v.t("…and {more} more lines", more=more)
    return LineTable(columns=cols, rows=rows, note=note)


def describe(entry: AuditEntry, v: Viewer) -> str:
    zh, en = ACTION_WORDS.get(entry.action, (entry.action, entry.action))
    who = entry.actor.display_name if entry.actor else v.t("system")
    extra = entry.details.get("reason") or entry.details.get("step") or entry.details.get("tracking") or ""
    text = f"{fmt_time(entry.at, v.tz)} {who} {v.t(zh, en)}"
    return f"{text}（{extra}）" if extra and v.locale.startswith("zh") else (f"{text} ({extra})" if extra else text)


def order_status_card(order: Order, v: Viewer, timeline: Sequence[AuditEntry]) -> Card:
    state = order.state
    fields = [
        Field(label=v.t("Customer"), value=f"{order.customer.name}（{order.customer.code}）"),
        Field(label=v.t("Sales"), value=order.sales_user.display_name),
        Field(label=v.t("Status"), value=lifecycle.label(state, v.locale)),
        Field(label=v.t("Requested date"), value=fmt_date(order.requested_date)),
        Field(label=v.t("Created"), value=fmt_time(order.created_at, v.tz)),
    ]
    if v.sees_prices:
        fields.insert(2, Field(label=v.t("Total"), value=v.money(order.total)))
    step = current_step(order)
    if step is not None:
        names = "、".join(u.display_name for u in pending_approvers(step))
        fields.append(Field(label=v.t("Waiting for"), value=f"{step.name}: {names}"))
    buttons = []
    if state == OrderStatus.PENDING_APPROVAL and step is not None:
        buttons.append(Button(action="nudge", label=v.t("Nudge approvers"), token=v.token("nudge", order.id),
                              command=f"催办 {order.number}" if v.locale.startswith("zh") else f"remind {order.number}"))
    if state in (OrderStatus.PENDING_APPROVAL, OrderStatus.APPROVED) and may_cancel(v.user, order):
        buttons.append(Button(action="cancel", label=v.t("Cancel order"), style="danger",
                              token=v.token("cancel", order.id, order.version),
                              confirm=v.t("Cancel order {number}? Its reserved stock is released.", number=order.number),
                              command=f"取消 {order.number}" if v.locale.startswith("zh") else f"cancel {order.number}"))
    return Card(
        kind="order_status",
        key=f"order:{order.id}",
        locale=v.locale,
        title=v.t("Order {number}", number=order.number),
        tone=TONES[state],
        subtitle=lifecycle.label(state, v.locale),
        fields=fields,
        table=line_table(order, v, max_rows=50),
        text=[v.t("Timeline:")] + [describe(e, v) for e in timeline[-12:]],
        context=f"{order.number} · v{order.version}",
        buttons=buttons,
        data={"order_no": order.number, "status": state.value, "customer": order.customer.name},
    )


def order_list_card(title: str, orders: Sequence[Order], v: Viewer, empty: str) -> Card:
    rows = [[o.number, o.customer.name, lifecycle.label(o.state, v.locale)] + ([v.money(o.total)] if v.sees_prices else [])
            for o in orders]
    cols = [v.t("Order"), v.t("Customer"), v.t("Status")] + ([v.t("Total")] if v.sees_prices else [])
    return Card(
        kind="list",
        locale=v.locale,
        title=title,
        table=LineTable(columns=cols, rows=rows) if rows else None,
        text=[] if rows else [empty],
        context=v.t("Send an order number to see its details"),
    )
