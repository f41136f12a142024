"""Sales reports: trend, product ranking, region distribution, leaderboard, top customers.

Each takes the viewer's Scope and a Period and returns typed rows; money is `Decimal` (None where the scope shows
no money, i.e. for warehouse staff).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, and_, case, func, select, type_coerce
from sqlalchemy.orm import Session

from domain.models import (
    ApprovalStep,
    Customer,
    Order,
    OrderLine,
    Payment,
    Product,
    Reservation,
    SalesDay,
    User,
)
from domain.parsing import Period
from domain.reports import rollup
from domain.reports.scope import ReportKind, Scope, ScopeKind
from domain.reports.sql import local_date, money_sum, seconds_between
from domain.reports.window import SALE_STATUSES, Grain, bucket, buckets, grain_for, window
from domain.types import Money

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def sales_in(scope: Scope, period: Period, tz: ZoneInfo) -> ColumnElement[bool]:
    """Orders that count as sales, placed in the period (local days), that the scope shows."""
    lo, hi = window(period, tz)
    return and_(Order.status.in_(SALE_STATUSES), Order.created_at >= lo, Order.created_at < hi, scope.orders())


def id_range(session: Session, period: Period, tz: ZoneInfo) -> tuple[int, int]:
    """The smallest and largest id of the orders placed in the period. Every such order lies in between by
    definition, so tables joined by order id can be read by that range too (an index range scan) instead of whole;
    as ids follow the order in which orders are placed, the range holds little else."""
    lo, hi = window(period, tz)
    # id + 0: read the ids from the created_at index (min(id) alone would walk the primary key from its start)
    first, last = session.execute(select(func.min(Order.id + 0), func.max(Order.id + 0))
                                  .where(Order.created_at >= lo, Order.created_at < hi)).one()
    return (first, last) if first is not None else (0, -1)


def average(amount: Decimal | None, orders: int) -> Decimal | None:
    if amount is None:
        return None
    return (amount / orders).quantize(CENT, rounding=ROUND_HALF_UP) if orders else ZERO


def change(now: Decimal | int | None, before: Decimal | int | None) -> Decimal | None:
    """Percent change, one decimal; None when there is nothing to compare with."""
    if now is None or before is None or not before:
        return None
    return ((Decimal(now) - Decimal(before)) * 100 / Decimal(before)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- trend


@dataclass(frozen=True)
class TrendPoint:
    start: date  # the bucket's first day
    amount: Decimal | None
    orders: int

    @property
    def average(self) -> Decimal | None:
        return average(self.amount, self.orders)


@dataclass(frozen=True)
class Trend:
    period: Period
    previous: Period
    grain: Grain
    points: tuple[TrendPoint, ...]
    previous_points: tuple[TrendPoint, ...]
    money: bool

    def _sum(self, points: Sequence[TrendPoint]) -> TrendPoint:
        amount = sum((p.amount or ZERO for p in points), ZERO) if self.money else None
        return TrendPoint(points[0].start if points else self.period.start, amount, sum(p.orders for p in points))

    @property
    def total(self) -> TrendPoint:
        return self._sum(self.points)

    @property
    def previous_total(self) -> TrendPoint:
        return self._sum(self.previous_points)

    @property
    def amount_change(self) -> Decimal | None:
        return change(self.total.amount, self.previous_total.amount)

    @property
    def orders_change(self) -> Decimal | None:
        return change(self.total.orders, self.previous_total.orders)


def _closed(scope: Scope, lo: datetime, hi: datetime, tz: ZoneInfo, open_day: date) -> tuple[date, date, datetime]:
    """Splits [lo, hi) (local midnights) into the closed local days [first, cut) read from domain.reports.rollup and
    the rest, [live_from, hi), read from the orders. Warehouse scopes are read live (their orders are chosen by
    shipping task, which the daily totals do not know)."""
    first, end = lo.astimezone(tz).date(), hi.astimezone(tz).date()
    if scope.kind == ScopeKind.WAREHOUSE:
        return first, first, lo
    cut = max(first, min(end, open_day))
    return first, cut, datetime.combine(cut, time(0), tz).astimezone(UTC)


def _days(session: Session, scope: Scope, lo: datetime, hi: datetime, tz: ZoneInfo, open_day: date,
          built: bool = False) -> list[tuple[date, Decimal, int]]:
    """Sales amount and orders per local day, for orders placed in [lo, hi) (`built`: the closed days' totals are
    known to be up to date already)."""
    first, cut, live_from = _closed(scope, lo, hi, tz, open_day)
    days = (rollup.per_day(session, scope.people(SalesDay.sales_user_id), tz, first, cut, built=built)
            if cut > first else [])
    if live_from < hi:
        day = local_date(Order.created_at, tz.key)
        days += [(d, a, n) for d, a, n in session.execute(
            select(day, money_sum(Order.total), func.count())
            .where(Order.status.in_(SALE_STATUSES), Order.created_at >= live_from, Order.created_at < hi,
                   scope.orders()).group_by(day))]
    return days


def _points(days: list[tuple[date, Decimal, int]], period: Period, grain: Grain, money: bool) -> tuple[TrendPoint, ...]:
    amount: dict[date, Decimal] = {}
    orders: dict[date, int] = {}
    for d, a, n in days:
        if not period.start <= d <= period.end:
            continue  # a day of the other period, read in the same pass
        b = bucket(d, grain)
        amount[b] = amount.get(b, ZERO) + a
        orders[b] = orders.get(b, 0) + n
    return tuple(TrendPoint(b, amount.get(b, ZERO) if money else None, orders.get(b, 0)) for b in buckets(period, grain))


def trend(session: Session, scope: Scope, period: Period, tz: ZoneInfo, grain: Grain | None = None) -> Trend:
    """Amount, orders and average order value per day, week or month, and the same for the previous period."""
    scope.require(ReportKind.TREND)
    grain = grain or grain_for(period)
    previous = period.previous()
    lo, hi = window(period, tz)
    before_lo, before_hi = window(previous, tz)
    open_day = rollup.first_open_day(session, tz)
    if before_hi == lo:  # the period before ends where this one starts (a month, a year, the last 30 days): one pass
        days = _days(session, scope, before_lo, hi, tz, open_day)
        now_days = before_days = days
    else:  # e.g. this year so far against the same days of last year: two ranges, each read alone
        first, cut, _ = _closed(scope, before_lo, hi, tz, open_day)
        rollup.ensure(session, tz, first, cut)  # once for both (the days between them are built too: cheap)
        now_days = _days(session, scope, lo, hi, tz, open_day, built=True)
        before_days = _days(session, scope, before_lo, before_hi, tz, open_day, built=True)
    return Trend(period, previous, grain, _points(now_days, period, grain, scope.money),
                 _points(before_days, previous, grain, scope.money), scope.money)


# ---------------------------------------------------------------- products


@dataclass(frozen=True)
class ProductRow:
    product_id: int
    sku: str
    name: str
    name_en: str | None
    unit: str
    quantity: int
    amount: Decimal | None
    orders: int


@dataclass(frozen=True)
class UnitRanking:
    """Products sold in one unit, ranked by quantity: boxes are never added to metres."""

    unit: str
    quantity: int
    rows: tuple[ProductRow, ...]


@dataclass(frozen=True)
class ProductRanking:
    period: Period
    by_amount: tuple[ProductRow, ...]  # empty where the scope shows no money
    by_unit: tuple[UnitRanking, ...]  # units with the most order lines first
    money: bool


def products(session: Session, scope: Scope, period: Period, tz: ZoneInfo, limit: int = 10) -> ProductRanking:
    scope.require(ReportKind.PRODUCTS)
    # Lines are summed per product first, then named: the join with products is 500 rows, not 150,000.
    first, last = id_range(session, period, tz)
    if scope.kind == ScopeKind.WAREHOUSE:
        # What this warehouse ships: the quantities held and shipped there (an order may be split across warehouses).
        lo, hi = window(period, tz)
        per: Any = (select(Reservation.product_id.label("pid"), func.sum(Reservation.quantity + Reservation.shipped).label("qty"),
                      func.count(Reservation.id).label("lines"), func.count(func.distinct(Reservation.order_id)).label("orders"))
               .join(Order, Order.id == Reservation.order_id)
               .where(Reservation.warehouse_id == scope.warehouse_id, Order.status.in_(SALE_STATUSES),
                      Order.created_at >= lo, Order.created_at < hi, Reservation.order_id.between(first, last))
               .group_by(Reservation.product_id))
    else:
        per = (select(OrderLine.product_id.label("pid"), func.sum(OrderLine.quantity).label("qty"),
                      func.count().label("lines"), func.count(func.distinct(OrderLine.order_id)).label("orders"),
                      func.sum(OrderLine.amount).label("amount"))
               .join(Order, Order.id == OrderLine.order_id)
               .where(sales_in(scope, period, tz), OrderLine.order_id.between(first, last), Order.id.between(first, last))
               .group_by(OrderLine.product_id))
    sub = per.subquery()
    amount_col = type_coerce(sub.c.amount, Money) if scope.money else None
    q: Select[Any] = select(Product.id, Product.sku, Product.name, Product.name_en, Product.unit, sub.c.qty, sub.c.lines,
                            sub.c.orders, *([amount_col] if amount_col is not None else [])).join(sub, sub.c.pid == Product.id)
    rows: list[ProductRow] = []
    lines_per_unit: dict[str, int] = {}
    for r in session.execute(q):
        pid, sku, name, name_en, unit, qty, lines, orders = r[:8]
        rows.append(ProductRow(pid, sku, name, name_en, unit, int(qty or 0), r[8] if scope.money else None, orders))
        lines_per_unit[unit] = lines_per_unit.get(unit, 0) + lines
    by_amount = tuple(sorted(rows, key=lambda p: (-(p.amount or ZERO), p.sku))[:limit]) if scope.money else ()
    units = sorted(lines_per_unit, key=lambda u: (-lines_per_unit[u], u))
    by_unit = tuple(
        UnitRanking(u, sum(p.quantity for p in rows if p.unit == u),
                    tuple(sorted((p for p in rows if p.unit == u), key=lambda p: (-p.quantity, p.sku))[:limit]))
        for u in units)
    return ProductRanking(period, by_amount, by_unit, scope.money)


# ---------------------------------------------------------------- regions


@dataclass(frozen=True)
class CityRow:
    city: str
    amount: Decimal | None
    orders: int
    customers: int


@dataclass(frozen=True)
class ProvinceRow:
    province: str  # "" when customers have none recorded
    amount: Decimal | None
    orders: int
    customers: int
    cities: tuple[CityRow, ...]


@dataclass(frozen=True)
class Regions:
    period: Period
    provinces: tuple[ProvinceRow, ...]  # by amount (by orders without money), then name
    money: bool


def regions(session: Session, scope: Scope, period: Period, tz: ZoneInfo) -> Regions:
    """Sales by the customer's province, then city."""
    scope.require(ReportKind.REGIONS)
    q = (select(Customer.province, Customer.city, money_sum(Order.total), func.count(),
                func.count(func.distinct(Order.customer_id)))
         .join(Customer, Customer.id == Order.customer_id).where(sales_in(scope, period, tz))
         .group_by(Customer.province, Customer.city))
    by_province: dict[str, list[CityRow]] = {}
    for province, city, amount, n, customers in session.execute(q):
        by_province.setdefault(province or "", []).append(CityRow(city or "", amount if scope.money else None, n, customers))

    def weight(amount: Decimal | None, orders: int) -> tuple[Decimal, int]:
        return (-(amount or ZERO), -orders)

    provinces = []
    for province, cities in by_province.items():
        cities.sort(key=lambda c: (*weight(c.amount, c.orders), c.city))
        amount = sum((c.amount or ZERO for c in cities), ZERO) if scope.money else None
        provinces.append(ProvinceRow(province, amount, sum(c.orders for c in cities), sum(c.customers for c in cities),
                                     tuple(cities)))
    provinces.sort(key=lambda p: (*weight(p.amount, p.orders), p.province))
    return Regions(period, tuple(provinces), scope.money)


