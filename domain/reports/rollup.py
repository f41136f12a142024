"""Sales per local day and sales person, kept for closed days so that a year's trend reads ~70,000 small rows instead
of ~500,000 orders.

Exact by construction, not by discipline: a trigger (migration 0014) bumps the version of an order's UTC date on every
write to an order placed more than a day before — through the ORM, a bulk import or a hand-typed UPDATE. A local day
is read from `sales_days` only when it ended more than two days ago (all its orders are then old enough to bump) and
its build carries the versions it was built from; otherwise it is rebuilt from the orders first, in the caller's
unit of work. Days not yet closed are read live by the caller.

Race-free under READ COMMITTED: the versions are read before the orders are summed, so a write committed in between
is in the sum but leaves the recorded version behind (rebuilt once more, never wrong), and a write still in flight
bumps the version when it commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, insert, literal, select, text
from sqlalchemy.orm import Session

from domain.models import Order, OrderDayVersion, SalesDay, SalesDayBuild
from domain.reports.sql import local_date, money_sum
from domain.reports.window import SALE_STATUSES

# Twice the trigger's one day: every order of a day that ended this long ago was placed more than a day ago.
CLOSED_AFTER = timedelta(days=2)
_LOCK = 0x07D7_5A1E  # the advisory lock that lets one builder at a time rebuild days on PostgreSQL


def _start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def _utc_dates(day: date, tz: ZoneInfo) -> Iterator[date]:
    """The UTC dates the local day overlaps (one or two)."""
    first, last = _start(day, tz).date(), (_start(day + timedelta(days=1), tz) - timedelta(microseconds=1)).date()
    while first <= last:
        yield first
        first += timedelta(days=1)


def _days(first: date, end: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((end - first).days)]


def first_open_day(session: Session, tz: ZoneInfo) -> date:
    """The first local day not yet closed, by the database's clock (the one the trigger reads)."""
    now = session.execute(select(func.current_timestamp())).scalar_one()
    if isinstance(now, str):  # SQLite without type processing: 'YYYY-MM-DD HH:MM:SS' in UTC
        now = datetime.fromisoformat(now)
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now
    return (now - CLOSED_AFTER).astimezone(tz).date()


def _runs(days: list[date]) -> Iterator[tuple[date, date]]:
    """Consecutive days as [first, end) ranges."""
    start = prev = days[0]
    for d in days[1:]:
        if d != prev + timedelta(days=1):
            yield start, prev + timedelta(days=1)
            start = d
        prev = d
    yield start, prev + timedelta(days=1)


def _stale(session: Session, tz: ZoneInfo, first: date, end: date) -> dict[date, int]:
    """Days in [first, end) whose build is missing or behind, with the version each should be built at."""
    days = _days(first, end)
    lo, hi = next(_utc_dates(first, tz)), max(_utc_dates(end - timedelta(days=1), tz))
    versions = dict(session.execute(select(OrderDayVersion.day, OrderDayVersion.version)
                                    .where(OrderDayVersion.day.between(lo, hi))).all())
    built = dict(session.execute(select(SalesDayBuild.day, SalesDayBuild.version)
                                 .where(SalesDayBuild.zone == tz.key, SalesDayBuild.day.between(first, end))).all())
    want = {d: sum(versions.get(u, 0) for u in _utc_dates(d, tz)) for d in days}
    return {d: v for d, v in want.items() if built.get(d) != v}


def ensure(session: Session, tz: ZoneInfo, first: date, end: date) -> None:
    """Build or rebuild the closed days in [first, end) that need it. Writes in the caller's unit of work."""
    if first >= end:
        return
    stale = _stale(session, tz, first, end)
    if not stale:
        return
    if session.get_bind().dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE already holds the one writer lock
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
        stale = _stale(session, tz, first, end)  # again: another builder may have finished while this one waited
        if not stale:
            return
    day = local_date(Order.created_at, tz.key)
    for lo, hi in _runs(sorted(stale)):
        session.execute(delete(SalesDay).where(SalesDay.zone == tz.key, SalesDay.day >= lo, SalesDay.day < hi))
        summed = (select(literal(tz.key), day, Order.sales_user_id, func.sum(Order.total), func.count())
                  .where(Order.status.in_(SALE_STATUSES), Order.created_at >= _start(lo, tz),
                         Order.created_at < _start(hi, tz))
                  .group_by(day, Order.sales_user_id))
        session.execute(insert(SalesDay).from_select(
            ["zone", "day", "sales_user_id", "amount", "orders"], summed))
    session.execute(delete(SalesDayBuild).where(SalesDayBuild.zone == tz.key, SalesDayBuild.day.in_(sorted(stale))))
    session.execute(insert(SalesDayBuild), [{"zone": tz.key, "day": d, "version": v} for d, v in sorted(stale.items())])


def _totals(session: Session, by: Any, people: ColumnElement[bool], tz: ZoneInfo, first: date,
            end: date) -> list[tuple[Any, Decimal, int]]:
    """Amount and orders over the closed local days in [first, end), grouped by `by` (a sales_days column)."""
    rows = session.execute(select(by, money_sum(SalesDay.amount), func.sum(SalesDay.orders))
                           .where(SalesDay.zone == tz.key, SalesDay.day >= first, SalesDay.day < end, people)
                           .group_by(by)).all()
    return [(k, a, int(n)) for k, a, n in rows]


def per_day(session: Session, people: ColumnElement[bool], tz: ZoneInfo, first: date, end: date,
            built: bool = False) -> list[tuple[date, Decimal, int]]:
    """Amount and orders per closed local day in [first, end) for the sales people `people` selects (`built`: the
    caller ensured those days already)."""
    if not built:
        ensure(session, tz, first, end)
    return _totals(session, SalesDay.day, people, tz, first, end)


def per_person(session: Session, people: ColumnElement[bool], tz: ZoneInfo, first: date,
               end: date) -> dict[int, tuple[Decimal, int]]:
    """Amount and orders per sales person over the closed local days in [first, end)."""
    ensure(session, tz, first, end)
    return {uid: (a, n) for uid, a, n in _totals(session, SalesDay.sales_user_id, people, tz, first, end)}
