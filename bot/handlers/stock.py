"""Stock in chat: levels per warehouse with the last movements, and the warehouse's receipts (入库), counts (盘点)
and transfers (调拨), each answered with the new available figure; a receipt form for several lines."""

from __future__ import annotations

from sqlalchemy import select

from bot import intents as it
from bot.cards.model import Button, Card, Field, Input, LineTable, Option, Reply, Tone
from bot.handlers.base import Turn
from bot.i18n import fmt_time
from domain import ledger, parsing
from domain.catalog import find_products, find_warehouse
from domain.errors import PermissionDenied, ValidationFailed
from domain.models import MovementKind, Product, Role, Stock, Warehouse
from domain.permissions import may_move_stock

FORM_LINES = 5
MOVEMENT_WORDS = {
    MovementKind.OPENING: ("期初", "opening"), MovementKind.RECEIPT: ("入库", "received"),
    MovementKind.SHIPMENT: ("发货出库", "shipped"), MovementKind.RETURN: ("退货入库", "returned"),
    MovementKind.ADJUSTMENT: ("调整", "adjusted"), MovementKind.COUNT: ("盘点", "counted"),
    MovementKind.TRANSFER_OUT: ("调拨出", "transferred out"), MovementKind.TRANSFER_IN: ("调拨入", "transferred in"),
}


# ---------------------------------------------------------------- looking


def show_stock(turn: Turn, query: str) -> list[Reply]:
    s = turn.uow.session
    found = find_products(s, query)
    if not found:
        return turn.error(f"找不到商品「{query}」", f"No product matches '{query}'")
    cards: list[Reply] = []
    for p in found[:3]:
        rows = s.execute(select(Stock, Warehouse).join(Warehouse).where(Stock.product_id == p.id).order_by(Warehouse.code)).all()
        table = LineTable(
            columns=[turn.t("仓库", "Warehouse"), turn.t("在库", "On hand"), turn.t("已预留", "Reserved"), turn.t("可用", "Available")],
            rows=[[w.name + (" ⚠" if st.low_since else ""), str(st.on_hand), str(st.reserved), str(st.available)] for st, w in rows],
            note=turn.t("⚠ 低于安全库存", "⚠ below safety stock") if any(st.low_since for st, _ in rows) else None,
        )
        total = sum(st.available for st, _ in rows)
        fields = [Field(label=turn.t("规格", "Spec"), value=p.spec or "—"),
                  Field(label=turn.t("可用合计", "Available"), value=f"{total} {p.unit}"),
                  Field(label=turn.t("安全库存", "Safety stock"), value=str(p.safety_stock))]
        if turn.viewer.sees_prices:
            fields.append(Field(label=turn.t("单价", "Unit price"), value=turn.viewer.money(p.list_price)))
        lines = [_movement_line(turn, mv, w) for mv, w in ledger.last_movements(s, p.id, limit=6)]
        cards.append(Reply(card=Card(kind="stock", locale=turn.locale, title=f"{p.sku} {p.name}", fields=fields, table=table,
                                     tone=Tone.WARNING if table.note else Tone.NEUTRAL,
                                     text=([turn.t("最近变动：", "Last movements:")] + lines) if lines else [])))
    return cards


def _movement_line(turn: Turn, mv, w: Warehouse) -> str:  # type: ignore[no-untyped-def]
    zh, en = MOVEMENT_WORDS.get(MovementKind(mv.kind), (mv.kind, mv.kind))
    who = mv.actor.display_name if mv.actor else turn.t("系统", "system")
    why = " · ".join(x for x in (mv.reference, mv.note) if x)
    text = f"{fmt_time(mv.at, turn.viewer.tz)} {w.name} {turn.t(zh, en)} {mv.quantity:+d} → {mv.on_hand_after} · {who}"
    return f"{text} · {why}" if why else text


# ---------------------------------------------------------------- changing


def _staff_only(turn: Turn) -> None:
    if not turn.user.has_role(Role.WAREHOUSE, Role.ADMIN):
        raise PermissionDenied("只有仓库人员和管理员可以入库、盘点和调拨", "Only warehouse staff and admins can receive, count or transfer stock")


