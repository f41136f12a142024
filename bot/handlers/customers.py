"""Customers in chat: the customer card, and creating and editing a customer — by its form (a Slack modal, the
sandbox's form) or in one message (`新建客户 名称=… 信用额度=…`, `修改客户 C001 账期=45`), which is what DingTalk and
WeCom offer for a form. Both are read by one reader (numbers through domain.parsing); every bad field is answered
with its own error and nothing is written."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from bot import intents as it
from bot.cards.common import error_card
from bot.cards.customers import customer_card, customer_form
from bot.cards.model import Card, Reply
from bot.field_pairs import CUSTOMER_FIELDS
from bot.handlers.base import Turn
from bot.handlers.inputs import row_id
from bot.tokens import ActionToken
from domain import customers, parsing
from domain.catalog import find_customers
from domain.customers import CONTACT_SLOTS, ContactFields, CustomerFields, contact_field
from domain.directory import find_users, users_by_id
from domain.errors import PermissionDenied, ValidationFailed
from domain.masterdata import SELLERS, TERMS_MAX
from domain.messages import N_, Message
from domain.models import Contact, Customer, Role, User
from domain.permissions import (
    SEE_ALL,
    customers_visible_to,
    may_create_customers,
    may_edit_customer,
    may_set_credit_terms,
)

_TEXT: dict[str, tuple[InstrumentedAttribute[Any], str]] = {
    "name": (Customer.name, N_("Customer name")), "name_en": (Customer.name_en, N_("English name")),
    "code": (Customer.code, N_("Customer code")), "province": (Customer.province, N_("Province")),
    "city": (Customer.city, N_("City")), "address": (Customer.address, N_("Address")),
    "tax_title": (Customer.tax_title, N_("Invoice title")), "tax_id": (Customer.tax_id, N_("Tax ID")),
}
_CONTACT: dict[str, InstrumentedAttribute[Any]] = {"name": Contact.name, "phone": Contact.phone, "email": Contact.email,
                                                   "role": Contact.role}
_LABELS = {f.name: f.message for f in CUSTOMER_FIELDS}


# ---------------------------------------------------------------- looking


def show_customer(turn: Turn, query: str) -> list[Reply]:
    s = turn.uow.session
    if not turn.user.has_role(*SEE_ALL, Role.SALES):
        return turn.error("Customer details are for sales, managers and finance")
    found = find_customers(s, query, among=customers_visible_to(turn.user))  # never list what the asker may not see
    if not found:
        return turn.error("No customer matches '{query}'", query=query)
    if len(found) > 1:
        names = turn.texts.join(turn.viewer.customer(c) for c in found[:8])
        return turn.text("Several customers match; use the code: {names}", names=names)
    return [Reply(card=_card(turn, found[0]))]


def _card(turn: Turn, c: Customer) -> Card:
    s = turn.uow.session
    ov = customers.overview(s, turn.user, c, turn.ctx.today())
    ids = {int(v.split(" → ")[i]) for e in ov.history for k, v in (e.details or {}).items()
           if k == "sales_user_id" and isinstance(v, str) for i in (0, 1) if v.split(" → ")[i].isdigit()}
    people = {uid: u.display_name for uid, u in users_by_id(s, ids).items()}
    return customer_card(ov, turn.viewer, people)


# ---------------------------------------------------------------- the form


def _target(turn: Turn, query: str) -> Customer:
    """The one customer `query` names among those the person may see; refused otherwise."""
    if not may_create_customers(turn.user):  # the warehouse and finance: no customer is theirs to change
        raise PermissionDenied("Customers are edited by sales managers, admins and their own sales person")
    found = find_customers(turn.uow.session, query, among=customers_visible_to(turn.user))
    if not found:
        raise ValidationFailed("No customer matches '{query}'", query=query, field="customer")
    if len(found) > 1:
        raise ValidationFailed("Several customers match; use the code: {names}", field="customer",
                               names=turn.texts.join(turn.viewer.customer(c) for c in found[:8]))
    return found[0]


def form(turn: Turn, query: str | None) -> list[Reply]:
    """The new-customer form, or the edit form of the customer `query` names."""
    c = None
    if query is None:
        if not may_create_customers(turn.user):
            raise PermissionDenied("Only sales, sales managers and admins can create customers")
    else:
        c = _target(turn, query)
        if not may_edit_customer(turn.user, c):
            raise PermissionDenied("Only a sales manager, an admin or its own sales person can edit {name}",
                                   name=turn.viewer.customer(c))
    return [Reply(card=_form_card(turn, c))]


def edit_form(turn: Turn, customer_id: int) -> list[Reply]:
    c = customers.customer_by_id(turn.uow.session, customer_id)
    if not may_edit_customer(turn.user, c):
        raise PermissionDenied("Only a sales manager, an admin or its own sales person can edit {name}",
                               name=turn.viewer.customer(c))
    return [Reply(card=_form_card(turn, c))]


def _form_card(turn: Turn, c: Customer | None) -> Card:
    u = turn.user
    token = turn.viewer.token("save_customer", c.id if c else 0, 0, customers.fingerprint(c) if c else "")
    return customer_form(turn.viewer, c, customers.sellers(turn.uow.session) if u.has_role(Role.SALES_MANAGER, Role.ADMIN) else [],
                         may_set_credit=may_set_credit_terms(u), may_hand_over=u.has_role(Role.SALES_MANAGER, Role.ADMIN),
                         token=token)


def submit(turn: Turn, tok: ActionToken, inputs: Mapping[str, str]) -> list[Reply]:
    """The form's submit: every field the form showed is given (a cleared text field clears it)."""
    current = customers.customer_by_id(turn.uow.session, tok.target) if tok.target else None
    return _save(turn, current, inputs, whole=True, seen=tok.arg or None)