# ---------------------------------------------------------------- leaderboard


@dataclass(frozen=True)
class LeaderRow:
    user_id: int
    name: str
    amount: Decimal  # ordered: sales placed in the period
    collected: Decimal  # payments recorded with a payment date in the period
    orders: int
    turnaround_hours: Decimal | None  # average time their orders waited for approval (first step opened → last decided)


LEADERBOARD_ORDER = ("amount", "collected", "orders")


@dataclass(frozen=True)
class Leaderboard:
    period: Period
    by: str  # amount | collected | orders
    rows: tuple[LeaderRow, ...]


def _hours(seconds: float | None) -> Decimal | None:
    if seconds is None:
        return None
    return (Decimal(str(seconds)) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def leaderboard(session: Session, scope: Scope, period: Period, tz: ZoneInfo, by: str = "amount") -> Leaderboard:
    scope.require(ReportKind.LEADERBOARD)
    if by not in LEADERBOARD_ORDER:
        raise ValueError(by)
    where = sales_in(scope, period, tz)
    lo, hi = window(period, tz)
    day_first, cut, live_from = _closed(scope, lo, hi, tz, rollup.first_open_day(session, tz))
    ordered = (rollup.per_person(session, scope.people(SalesDay.sales_user_id), tz, day_first, cut)
               if cut > day_first else {})
    if live_from < hi:
        for uid, a, n in session.execute(
                select(Order.sales_user_id, money_sum(Order.total), func.count())
                .where(where, Order.created_at >= live_from).group_by(Order.sales_user_id)):
            before = ordered.get(uid, (ZERO, 0))
            ordered[uid] = (before[0] + a, before[1] + n)
    # Collections are credited to the order's sales person; a payment without an order (an opening balance) to the
    # customer's.
    owner = func.coalesce(Order.sales_user_id, Customer.sales_user_id)
    paid_in = and_(Payment.paid_on >= period.start, Payment.paid_on <= period.end)
    paid_first, paid_last = session.execute(select(func.min(Payment.order_id + 0), func.max(Payment.order_id + 0))
                                            .where(paid_in)).one()
    collected: dict[int | None, Decimal] = dict(session.execute(
        select(owner, money_sum(Payment.amount)).select_from(Payment)
        .outerjoin(Order, and_(Order.id == Payment.order_id, Order.id.between(paid_first or 0, paid_last or -1)))
        .join(Customer, Customer.id == Payment.customer_id)
        .where(paid_in, scope.people(owner))
        .group_by(owner)).all())
    # Approval turnaround of an order: its first step opened → its last step decided. Each step opens when the one
    # before is decided, so that is the sum of its steps' times: one pass over the steps, no grouping per order.
    first, last = id_range(session, period, tz)
    took = seconds_between(ApprovalStep.decided_at, ApprovalStep.opened_at)
    turnaround = {uid: (total / n if n else None) for uid, total, n in session.execute(
        select(Order.sales_user_id, func.sum(took), func.count(case((ApprovalStep.seq == 1, 1))))
        .join(ApprovalStep, ApprovalStep.order_id == Order.id)
        .where(where, Order.id.between(first, last), ApprovalStep.order_id.between(first, last),
               ApprovalStep.decided_at.is_not(None), ApprovalStep.opened_at.is_not(None))
        .group_by(Order.sales_user_id))}
    ids = [uid for uid in set(ordered) | set(collected) if uid is not None]
    names = {uid: name for uid, name in session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))}
    rows = [LeaderRow(uid, names.get(uid, "—"), ordered.get(uid, (ZERO, 0))[0], collected.get(uid, ZERO),
                      ordered.get(uid, (ZERO, 0))[1], _hours(turnaround.get(uid))) for uid in ids]
    key = {"amount": lambda r: (-r.amount, -r.orders, r.name), "collected": lambda r: (-r.collected, -r.amount, r.name),
           "orders": lambda r: (-r.orders, -r.amount, r.name)}[by]
    return Leaderboard(period, by, tuple(sorted(rows, key=key)))