def _product(turn: Turn, query: str) -> Product:
    found = find_products(turn.uow.session, query)
    if len(found) != 1:
        names = "、".join(p.sku for p in found[:6])
        raise ValidationFailed(f"找不到商品「{query}」" if not found else f"「{query}」匹配到多个商品：{names}，请写商品编码",
                               f"No product matches '{query}'" if not found else f"'{query}' matches several: {names}; use the SKU",
                               field="sku")
    return found[0]


def _warehouse(turn: Turn, query: str) -> Warehouse:
    w = find_warehouse(turn.uow.session, query)
    if w is None:
        names = "、".join(f"{x.name}（{x.code}）" for x in turn.uow.session.scalars(select(Warehouse).order_by(Warehouse.code)))
        raise ValidationFailed(f"没有仓库「{query}」，可写：{names}", f"No warehouse '{query}'; use one of: {names}", field="warehouse")
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
    every = s.scalars(select(Warehouse)).all()
    if len(every) == 1:
        return every[0]
    raise ValidationFailed("请写明仓库，例如：入库 SKU-001 100 上海仓", "Name the warehouse, e.g. receive SKU-001 100 WH-SH", field="warehouse")


def _figures(turn: Turn, moved: ledger.Moved) -> str:
    p = moved.product
    total = sum(st.available for st in turn.uow.session.scalars(select(Stock).where(Stock.product_id == p.id)))
    parts = [turn.t(f"{w.name} 可用 {st.available} {p.unit}", f"{w.name}: {st.available} {p.unit} available") for w, st in moved.rows]
    parts.append(turn.t(f"全部仓库可用 {total} {p.unit}", f"{total} {p.unit} available in all warehouses"))
    return turn.t("，", "; ").join(parts)


def receive_by_text(turn: Turn, intent: it.Receive) -> list[Reply]:
    _staff_only(turn)
    product = _product(turn, intent.sku)
    warehouse, note = _where_and_note(turn, intent.rest)
    moved = ledger.receive(turn.uow, turn.user, turn.actor, warehouse, [(product, intent.quantity)], note)[0]
    return turn.text(f"已入库 {product.sku} {product.name} {intent.quantity} {product.unit}（{warehouse.name}）。{_figures(turn, moved)}",
                     f"Received {intent.quantity} {product.unit} of {product.sku} {product.name} into {warehouse.name}. "
                     f"{_figures(turn, moved)}")


def count_by_text(turn: Turn, intent: it.Count) -> list[Reply]:
    _staff_only(turn)
    product = _product(turn, intent.sku)
    warehouse, note = _where_and_note(turn, intent.rest)
    moved = ledger.count(turn.uow, turn.user, turn.actor, warehouse, product, intent.quantity, note)
    diff = moved.movements[0].quantity if moved.movements else 0
    said = turn.t(f"盘点差异 {diff:+d}", f"difference {diff:+d}") if diff else turn.t("与账面一致", "matches the books")
    return turn.text(f"已盘点 {product.sku} {product.name}（{warehouse.name}）：在库 {intent.quantity} {product.unit}，{said}。{_figures(turn, moved)}",
                     f"Counted {product.sku} {product.name} in {warehouse.name}: {intent.quantity} {product.unit} on hand, {said}. "
                     f"{_figures(turn, moved)}")


def transfer_by_text(turn: Turn, intent: it.Transfer) -> list[Reply]:
    _staff_only(turn)
    product = _product(turn, intent.sku)
    source, target = _warehouse(turn, intent.source), _warehouse(turn, intent.target)
    moved = ledger.transfer(turn.uow, turn.user, turn.actor, product, source, target, intent.quantity, intent.note or "")
    return turn.text(f"已调拨 {product.sku} {product.name} {intent.quantity} {product.unit}：{source.name} → {target.name}。{_figures(turn, moved)}",
                     f"Transferred {intent.quantity} {product.unit} of {product.sku} from {source.name} to {target.name}. "
                     f"{_figures(turn, moved)}")


