"""The order search card: one page of matching orders, a button per row to open it, and page buttons."""

from __future__ import annotations

from bot.cards.context import Viewer
from bot.cards.model import Button, Card, CardKind, LineTable, Tone
from bot.i18n.labels import status_label
from domain.messages import N_
from domain.order_search import OrderQuery, SearchResult

PAGE = 10
_OPS = {">": N_("over {amount}"), ">=": N_("at least {amount}"), "<": N_("under {amount}"), "<=": N_("at most {amount}")}


def describe(query: OrderQuery, result: SearchResult, v: Viewer) -> str:
    """What was searched, as the reader would say it: '杭州华兴电子（C001） · 本月（…） · 待审批 · > ¥50,000.00'."""
    t = v.texts
    parts: list[str] = []
    if result.customers:
        more = len(result.customers) - 3
        parts.append(t.join([v.customer(c) for c in result.customers[:3]]
                            + ([t.tn("{n} more customer", "{n} more customers", more)] if more > 0 else [])))
    if result.sales:
        parts.append(t.t("sales person {names}", names=t.join(u.display_name for u in result.sales)))
    if query.shipped:
        parts.append(t.t("shipped in {period}", period=t.period(query.period, v.today)) if query.period
                     else status_label(t, "shipped"))
    elif query.period:
        parts.append(t.period(query.period, v.today))
    parts += [status_label(t, s) for s in query.statuses]
    parts += [t.t(_OPS[op], amount=t.money(amount)) for op, amount in query.amounts]
    return " · ".join(parts) if parts else t.t("All orders you can see")


def order_search_card(query: OrderQuery, result: SearchResult, v: Viewer, page: int, search_id: int | None) -> Card:
    t = v.texts
    prices = v.sees_prices
    first = page * PAGE
    cols = [t.t("Order"), t.t("Customer")] + ([t.t("Total")] if prices else []) + [t.t("Status"), t.t("Date")]
    rows = [[r.number, r.customer if v.zh or not r.customer_en else r.customer_en]
            + ([t.money(r.total)] if prices else []) + [status_label(t, r.status), v.date(r.created_at)]
            for r in result.rows]
    buttons = [Button(action="show_order", label=r.number, token=v.token("show_order", r.id), command=r.number)
               for r in result.rows]
    if search_id is not None and page > 0:
        buttons.append(Button(action="orders_page", label=t.t("Previous {count}", count=PAGE),
                              token=v.token("orders_page", search_id, page - 1)))
    last = first + len(result.rows)
    if search_id is not None and last < result.total:
        buttons.append(Button(action="orders_page", label=t.t("Next {count}", count=min(PAGE, result.total - last)),
                              style="primary", token=v.token("orders_page", search_id, page + 1)))
    note = t.t("Showing {first}–{last} of {total}", first=first + 1, last=last, total=result.total) \
        if result.total > len(result.rows) and result.rows else None
    return Card(
        kind=CardKind.ORDER_LIST, locale=v.locale, tone=Tone.NEUTRAL,
        title=t.tn("{n} order found", "{n} orders found", result.total), subtitle=describe(query, result, v),
        table=LineTable(columns=cols, rows=rows, note=note) if rows else None,
        text=[] if rows else [t.t("No orders match. Try another period, such as last month, or fewer words.")],
        buttons=buttons, context=t.t("Each order button opens its card") if rows else None,
    )
