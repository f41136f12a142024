"""Customers one at a time, as people keep them in chat: the customer card's read model, and the commands that
create and edit a customer.

Who may do what (domain.permissions): admins and sales managers create and edit every customer; a sales person
creates customers that are their own and edits their own customers' names, contacts, address and invoice details.
The terms that decide how much a customer may owe — credit limit, payment terms and tier (the tier selects the
price) — are set by a sales manager or an admin only: a sales person who sets one is refused with a message that
says who can (a refusal, not a pending request: nothing waits half-done). Every change is an audit entry on
"customer:<id>" with each changed field as "before → after", which the customer card shows as its history.

The commands never commit; a refusal is a DomainError and nothing is written.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from domain.audit import Actor, history, record, refused
from domain.contacts import CONTACT_SLOTS, ContactFields, contact_field, valid_email
from domain.errors import NotFound, PermissionDenied, StaleVersion, ValidationFailed
from domain.fulfilment import Balance, customer_balance
from domain.masterdata import SELLERS, TERMS_MAX, TIERS
from domain.messages import Name
from domain.models import AuditEntry, Contact, Customer, Order, OrderLine, OrderStatus, Role, User
from domain.orders import open_receivables
from domain.permissions import (
    may_create_customers,
    may_edit_customer,
    may_set_credit_terms,
    may_view_customer,
)
from domain.types import money
from domain.uow import UnitOfWork

CODE_PREFIX = "C"
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}")
_CONTACT_NUMBER = re.compile(r"^(联系人|contact)?\s*(no\.?|#)?\s*", re.IGNORECASE)  # 联系人2, contact #2 → 2
CREDIT_FIELDS = ("tier", "credit_limit", "payment_terms_days")  # set by a sales manager or an admin
HISTORY_ACTIONS = ("customer_created", "customer_updated", "imported_update")
_OPEN_ORDER = (OrderStatus.PENDING_APPROVAL.value, OrderStatus.APPROVED.value, OrderStatus.PARTIALLY_SHIPPED.value)


@dataclass(frozen=True)
class CustomerFields:
    """What a form or a message says about a customer; a field that is None was not given (on create: the model's
    default; on edit: the stored value stays). Text is already read (trimmed, within its column)."""

    code: str | None = None  # create only; blank: the next free C-number
    name: str | None = None
    name_en: str | None = None
    province: str | None = None
    city: str | None = None
    address: str | None = None
    tier: str | None = None
    credit_limit: Decimal | None = None
    payment_terms_days: int | None = None
    sales_user_id: int | None = None
    tax_title: str | None = None
    tax_id: str | None = None
    contacts: dict[int, ContactFields] = field(default_factory=dict)  # number (1 … CONTACT_SLOTS) → its fields


_PLAIN = ("name", "name_en", "province", "city", "address", "tier", "credit_limit", "payment_terms_days", "tax_title",
          "tax_id")


@dataclass(frozen=True)
class Saved:
    """The outcome of a create or an edit: the customer and what changed (field → (before, after), as text)."""

    customer: Customer
    created: bool
    changes: dict[str, tuple[str, str]]


# ---------------------------------------------------------------- reading


def fingerprint(c: Customer) -> str:
    """A short digest of everything a form shows: a form opened before someone else's change is refused, not
    applied over it."""
    parts = [str(getattr(c, f)) for f in (*_PLAIN, "sales_user_id")]
    parts += [f"{k.seq}:{k.name}:{k.phone}:{k.email}:{k.role}" for k in c.contacts]
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:9]
    return base64.urlsafe_b64encode(digest).decode()


def customer_by_code(session: Session, code: str) -> Customer | None:
    return session.scalar(select(Customer).where(Customer.code == code))


def customer_by_id(session: Session, customer_id: int) -> Customer:
    c = session.get(Customer, customer_id)
    if c is None:
        raise NotFound("No such customer")
    return c


@dataclass(frozen=True)
class Overview:
    """The customer card's facts, for someone who may see the customer."""

    customer: Customer
    balance: Balance  # receivables: billed, paid, open, overdue
    credit_used: Decimal  # what the approval rules weigh against the credit limit: open receivables
    in_progress: Decimal  # the unshipped part of open orders (not a receivable yet)
    recent: list[Order]
    history: list[AuditEntry]  # the customer's changes, newest last
    may_edit: bool
    may_set_credit: bool

    @property
    def credit_left(self) -> Decimal:
        return self.customer.credit_limit - self.credit_used


