"""Stock in chat: levels per warehouse with the last movements, and the warehouse's receipts (入库), counts (盘点)
and transfers (调拨), each answered with the new available figure; a receipt form for several lines."""

from __future__ import annotations

from bot import intents as it
from bot.cards.model import Button, Card, CardKind, Field, Input, LineTable, Option, Reply, Tone
from bot.handlers.base import Turn
from bot.handlers.inputs import Form, row_id
from domain import ledger, stock
from domain.catalog import find_products, find_warehouse, warehouses
from domain.errors import PermissionDenied, ValidationFailed
from domain.messages import N_
from domain.models import MovementKind, Product, Role, StockMovement, Warehouse
from domain.permissions import may_edit_products, may_move_stock

FORM_LINES = 5
MOVEMENT_WORDS = {
    MovementKind.OPENING: N_("opening stock"), MovementKind.RECEIPT: N_("received"),
    MovementKind.SHIPMENT: N_("shipped out"), MovementKind.RETURN: N_("returned"),
    MovementKind.ADJUSTMENT: N_("adjusted"), MovementKind.COUNT: N_("counted"),
    MovementKind.TRANSFER_OUT: N_("transferred out"), MovementKind.TRANSFER_IN: N_("transferred in"),
}


# ---------------------------------------------------------------- looking


def show_stock(turn: Turn, query: str) -> list[Reply]:
    s = turn.uow.session
    found = find_products(s, query)
    if not found:
        return turn.error("No product matches '{query}'", query=query)
    cards: list[Reply] = []
    for p in found[:3]:
        rows = stock.levels(s, p.id)
        table = LineTable(
            columns=[turn.t("Warehouse"), turn.t("On hand"), turn.t("Reserved"), turn.t("Available")],
            rows=[[w.name + (" ⚠" if st.low_since else ""), str(st.on_hand), str(st.reserved), str(st.available)] for st, w in rows],
            note=turn.t("⚠ below safety stock") if any(st.low_since for st, _ in rows) else None,
        )
        total = sum(st.available for st, _ in rows)
        fields = [Field(label=turn.t("Spec"), value=p.spec or "—"),
                  Field(label=turn.t("Available in total"), value=turn.viewer.qty(total, p.unit)),
                  Field(label=turn.t("Safety stock"), value=str(p.safety_stock))]
        if turn.viewer.sees_prices:
            fields.append(Field(label=turn.t("Unit price"), value=turn.viewer.money(p.list_price)))
        lines = [_movement_line(turn, mv, w) for mv, w in ledger.last_movements(s, p.id, limit=6)]
        buttons = [Button(action="edit_product", label=turn.t("Edit product"), token=turn.viewer.token("edit_product", p.id),
                          command=turn.t("edit product {sku}", sku=p.sku))] if may_edit_products(turn.user) else []
        cards.append(Reply(card=Card(kind=CardKind.STOCK, locale=turn.locale, title=f"{p.sku} {turn.viewer.name(p)}", fields=fields, table=table,
                                     tone=Tone.WARNING if table.note else Tone.NEUTRAL, buttons=buttons,
                                     text=([turn.t("Last movements:")] + lines) if lines else [])))
    return cards


def _movement_line(turn: Turn, mv, w: Warehouse) -> str:
    what = turn.t(MOVEMENT_WORDS[MovementKind(mv.kind)])
    who = mv.actor.display_name if mv.actor else turn.t("system")
    why = " · ".join(x for x in (mv.reference, mv.note) if x)
    text = f"{turn.texts.datetime(mv.at)} {w.name} {what} {mv.quantity:+d} → {mv.on_hand_after} · {who}"
    return f"{text} · {why}" if why else text


# ---------------------------------------------------------------- changing


def _staff_only(turn: Turn) -> None:
    if not turn.user.has_role(Role.WAREHOUSE, Role.ADMIN):
        raise PermissionDenied("Only warehouse staff and admins can receive, count or transfer stock")


def _product(turn: Turn, query: str) -> Product:
    found = find_products(turn.uow.session, query)
    if not found:
        raise ValidationFailed("No product matches '{query}'", query=query, field="sku")
    if len(found) > 1:
        raise ValidationFailed("'{query}' matches several products: {skus}; use the SKU", query=query,
                               skus=", ".join(p.sku for p in found[:6]), field="sku")
    return found[0]


def _warehouse(turn: Turn, query: str) -> Warehouse:
    w = find_warehouse(turn.uow.session, query)
    if w is None:
        names = turn.texts.join(f"{x.name} ({x.code})" for x in warehouses(turn.uow.session))
        raise ValidationFailed("No warehouse '{query}'; use one of: {names}", query=query, names=names, field="warehouse")
    return w


def _where_and_note(turn: Turn, rest: str | None) -> tuple[Warehouse, str]:
    """`[warehouse] [note]`: the first word is the warehouse if it names one; else the user's own warehouse."""
    words = (rest or "").split(maxsplit=1)
    if words:
        w = find_warehouse(turn.uow.session, words[0])
        if w is not None:
            return w, words[1] if len(words) > 1 else ""
    return _default_warehouse(turn), rest or ""


def _default_warehouse(turn: Turn) -> Warehouse:
    s = turn.uow.session
    if turn.user.warehouse_id is not None:
        w = s.get(Warehouse, turn.user.warehouse_id)
        assert w is not None
        return w
    every = warehouses(s)
    if len(every) == 1:
        return every[0]
    raise ValidationFailed("Name the warehouse, e.g. receive SKU-001 100 WH-SH", field="warehouse")


