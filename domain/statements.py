"""A customer's statement of account (对账单) over a period: the balance brought forward, what was booked and paid
in the period, and what is still open. Debits are shipments (that is when a receivable is booked) and opening
balances moved in from the old system (on the day they came in); credits are payments. Plain rows, money as
`Decimal`; documents and the API lay them out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, type_coerce
from sqlalchemy.orm import InstrumentedAttribute, Session

from domain.models import Order, Payment, Receivable, Shipment
from domain.types import Money  # sums of money columns come back in fen unless typed


@dataclass(frozen=True)
class Booked:
    on: date
    kind: str  # "shipment" | "opening" | "payment"
    reference: str
    debit: Decimal
    credit: Decimal
    memo: str


@dataclass(frozen=True)
class OpenItem:
    reference: str
    issued_on: date
    due_on: date
    amount: Decimal


@dataclass(frozen=True)
class AccountStatement:
    opening_balance: Decimal
    entries: tuple[Booked, ...]  # by date
    open_items: tuple[OpenItem, ...]  # by due date


def _utc_start(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tz).astimezone(UTC)


def _sum(session: Session, column: InstrumentedAttribute[Decimal], *where: ColumnElement[bool]) -> Decimal:
    return Decimal(session.scalar(select(type_coerce(func.coalesce(func.sum(column), 0), Money)).where(*where)) or 0)


def account_statement(session: Session, customer_id: int, start: date, end: date, tz: ZoneInfo) -> AccountStatement:
    """Days are the configured zone's. Open items are the receivables booked up to `end` that are still open now:
    exact when `end` is today (the usual request); for a past period it shows today's open amount of those items."""
    lo, hi = _utc_start(start, tz), _utc_start(end + timedelta(days=1), tz)
    opening = Receivable.order_id.is_(None)
    shipped_before = Decimal(session.scalar(
        select(type_coerce(func.coalesce(func.sum(Shipment.amount), 0), Money)).join(Order, Shipment.order_id == Order.id)
        .where(Order.customer_id == customer_id, Shipment.shipped_at < lo)) or 0)
    opened_before = _sum(session, Receivable.amount, Receivable.customer_id == customer_id, opening,
                         Receivable.created_at < lo)
    paid_before = _sum(session, Payment.amount, Payment.customer_id == customer_id, Payment.paid_on < start)
    zero = Decimal("0")  # the side an entry does not move
    entries: list[Booked] = []
    for sh, number in session.execute(select(Shipment, Order.number).join(Order, Shipment.order_id == Order.id)
                                      .where(Order.customer_id == customer_id, Shipment.shipped_at >= lo,
                                             Shipment.shipped_at < hi)
                                      .order_by(Shipment.shipped_at, Shipment.id)):
        entries.append(Booked(sh.shipped_at.astimezone(tz).date(), "shipment", number, sh.amount, zero,
                              f"{sh.carrier} {sh.tracking_no}"))
    for r in session.scalars(select(Receivable).where(Receivable.customer_id == customer_id, opening,
                                                      Receivable.created_at >= lo, Receivable.created_at < hi)
                             .order_by(Receivable.created_at, Receivable.id)):
        entries.append(Booked(r.created_at.astimezone(tz).date(), "opening", r.label, r.amount, zero, ""))
    for p, number, ref in session.execute(select(Payment, Order.number, Receivable.reference)
                                          .outerjoin(Order, Payment.order_id == Order.id)
                                          .outerjoin(Receivable, Payment.receivable_id == Receivable.id)
                                          .where(Payment.customer_id == customer_id, Payment.paid_on >= start,
                                                 Payment.paid_on <= end)
                                          .order_by(Payment.paid_on, Payment.id)):
        entries.append(Booked(p.paid_on, "payment", number or ref or "", zero, p.amount, p.method))
    entries.sort(key=lambda e: e.on)  # stable: within a day shipments, then openings, then payments
    open_items = tuple(
        OpenItem(r.label, r.created_at.astimezone(tz).date(), r.due_date, r.amount - r.paid)
        for r in session.scalars(select(Receivable).where(Receivable.customer_id == customer_id,
                                                          Receivable.settled.is_(False), Receivable.created_at < hi)
                                 .order_by(Receivable.due_date, Receivable.id)))
    return AccountStatement(shipped_before + opened_before - paid_before, tuple(entries), open_items)
