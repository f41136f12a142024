"""Reads delivery notes and statements of account out of the database into the documents' typed input.

The renderers in bot.documents are pure; this module is the only place that knows both sides.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session

from bot.documents.model import (
    Customer as DocCustomer,
)
from bot.documents.model import (
    DeliveryLine,
    DeliveryNote,
    EntryType,
    OpenReceivable,
    Statement,
    StatementEntry,
)
from domain.errors import NotFound
from domain.models import Customer, Order, Payment, Receivable, Shipment, Warehouse
from domain.types import Money  # sums of money columns come back in fen unless typed

_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "HKD": "HK$"}


def _doc_customer(c: Customer) -> DocCustomer:
    address = " ".join(p for p in (c.province, c.city, c.address) if p)
    return DocCustomer(name=c.name, code=c.code, address=address, contact=c.contact_name, phone=c.contact_phone)


def delivery_note(session: Session, shipment_id: int, company: str, tz: ZoneInfo) -> DeliveryNote:
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound("No shipment {shipment_id}", shipment_id=shipment_id)
    order = session.get(Order, shipment.order_id)
    warehouse = session.get(Warehouse, shipment.warehouse_id)
    assert order is not None and warehouse is not None
    lines = tuple(DeliveryLine(sku=sl.line.product.sku, name=sl.line.product.name, spec=sl.line.product.spec,
                               unit=sl.line.product.unit, quantity=Decimal(sl.quantity))
                  for sl in sorted(shipment.lines, key=lambda sl: sl.line.line_no))
    return DeliveryNote(company_name=company, note_number=f"DN-{shipment.id:06d}", order_number=order.number,
                        customer=_doc_customer(order.customer), warehouse=f"{warehouse.code} {warehouse.name}",
                        ship_date=shipment.shipped_at.astimezone(tz).date(), carrier=shipment.carrier,
                        tracking_number=shipment.tracking_no, lines=lines, remarks=order.notes or "")


def _utc_start(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(0), tz).astimezone(UTC)


def statement(session: Session, customer: Customer, start: date, end: date, company: str, tz: ZoneInfo,
              currency: str) -> Statement:
    """Debits are shipments (that is when a receivable is booked), credits are payments.

    Open items are the receivables booked up to `end` that are still open now: exact when `end` is today (the
    usual request); for a past period it shows today's open amount of those items.
    """
    lo, hi = _utc_start(start, tz), _utc_start(end + timedelta(days=1), tz)
    shipped_before = session.scalar(select(type_coerce(func.coalesce(func.sum(Shipment.amount), 0), Money)).join(Order, Shipment.order_id == Order.id)
                                    .where(Order.customer_id == customer.id, Shipment.shipped_at < lo))
    opening = Receivable.order_id.is_(None)  # balances moved in from the old system: a debit on the day they came in
    opened_before = session.scalar(select(type_coerce(func.coalesce(func.sum(Receivable.amount), 0), Money))
                                   .where(Receivable.customer_id == customer.id, opening, Receivable.created_at < lo))
    paid_before = session.scalar(select(type_coerce(func.coalesce(func.sum(Payment.amount), 0), Money))
                                 .where(Payment.customer_id == customer.id, Payment.paid_on < start))
    entries: list[StatementEntry] = []
    for sh, number in session.execute(select(Shipment, Order.number).join(Order, Shipment.order_id == Order.id)
                                      .where(Order.customer_id == customer.id, Shipment.shipped_at >= lo, Shipment.shipped_at < hi)
                                      .order_by(Shipment.shipped_at, Shipment.id)):
        entries.append(StatementEntry(entry_date=sh.shipped_at.astimezone(tz).date(), type=EntryType.SHIPMENT,
                                      reference=number, debit=sh.amount, memo=f"{sh.carrier} {sh.tracking_no}"))
    for r in session.scalars(select(Receivable).where(Receivable.customer_id == customer.id, opening,
                                                      Receivable.created_at >= lo, Receivable.created_at < hi)
                             .order_by(Receivable.created_at, Receivable.id)):
        entries.append(StatementEntry(entry_date=r.created_at.astimezone(tz).date(), type=EntryType.OPENING,
                                      reference=r.label, debit=r.amount, memo=""))
    for p, number, ref in session.execute(select(Payment, Order.number, Receivable.reference)
                                          .outerjoin(Order, Payment.order_id == Order.id)
                                          .outerjoin(Receivable, Payment.receivable_id == Receivable.id)
                                          .where(Payment.customer_id == customer.id, Payment.paid_on >= start, Payment.paid_on <= end)
                                          .order_by(Payment.paid_on, Payment.id)):
        entries.append(StatementEntry(entry_date=p.paid_on, type=EntryType.PAYMENT, reference=number or ref or "", credit=p.amount,
                                      memo=p.method))
    entries.sort(key=lambda e: e.entry_date)
    open_items = tuple(
        OpenReceivable(reference=r.label, due_date=r.due_date, amount=r.amount - r.paid,
                       issue_date=r.created_at.astimezone(tz).date())
        for r in session.scalars(select(Receivable).where(Receivable.customer_id == customer.id, Receivable.settled.is_(False),
                                                          Receivable.created_at < hi)
                                 .order_by(Receivable.due_date, Receivable.id)))
    return Statement(company_name=company, customer=_doc_customer(customer), period_start=start, period_end=end,
                     opening_balance=Decimal(shipped_before or 0) + Decimal(opened_before or 0) - Decimal(paid_before or 0), entries=tuple(entries),
                     open_items=open_items, currency_symbol=_SYMBOLS.get(currency, currency + " "))