def _figures(turn: Turn, moved: ledger.Moved) -> str:
    p = moved.product
    total = stock.available_in_all(turn.uow.session, p.id)
    v = turn.viewer
    parts = [turn.t("{name}: {available} available", name=w.name, available=v.qty(st.available, p.unit)) for w, st in moved.rows]
    parts.append(turn.t("{total} available in all warehouses", total=v.qty(total, p.unit)))
    return turn.t("; ").join(parts)


def receive_by_text(turn: Turn, intent: it.Receive) -> list[Reply]:
    _staff_only(turn)
    product = _product(turn, intent.sku)
    warehouse, note = _where_and_note(turn, intent.rest)
    moved = ledger.receive(turn.uow, turn.user, turn.actor, warehouse, [(product, intent.quantity)], note)[0]
    return turn.text("Received {quantity} of {sku} {name} into {warehouse_name}. {figures}",
                     quantity=turn.viewer.qty(intent.quantity, product.unit), sku=product.sku, name=turn.viewer.name(product),
                     warehouse_name=warehouse.name, figures=_figures(turn, moved))


def count_by_text(turn: Turn, intent: it.Count) -> list[Reply]:
    _staff_only(turn)
    product = _product(turn, intent.sku)
    warehouse, note = _where_and_note(turn, intent.rest)
    moved = ledger.count(turn.uow, turn.user, turn.actor, warehouse, product, intent.quantity, note)
    diff = moved.movements[0].quantity if moved.movements else 0
    said = turn.t("difference {diff:+d}", diff=diff) if diff else turn.t("matches the books")
    return turn.text("Counted {sku} {name} in {warehouse_name}: {quantity} on hand, {said}. {figures}", sku=product.sku,
                     name=turn.viewer.name(product), warehouse_name=warehouse.name,
                     quantity=turn.viewer.qty(intent.quantity, product.unit), said=said, figures=_figures(turn, moved))


def transfer_by_text(turn: Turn, intent: it.Transfer) -> list[Reply]:
    _staff_only(turn)
    product = _product(turn, intent.sku)
    source, target = _warehouse(turn, intent.source), _warehouse(turn, intent.target)
    moved = ledger.transfer(turn.uow, turn.user, turn.actor, product, source, target, intent.quantity, intent.note or "")
    return turn.text("Transferred {quantity} of {sku} {name} from {source} to {target}. {figures}",
                     quantity=turn.viewer.qty(intent.quantity, product.unit), sku=product.sku, name=turn.viewer.name(product),
                     source=source.name, target=target.name, figures=_figures(turn, moved))


# ---------------------------------------------------------------- the receipt form


def receipt_form(turn: Turn) -> list[Reply]:
    _staff_only(turn)
    s = turn.uow.session
    places = [w for w in warehouses(s) if may_move_stock(turn.user, w.id)]
    if not places:
        raise PermissionDenied("You have no warehouse yet; ask an admin")
    inputs = [Input(name="warehouse", label=turn.t("Warehouse"), kind="select",
                    options=[Option(value=str(w.id), label=f"{w.name}（{w.code}）") for w in places],
                    initial=str(places[0].id))]
    for i in range(1, FORM_LINES + 1):
        inputs.append(Input(name=f"product_{i}", label=turn.t("Product {i}", i=i), kind="select", source="products",
                            required=i == 1, placeholder="SKU"))
        inputs.append(Input(name=f"qty_{i}", label=turn.t("Quantity {i}", i=i), kind="number", required=i == 1))
    inputs.append(Input(name="note", label=turn.t("Note (supplier, delivery note)"), required=False))
    submit = Button(action="receive_goods", label=turn.t("Confirm receipt"), style="primary",
                    token=turn.viewer.token("receive_goods", turn.user.id), inputs=inputs,
                    command=turn.t("receive SKU-001 100 WH-SH"))
    return [Reply(card=Card(kind=CardKind.FORM, locale=turn.locale, title=turn.t("Goods receipt"), tone=Tone.INFO,
                            inputs=inputs, buttons=[submit],
                            text=[turn.t("One product per line; or send: receive SKU-001 100 WH-SH note")]))]


def submit_receipt(turn: Turn, inputs: dict[str, str]) -> list[Reply]:
    _staff_only(turn)
    s = turn.uow.session
    form = Form(turn, inputs)
    wq = form.raw("warehouse")
    wid = row_id(wq)
    warehouse = s.get(Warehouse, wid) if wid is not None else (find_warehouse(s, wq) if wq else None)
    if warehouse is None:
        return turn.error("Pick the warehouse", field="warehouse")
    lines = form.product_lines(FORM_LINES)
    note = form.text("note", StockMovement.note, N_("note"))
    moved = ledger.receive(turn.uow, turn.user, turn.actor, warehouse, lines, note)
    rows = [[m.product.sku, m.product.name, f"+{q}", str(m.rows[0][1].available)] for m, (_, q) in zip(moved, sorted(lines, key=lambda pq: pq[0].id), strict=True)]
    return [Reply(card=Card(kind=CardKind.INFO, locale=turn.locale, tone=Tone.SUCCESS,
                            title=turn.t("Received into {name}", name=warehouse.name),
                            table=LineTable(columns=["SKU", turn.t("Product"), turn.t("In"), turn.t("Available")],
                                            rows=rows)))]
