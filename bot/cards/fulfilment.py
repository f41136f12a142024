"""Shipping-task cards (no prices: they are for the warehouse) and the receivables digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from bot.cards.context import Viewer
from bot.cards.model import Button, Card, Field, Input, LineTable, Option, Tone
from bot.i18n import fmt_date, fmt_time
from domain.fulfilment import OverdueItem
from domain.models import Reservation, ShippingTask, TaskStatus

CARRIERS = ["顺丰", "中通", "圆通", "韵达", "申通", "京东物流", "德邦", "EMS"]


def task_key(task: ShippingTask) -> str:
    return f"task:{task.id}"


def shipping_task_card(task: ShippingTask, lines: Sequence[Reservation], v: Viewer) -> Card:
    order, c = task.order, task.order.customer
    done = task.status in (TaskStatus.SHIPPED.value, TaskStatus.CANCELLED.value)
    who = task.claimed_by.display_name if task.claimed_by else None
    status = {
        TaskStatus.OPEN.value: v.t("Open"),
        TaskStatus.CLAIMED.value: v.t("Claimed by {who}", who=who),
        TaskStatus.PARTIALLY_SHIPPED.value: v.t("Partly shipped ({who})", who=who),
        TaskStatus.SHIPPED.value: v.t("Shipped"),
        TaskStatus.CANCELLED.value: v.t("Cancelled"),
    }[task.status]
    rows = [[r.line.product.sku, r.line.product.name, r.line.product.spec, f"{r.quantity + r.shipped} {r.line.product.unit}",
             str(r.shipped), str(r.quantity)] for r in lines]
    buttons: list[Button] = []
    zh = v.locale.startswith("zh")
    if not done:
        if task.claimed_by_id is None:
            buttons.append(Button(action="claim", label=v.t("Claim"), style="primary",
                                  token=v.token("claim", task.id), command=f"{'领取' if zh else 'claim'} {task.ref}"))
        inputs = [
            Input(name="carrier", label=v.t("Carrier"), kind="select",
                  options=[Option(value=x, label=x) for x in CARRIERS]),
            Input(name="tracking", label=v.t("Tracking number")),
        ] + [Input(name=f"qty_{r.order_line_id}", label=v.t("{sku} quantity", sku=r.line.product.sku),
                   kind="number", initial=str(r.quantity), required=False) for r in lines if r.quantity > 0]
        buttons.append(Button(action="ship", label=v.t("Confirm shipment"), style="primary" if task.claimed_by_id else "default",
                              token=v.token("ship", task.id), inputs=inputs,
                              command=f"{'发货' if zh else 'ship'} {task.ref} 顺丰 SF0000000000"))
    return Card(
        kind="shipping_task", key=task_key(task), locale=v.locale,
        title=v.t("Shipping task {ref} · order {number}", ref=task.ref, number=order.number),
        tone=Tone.SUCCESS if done else Tone.INFO, subtitle=status,
        fields=[
            Field(label=v.t("Customer"), value=c.name),
            Field(label=v.t("Address"), value=f"{c.province}{c.city}{c.address}" or "—"),
            Field(label=v.t("Contact"), value=f"{c.contact_name} {c.contact_phone}".strip() or "—"),
            Field(label=v.t("Warehouse"), value=task.warehouse.name),
            Field(label=v.t("Requested date"), value=fmt_date(order.requested_date)),
        ],
        table=LineTable(columns=[v.t("SKU", "SKU"), v.t("Product"), v.t("Spec"), v.t("Qty"),
                                 v.t("Shipped"), v.t("To ship")], rows=rows),
        context=f"{task.ref} · {fmt_time(task.created_at, v.tz)}",
        buttons=buttons,
        data={"task": task.ref, "order_no": order.number, "customer": c.name, "status": task.status},
    )


def receivables_digest_card(items: Sequence[OverdueItem], as_of: date, v: Viewer, title: str | None = None) -> Card:
    rows = [[r.customer_name, r.order_number, v.money(r.open_amount), fmt_date(r.due_date), str((as_of - r.due_date).days)]
            for r in items]
    total = sum((r.open_amount for r in items), Decimal("0.00")) if items else None
    buttons = []
    for r in items[:5]:
        buttons.append(Button(action="snooze", label=v.t("{order_number}: remind in 3 days", order_number=r.order_number),
                              token=v.token("snooze", r.receivable_id)))
        buttons.append(Button(action="promise", label=v.t("{order_number}: promised date", order_number=r.order_number),
                              token=v.token("promise", r.receivable_id),
                              inputs=[Input(name="date", label=v.t("Promised payment date"), kind="date")]))
    return Card(kind="reminder_digest", locale=v.locale,
                title=title or v.t("Overdue receivables ({count})", count=len(items)),
                tone=Tone.WARNING,
                fields=[Field(label=v.t("Overdue total"), value=v.money(total))] if total is not None else [],
                table=LineTable(columns=[v.t("Customer"), v.t("Order"), v.t("Open"),
                                         v.t("Due"), v.t("Days overdue")], rows=rows),
                buttons=buttons[:10],
                text=[v.t("Record a payment: paid SO-… amount")])
