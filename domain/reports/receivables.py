"""Receivables ageing (账龄): what is still open, by how long it is past its due date, per customer or sales person.

Buckets by days past due on the as-of date: 0–30 (including not yet due), 31–60, 61–90, 90+ — the same as the
statement of account. Every open receivable counts, an opening balance moved in without an order too; its sales
person is the order's, else the customer's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property

from sqlalchemy import case, func, select, type_coerce
from sqlalchemy.orm import Session

from domain.models import Customer, Order, Receivable, User
from domain.reports.scope import ReportKind, Scope
from domain.types import Money

AGEING_BUCKETS: tuple[str, ...] = ("0-30", "31-60", "61-90", "90+")
ZERO = Decimal("0.00")


def ageing_bucket(days_past_due: int) -> str:
    """0–30 (including not yet due), 31–60, 61–90, 90+ (91 days and more)."""
    if days_past_due <= 30:
        return "0-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "90+"


@dataclass(frozen=True)
class AgeingRow:
    id: int  # customer or sales person
    name: str
    name_en: str | None
    buckets: tuple[Decimal, Decimal, Decimal, Decimal]

    @cached_property
    def total(self) -> Decimal:
        return sum(self.buckets, ZERO)


@dataclass(frozen=True)
class Ageing:
    as_of: date
    by: str  # customer | sales
    rows: tuple[AgeingRow, ...]  # largest open amount first

    @property
    def totals(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        return tuple(sum((r.buckets[i] for r in self.rows), ZERO) for i in range(4))  # type: ignore[return-value]

    @property
    def total(self) -> Decimal:
        return sum(self.totals, ZERO)


def ageing(session: Session, scope: Scope, as_of: date, by: str = "customer") -> Ageing:
    scope.require(ReportKind.AGEING)
    if by not in ("customer", "sales"):
        raise ValueError(by)
    # Past due by at most 30 days ⇔ due on or after as_of − 30, and so on: the buckets as date bounds, one column
    # each, so the database hands back one row per customer (or sales person), largest open amount first.
    bounds = (as_of - timedelta(days=30), as_of - timedelta(days=60), as_of - timedelta(days=90))
    bucket = case((Receivable.due_date >= bounds[0], 0), (Receivable.due_date >= bounds[1], 1),
                  (Receivable.due_date >= bounds[2], 2), else_=3)
    open_ = Receivable.amount - Receivable.paid
    columns = [type_coerce(func.coalesce(func.sum(case((bucket == i, open_))), 0), Money) for i in range(4)]
    owner = func.coalesce(Order.sales_user_id, Customer.sales_user_id)
    key = (Customer.id, Customer.name, Customer.name_en) if by == "customer" else (User.id, User.display_name)
    q = (select(*key, *columns).select_from(Receivable)
         .join(Customer, Customer.id == Receivable.customer_id).outerjoin(Order, Order.id == Receivable.order_id)
         .where(Receivable.settled.is_(False), Receivable.amount > Receivable.paid, scope.people(owner)))
    if by == "sales":
        q = q.outerjoin(User, User.id == owner)
    q = q.group_by(*key).order_by(func.sum(open_).desc(), key[1])
    rows = []
    for r in session.execute(q):
        rid, name = r[0], r[1]
        name_en = r[2] if by == "customer" else None
        rows.append(AgeingRow(rid or 0, name or "—", name_en, tuple(r[len(key):])))
    return Ageing(as_of, by, tuple(rows))
