"""Looking at orders: one order's status card, my orders, stock levels."""

from __future__ import annotations

from bot.cards.model import Card, CardKind, LineTable, Reply, Tone
from bot.cards.orders import order_list_card, order_status_card
from bot.handlers.base import Turn
from domain import orders, stock
from domain.models import Role
from domain.permissions import SEE_ALL


def show_order(turn: Turn, number: str) -> list[Reply]:
    view = orders.status_view(turn.uow.session, turn.user, number, turn.ctx.today())
    return [Reply(card=order_status_card(view.order, turn.viewer, view.timeline, view.balance))]


def my_orders(turn: Turn) -> list[Reply]:
    found = orders.orders_of(turn.uow.session, turn.user)
    return [Reply(card=order_list_card(turn.t("My orders"), found, turn.viewer,
                                       turn.t("No orders yet. Send 'new order' to start.")))]


def low_stock(turn: Turn) -> list[Reply]:
    """Products below their safety stock. Warehouse staff see their own warehouse, everyone else every warehouse."""
    u = turn.user
    own = u.warehouse_id if u.has_role(Role.WAREHOUSE) and not u.has_role(*SEE_ALL) else None
    items = stock.low_stock(turn.uow.session, own)
    if not items:
        return turn.text("Nothing is below its safety stock.")
    v = turn.viewer
    rows = [[x.sku, v.name(x), x.warehouse, v.qty(x.available, x.unit), v.qty(x.safety_stock, x.unit)] for x in items[:20]]
    more = len(items) - len(rows)
    table = LineTable(columns=["SKU", turn.t("Product"), turn.t("Warehouse"), turn.t("Available"), turn.t("Safety stock")],
                      rows=rows, note=v.tn("{n} more not shown", "{n} more not shown", more) if more > 0 else None)
    return [Reply(card=Card(kind=CardKind.LOW_STOCK, locale=turn.locale, tone=Tone.WARNING, table=table,
                            title=v.tn("Low stock: {n} below safety stock", "Low stock: {n} below safety stock", len(items)),
                            text=[turn.t("Details: stock SKU-001")]))]