# ---------------------------------------------------------------- top customers


@dataclass(frozen=True)
class CustomerRow:
    customer_id: int
    code: str
    name: str
    name_en: str | None
    province: str
    city: str
    amount: Decimal
    orders: int


@dataclass(frozen=True)
class TopCustomers:
    period: Period
    rows: tuple[CustomerRow, ...]
    total: Decimal  # all customers' sales in the period and scope (for shares)
    customers: int  # how many customers bought

    def share(self, row: CustomerRow) -> Decimal | None:
        return (row.amount * 100 / self.total).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP) if self.total else None


def top_customers(session: Session, scope: Scope, period: Period, tz: ZoneInfo, limit: int = 10) -> TopCustomers:
    scope.require(ReportKind.CUSTOMERS)
    amount = money_sum(Order.total)
    cols = (Customer.id, Customer.code, Customer.name, Customer.name_en, Customer.province, Customer.city)
    everyone = type_coerce(func.sum(func.sum(Order.total)).over(), Money)
    how_many = func.count().over()
    q = (select(*cols, amount, func.count(), everyone, how_many)
         .join(Order, Order.customer_id == Customer.id).where(sales_in(scope, period, tz))
         .group_by(*cols).order_by(func.sum(Order.total).desc(), Customer.code).limit(limit))
    rows, total, customers = [], ZERO, 0
    for r in session.execute(q):
        rows.append(CustomerRow(r[0], r[1], r[2], r[3], r[4] or "", r[5] or "", r[6], r[7]))
        total, customers = r[8], r[9]
    return TopCustomers(period, tuple(rows), total, customers)
