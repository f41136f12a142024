"""Fulfilment events → outbox: task cards to the warehouse (and its group chat), updates, tracking to sales.
(Which event goes where is the table in bot.notifications.)"""

from __future__ import annotations

from bot.cards.common import info_card, link_button
from bot.cards.fulfilment import shipping_task_card, task_key
from bot.cards.model import Tone
from bot.context import BotContext
from bot.i18n.labels import carrier_label
from domain import events as ev
from domain import fulfilment, recipients
from domain.models import Order, Role, Shipment, ShippingTask, User
from domain.uow import UnitOfWork


def task_created(e: ev.ShippingTaskCreated, uow: UnitOfWork, ctx: BotContext) -> None:
    s = uow.session
    task = s.get(ShippingTask, e.task_id)
    assert task is not None
    lines = fulfilment.task_lines(s, task)
    for u in recipients.warehouse_staff(s, task.warehouse_id):
        ctx.outbox.to_user(s, u, card=shipping_task_card(task, lines, ctx.viewer(u)))
    for platform, chat in ctx.group_chats.items():
        # A group has no single viewer: render as a warehouse person would see it (no prices), in the default locale.
        viewer_user = User(display_name="group", locale=ctx.settings.default_locale, roles_csv=Role.WAREHOUSE.value)
        ctx.outbox.to_group(s, platform, chat, card=shipping_task_card(task, lines, ctx.viewer(viewer_user)))


def _refresh_task(uow: UnitOfWork, ctx: BotContext, task: ShippingTask) -> None:
    lines = fulfilment.task_lines(uow.session, task)

    def build(uid: int | None):
        u = uow.session.get(User, uid) if uid is not None else None
        if u is None:
            u = User(display_name="group", locale=ctx.settings.default_locale, roles_csv=Role.WAREHOUSE.value)
        return shipping_task_card(task, lines, ctx.viewer(u))

    ctx.outbox.update_everywhere(uow.session, task_key(task), build)


def task_claimed(e: ev.ShippingTaskClaimed, uow: UnitOfWork, ctx: BotContext) -> None:
    task = uow.session.get(ShippingTask, e.task_id)
    assert task is not None
    _refresh_task(uow, ctx, task)


def shipped(e: ev.Shipped, uow: UnitOfWork, ctx: BotContext) -> None:
    s = uow.session
    task, shipment, order = s.get(ShippingTask, e.task_id), s.get(Shipment, e.shipment_id), s.get(Order, e.order_id)
    assert task is not None and shipment is not None and order is not None
    _refresh_task(uow, ctx, task)
    v = ctx.viewer(order.sales_user)
    qty = v.texts.join(f"{sl.line.product.sku} × {v.qty(sl.quantity, sl.line.product.unit)}" for sl in shipment.lines)
    link = ctx.delivery_note_url(shipment.id, v.locale)
    card = info_card(v.locale, v.t("Order {number} has shipped", number=order.number),
                     [v.t("{carrier} tracking number {tracking_no}", carrier=carrier_label(v.texts, shipment.carrier), tracking_no=shipment.tracking_no),
                      qty], Tone.SUCCESS)
    card.buttons = [link_button(v.t("Delivery note PDF"), link)]  # the link once, as a button
    card.data = {"order_no": order.number, "tracking": shipment.tracking_no, "carrier": shipment.carrier}
    ctx.outbox.to_user(s, order.sales_user, card=card)


def payment_recorded(e: ev.PaymentRecorded, uow: UnitOfWork, ctx: BotContext) -> None:
    order = uow.session.get(Order, e.order_id)
    assert order is not None
    v = ctx.viewer(order.sales_user)
    ctx.outbox.to_user(uow.session, order.sales_user, card=info_card(
        v.locale, v.t("Payment of {amount} for {number}", amount=v.money(e.amount), number=order.number),
        [v.t("Still open: {open_after}", open_after=v.money(e.open_after))], Tone.SUCCESS))


def order_completed(e: ev.OrderCompleted, uow: UnitOfWork, ctx: BotContext) -> None:
    order = uow.session.get(Order, e.order_id)
    assert order is not None
    v = ctx.viewer(order.sales_user)
    ctx.outbox.to_user(uow.session, order.sales_user, card=info_card(
        v.locale, v.t("Order {number} is completed", number=order.number),
        [v.t("Fully shipped and paid.")], Tone.SUCCESS))


def tasks_closed(e: ev.ShippingTasksClosed, uow: UnitOfWork, ctx: BotContext) -> None:
    for task_id in e.task_ids:
        task = uow.session.get(ShippingTask, task_id)
        assert task is not None
        _refresh_task(uow, ctx, task)

