"""Chasing a receivable: the customer promised a payment date, or the owner snoozes the reminders a few days.
Each command checks who may, changes the receivable, writes the audit entry and emits its event."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from domain.audit import Actor, record
from domain.errors import NotFound, PermissionDenied, ValidationFailed
from domain.events import PaymentPromised, ReceivableSnoozed
from domain.models import Receivable, User
from domain.permissions import may_chase_receivable
from domain.uow import UnitOfWork

SNOOZE_DAYS = 3


def _chased(uow: UnitOfWork, receivable_id: int, user: User) -> Receivable:
    r = uow.session.scalars(select(Receivable).where(Receivable.id == receivable_id).with_for_update()).one_or_none()
    if r is None:
        raise NotFound("No such receivable")
    if not may_chase_receivable(user, r):
        raise PermissionDenied("You may not change this receivable")
    return r


def _audit(uow: UnitOfWork, r: Receivable, actor: Actor, action: str, **details: object) -> None:
    # an order's receivable is on the order's timeline; an opening balance has only its reference
    record(uow, r.order, actor, action, subject=None if r.order_id else f"receivable:{r.reference or r.id}",
           receivable=r.id, **details)


def promise_payment(uow: UnitOfWork, receivable_id: int, user: User, on: date, actor: Actor) -> Receivable:
    """The customer promised to pay on `on`: no reminders up to and including that day."""
    r = _chased(uow, receivable_id, user)
    if on < uow.local_today():
        raise ValidationFailed("The promised payment date {on} is before today", on=on, field="date")
    before = r.promised_date
    r.promised_date = on
    _audit(uow, r, actor, "payment_promised", promised_date=on.isoformat(),
           before=before.isoformat() if before else "")
    uow.emit(PaymentPromised(r.id, r.order_id, on, user.id))
    return r


def snooze(uow: UnitOfWork, receivable_id: int, user: User, actor: Actor, days: int = SNOOZE_DAYS) -> Receivable:
    """Remind me later: the reminders skip this receivable until `days` from today (they come back on that day)."""
    r = _chased(uow, receivable_id, user)
    until = uow.local_today() + timedelta(days=days)
    r.snoozed_until = until
    _audit(uow, r, actor, "reminder_snoozed", until=until.isoformat())
    uow.emit(ReceivableSnoozed(r.id, r.order_id, until, user.id))
    return r
