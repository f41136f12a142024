"""Placing orders: the order form card, the one-line power-user form, and the form's submission."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import ColumnElement

from bot import intents as it
from bot import order_lines, state
from bot.cards.model import Button, Card, CardKind, Input, Option, Reply, Tone
from bot.handlers.base import Turn
from bot.handlers.inputs import Form, row_id
from bot.i18n.labels import unit_label
from bot.tokens import ActionToken
from domain.catalog import find_customers, find_products, first_customers, first_products, product_units
from domain.errors import PermissionDenied, ValidationFailed
from domain.messages import N_
from domain.models import Channel, Customer, Order, Product
from domain.orders import LineRequest, OrderRequest, create_order, recent_duplicate
from domain.permissions import (
    customers_visible_to,
    may_create_orders,
    may_order_for_any_customer,
    sees_prices,
)

FORM_LINES = 5


def order_form(turn: Turn) -> list[Reply]:
    if not may_create_orders(turn.user):
        raise PermissionDenied("Only sales staff can place orders")
    inputs = [Input(name="customer", label=turn.t("Customer"), kind="select", source="customers",
                    placeholder=turn.t("Customer code or name"))]
    for i in range(1, FORM_LINES + 1):
        inputs.append(Input(name=f"product_{i}", label=turn.t("Product {i}", i=i), kind="select",
                            source="products", required=i == 1, placeholder="SKU"))
        inputs.append(Input(name=f"qty_{i}", label=turn.t("Quantity {i}", i=i), kind="number", required=i == 1))
    # A date field shows the reader's date format (2026年12月15日 / Dec 15, 2026), not the browser's.
    inputs.append(Input(name="requested_date", label=turn.t("Requested date"), kind="date", required=False,
                        placeholder=turn.viewer.date(turn.ctx.today() + timedelta(days=7))))
    inputs.append(Input(name="notes", label=turn.t("Notes"), required=False, multiline=True))
    submit = Button(action="submit_order", label=turn.t("Submit order"), style="primary",
                    token=turn.viewer.token("submit_order", turn.user.id), inputs=inputs,
                    command=turn.t("order CUSTOMER SKU-001 x10"))
    return [Reply(card=Card(kind=CardKind.FORM, locale=turn.locale, title=turn.t("New order"), tone=Tone.INFO,
                            inputs=inputs, buttons=[submit],
                            text=[turn.t("Power users: order ACME SKU-001 x10 SKU-007 x5")]))]


def quick_order(turn: Turn, intent: it.QuickOrder, original: str) -> list[Reply]:
    s = turn.uow.session
    customers = find_customers(s, intent.customer_query, among=_orderable(turn))
    if len(customers) != 1:
        return _choices(turn, "customer", intent.customer_query, customers, original, 0)
    picked: list[LineRequest] = []
    units = intent.units or ("",) * len(intent.lines)
    for idx, ((pq, qty), unit) in enumerate(zip(intent.lines, units, strict=True), start=1):
        products = find_products(s, pq)
        if len(products) != 1:
            return _choices(turn, "product", pq, products, original, idx)
        p = products[0]
        if unit and not order_lines.same_unit(unit, p.unit):
            # 10箱 of a product sold by the 盒 is not 10 盒: ask rather than guess.
            return turn.error("{sku} {name} is sold by the {unit}, you wrote '{typed}'. Give the quantity in {unit}, "
                              "e.g. {sku} x{qty}", field="quantity", sku=p.sku, name=turn.viewer.name(p),
                              unit=unit_label(turn.texts, p.unit, 1), typed=f"{qty} {unit}", qty=qty)
        picked.append(LineRequest(product_id=p.id, quantity=qty))
    return _place(turn, OrderRequest(customer_id=customers[0].id, lines=picked, requested_date=intent.requested,
                                     channel=_channel(turn)))


def _orderable(turn: Turn) -> ColumnElement[bool] | None:
    """The customers this person may order for: their own, or any when the setting routes such orders."""
    if turn.ctx.settings.orders_for_other_sales == "owner_manager" or may_order_for_any_customer(turn.user):
        return None
    return customers_visible_to(turn.user)


def _channel(turn: Turn) -> Channel:
    return Channel.SANDBOX if turn.platform in turn.ctx.sandboxes else Channel.CHAT


def _choices(turn: Turn, what: str, query: str, found: list, original: str, slot: int) -> list[Reply]:
    customer = what == "customer"
    if not found:
        return turn.error("No customer matches '{query}'" if customer else "No product matches '{query}'", field=what,
                          query=query)
    # Remember the command; the chosen button fills in the ambiguous slot and runs it again.
    state.ask(turn.uow.session, turn.user.id, "quick_order", original[:300], turn.uow.now() + timedelta(minutes=30))
    buttons = []
    for item in found[:6]:
        code = item.code if isinstance(item, Customer) else item.sku
        buttons.append(Button(action="choose", label=f"{code} {turn.viewer.name(item)}"[:40],
                              token=turn.viewer.token("choose", item.id, slot, "c" if what == "customer" else "p"),
                              command=original.replace(query, code, 1)))
    return [Reply(card=Card(kind=CardKind.CHOICES, locale=turn.locale, title=turn.t("'{query}' matches several; pick the customer" if customer
                                                                               else "'{query}' matches several; pick the product",
                                                                               query=query),
                            buttons=buttons))]


def choose(turn: Turn, tok: ActionToken) -> list[Reply]:
    s = turn.uow.session
    prompt = state.prompt_of(s, turn.user.id)
    if prompt is None or prompt.kind != "quick_order" or prompt.expires_at < turn.uow.now():
        return turn.error("This choice has expired; please place the order again")
    parsed = turn.ctx.parse(prompt.token, units=order_lines.unit_words(product_units(s)))
    if not isinstance(parsed, it.QuickOrder):
        return turn.error("This choice has expired; please place the order again")
    item: Customer | Product | None = s.get(Customer, tok.target) if tok.arg == "c" else s.get(Product, tok.target)
    if item is None:
        return turn.error("No such option")
    code = item.code if isinstance(item, Customer) else item.sku
    customer_q = code if tok.arg == "c" else parsed.customer_query
    lines = tuple((code if (tok.arg == "p" and i == tok.slot) else q, n) for i, (q, n) in enumerate(parsed.lines, start=1))
    state.forget(s, prompt)
    chosen = replace(parsed, customer_query=customer_q, lines=lines)
    return quick_order(turn, chosen, it.quick_order_text(chosen))


def submit_form(turn: Turn, inputs: dict[str, str]) -> list[Reply]:
    s = turn.uow.session
    form = Form(turn, inputs)
    cq = form.raw("customer")
    cid = row_id(cq)
    customer = s.get(Customer, cid) if cid is not None else None
    if customer is None:
        found = find_customers(s, cq, among=_orderable(turn)) if cq else []
        if len(found) != 1:
            return turn.error("Pick one customer", field="customer")
        customer = found[0]
    lines = [LineRequest(product_id=product.id, quantity=qty) for product, qty in form.product_lines(FORM_LINES)]
    # the field shows the reader's date format; every format the parser reads is accepted
    requested = form.date("requested_date", earliest=turn.ctx.today(), what=N_("the requested date"))
    return _place(turn, OrderRequest(customer_id=customer.id, lines=lines, requested_date=requested,
                                     notes=form.raw("notes"), channel=_channel(turn)))


DUPLICATE_WINDOW = timedelta(minutes=10)


def _place(turn: Turn, req: OrderRequest, confirmed: bool = False) -> list[Reply]:
    if not confirmed:
        twin = recent_duplicate(turn.uow.session, turn.user.id, req, turn.uow.now() - DUPLICATE_WINDOW)
        if twin is not None:
            return _ask_again(turn, req, twin)
    order = create_order(turn.uow, turn.user, req, turn.ctx.policy(), turn.actor)
    v = turn.viewer
    waiting = [s for s in order.steps if s.status == "pending"]
    if waiting:
        from bot.cards.approvals import step_name

        status = turn.t("submitted for approval ({step})", step=step_name(waiting[0], v))
    else:
        status = turn.t("approved")
    if sees_prices(turn.user):
        return turn.text("Order {number} created, total {total}, {status}.", number=order.number,
                         total=v.money(order.total), status=status)
    return turn.text("Order {number} created, {status}.", number=order.number, status=status)


def _ask_again(turn: Turn, req: OrderRequest, twin: Order) -> list[Reply]:
    """The same customer and lines came in again within minutes: place it only when the person says so."""
    saved = json.dumps({"c": req.customer_id, "l": [[lr.product_id, lr.quantity] for lr in req.lines],
                        "d": req.requested_date.isoformat() if req.requested_date else None,
                        "n": req.notes[:80], "ch": req.channel.value}, separators=(",", ":"))
    if len(saved) > 300:  # too long to keep for the confirmation: place it (this is a warning, not a rule)
        return _place(turn, req, confirmed=True)
    state.ask(turn.uow.session, turn.user.id, "confirm_order", saved, turn.uow.now() + DUPLICATE_WINDOW)
    v = turn.viewer
    minutes = max(1, int((turn.uow.now() - twin.created_at).total_seconds() // 60))
    card = Card(kind=CardKind.CONFIRM, locale=turn.locale, tone=Tone.WARNING,
                title=turn.t("Place the same order again?"),
                text=[v.tn("You placed order {number} for {customer} with the same lines {n} minute ago.",
                           "You placed order {number} for {customer} with the same lines {n} minutes ago.", minutes,
                           number=twin.number, customer=v.name(twin.customer))],
                buttons=[Button(action="confirm_order", label=turn.t("Place it again"), style="primary",
                                token=v.token("confirm_order", turn.user.id)),
                         Button(action="show_order", label=turn.t("Show {number}", number=twin.number),
                                token=v.token("show_order", twin.id), command=twin.number)])
    return [Reply(card=card)]


def confirm_again(turn: Turn) -> list[Reply]:
    s = turn.uow.session
    prompt = state.prompt_of(s, turn.user.id)
    if prompt is None or prompt.kind != "confirm_order" or prompt.expires_at < turn.uow.now():
        return turn.error("This confirmation has expired; please place the order again")
    data = json.loads(prompt.token)
    state.forget(s, prompt)
    req = OrderRequest(customer_id=int(data["c"]), lines=[LineRequest(product_id=int(p), quantity=int(q)) for p, q in data["l"]],
                       requested_date=date.fromisoformat(data["d"]) if data.get("d") else None, notes=data.get("n") or "",
                       channel=Channel(data.get("ch") or Channel.CHAT.value))
    return _place(turn, req, confirmed=True)


def suggest(turn: Turn, source: str, query: str) -> list[Option]:
    s = turn.uow.session
    if source == "customers":
        scope = _orderable(turn)
        items = find_customers(s, query, among=scope) if query.strip() else first_customers(s, among=scope)
        return [Option(value=str(c.id), label=f"{c.code} {turn.viewer.name(c)}") for c in items[:50]]
    if source == "products":
        products = find_products(s, query) if query.strip() else first_products(s)
        return [Option(value=str(p.id), label=f"{p.sku} {turn.viewer.name(p)} {p.spec}".strip()) for p in products[:50]]
    raise ValidationFailed("Unknown option source")
