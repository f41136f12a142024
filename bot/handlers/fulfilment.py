"""Warehouse and finance in chat: tasks, claim, ship, payments, promised dates, statements, home tab."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from bot import intents as it
from bot.cards.approvals import approval_request_card
from bot.cards.common import link_button
from bot.cards.fulfilment import SHIP_ALL, SHIP_LINES, SHIP_MODE, receivables_digest_card, shipping_task_card
from bot.cards.model import Button, Card, CardKind, Field, Reply, Tone
from bot.handlers.base import Turn
from bot.handlers.inputs import Form, bounded, row_id
from bot.i18n.labels import carrier_label
from domain import approvals, carriers, fulfilment, orders, receivables
from domain.catalog import find_customers
from domain.errors import NotFound
from domain.messages import N_
from domain.models import Order, Payment, Shipment
from domain.permissions import (
    customers_visible_to,
    may_see_receivables,
    sees_all_receivables,
)

TASK_PAGE = 5


def my_tasks(turn: Turn, page: int = 0) -> list[Reply]:
    """我的任务: a count, then one page of task cards (unclaimed first, newest first), then a button for the next."""
    s = turn.uow.session
    total = fulfilment.count_open_tasks(s, turn.user)
    if not total:
        return turn.text("No open shipping tasks")
    page = max(0, min(page, (total - 1) // TASK_PAGE))
    first = page * TASK_PAGE
    tasks = fulfilment.open_tasks_for(s, turn.user, offset=first, limit=TASK_PAGE)
    v = turn.viewer
    last = first + len(tasks)
    head = v.tn("{n} open shipping task", "{n} open shipping tasks", total)
    if total > TASK_PAGE:
        head = v.t("{head} · showing {first}–{last}", head=head, first=first + 1, last=last)
    replies = [Reply(text=head)]
    replies += [Reply(card=shipping_task_card(t, fulfilment.task_lines(s, t), v)) for t in tasks]
    if last < total:
        replies.append(Reply(card=Card(kind=CardKind.MORE, locale=turn.locale, title=v.tn(
            "{n} more task", "{n} more tasks", total - last), buttons=[
            Button(action="tasks_page", label=v.t("Next {count}", count=min(TASK_PAGE, total - last)),
                   token=v.token("tasks_page", turn.user.id, page + 1))])))
    return replies


def claim(turn: Turn, task_id: int) -> list[Reply]:
    task = fulfilment.claim(turn.uow, task_id, turn.user, turn.actor)
    return turn.text("You claimed {ref} (order {number})", ref=task.ref, number=task.order.number)


def claim_by_ref(turn: Turn, ref: str) -> list[Reply]:
    return claim(turn, fulfilment.task_by_ref(turn.uow.session, ref).id)


def _ship(turn: Turn, task_id: int, carrier: str, tracking: str, quantities: dict[int, int] | None) -> list[Reply]:
    carrier = bounded(carrier.strip(), Shipment.carrier, field="carrier", label=N_("carrier"))
    tracking = bounded(tracking.strip(), Shipment.tracking_no, field="tracking", label=N_("tracking number"))
    shipment = fulfilment.ship(turn.uow, task_id, turn.user, carrier, tracking, quantities, turn.actor, turn.ctx.today())
    order = turn.uow.session.get(Order, shipment.order_id)
    assert order is not None
    task = shipment.task
    went = turn.texts.join(f"{sl.line.product.sku}×{sl.quantity}" for sl in shipment.lines)
    left = [r for r in fulfilment.task_lines(turn.uow.session, task) if r.quantity > 0]
    what = {"number": order.number, "carrier": carrier_label(turn.texts, shipment.carrier),
            "tracking": shipment.tracking_no, "went": went, "ref": task.ref}
    if not left:
        return turn.text("Shipped: order {number}, {carrier} {tracking}: {went}. Task {ref} is complete.", **what)
    rest = turn.texts.join(f"{r.line.product.sku}×{r.quantity}" for r in left)
    return turn.text("Partly shipped: order {number}, {carrier} {tracking}: {went}. Still to ship on {ref}: {rest} "
                     "(send 'ship {ref} <carrier> <tracking number>' for the rest).", rest=rest, **what)


def ship_by_text(turn: Turn, intent: it.Ship) -> list[Reply]:
    task = fulfilment.task_by_ref(turn.uow.session, intent.task_ref)
    quantities = None
    if intent.quantities:
        by_sku = {r.line.product.sku.upper(): r.order_line_id for r in fulfilment.task_lines(turn.uow.session, task)}
        quantities = {}
        for sku, qty in intent.quantities.items():
            if sku.upper() not in by_sku:
                return turn.error("{sku} is not part of {ref}; nothing was shipped", field="quantities", sku=sku,
                                  ref=task.ref)
            quantities[by_sku[sku.upper()]] = qty
    return _ship(turn, task.id, intent.carrier, intent.tracking, quantities)


def ship_from_form(turn: Turn, task_id: int, inputs: dict[str, str]) -> list[Reply]:
    """The ship form: carrier, tracking number, and either a number per line (0 or empty: not this time) or, on a
    task with more lines than a form shows, "everything left" vs a typed list of lines (see shipping_task_card)."""
    task = fulfilment.get_task(turn.uow.session, task_id)
    form = Form(turn, inputs)
    carrier = form.raw("carrier")
    carrier = carriers.canonical(carrier) or carrier
    quantities: dict[int, int] = {}
    per_line = False  # some line was given a number: the lines left out ship nothing this time
    for name in inputs:
        line_id = row_id(name.removeprefix("qty_")) if name.startswith("qty_") else None
        if line_id is None or not form.raw(name):
            continue  # not a line of ours (an id no column holds is none), or left empty
        per_line = True
        qty = form.quantity(name, allow_zero=True)  # the bounded reader: 1.9, 1e600000 and -1 are refused
        if qty:
            quantities[line_id] = qty
    if SHIP_MODE in inputs:
        listed = form.raw(SHIP_LINES)
        if inputs[SHIP_MODE] == SHIP_ALL:
            if listed:
                return turn.error("You chose 'everything left' and also listed quantities: pick one; nothing was shipped",
                                  field=SHIP_LINES)
            return _ship(turn, task_id, carrier, form.raw("tracking"), None)
        if not listed:
            return turn.error("List the lines to ship, e.g. SKU-001 x5", field=SHIP_LINES)
        by_sku = {r.line.product.sku.upper(): r.order_line_id for r in fulfilment.task_lines(turn.uow.session, task)}
        per_line = True
        for sku, qty in it.ship_quantities(listed, field=SHIP_LINES, limits=turn.ctx.settings.limits).items():
            if sku not in by_sku:
                return turn.error("{sku} is not part of {ref}; nothing was shipped", field=SHIP_LINES, sku=sku,
                                  ref=task.ref)
            quantities[by_sku[sku]] = qty
    return _ship(turn, task_id, carrier, form.raw("tracking"), quantities if per_line else None)


def _pay(turn: Turn, order: Order, amount: Decimal, on: date | None, method: str | None) -> list[Reply]:
    method = bounded((method or "").strip(), Payment.method, field="method", label=N_("payment method"))
    fulfilment.record_payment(turn.uow, order, amount, on or turn.ctx.today(), method, turn.user, turn.actor)
    left = fulfilment.open_amount(turn.uow.session, order.id)
    v = turn.viewer
    return turn.text("Recorded {amount} for {number}; open {left}", amount=v.money(amount), number=order.number, left=v.money(left))


def payment_by_text(turn: Turn, intent: it.Payment) -> list[Reply]:
    return _pay(turn, orders.get_order(turn.uow.session, intent.number), intent.amount, intent.on, intent.method)


def pay_from_form(turn: Turn, order_id: int, inputs: dict[str, str]) -> list[Reply]:
    order = turn.uow.session.get(Order, order_id)
    if order is None:
        raise NotFound("No such order")
    form = Form(turn, inputs)
    amount = form.amount("amount")
    on = form.date("date", latest=turn.ctx.today(), what=N_("the payment date"))
    return _pay(turn, order, amount, on, form.raw("method"))


def promise(turn: Turn, rid: int, inputs: dict[str, str]) -> list[Reply]:
    # the field shows the reader's date format; every format the parser reads is accepted
    d = Form(turn, inputs).date("date", earliest=turn.ctx.today(), what=N_("the promised payment date"))
    if d is None:
        return turn.error("Fill in the promised payment date", field="date")
    r = receivables.promise_payment(turn.uow, rid, turn.user, d, turn.actor)
    return turn.text("Promised date {d} noted; no reminders for {number} until then", d=d, number=r.label)


def snooze(turn: Turn, rid: int) -> list[Reply]:
    r = receivables.snooze(turn.uow, rid, turn.user, turn.actor)
    return turn.text("OK, reminding you about {number} on {snoozed_until}", number=r.label, snoozed_until=r.snoozed_until)


def statement(turn: Turn, query: str, start: date | None, end: date | None) -> list[Reply]:
    s = turn.uow.session
    found = find_customers(s, query, among=customers_visible_to(turn.user))
    if not found:
        return turn.error("No customer matches '{query}'", query=query)
    if len(found) != 1:
        return turn.error("'{query}' matches {count} customers; use the code", query=query, count=len(found))
    c = found[0]
    today = turn.ctx.today()
    end = end or today
    start = start or _default_start(turn, c.id, today)
    if end < start:
        return turn.error("The end date is before the start date")
    pdf, xlsx = turn.ctx.statement_urls(c.code, start, end, turn.locale)
    v = turn.viewer
    open_ = orders.open_receivables(s, c.id)
    return [Reply(card=Card(kind=CardKind.STATEMENT, locale=turn.locale, title=turn.t("Statement · {name}", name=turn.viewer.name(c)),
                            fields=[Field(label=turn.t("Period"), value=f"{v.date(start)} – {v.date(end)}"),
                                    Field(label=turn.t("Open balance"), value=v.money(open_))],
                            buttons=[link_button(turn.t("Statement PDF"), pdf), link_button(turn.t("Statement Excel"), xlsx)],
                            data={"pdf": pdf, "xlsx": xlsx}))]  # each link once, as a button


def _default_start(turn: Turn, customer_id: int, today: date) -> date:
    """Everything still open plus the last full month: from the earlier of the oldest open receivable's booking
    and the first of last month."""
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    oldest = orders.oldest_open_receivable(turn.uow.session, customer_id)
    return min(last_month, oldest.astimezone(turn.ctx.settings.tz).date()) if oldest else last_month


def overdue(turn: Turn) -> list[Reply]:
    """Overdue receivables on demand: managers, finance and admins see all; sales their own customers' orders."""
    u = turn.user
    if not may_see_receivables(u):
        return turn.error("Overdue receivables are for sales, finance and managers")
    today = turn.ctx.today()
    items = fulfilment.overdue_receivables(turn.uow.session, today, None if sees_all_receivables(u) else u.id)
    if not items:
        return turn.text("No overdue receivables.")
    v = turn.viewer
    shown = items[:20]
    title = None if len(shown) == len(items) else v.t("{total} overdue receivables; the {shown} longest overdue",
                                                      total=len(items), shown=len(shown))
    card = receivables_digest_card(shown, today, v, title)
    card.fields = [Field(label=v.t("Overdue total"), value=v.money(sum((r.open_amount for r in items), Decimal("0.00"))))]
    return [Reply(card=card)]


def home_cards(turn: Turn) -> list[Card]:
    s = turn.uow.session
    v = turn.viewer
    cards: list[Card] = [Card(kind=CardKind.INFO, locale=turn.locale, title=turn.t("Hello, {display_name}", display_name=turn.user.display_name),
                              tone=Tone.NEUTRAL, text=[turn.t("Send 'help' for every command")])]
    cards += [approval_request_card(i.order, i.step, v) for i in approvals.pending_for(s, turn.user.id)[:5]]
    cards += [shipping_task_card(t, fulfilment.task_lines(s, t), v) for t in fulfilment.open_tasks_for(s, turn.user)[:5]]
    mine = (fulfilment.overdue_receivables(s, turn.ctx.today(), None if sees_all_receivables(turn.user) else turn.user.id)
            if may_see_receivables(turn.user) else [])
    if mine:
        cards.append(receivables_digest_card(mine[:20], turn.ctx.today(), v))
    return cards
