"""Reports and order search in chat: the domain's named read queries (domain.reports, domain.order_search) turned
into cards. Who sees which figures is the domain's answer (`scope_for`); nothing is decided here."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bot import intents as it
from bot import state
from bot.cards.model import Reply
from bot.cards.order_search import PAGE, order_search_card
from bot.cards.report_flow import ageing_view, approvals_view, fulfilment_view
from bot.cards.report_sales import customers_view, leaderboard_view, products_view, regions_view, trend_view
from bot.cards.reports import ReportView, report_card, scope_line
from bot.handlers.base import Turn
from domain.errors import NotFound
from domain.models import Warehouse
from domain.order_search import OrderQuery, search
from domain.parsing import Period, named_period
from domain.reports import Grain, Scope, ScopeKind, scope_for
from domain.reports.flow import approval_cycle, lead_time
from domain.reports.receivables import ageing
from domain.reports.sales import leaderboard, products, regions, top_customers, trend

_View = Callable[[Turn, Scope, Period, str | None], ReportView]


def _trend(turn: Turn, scope: Scope, period: Period, option: str | None) -> ReportView:
    grain = Grain(option) if option else None
    return trend_view(trend(turn.uow.session, scope, period, turn.ctx.settings.tz, grain), turn.viewer)


def _products(turn: Turn, scope: Scope, period: Period, option: str | None) -> ReportView:
    return products_view(products(turn.uow.session, scope, period, turn.ctx.settings.tz), turn.viewer, option or "amount")


VIEWS: dict[str, _View] = {
    "trend": _trend,
    "products": _products,
    "regions": lambda t, s, p, o: regions_view(regions(t.uow.session, s, p, t.ctx.settings.tz), t.viewer),
    "leaderboard": lambda t, s, p, o: leaderboard_view(
        leaderboard(t.uow.session, s, p, t.ctx.settings.tz, o or "amount"), t.viewer),
    "customers": lambda t, s, p, o: customers_view(top_customers(t.uow.session, s, p, t.ctx.settings.tz), t.viewer),
    "ageing": lambda t, s, p, o: ageing_view(ageing(t.uow.session, s, t.ctx.today(), o or "customer"), t.viewer),
    "approvals": lambda t, s, p, o: approvals_view(
        approval_cycle(t.uow.session, s, p, t.ctx.settings.tz, t.uow.now()), t.viewer),
    "fulfilment": lambda t, s, p, o: fulfilment_view(
        lead_time(t.uow.session, s, p, t.ctx.settings.tz, t.uow.now()), t.viewer),
}


def report(turn: Turn, intent: it.Report) -> list[Reply]:
    """One report as a card with its chart and spreadsheet; `报表` / `report` is the trend with a list of the rest."""
    s = turn.uow.session
    scope = scope_for(s, turn.user)
    kind = "trend" if intent.kind == "summary" else intent.kind
    period = intent.period or named_period("this_month", today=turn.ctx.today())
    view = VIEWS[kind](turn, scope, period, intent.option)
    warehouse = s.get(Warehouse, scope.warehouse_id) if scope.kind == ScopeKind.WAREHOUSE else None
    card = report_card(s, view, turn.viewer, turn.uow.now(),
                       lambda key, ext: turn.ctx.file_url(key, ext, turn.locale),
                       scope_line(turn.texts, scope, warehouse.name if warehouse else None))
    if intent.kind == "summary":
        card.text.append(turn.t("More: product ranking, regions, leaderboard, top customers, ageing, approval time, "
                                "lead time; add a period such as last month") if scope.money else
                         turn.t("More: product ranking, regions, lead time; add a period such as last month"))
    return [Reply(card=card)]


# ---------------------------------------------------------------- order search


def _dump(q: OrderQuery) -> dict[str, Any]:
    return {"text": q.text, "statuses": list(q.statuses), "shipped": q.shipped,
            "amounts": [[op, str(a)] for op, a in q.amounts],
            "period": [q.period.start.isoformat(), q.period.end.isoformat(), q.period.unit] if q.period else None}


def _load(d: dict[str, Any]) -> OrderQuery:
    from datetime import date

    p = d.get("period")
    return OrderQuery(d.get("text", ""), tuple(d.get("statuses", [])), bool(d.get("shipped")),
                      tuple((op, Decimal(a)) for op, a in d.get("amounts", [])),
                      Period(date.fromisoformat(p[0]), date.fromisoformat(p[1]), p[2]) if p else None)


def _page(turn: Turn, query: OrderQuery, page: int, search_id: int | None) -> list[Reply]:
    result = search(turn.uow.session, turn.user, query, turn.ctx.settings.tz, offset=page * PAGE, limit=PAGE)
    if result.total > PAGE and search_id is None:  # more than one page: keep the query for the page buttons
        search_id = state.save_search(turn.uow.session, turn.user.id, _dump(query), turn.uow.now())
    return [Reply(card=order_search_card(query, result, turn.viewer, page, search_id))]


def search_orders(turn: Turn, intent: it.SearchOrders) -> list[Reply]:
    query = OrderQuery(intent.text, intent.statuses, intent.shipped, intent.amounts, intent.period)
    return _page(turn, query, 0, None)


def search_page(turn: Turn, search_id: int, page: int) -> list[Reply]:
    saved = state.saved_search(turn.uow.session, search_id, turn.user.id)
    if saved is None:
        raise NotFound("This search is no longer available; send it again")
    return _page(turn, _load(saved), max(0, page), search_id)