def overview(session: Session, user: User, customer: Customer, today: date, recent: int = 5) -> Overview:
    if not may_view_customer(user, customer):
        raise PermissionDenied("You may not view customer {name}", name=Name.of(customer))
    orders = list(session.scalars(select(Order).where(Order.customer_id == customer.id)
                                  .order_by(Order.created_at.desc(), Order.id.desc()).limit(recent)))
    lines = session.execute(select(OrderLine.amount, OrderLine.quantity, OrderLine.shipped_qty).join(Order)
                            .where(Order.customer_id == customer.id, Order.status.in_(_OPEN_ORDER))).all()
    in_progress = sum((money(a * (q - done) / q) for a, q, done in lines if q), Decimal("0.00"))
    entries = [e for e in history(session, f"customer:{customer.id}", limit=20) if e.action in HISTORY_ACTIONS]
    return Overview(customer, customer_balance(session, customer.id, today), open_receivables(session, customer.id),
                    in_progress, orders, entries[-6:],
                    may_edit_customer(user, customer), may_set_credit_terms(user))


def sellers(session: Session) -> list[User]:
    """Who can own customers: active people in sales (sales, sales managers, admins)."""
    return [u for u in session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)) if u.has_role(*SELLERS)]


# ---------------------------------------------------------------- commands


def _saved(uow: UnitOfWork, obj: Any, created: bool, changes: dict[str, Any]) -> Saved:
    """The command's read model: what was saved, written and read back as the database now holds it."""
    uow.session.flush()
    uow.session.refresh(obj)
    return Saved(obj, created, changes)


def create_customer(uow: UnitOfWork, user: User, actor: Actor, wanted: CustomerFields) -> Saved:
    s = uow.session
    if not may_create_customers(user):
        raise refused(PermissionDenied("Only sales, sales managers and admins can create customers"), None, actor,
                      action_tried="customer_create", name=wanted.name or "")
    if not wanted.name:
        raise ValidationFailed("A new customer needs a name", field="name")
    owner_id = wanted.sales_user_id if wanted.sales_user_id is not None else user.id
    if not user.has_role(Role.SALES_MANAGER, Role.ADMIN) and owner_id != user.id:
        raise refused(PermissionDenied("The customers you create are your own; a sales manager can hand one over later",
                                       field="sales"), None, actor, action_tried="customer_create", name=wanted.name,
                      sales_user_id=owner_id)
    _credit_terms(user, actor, wanted, None)
    _rules(s, wanted, owner_id)
    same = s.scalar(select(Customer).where(func.lower(Customer.name) == wanted.name.casefold()))
    if same is not None:
        raise ValidationFailed("Customer {name} already exists ({code}); edit it instead", name=Name.of(same),
                               code=same.code, field="name")
    if wanted.code:
        taken = s.scalar(select(Customer).where(func.lower(Customer.code) == wanted.code.casefold()))
        if taken is not None:
            raise ValidationFailed("Customer code {code} is taken by {name}", code=wanted.code, name=Name.of(taken),
                                   field="code")
    values = {"tier": "B", "credit_limit": Decimal("0.00"), "payment_terms_days": 30,
              **{f: getattr(wanted, f) for f in _PLAIN if getattr(wanted, f) is not None}}
    c = Customer(code=wanted.code or "", sales_user_id=owner_id, **values)
    if c.name_en == "":
        c.name_en = None
    for slot in sorted(wanted.contacts):
        _apply_contact(c, slot, wanted.contacts[slot])
    _insert(uow, c, given_code=bool(wanted.code))
    owner = s.get(User, owner_id)
    record(uow, None, actor, "customer_created", subject=f"customer:{c.id}", code=c.code, tier=c.tier,
           credit_limit=str(c.credit_limit), payment_terms_days=c.payment_terms_days,
           sales=owner.display_name if owner else "")
    return _saved(uow, c, True, {})