def save_by_text(turn: Turn, intent: it.SaveCustomer) -> list[Reply]:
    """A one-message form: only the fields it names change."""
    values = dict(intent.values)
    current = None
    if intent.query is not None:
        current = _target(turn, intent.query)
    elif intent.head and "name" not in values:
        values["name"] = intent.head  # 新建客户 华兴二厂 电话=…: the words before the first field are the name
    elif intent.head:
        raise ValidationFailed("'{text}' is not a field; write it as name=…", text=intent.head, field="name")
    return _save(turn, current, values, whole=False, seen=None)


def _save(turn: Turn, current: Customer | None, inputs: Mapping[str, str], *, whole: bool, seen: str | None) -> list[Reply]:
    wanted, problems = read_fields(turn, inputs, whole=whole, current=current)
    if problems:  # every bad field at once (a Slack modal marks each); nothing is written
        return [Reply(card=error_card(turn.texts, turn.texts.render(msg), name), ephemeral=True) for name, msg in problems]
    if current is None:
        saved = customers.create_customer(turn.uow, turn.user, turn.actor, wanted)
        said = turn.t("Customer {name} created.", name=turn.viewer.customer(saved.customer))
    else:
        saved = customers.update_customer(turn.uow, turn.user, turn.actor, current.id, wanted, seen)
        said = (turn.t("Customer {name} saved.", name=turn.viewer.customer(saved.customer)) if saved.changes
                else turn.t("Nothing changed for {name}.", name=turn.viewer.customer(saved.customer)))
    return [Reply(text=said, card=_card(turn, saved.customer))]


# ---------------------------------------------------------------- reading the fields