# ---------------------------------------------------------------- the receipt form


def receipt_form(turn: Turn) -> list[Reply]:
    _staff_only(turn)
    s = turn.uow.session
    places = [w for w in s.scalars(select(Warehouse).order_by(Warehouse.code)) if may_move_stock(turn.user, w.id)]
    if not places:
        raise PermissionDenied("您还没有所属仓库，请联系管理员", "You have no warehouse yet; ask an admin")
    inputs = [Input(name="warehouse", label=turn.t("仓库", "Warehouse"), kind="select",
                    options=[Option(value=str(w.id), label=f"{w.name}（{w.code}）") for w in places],
                    initial=str(places[0].id))]
    for i in range(1, FORM_LINES + 1):
        inputs.append(Input(name=f"product_{i}", label=turn.t(f"商品 {i}", f"Product {i}"), kind="select", source="products",
                            required=i == 1, placeholder="SKU"))
        inputs.append(Input(name=f"qty_{i}", label=turn.t(f"数量 {i}", f"Quantity {i}"), kind="number", required=i == 1))
    inputs.append(Input(name="note", label=turn.t("备注（供应商、单号）", "Note (supplier, delivery note)"), required=False))
    submit = Button(action="receive_goods", label=turn.t("确认入库", "Confirm receipt"), style="primary",
                    token=turn.viewer.token("receive_goods", turn.user.id), inputs=inputs,
                    command=turn.t("入库 SKU-001 100 上海仓", "receive SKU-001 100 WH-SH"))
    return [Reply(card=Card(kind="form", locale=turn.locale, title=turn.t("入库单", "Goods receipt"), tone=Tone.INFO,
                            inputs=inputs, buttons=[submit],
                            text=[turn.t("一行一个商品；也可以直接发：入库 SKU-001 100 上海仓 备注",
                                         "One product per line; or send: receive SKU-001 100 WH-SH note")]))]


def submit_receipt(turn: Turn, inputs: dict[str, str]) -> list[Reply]:
    _staff_only(turn)
    s = turn.uow.session
    wq = (inputs.get("warehouse") or "").strip()
    warehouse = s.get(Warehouse, int(wq)) if wq.isdigit() else (find_warehouse(s, wq) if wq else None)
    if warehouse is None:
        return turn.error("请选择仓库", "Pick the warehouse", "warehouse")
    lines: list[tuple[Product, int]] = []
    for i in range(1, FORM_LINES + 1):
        pq, qs = (inputs.get(f"product_{i}") or "").strip(), (inputs.get(f"qty_{i}") or "").strip()
        if not pq and not qs:
            continue
        product = s.get(Product, int(pq)) if pq.isdigit() else None
        if product is None:
            found = find_products(s, pq) if pq else []
            if len(found) != 1:
                return turn.error(f"第 {i} 行：请选择一个商品", f"Line {i}: pick one product", f"product_{i}")
            product = found[0]
        try:
            qty = parsing.quantity(qs, field=f"qty_{i}")
        except parsing.InputRefused as e:
            return turn.error(f"第 {i} 行：{e.zh}", f"Line {i}: {e.en}", f"qty_{i}")
        lines.append((product, qty))
    if not lines:
        return turn.error("至少填写一行商品", "Fill in at least one product line", "product_1")
    moved = ledger.receive(turn.uow, turn.user, turn.actor, warehouse, lines, (inputs.get("note") or "").strip())
    rows = [[m.product.sku, m.product.name, f"+{q}", str(m.rows[0][1].available)] for m, (_, q) in zip(moved, sorted(lines, key=lambda pq: pq[0].id), strict=True)]
    return [Reply(card=Card(kind="info", locale=turn.locale, tone=Tone.SUCCESS,
                            title=turn.t(f"已入库（{warehouse.name}）", f"Received into {warehouse.name}"),
                            table=LineTable(columns=["SKU", turn.t("商品", "Product"), turn.t("入库", "In"), turn.t("可用", "Available")],
                                            rows=rows)))]
