"""Order cards: the live status card with its timeline, and short order lists."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from bot.cards.context import Viewer
from bot.cards.model import Button, Card, CardKind, Field, LineTable, Tone
from bot.i18n.labels import carrier_label, status_label
from domain.approvals import current_step, pending_approvers
from domain.fulfilment import Balance
from domain.messages import N_
from domain.models import AuditEntry, Order, OrderStatus, Role
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

# How each audit entry reads in the timeline: {who} is the person, the rest comes from the entry's details.
# Entries not listed (refusals, internal bookkeeping) are left out of the timeline; they stay in the audit trail.
TIMELINE = {
    "created": N_("{who} created the order ({total})"),
    "submitted": N_("{who} submitted it for approval"),
    "approval_requested": N_("Waiting for {step}"),
    "approve": N_("{who} approved ({step})"),
    "reject": N_("{who} rejected it ({step}): {reason}"),
    "approved": N_("Fully approved"),
    "rejected": N_("Rejected: {reason}"),
    "cancelled": N_("{who} cancelled the order"),
    "nudge": N_("{who} nudged the approvers ({step})"),
    "reminder": N_("Reminder sent to the approvers ({step})"),
    "escalation": N_("Escalated to the approvers' managers ({step})"),
    "task_created": N_("Shipping task {task} created"),
    "claimed": N_("{who} claimed shipping task {task}"),
    "shipped": N_("{who} shipped {amount} ({tracking})"),
    "partially_shipped": N_("{who} shipped part of the order, {amount} ({tracking})"),
    "rest_cancelled": N_("{who} cancelled the unshipped rest"),
    "payment": N_("{who} recorded a payment of {amount}"),
    "completed": N_("Order completed"),
}
# For readers who see no prices (warehouse staff): the same story without amounts.
TIMELINE_NO_PRICES = {
    "created": N_("{who} created the order"),
    "shipped": N_("{who} shipped ({tracking})"),
    "partially_shipped": N_("{who} shipped part of the order ({tracking})"),
    "payment": None,
}


def line_table(order: Order, v: Viewer, max_rows: int | None = None) -> LineTable:
    rows = []
    lines = order.lines if max_rows is None else order.lines[:max_rows]
    if v.sees_prices:
        cols = ["SKU", v.t("Product"), v.t("Qty"), v.t("Unit price"), v.t("Discount"), v.t("Subtotal")]
        for ln in lines:
            rows.append([ln.product.sku, v.name(ln.product), v.qty(ln.quantity, ln.product.unit), v.money(ln.unit_price),
                         v.texts.percent(ln.discount_pct), v.money(ln.amount)])
        note = v.t("Total {amount}", amount=v.money(order.total))
    else:
        cols = ["SKU", v.t("Product"), v.t("Spec"), v.t("Qty")]
        for ln in lines:
            rows.append([ln.product.sku, v.name(ln.product), ln.product.spec, v.qty(ln.quantity, ln.product.unit)])
        note = None
    if max_rows is not None and len(order.lines) > max_rows:
        more = len(order.lines) - max_rows
        note = (note + " · " if note else "") + v.tn("…and {n} more line", "…and {n} more lines", more)
    return LineTable(columns=cols, rows=rows, note=note)


def _money(raw: object, v: Viewer) -> str:
    try:
        return v.money(Decimal(str(raw)))
    except (InvalidOperation, ValueError):
        return "—"


def _tracking(raw: object, v: Viewer) -> str:
    """'顺丰 SF123' as stored → 'SF Express SF123' for an English reader."""
    carrier, _, number = str(raw or "").partition(" ")
    return f"{carrier_label(v.texts, carrier)} {number}".strip()


def describe(entry: AuditEntry, v: Viewer, order: Order | None = None) -> str | None:
    """One timeline line, '12月1日 14:03 钱会计 收款 ¥12,000.00'; None for entries the timeline leaves out."""
    msgid = TIMELINE.get(entry.action)
    if not v.sees_prices and entry.action in TIMELINE_NO_PRICES:
        msgid = TIMELINE_NO_PRICES[entry.action]
    if msgid is None:
        return None
    d = entry.details or {}
    who = entry.actor.display_name if entry.actor else v.t("OrderTalk")
    step = d.get("step") or ""
    if order is not None and step:  # the audit trail keeps the step's name as written; show the reader's
        found = next((s for s in order.steps if s.name == step), None)
        if found is not None and not v.zh and found.name_en:
            step = found.name_en
    text = v.t(msgid, who=who, step=step or "—", reason=d.get("reason") or "—", task=d.get("task") or "",
               total=_money(d.get("total"), v), amount=_money(d.get("amount"), v), tracking=_tracking(d.get("tracking"), v))
    reason = d.get("reason")
    if entry.action == "cancelled" and reason:
        text = v.t("{text}: {reason}", text=text, reason=reason)
    return f"{v.when(entry.at)} {text}"


def timeline_lines(order: Order, entries: Sequence[AuditEntry], v: Viewer, last: int = 12) -> list[str]:
    """The order's story: each step once (an approver's rejection and the order's rejection are one event)."""
    out: list[str] = []
    previous: AuditEntry | None = None
    for e in entries:
        if e.action == "rejected" and previous is not None and previous.action == "reject":
            previous = e
            continue
        line = describe(e, v, order)
        if line is not None:
            out.append(line)
            previous = e
    return out[-last:]


