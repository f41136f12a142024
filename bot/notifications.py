"""Domain events → outbox rows, inside the transaction that produced the events.

Which event goes to which function is one readable table at the bottom.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from bot import notifications_fulfilment as nf
from bot.cards.approvals import (
    approval_decided_card,
    approval_key,
    approval_progress_card,
    approval_request_card,
)
from bot.cards.common import info_card
from bot.cards.model import Tone
from bot.context import BotContext
from bot.i18n.labels import unit_label
from bot.state import once
from domain import events as ev
from domain import recipients
from domain.models import ApprovalStep, AssignedVia, Order, Product, StepStatus, User, Warehouse
from domain.uow import UnitOfWork


def _user(s: Session, uid: int | None) -> User | None:
    return s.get(User, uid) if uid is not None else None


def approval_requested(e: ev.ApprovalRequested, uow: UnitOfWork, ctx: BotContext) -> None:
    s = uow.session
    order, step = s.get(Order, e.order_id), s.get(ApprovalStep, e.step_id)
    assert order is not None and step is not None
    via = {a.user_id: a.via for a in step.assignments}
    for uid in e.approver_ids:
        user = _user(s, uid)
        if user is None:
            continue
        v = ctx.viewer(user)
        card = approval_request_card(order, step, v)
        if via.get(uid) == AssignedVia.ESCALATION.value:  # say why it reached someone the rule does not name
            card.subtitle = v.t("Sent to you: nobody the rule names may decide this order ({subtitle})",
                                subtitle=card.subtitle)
        ctx.outbox.to_user(s, user, card=card)


def no_eligible_approver(e: ev.NoEligibleApprover, uow: UnitOfWork, ctx: BotContext) -> None:
    """Nobody may decide a step: admins must fix roles or rules (the scheduler hands it on as soon as someone can);
    the sales owner learns why the order waits."""
    s = uow.session
    order, step = s.get(Order, e.order_id), s.get(ApprovalStep, e.step_id)
    assert order is not None and step is not None
    for admin in recipients.admins(s):
        v = ctx.viewer(admin)
        ctx.outbox.to_user(s, admin, alert=True, card=info_card(
            v.locale, v.t("Nobody may approve order {number}", number=order.number),
            [v.t("Every approver of step '{step}' created or owns this order (nobody approves their own order), and no "
                 "manager or admin above them is free to decide it.", step=v.name(step)),
             v.t("Add an approver in the rules or the user roles; the step is handed on automatically once someone can.")],
            Tone.WARNING))
    v = ctx.viewer(order.sales_user)
    ctx.outbox.to_user(s, order.sales_user, card=info_card(
        v.locale, v.t("Order {number} has no approver yet", number=order.number),
        [v.t("Nobody can decide '{step}' yet; the admins have been told.", step=v.name(step))],
        Tone.WARNING))


def _refresh_copies(s: Session, ctx: BotContext, order: Order, step: ApprovalStep) -> None:
    def build(uid: int | None):
        user = _user(s, uid)
        if user is None:
            return None
        v = ctx.viewer(user)
        if step.status == StepStatus.PENDING.value:
            return approval_progress_card(order, step, v)
        return approval_decided_card(order, step, v)

    ctx.outbox.update_everywhere(s, approval_key(step), build)


def approval_decided(e: ev.ApprovalDecided, uow: UnitOfWork, ctx: BotContext) -> None:
    s = uow.session
    order, step = s.get(Order, e.order_id), s.get(ApprovalStep, e.step_id)
    assert order is not None and step is not None
    _refresh_copies(s, ctx, order, step)


def order_approved(e: ev.OrderApproved, uow: UnitOfWork, ctx: BotContext) -> None:
    s = uow.session
    order = s.get(Order, e.order_id)
    assert order is not None
    v = ctx.viewer(order.sales_user)
    ctx.outbox.to_user(s, order.sales_user, card=info_card(
        v.locale, v.t("Order {number} is approved", number=order.number),
        [v.t("Customer {name}, total {total}; the warehouse has been told to ship.", name=v.name(order.customer), total=v.money(order.total))],
        Tone.SUCCESS))


def order_rejected(e: ev.OrderRejected, uow: UnitOfWork, ctx: BotContext) -> None:
    s = uow.session
    order, by = s.get(Order, e.order_id), _user(s, e.rejected_by_id)
    assert order is not None
    v = ctx.viewer(order.sales_user)
    who = by.display_name if by else "—"
    ctx.outbox.to_user(s, order.sales_user, card=info_card(
        v.locale, v.t("Order {number} was rejected", number=order.number),
        [v.t("{who} rejected it. Reason: {reason}", who=who, reason=e.reason),
         v.t("Its reserved stock was released.")], Tone.DANGER))


def order_cancelled(e: ev.OrderCancelled, uow: UnitOfWork, ctx: BotContext) -> None:
    s = uow.session
    order = s.get(Order, e.order_id)
    assert order is not None
    for step in order.steps:
        _refresh_copies(s, ctx, order, step)
    if e.cancelled_by_id != order.sales_user_id:
        v = ctx.viewer(order.sales_user)
        ctx.outbox.to_user(s, order.sales_user, card=info_card(
            v.locale, v.t("Order {number} was cancelled", number=order.number),
            [e.reason or ""], Tone.DANGER))


def stock_low(e: ev.StockLow, uow: UnitOfWork, ctx: BotContext) -> None:
    s = uow.session
    # One alert per low-stock spell: a restock above safety stock ends the spell, the next fall is news again.
    spell = e.since.isoformat() if e.since else ctx.today().isoformat()
    if not once(s, f"stock-low:{e.warehouse_id}:{e.product_id}:{spell}", uow.now()):
        return
    product, wh = s.get(Product, e.product_id), s.get(Warehouse, e.warehouse_id)
    assert product is not None and wh is not None
    for u in recipients.stock_watchers(s, wh.id):
        v = ctx.viewer(u)
        ctx.outbox.to_user(s, u, card=info_card(
            v.locale, v.t("Low stock: {sku} {name}", sku=product.sku, name=v.name(product)),
            [v.t("{name}: {available} {unit} available, below the safety stock of {safety_stock}", name=wh.name, available=e.available, unit=unit_label(v.texts, product.unit, e.available), safety_stock=e.safety_stock)],
            Tone.WARNING))


def approval_nudged(e: ev.ApprovalNudged, uow: UnitOfWork, ctx: BotContext) -> None:
    s = uow.session
    order, step = s.get(Order, e.order_id), s.get(ApprovalStep, e.step_id)
    assert order is not None and step is not None
    by = _user(s, e.by_user_id)
    for uid in e.approver_ids + e.escalated_to_ids:
        user = _user(s, uid)
        if user is None:
            continue
        v = ctx.viewer(user)
        card = approval_request_card(order, step, v)
        if e.kind == "escalation":
            card.subtitle = v.t("Escalated: this approval is overdue ({subtitle})", subtitle=card.subtitle)
        elif e.kind == "reminder":
            card.subtitle = v.t("Reminder: this approval has been waiting ({subtitle})", subtitle=card.subtitle)
        else:
            name = by.display_name if by else ""
            card.subtitle = v.t("Nudge from {name}: ({subtitle})", name=name, subtitle=card.subtitle)
        ctx.outbox.to_user(s, user, card=card)


Handler = Callable[..., None]
HANDLERS: dict[type[ev.Event], list[Handler]] = {
    ev.ApprovalRequested: [approval_requested],
    ev.NoEligibleApprover: [no_eligible_approver],
    ev.ApprovalDecided: [approval_decided],
    ev.OrderApproved: [order_approved],
    ev.OrderRejected: [order_rejected],
    ev.OrderCancelled: [order_cancelled],
    ev.StockLow: [stock_low],
    ev.ApprovalNudged: [approval_nudged],
    ev.ShippingTaskCreated: [nf.task_created],
    ev.ShippingTasksClosed: [nf.tasks_closed],
    ev.ShippingTaskClaimed: [nf.task_claimed],
    ev.Shipped: [nf.shipped],
    ev.PaymentRecorded: [nf.payment_recorded],
    ev.OrderCompleted: [nf.order_completed],
}


def register(event_type: type[ev.Event], handler: Handler) -> None:
    """Add a subscriber at run time (tests); the subscribers of the product are the table above."""
    HANDLERS.setdefault(event_type, []).append(handler)


def publish(uow: UnitOfWork, ctx: BotContext) -> None:
    """Handle every event of the unit of work (handlers may add more events; those are handled too). The handlers
    read the change as flushed before them and add messages; those are written in one flush at commit (profile of
    the inbox worker: a flush before each of their queries was a third of a decision's time)."""
    with uow.batched():
        handle_events(uow, ctx)


def handle_events(uow: UnitOfWork, ctx: BotContext) -> None:
    """`publish` inside a `UnitOfWork.batched` the caller holds (the core adds its answers' messages in it first, so
    they and the notifications are one INSERT at commit, in that order)."""
    i = 0
    while i < len(uow.events):
        event = uow.events[i]
        for handler in HANDLERS.get(type(event), []):
            handler(event, uow, ctx)
        i += 1
