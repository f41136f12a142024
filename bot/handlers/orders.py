"""Looking at orders: one order's status card, my orders, a customer's open orders, stock levels."""

from __future__ import annotations

from sqlalchemy import select

from bot.cards.model import Card, Field, LineTable, Reply
from bot.cards.orders import order_list_card, order_status_card
from bot.handlers.base import Turn
from domain import orders
from domain.audit import timeline
from domain.catalog import find_customers, find_products
from domain.models import Role, Stock, Warehouse
from domain.permissions import SEE_ALL


def show_order(turn: Turn, number: str) -> list[Reply]:
    order = orders.view_order(turn.uow.session, turn.user, number)
    return [Reply(card=order_status_card(order, turn.viewer, timeline(turn.uow.session, order.id)))]


def my_orders(turn: Turn) -> list[Reply]:
    found = orders.orders_of(turn.uow.session, turn.user)
    return [Reply(card=order_list_card(turn.t("我的订单", "My orders"), found, turn.viewer,
                                       turn.t("您还没有订单。发送「下单」开始。", "No orders yet. Send 'new order' to start.")))]


def show_customer(turn: Turn, query: str) -> list[Reply]:
    s = turn.uow.session
    found = find_customers(s, query)
    if not found:
        return turn.error(f"找不到客户「{query}」", f"No customer matches '{query}'")
    if len(found) > 1:
        names = "、".join(f"{c.name}（{c.code}）" for c in found[:8])
        return turn.text(f"找到多个客户，请用客户编码：{names}", f"Several customers match; use the code: {names}")
    c = found[0]
    if not (turn.user.has_role(*SEE_ALL) or c.sales_user_id == turn.user.id):
        return turn.error(f"您无权查看客户 {c.name}", f"You may not view customer {c.name}")
    v = turn.viewer
    open_orders = orders.open_orders_of_customer(s, c.id)
    card = order_list_card(f"{c.name}（{c.code}）", open_orders, v, turn.t("没有在途订单", "No open orders"))
    card.kind = "customer"
    card.fields = [
        Field(label=turn.t("地区", "Region"), value=f"{c.province} {c.city}"),
        Field(label=turn.t("信用额度", "Credit limit"), value=v.money(c.credit_limit)),
        Field(label=turn.t("应收款", "Receivables"), value=v.money(orders.open_receivables(s, c.id))),
        Field(label=turn.t("账期", "Payment terms"), value=turn.t(f"{c.payment_terms_days} 天", f"{c.payment_terms_days} days")),
        Field(label=turn.t("销售", "Sales"), value=c.sales_user.display_name if c.sales_user else "—"),
    ]
    return [Reply(card=card)]


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
            rows=[[w.name, str(st.on_hand), str(st.reserved), str(st.available)] for st, w in rows],
        )
        total = sum(st.available for st, _ in rows)
        fields = [Field(label=turn.t("规格", "Spec"), value=p.spec or "—"),
                  Field(label=turn.t("可用合计", "Available"), value=f"{total} {p.unit}"),
                  Field(label=turn.t("安全库存", "Safety stock"), value=str(p.safety_stock))]
        if turn.viewer.sees_prices:
            fields.append(Field(label=turn.t("单价", "Unit price"), value=turn.viewer.money(p.list_price)))
        cards.append(Reply(card=Card(kind="stock", locale=turn.locale, title=f"{p.sku} {p.name}", fields=fields, table=table)))
    return cards


def is_staff_of(turn: Turn, warehouse_id: int) -> bool:
    return turn.user.has_role(Role.ADMIN) or (turn.user.has_role(Role.WAREHOUSE) and turn.user.warehouse_id == warehouse_id)