def payment_state(order: Order, balance: Balance, v: Viewer) -> str | None:
    if balance.billed == 0:
        if order.state in (OrderStatus.REJECTED, OrderStatus.CANCELLED):
            return None
        return v.t("Nothing due yet (not shipped)")
    if balance.open <= 0:
        return v.t("Paid in full ({amount})", amount=v.money(balance.paid))
    text = v.t("{open} outstanding of {billed}", open=v.money(balance.open), billed=v.money(balance.billed))
    if balance.overdue > 0:
        text = v.t("{text}, {overdue} overdue", text=text, overdue=v.money(balance.overdue))
    return text


def order_status_card(order: Order, v: Viewer, timeline: Sequence[AuditEntry], balance: Balance | None = None) -> Card:
    state = order.state
    fields = [
        Field(label=v.t("Customer"), value=v.customer(order.customer)),
        Field(label=v.t("Sales"), value=order.sales_user.display_name),
        Field(label=v.t("Status"), value=status_label(v.texts, state)),
        Field(label=v.t("Requested date"), value=v.date(order.requested_date)),
        Field(label=v.t("Created"), value=v.datetime(order.created_at)),
    ]
    if v.sees_prices:
        fields.insert(2, Field(label=v.t("Total"), value=v.money(order.total)))
    # Payment state for the people who chase it: sales and finance.
    if balance is not None and v.user.has_role(Role.SALES, Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN):
        paid = payment_state(order, balance, v)
        if paid is not None:
            fields.append(Field(label=v.t("Payment"), value=paid))
    step = current_step(order)
    if step is not None:
        from bot.cards.approvals import step_name

        names = v.texts.join(u.display_name for u in pending_approvers(step))
        fields.append(Field(label=v.t("Waiting for"), value=v.t("{step}: {names}", step=step_name(step, v), names=names)))
    buttons = []
    if state == OrderStatus.PENDING_APPROVAL and step is not None:
        buttons.append(Button(action="nudge", label=v.t("Nudge approvers"), token=v.token("nudge", order.id),
                              command=v.t("remind {number}", number=order.number)))
    if state in (OrderStatus.PENDING_APPROVAL, OrderStatus.APPROVED) and may_cancel(v.user, order):
        buttons.append(Button(action="cancel", label=v.t("Cancel order"), style="danger",
                              token=v.token("cancel", order.id, order.version),
                              confirm=v.t("Cancel order {number}? Its reserved stock is released.", number=order.number),
                              command=v.t("cancel {number}", number=order.number)))
    return Card(
        kind=CardKind.ORDER_STATUS,
        key=f"order:{order.id}",
        locale=v.locale,
        title=v.t("Order {number}", number=order.number),
        tone=TONES[state],
        subtitle=status_label(v.texts, state),
        fields=fields,
        table=line_table(order, v, max_rows=50),
        text=[v.t("Timeline:")] + timeline_lines(order, timeline, v),
        context=order.number,
        buttons=buttons,
        data={"order_no": order.number, "status": state.value, "customer": v.name(order.customer)},
    )


def order_list_card(title: str, orders: Sequence[Order], v: Viewer, empty: str) -> Card:
    rows = [[o.number, v.name(o.customer), status_label(v.texts, o.state)] + ([v.money(o.total)] if v.sees_prices else [])
            for o in orders]
    cols = [v.t("Order"), v.t("Customer"), v.t("Status")] + ([v.t("Total")] if v.sees_prices else [])
    return Card(
        kind=CardKind.LIST,
        locale=v.locale,
        title=title,
        table=LineTable(columns=cols, rows=rows) if rows else None,
        text=[] if rows else [empty],
        context=v.t("Send an order number to see its details"),
    )
