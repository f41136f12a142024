"""Shipping-task cards (no prices: they are for the warehouse) and the receivables digest."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from bot.cards.context import Viewer
from bot.cards.model import Button, Card, CardKind, Field, Input, LineTable, Option, Tone
from bot.i18n.labels import CARRIERS, carrier_label
from domain.fulfilment import OverdueItem
from domain.models import Reservation, ShippingTask, TaskStatus

# A form shows one number per line up to this many lines (Slack modals hold 100 inputs, and nobody wants more boxes
# than this); a bigger task asks "everything left" vs a typed list of lines instead, so no line is ever dropped.
MAX_LINE_INPUTS = 40
SHIP_MODE, SHIP_LINES, SHIP_ALL, SHIP_SOME = "ship_mode", "ship_lines", "all", "some"


def task_key(task: ShippingTask) -> str:
    return f"task:{task.id}"


def requested_date(order_date: date | None, v: Viewer, open_: bool = True) -> tuple[str, bool]:
    """The requested date as read, and whether it has passed while the work is still open (it then stands out)."""
    if order_date is None:
        return "—", False
    late = open_ and order_date < v.today
    text = v.date(order_date)
    return (v.t("⚠ {date} (overdue)", date=text) if late else text), late


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
    unit = {r.id: r.line.product.unit for r in lines}
    rows = [[r.line.product.sku, v.name(r.line.product), r.line.product.spec, v.qty(r.quantity + r.shipped, unit[r.id]),
             v.texts.number(r.shipped), v.texts.number(r.quantity)] for r in lines]
    buttons: list[Button] = []
    if not done:
        if task.claimed_by_id is None:
            buttons.append(Button(action="claim", label=v.t("Claim"), style="primary",
                                  token=v.token("claim", task.id), command=v.t("claim {ref}", ref=task.ref)))
        buttons.append(Button(action="ship", label=v.t("Confirm shipment"), style="primary" if task.claimed_by_id else "default",
                              token=v.token("ship", task.id), inputs=ship_inputs(lines, v),
                              command=v.t("ship {ref} SF SF0000000000", ref=task.ref)))
    due, late = requested_date(order.requested_date, v, not done)
    return Card(
        kind=CardKind.SHIPPING_TASK, key=task_key(task), locale=v.locale,
        title=v.t("Shipping task {ref} · order {number}", ref=task.ref, number=order.number),
        preview=v.both("Shipping task {ref} · order {number}", ref=task.ref, number=order.number),
        tone=Tone.SUCCESS if done else (Tone.WARNING if late else Tone.INFO), subtitle=status,
        fields=[
            Field(label=v.t("Customer"), value=v.name(c)),
            Field(label=v.t("Address"), value=f"{c.province}{c.city}{c.address}" or "—"),
            Field(label=v.t("Contact"), value=f"{c.contact_name} {c.contact_phone}".strip() or "—"),
            Field(label=v.t("Warehouse"), value=task.warehouse.name),
            Field(label=v.t("Requested date"), value=due),
        ],
        table=LineTable(columns=["SKU", v.t("Product"), v.t("Spec"), v.t("Qty"),
                                 v.t("Shipped"), v.t("To ship")], rows=rows),
        context=f"{task.ref} · {v.datetime(task.created_at)}",
        buttons=buttons,
        data={"task": task.ref, "order_no": order.number, "customer": v.name(c), "status": task.status},
    )


def ship_inputs(lines: Sequence[Reservation], v: Viewer) -> list[Input]:
    """Carrier, tracking number, and what to ship: a number per open line, or for a long task the choice between
    everything left and a typed list (handlers/fulfilment.ship_from_form reads both)."""
    inputs = [
        Input(name="carrier", label=v.t("Carrier"), kind="select",
              options=[Option(value=x, label=carrier_label(v.texts, x)) for x in CARRIERS]),
        Input(name="tracking", label=v.t("Tracking number")),
    ]
    open_lines = [r for r in lines if r.quantity > 0]
    if len(open_lines) <= MAX_LINE_INPUTS:
        return inputs + [Input(name=f"qty_{r.order_line_id}", label=v.t("{sku} quantity", sku=r.line.product.sku),
                               kind="number", initial=str(r.quantity), required=False) for r in open_lines]
    return inputs + [
        Input(name=SHIP_MODE, label=v.t("What ships ({n} lines)", n=len(open_lines)), kind="select",
              options=[Option(value=SHIP_ALL, label=v.t("Everything left")),
                       Option(value=SHIP_SOME, label=v.t("Only the lines below"))]),
        Input(name=SHIP_LINES, label=v.t("Quantities (one per line, e.g. SKU-001 x5)"),
              required=False, multiline=True, placeholder=v.t("Fill in for 'only the lines below'")),
    ]


def receivables_digest_card(items: Sequence[OverdueItem], as_of: date, v: Viewer, title: str | None = None) -> Card:
    rows = [[v.name(r), r.order_number, v.money(r.open_amount), v.date(r.due_date),
             v.texts.number((as_of - r.due_date).days)] for r in items]
    total = sum((r.open_amount for r in items), Decimal("0.00")) if items else None
    buttons = []
    for r in items[:5]:
        buttons.append(Button(action="snooze", label=v.t("{number}: remind in 3 days", number=r.order_number),
                              token=v.token("snooze", r.receivable_id)))
        buttons.append(Button(action="promise", label=v.t("{number}: promised date", number=r.order_number),
                              token=v.token("promise", r.receivable_id),
                              inputs=[Input(name="date", label=v.t("Promised payment date"), kind="date",
                                            placeholder=v.date(as_of))]))
    return Card(kind=CardKind.REMINDER_DIGEST, locale=v.locale,
                title=title or v.tn("{n} overdue receivable", "{n} overdue receivables", len(items)),
                preview={} if title else v.both_n("{n} overdue receivable", "{n} overdue receivables", len(items)),
                tone=Tone.WARNING,
                fields=[Field(label=v.t("Overdue total"), value=v.money(total))] if total is not None else [],
                table=LineTable(columns=[v.t("Customer"), v.t("Order"), v.t("Open amount"),
                                         v.t("Due"), v.t("Days overdue")], rows=rows),
                buttons=buttons[:10],
                text=[v.t("Record a payment: paid SO-… amount")])
