"""Warehouse and finance in chat: tasks, claim, ship, payments, promised dates, statements, home tab."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from bot import intents as it
from bot.cards.approvals import approval_request_card
from bot.cards.fulfilment import receivables_digest_card, shipping_task_card
from bot.cards.model import Card, Field, LineTable, Reply, Tone
from bot.handlers.base import Turn
from domain import approvals, fulfilment, orders
from domain.catalog import find_customers
from domain.errors import NotFound, PermissionDenied
from domain.models import Order, OrderLine, OrderStatus, Product, Receivable, Role, User
from domain.permissions import SEE_ALL, may_record_payment


def my_tasks(turn: Turn) -> list[Reply]:
    tasks = fulfilment.open_tasks_for(turn.uow.session, turn.user)
    if not tasks:
        return turn.text("没有待处理的发货任务", "No open shipping tasks")
    return [Reply(card=shipping_task_card(t, fulfilment.task_lines(turn.uow.session, t), turn.viewer)) for t in tasks[:10]]


def claim(turn: Turn, task_id: int) -> list[Reply]:
    task = fulfilment.claim(turn.uow, task_id, turn.user, turn.actor)
    return turn.text(f"已领取发货任务 {task.ref}（订单 {task.order.number}）", f"You claimed {task.ref} (order {task.order.number})")


def claim_by_ref(turn: Turn, ref: str) -> list[Reply]:
    return claim(turn, fulfilment.task_by_ref(turn.uow.session, ref).id)


def _ship(turn: Turn, task_id: int, carrier: str, tracking: str, quantities: dict[int, int] | None) -> list[Reply]:
    shipment = fulfilment.ship(turn.uow, task_id, turn.user, carrier, tracking, quantities, turn.actor, turn.ctx.today())
    order = turn.uow.session.get(Order, shipment.order_id)
    assert order is not None
    return turn.text(f"已确认发货：订单 {order.number}，{carrier} {tracking}", f"Shipped: order {order.number}, {carrier} {tracking}")


def ship_by_text(turn: Turn, intent: it.Ship) -> list[Reply]:
    task = fulfilment.task_by_ref(turn.uow.session, intent.task_ref)
    quantities = None
    if intent.quantities:
        by_sku = {r.line.product.sku.upper(): r.order_line_id for r in fulfilment.task_lines(turn.uow.session, task)}
        quantities = {}
        for sku, qty in intent.quantities.items():
            if sku.upper() not in by_sku:
                return turn.error(f"任务 {task.ref} 中没有 {sku}", f"{sku} is not part of {task.ref}", "quantities")
            quantities[by_sku[sku.upper()]] = qty
    return _ship(turn, task.id, intent.carrier, intent.tracking, quantities)


def ship_from_form(turn: Turn, task_id: int, inputs: dict[str, str]) -> list[Reply]:
    quantities: dict[int, int] = {}
    for k, v in inputs.items():
        if k.startswith("qty_") and k[4:].isdigit() and v.strip() != "":
            try:
                quantities[int(k[4:])] = int(Decimal(v.strip()))
            except (InvalidOperation, ValueError):
                return turn.error("数量须为整数", "Quantities must be whole numbers", k)
    return _ship(turn, task_id, inputs.get("carrier", ""), inputs.get("tracking", ""), quantities or None)


def _pay(turn: Turn, order: Order, amount: Decimal, on: date | None, method: str | None) -> list[Reply]:
    fulfilment.record_payment(turn.uow, order, amount, on or turn.ctx.today(), method or "", turn.user, turn.actor)
    left = fulfilment.open_amount(turn.uow.session, order.id)
    v = turn.viewer
    return turn.text(f"已登记收款 {v.money(amount)}（订单 {order.number}），未收 {v.money(left)}",
                     f"Recorded {v.money(amount)} for {order.number}; open {v.money(left)}")


def payment_by_text(turn: Turn, intent: it.Payment) -> list[Reply]:
    return _pay(turn, orders.get_order(turn.uow.session, intent.number), intent.amount, intent.on, intent.method)


def pay_from_form(turn: Turn, order_id: int, inputs: dict[str, str]) -> list[Reply]:
    order = turn.uow.session.get(Order, order_id)
    if order is None:
        raise NotFound("订单不存在", "No such order")
    try:
        amount = Decimal(inputs.get("amount", "").replace(",", "").strip())
    except InvalidOperation:
        return turn.error("金额格式不对", "That is not an amount", "amount")
    return _pay(turn, order, amount, None, inputs.get("method"))


def _receivable(turn: Turn, rid: int) -> Receivable:
    r = turn.uow.session.get(Receivable, rid)
    if r is None:
        raise NotFound("应收款不存在", "No such receivable")
    if not (turn.user.has_role(*SEE_ALL) or r.order.sales_user_id == turn.user.id):
        raise PermissionDenied("无权操作这笔应收款", "You may not change this receivable")
    return r


def promise(turn: Turn, rid: int, inputs: dict[str, str]) -> list[Reply]:
    r = _receivable(turn, rid)
    try:
        d = date.fromisoformat(inputs.get("date", "").strip())
    except ValueError:
        return turn.error("日期格式应为 YYYY-MM-DD", "Use YYYY-MM-DD", "date")
    if d < turn.ctx.today():
        return turn.error("承诺付款日不能早于今天", "The promised date cannot be in the past", "date")
    r.promised_date = d
    return turn.text(f"已记录承诺付款日 {d}，之前不再提醒订单 {r.order.number}", f"Promised date {d} noted; no reminders for {r.order.number} until then")


def snooze(turn: Turn, rid: int) -> list[Reply]:
    r = _receivable(turn, rid)
    r.snoozed_until = turn.ctx.today() + timedelta(days=3)
    return turn.text(f"好的，{r.snoozed_until} 再提醒订单 {r.order.number}", f"OK, reminding you about {r.order.number} on {r.snoozed_until}")


def statement(turn: Turn, query: str, start: date | None, end: date | None) -> list[Reply]:
    s = turn.uow.session
    found = find_customers(s, query)
    if len(found) != 1:
        return turn.error(f"「{query}」匹配到 {len(found)} 个客户，请用客户编码", f"'{query}' matches {len(found)} customers; use the code")
    c = found[0]
    if not (turn.user.has_role(*SEE_ALL) or c.sales_user_id == turn.user.id):
        return turn.error(f"您无权查看 {c.name} 的对账单", f"You may not see {c.name}'s statement")
    end = end or turn.ctx.today()
    start = start or end.replace(day=1)
    if end < start:
        return turn.error("结束日期早于开始日期", "The end date is before the start date")
    link, xlsx = turn.ctx.statement_urls(c.code, start, end, turn.locale)
    v = turn.viewer
    open_ = orders.open_receivables(s, c.id)
    return [Reply(card=Card(kind="statement", locale=turn.locale, title=turn.t(f"对账单 · {c.name}", f"Statement · {c.name}"),
                            fields=[Field(label=turn.t("期间", "Period"), value=f"{start} – {end}"),
                                    Field(label=turn.t("未收余额", "Open balance"), value=v.money(open_))],
                            link=link, data={"pdf": link, "xlsx": xlsx}, text=[turn.t(f"PDF：{link}", f"PDF: {link}"),
                                             turn.t(f"XLSX：{xlsx}", f"XLSX: {xlsx}")]))]


def report(turn: Turn, kind: str) -> list[Reply]:
    """A summary in numbers (charts are not built yet; see the issue notes)."""
    s = turn.uow.session
    if not turn.user.has_role(Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN):
        return turn.error("报表仅对经理、财务和管理员开放", "Reports are for managers, finance and admins")
    live = [OrderStatus.APPROVED.value, OrderStatus.PARTIALLY_SHIPPED.value, OrderStatus.SHIPPED.value, OrderStatus.COMPLETED.value]
    since = turn.uow.now() - timedelta(days=30)
    v = turn.viewer
    if kind == "products":
        rows = s.execute(select(Product.sku, Product.name, func.sum(OrderLine.quantity)).join(OrderLine.product).join(OrderLine.order)
                         .where(Order.status.in_(live), Order.created_at >= since).group_by(Product.sku, Product.name)
                         .order_by(func.sum(OrderLine.quantity).desc()).limit(10)).all()
        table = LineTable(columns=["SKU", turn.t("商品", "Product"), turn.t("销量", "Units")], rows=[[a, b, str(c)] for a, b, c in rows])
        return [Reply(card=Card(kind="report", locale=turn.locale, title=turn.t("近 30 天销量排行", "Product ranking, last 30 days"), table=table))]
    if kind == "sales":
        rows = s.execute(select(User.display_name, func.count(Order.id)).join(Order.sales_user)
                         .where(Order.status.in_(live), Order.created_at >= since).group_by(User.display_name)
                         .order_by(func.count(Order.id).desc())).all()
        table = LineTable(columns=[turn.t("销售", "Sales"), turn.t("订单数", "Orders")], rows=[[a, str(b)] for a, b in rows])
        return [Reply(card=Card(kind="report", locale=turn.locale, title=turn.t("近 30 天业绩排行", "Sales leaderboard, last 30 days"), table=table))]
    recent = s.scalars(select(Order).where(Order.status.in_(live), Order.created_at >= since)).all()
    total = sum((o.total for o in recent), Decimal("0.00"))
    overdue = fulfilment.overdue_receivables(s, turn.ctx.today())
    return [Reply(card=Card(kind="report", locale=turn.locale, title=turn.t("近 30 天概览", "Last 30 days"), fields=[
        Field(label=turn.t("订单数", "Orders"), value=str(len(recent))),
        Field(label=turn.t("销售额", "Sales"), value=v.money(total)),
        Field(label=turn.t("逾期应收", "Overdue receivables"), value=v.money(sum((r.open_amount for r in overdue), Decimal("0.00")))),
    ], text=[turn.t("更多：销量排行、业绩排行", "More: 'product ranking', 'leaderboard'")]))]


def home_cards(turn: Turn) -> list[Card]:
    s = turn.uow.session
    v = turn.viewer
    cards: list[Card] = [Card(kind="info", locale=turn.locale, title=turn.t(f"{turn.user.display_name}，您好", f"Hello, {turn.user.display_name}"),
                              tone=Tone.NEUTRAL, text=[turn.t("发送「帮助」查看全部命令", "Send 'help' for every command")])]
    cards += [approval_request_card(i.order, i.step, v) for i in approvals.pending_for(s, turn.user.id)[:5]]
    cards += [shipping_task_card(t, fulfilment.task_lines(s, t), v) for t in fulfilment.open_tasks_for(s, turn.user)[:5]]
    mine = fulfilment.overdue_receivables(s, turn.ctx.today(),
                                          None if may_record_payment(turn.user) else turn.user.id)
    if mine:
        cards.append(receivables_digest_card(mine[:20], turn.ctx.today(), v))
    return cards