def update_customer(uow: UnitOfWork, user: User, actor: Actor, customer_id: int, wanted: CustomerFields,
                    seen: str | None = None) -> Saved:
    """`seen`: the fingerprint of the customer as the form showed it (None for a one-line edit, which names only
    the fields it changes)."""
    s = uow.session
    c = s.scalars(select(Customer).where(Customer.id == customer_id).with_for_update()
                  .execution_options(populate_existing=True)).one_or_none()
    if c is None:
        raise NotFound("No such customer")
    if not may_edit_customer(user, c):
        raise refused(PermissionDenied("Only a sales manager, an admin or its own sales person can edit {name}",
                                       name=Name.of(c)), None, actor, action_tried="customer_edit",
                      subject=f"customer:{c.id}")
    if seen is not None and seen != fingerprint(c):
        raise StaleVersion("Customer {code} changed since this form was opened; open it again", code=c.code)
    if wanted.code is not None and wanted.code != c.code:
        raise ValidationFailed("A customer's code does not change (it is the key of imports and statements)",
                               field="code")
    _credit_terms(user, actor, wanted, c)
    if wanted.sales_user_id is not None and wanted.sales_user_id != c.sales_user_id \
            and not user.has_role(Role.SALES_MANAGER, Role.ADMIN):
        raise refused(PermissionDenied("Only a sales manager or an admin can hand a customer to another sales person",
                                       field="sales"), None, actor, action_tried="customer_hand_over",
                      subject=f"customer:{c.id}", sales_user_id=wanted.sales_user_id)
    if wanted.name is not None and not wanted.name:
        raise ValidationFailed("The customer name is required", field="name")
    _rules(s, wanted, wanted.sales_user_id)
    if wanted.name and wanted.name != c.name:
        same = s.scalar(select(Customer).where(func.lower(Customer.name) == wanted.name.casefold(), Customer.id != c.id))
        if same is not None:
            raise ValidationFailed("Customer {name} already exists ({code}); edit it instead", name=Name.of(same),
                                   code=same.code, field="name")
    changes: dict[str, tuple[str, str]] = {}
    for f in _PLAIN:
        given = getattr(wanted, f)
        if given is None:
            continue
        new = None if f == "name_en" and given == "" else given  # a blank English name: none
        old = getattr(c, f)
        if old != new:
            changes[f] = (_shown(old), _shown(new))
            setattr(c, f, new)
    if wanted.sales_user_id is not None and wanted.sales_user_id != c.sales_user_id:
        before, after = c.sales_user, s.get(User, wanted.sales_user_id)
        changes["sales"] = (before.display_name if before else "", after.display_name if after else "")
        c.sales_user_id = wanted.sales_user_id
    for slot in sorted(wanted.contacts):
        changes |= _apply_contact(c, slot, wanted.contacts[slot])
    if changes:
        s.flush()
        record(uow, None, actor, "customer_updated", subject=f"customer:{c.id}",
               **{k: f"{a} → {b}" for k, (a, b) in changes.items()})
    return _saved(uow, c, False, changes)


def _credit_terms(user: User, actor: Actor, wanted: CustomerFields, current: Customer | None) -> None:
    """Credit limit, payment terms and tier: a sales manager's or an admin's; anyone else is told who can, and the
    attempt stays in the audit trail."""
    if may_set_credit_terms(user):
        return
    defaults = {"tier": "B", "credit_limit": Decimal("0.00"), "payment_terms_days": 30}
    for f in CREDIT_FIELDS:
        new = getattr(wanted, f)
        old = getattr(current, f) if current is not None else defaults[f]
        if new is not None and new != old:
            manager = user.manager if user.manager is not None and user.manager.active else None
            if manager is not None:
                denied = PermissionDenied("Credit limit, payment terms and tier are set by a sales manager or an admin; "
                                          "leave them as they are and ask {manager}", manager=manager.display_name, field=f)
            else:
                denied = PermissionDenied("Credit limit, payment terms and tier are set by a sales manager or an admin; "
                                          "leave them as they are and ask one of them", field=f)
            raise refused(denied, None, actor, action_tried="customer_credit_terms",
                          subject=f"customer:{current.id}" if current is not None else "customer:new",
                          **{f: f"{old} → {new}"})