def read_fields(turn: Turn, inputs: Mapping[str, str], *, whole: bool,
                current: Customer | None) -> tuple[CustomerFields, list[tuple[str, Message]]]:
    """Inputs → CustomerFields, with a problem per bad field. `whole`: a form that shows every text field, so one
    left out or blank is cleared (a contact whose every part is blank is removed); otherwise (a message) what is not
    named stays as it is, and `remove_contact` (its number or name) removes one contact."""
    creating = current is None
    problems: list[tuple[str, Message]] = []
    got: dict[str, Any] = {}

    def given(name: str) -> str | None:
        raw = inputs.get(name)
        if raw is None:
            return "" if whole else None
        return str(raw)

    def attempt(name: str, read: Any) -> Any:
        try:
            return read()
        except ValidationFailed as e:
            problems.append((e.field or name, e.message))
            return None

    for name, (column, label) in _TEXT.items():
        raw = given(name)
        if raw is None or (name == "code" and not creating and not raw):
            continue
        limit = column.property.columns[0].type.length
        got[name] = attempt(name, lambda raw=raw, limit=limit, label=label, name=name:
                            parsing.text(raw, maximum=limit, field=name, what=label))
    if creating and not got.get("name") and not any(n == "name" for n, _ in problems):
        problems.append(("name", Message("A new customer needs a name")))
    contacts: dict[int, ContactFields] = {}
    for slot in range(1, CONTACT_SLOTS + 1):
        parts: dict[str, str | None] = {}
        for f, column in _CONTACT.items():
            name = contact_field(slot, f)
            raw = given(name)
            if raw is None:
                continue
            limit = column.property.columns[0].type.length
            parts[f] = attempt(name, lambda raw=raw, limit=limit, name=name:
                               parsing.text(raw, maximum=limit, field=name, what=_LABELS[name]))
        if any(v is not None for v in parts.values()):
            contacts[slot] = ContactFields(**parts)
    removed = (inputs.get("remove_contact") or "").strip()
    if removed:
        if current is None:
            problems.append(("remove_contact", Message("A new customer has no contacts to remove")))
        elif (slot := attempt("remove_contact", lambda: customers.contact_number(current, removed))) is not None:
            if slot in contacts:
                problems.append(("remove_contact", Message("Contact {slot} is both changed and removed; do one",
                                                           {"slot": slot})))
            contacts[slot] = ContactFields(name="", phone="", email="", role="")
    tier = (inputs.get("tier") or "").strip()
    if tier:
        got["tier"] = attempt("tier", lambda: parsing.text(tier, maximum=10, field="tier").upper())
    credit = (inputs.get("credit_limit") or "").strip()
    if credit:
        got["credit_limit"] = attempt("credit_limit", lambda: parsing.amount(
            credit, maximum=turn.ctx.settings.max_amount, allow_zero=True, field="credit_limit"))
    terms = (inputs.get("payment_terms_days") or "").strip()
    if terms:
        got["payment_terms_days"] = attempt("payment_terms_days", lambda: _days(terms))
    owner = (inputs.get("sales") or "").strip()
    if owner:
        got["sales_user_id"] = attempt("sales", lambda: _seller(turn, owner).id)
    for k in [k for k, v in got.items() if v is None]:
        del got[k]
    return CustomerFields(contacts=contacts, **got), problems


def _days(text: str) -> int:
    bare = text.strip().casefold().removesuffix("days").removesuffix("day").removesuffix("天").strip()
    try:
        return parsing.quantity(bare, maximum=TERMS_MAX, allow_zero=True, field="payment_terms_days")
    except parsing.InputRefused:
        raise ValidationFailed("Payment terms are a whole number of days, 0 to {days}: '{text}'", days=TERMS_MAX,
                               text=text[:20], field="payment_terms_days") from None


def _seller(turn: Turn, query: str) -> User:
    s = turn.uow.session
    uid = row_id(query)
    user = s.get(User, uid) if uid is not None else None
    if user is None:
        found = [u for u in find_users(s, query) if u.active and u.has_role(*SELLERS)]
        if len(found) != 1:
            raise ValidationFailed("No such salesperson (write the username or name)", field="sales")
        user = found[0]
    return user
