"""Payments from a bank statement: the open items a statement is matched against, whether a bank line was recorded
before, and recording the matched lines — all of them in the caller's one unit of work, each line on its own
savepoint, so a statement is recorded whole or (after a crash) not at all, and a line the domain refuses or a
concurrent import recorded first costs only that line. Never commits."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select, type_coerce
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain import fulfilment
from domain.audit import Actor
from domain.errors import DomainError
from domain.models import Customer, Order, Payment, Receivable, User
from domain.orders import get_order
from domain.types import Money  # sums of money columns come back in fen unless typed
from domain.uow import UnitOfWork


def open_by_order(session: Session) -> list[tuple[str, str, str, Decimal]]:
    """(order number, customer name, customer code, open amount) of every order with money still due."""
    rows = session.execute(
        select(Order.number, Customer.name, Customer.code, type_coerce(func.sum(Receivable.amount - Receivable.paid), Money))
        .join(Order, Receivable.order_id == Order.id).join(Customer, Receivable.customer_id == Customer.id)
        .where(Receivable.settled.is_(False)).group_by(Order.number, Customer.name, Customer.code)
        .order_by(Order.number)).all()
    return [(n, name, code, Decimal(amount)) for n, name, code, amount in rows]


def recorded_lines(session: Session, line_keys: Collection[str]) -> set[str]:
    """The bank lines among `line_keys` a payment was recorded from before (its reference starts with the line's
    key): one statement per 500 lines, not one per line."""
    keys, found = sorted(set(line_keys)), set()
    for i in range(0, len(keys), 500):
        refs = session.scalars(select(Payment.reference).where(
            or_(*(Payment.reference.like(f"bank:{k}:%") for k in keys[i:i + 500]))))
        found |= {ref.split(":", 2)[1] for ref in refs if ref}
    return found


@dataclass(frozen=True)
class BankPayment:
    line_key: str
    order_number: str
    amount: Decimal
    paid_on: date

    @property
    def reference(self) -> str:
        return f"bank:{self.line_key}:{self.order_number}"


@dataclass(frozen=True)
class Outcome:
    payment: BankPayment
    status: str  # "recorded" | "already" (recorded before, by a concurrent import) | "refused"
    error: DomainError | None = None


def record_bank_payments(uow: UnitOfWork, payments: list[BankPayment], user: User | None,
                         actor: Actor) -> list[Outcome]:
    out: list[Outcome] = []
    for p in payments:
        emitted = len(uow.events)
        try:
            with uow.session.begin_nested():
                fulfilment.record_payment(uow, get_order(uow.session, p.order_number), p.amount, p.paid_on, "bank", user, actor,
                               reference=p.reference)
        except IntegrityError:  # the same line recorded by a concurrent import first
            del uow.events[emitted:]  # what the rolled-back line announced did not happen
            out.append(Outcome(p, "already"))
        except DomainError as e:
            del uow.events[emitted:]
            out.append(Outcome(p, "refused", e))
        else:
            out.append(Outcome(p, "recorded"))
    return out