def _rules(s: Session, wanted: CustomerFields, owner_id: int | None) -> None:
    if wanted.tier is not None and wanted.tier not in TIERS:
        raise ValidationFailed("the tier must be one of {tiers}", tiers="/".join(TIERS), field="tier")
    if wanted.payment_terms_days is not None and not 0 <= wanted.payment_terms_days <= TERMS_MAX:
        raise ValidationFailed("payment terms are at most {days} days", days=TERMS_MAX, field="payment_terms_days")
    if wanted.credit_limit is not None and wanted.credit_limit < 0:
        raise ValidationFailed("The credit limit cannot be negative", field="credit_limit")
    if wanted.code is not None and wanted.code and not _CODE.fullmatch(wanted.code):
        raise ValidationFailed("A customer code is letters, digits, dots and dashes, without spaces (at most 32)",
                               field="code")
    if owner_id is not None:
        owner = s.get(User, owner_id)
        if owner is None or not owner.active:
            raise ValidationFailed("No such salesperson", field="sales")
        if not owner.has_role(*SELLERS):
            raise ValidationFailed("{name} is not in sales", name=owner.display_name, field="sales")
    for slot, k in wanted.contacts.items():
        if not 1 <= slot <= CONTACT_SLOTS:
            raise ValidationFailed("No contact slot {slot}", slot=slot, field="contact_name")
        if k.email and not valid_email(k.email):
            raise ValidationFailed("'{email}' is not an e-mail address", email=k.email,
                                   field=_slot_field("contact_email", slot))


def _slot_field(name: str, slot: int) -> str:
    return contact_field(slot, name.removeprefix("contact_"))


def contact_number(c: Customer, said: str) -> int:
    """The number of the customer's contact that `said` names: its number (2, 联系人2) or its name; refused when
    none, or several, fit."""
    bare = said.strip()
    digits = _CONTACT_NUMBER.sub("", bare)
    if digits.isdigit() and any(k.seq == int(digits) for k in c.contacts):
        return int(digits)
    named = [k.seq for k in c.contacts if k.name and k.name.casefold() == bare.casefold()]
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        raise ValidationFailed("{name} has several contacts called {contact}; give the contact's number",
                               name=Name.of(c), contact=bare, field="remove_contact")
    raise ValidationFailed("{name} has no contact {contact}", name=Name.of(c), contact=bare or "—",
                           field="remove_contact")


def _apply_contact(c: Customer, slot: int, given: ContactFields) -> dict[str, tuple[str, str]]:
    """Set the given fields of contact `slot`; a contact left with nothing is removed."""
    k = next((x for x in c.contacts if x.seq == slot), None)
    wanted = {f: v for f, v in given._asdict().items() if v is not None}
    if k is None:
        if not any(wanted.values()):
            return {}
        k = Contact(seq=slot, name="", phone="", email="", role="")
        c.contacts.append(k)
    changes = {}
    for f, new in wanted.items():
        old = getattr(k, f) or ""
        if old != new:
            changes[_slot_field(f"contact_{f}", slot)] = (old, new)
            setattr(k, f, new)
    if not any((k.name, k.phone, k.email, k.role)):
        c.contacts.remove(k)
    return changes


def _insert(uow: UnitOfWork, c: Customer, *, given_code: bool) -> None:
    """Add the customer; a blank code becomes the next free C-number (two people creating at once get two)."""
    s = uow.session
    first = next_code(s)
    for attempt in range(20):
        if not given_code:
            c.code = f"{CODE_PREFIX}{first + attempt:03d}"
        try:
            with s.begin_nested():
                s.add(c)
                s.flush()
            return
        except IntegrityError:
            if given_code:
                raise ValidationFailed("Customer code {code} is taken", code=c.code, field="code") from None
    raise ValidationFailed("Could not assign a customer code; give one", field="code")


def next_code(session: Session) -> int:
    """The number of the next C-code (C001, C002 …): one past the highest C-number in use (codes of other shapes
    are left alone)."""
    codes = session.scalars(select(Customer.code).where(Customer.code.like(f"{CODE_PREFIX}%"))
                            .order_by(func.length(Customer.code).desc(), Customer.code.desc()).limit(200))
    return max((int(x[len(CODE_PREFIX):]) for x in codes if x[len(CODE_PREFIX):].isascii()
                and x[len(CODE_PREFIX):].isdigit()), default=0) + 1


def _shown(v: object) -> str:
    return "" if v is None else str(v)
