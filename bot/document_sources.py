"""Reads delivery notes and statements of account out of the database into the documents' typed input.

The renderers in bot.documents are pure; this module is the only place that knows both sides.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

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
from domain.models import Customer, Order, Shipment, Warehouse
from domain.statements import account_statement

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


def statement(session: Session, customer: Customer, start: date, end: date, company: str, tz: ZoneInfo,
              currency: str) -> Statement:
    """The customer's account over the period (domain.statements), laid out as the document's input."""
    account = account_statement(session, customer.id, start, end, tz)
    entries = tuple(StatementEntry(entry_date=e.on, type=EntryType(e.kind), reference=e.reference, debit=e.debit,
                                   credit=e.credit, memo=e.memo) for e in account.entries)
    open_items = tuple(OpenReceivable(reference=o.reference, due_date=o.due_on, amount=o.amount, issue_date=o.issued_on)
                       for o in account.open_items)
    return Statement(company_name=company, customer=_doc_customer(customer), period_start=start, period_end=end,
                     opening_balance=account.opening_balance, entries=entries, open_items=open_items,
                     currency_symbol=_SYMBOLS.get(currency, currency + " "))
