"""Order search: orders by customer or sales person, status, amount and period, within what the asker may see.

The query is typed (the chat grammar reads it); names are resolved here: a name that is a person's (display name or
user name) means their orders as sales person, anything else is looked up as a customer. Newest first, paged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from domain.catalog import find_customers
from domain.errors import NotFound, PermissionDenied
from domain.models import Customer, Order, OrderStatus, Role, Shipment, User
from domain.parsing import Period
from domain.permissions import orders_visible_to, sees_prices
from domain.reports.window import window

SHIPPED_STATUSES = (OrderStatus.PARTIALLY_SHIPPED.value, OrderStatus.SHIPPED.value, OrderStatus.COMPLETED.value)
_OPS: dict[str, Any] = {">": Order.total.__gt__, ">=": Order.total.__ge__, "<": Order.total.__lt__,
                        "<=": Order.total.__le__}


@dataclass(frozen=True)
class OrderQuery:
    text: str = ""  # a customer or a sales person, as typed
    statuses: tuple[str, ...] = ()  # OrderStatus values
    shipped: bool = False  # has shipped (partly or fully); with a period: a shipment in that period
    amounts: tuple[tuple[str, Decimal], ...] = ()  # (">", 50000) …: the order total compared
    period: Period | None = None  # when the order was placed (or shipped, with `shipped`)


@dataclass(frozen=True)
class OrderRow:
    id: int
    number: str
    customer: str
    customer_en: str | None
    total: Decimal | None  # None for a reader who sees no prices
    status: OrderStatus
    created_at: datetime


@dataclass(frozen=True)
class SearchResult:
    rows: tuple[OrderRow, ...]
    total: int  # matching orders in all
    customers: tuple[Customer, ...]  # whom the name was read as (for the card's subtitle)
    sales: tuple[User, ...]


def _people(session: Session, text: str) -> list[User]:
    q = text.strip().casefold()
    return list(session.scalars(select(User).where(or_(func.lower(User.display_name) == q, func.lower(User.username) == q),
                                                   User.roles_csv.contains(Role.SALES.value))))


def resolve(session: Session, viewer: User, text: str) -> tuple[list[Customer], list[User]]:
    """A person's name → their orders as sales person; else customers matching it (all of them). Refused with the name
    when nothing matches."""
    people = _people(session, text)
    if people:
        return [], people
    customers = find_customers(session, text)
    if not customers:
        raise NotFound("No customer or sales person matches '{query}'", query=text)
    return customers, []


def _conditions(session: Session, viewer: User, query: OrderQuery, tz: ZoneInfo,
                customers: list[Customer], people: list[User]) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [orders_visible_to(viewer)]
    if customers:
        where.append(Order.customer_id.in_([c.id for c in customers]))
    if people:
        where.append(Order.sales_user_id.in_([u.id for u in people]))
    if query.statuses:
        where.append(Order.status.in_(query.statuses))
    if query.shipped:
        if query.period is not None:
            lo, hi = window(query.period, tz)
            where.append(exists().where(Shipment.order_id == Order.id, Shipment.shipped_at >= lo, Shipment.shipped_at < hi))
        else:
            where.append(Order.status.in_(SHIPPED_STATUSES))
    elif query.period is not None:
        lo, hi = window(query.period, tz)
        where += [Order.created_at >= lo, Order.created_at < hi]
    for op, value in query.amounts:
        where.append(_OPS[op](value))
    return where


def search(session: Session, viewer: User, query: OrderQuery, tz: ZoneInfo, *, offset: int = 0,
           limit: int = 10) -> SearchResult:
    if query.amounts and not sees_prices(viewer):
        raise PermissionDenied("Amounts are not shown to warehouse staff; search without one")
    customers, people = resolve(session, viewer, query.text) if query.text.strip() else ([], [])
    where = and_(*_conditions(session, viewer, query, tz, customers, people))
    total = session.scalar(select(func.count(Order.id)).where(where)) or 0
    c = aliased(Customer)
    prices = sees_prices(viewer)
    rows = tuple(
        OrderRow(oid, number, name, name_en, amount if prices else None, OrderStatus(status), at)
        for oid, number, name, name_en, amount, status, at in session.execute(
            select(Order.id, Order.number, c.name, c.name_en, Order.total, Order.status, Order.created_at)
            .join(c, c.id == Order.customer_id).where(where)
            .order_by(Order.created_at.desc(), Order.id.desc()).offset(offset).limit(limit)))
    return SearchResult(rows, total, tuple(customers), tuple(people))
