"""Customers, products and warehouses in bulk (moving in from the old system's sheets), keyed by code.

Each `…Import` is made once per import and called batch by batch: `batch(records, apply=False)` is the check,
`apply=True` also writes. A record field that is None was not given (its column is not in the file): on create the
model's default, on update the stored value stays. Existing rows are read as plain rows (not ORM objects) and new
ones written with one multi-row INSERT per batch, so 100,000 rows take seconds, not minutes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from types import MappingProxyType
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session

from domain.audit import Actor, record
from domain.bulk import Action, Batch, check_importer, diff, insert_rows
from domain.contacts import CONTACT_SLOTS, ContactFields, contact_field, valid_email
from domain.models import Contact, Customer, Product, Role, TierPrice, User, Warehouse
from domain.uow import UnitOfWork

TIERS = ("A", "B", "C")
TERMS_MAX = 365
SELLERS = (Role.SALES, Role.SALES_MANAGER, Role.ADMIN)
_CUSTOMERS, _CONTACTS, _PRODUCTS = (cast(Table, m.__table__) for m in (Customer, Contact, Product))


# The records of a 100,000-row import are NamedTuples: immutable like a frozen dataclass, made 3× faster (a frozen
# dataclass sets each field through object.__setattr__: ~5 µs a row for a customer's 17 fields).
class CustomerRecord(NamedTuple):
    row: int
    code: str
    name: str | None = None
    name_en: str | None = None
    province: str | None = None
    city: str | None = None
    address: str | None = None
    # contact number (1 … CONTACT_SLOTS) → its fields, for the contacts whose columns are in the file: exactly
    # those (all blank: removed); a contact not in it stays as it is
    contacts: Mapping[int, ContactFields] = MappingProxyType({})
    tier: str | None = None
    credit_limit: Decimal | None = None
    payment_terms_days: int | None = None
    sales: str | None = None  # username or name of the sales owner; "" = none
    tax_title: str | None = None
    tax_id: str | None = None


class ProductRecord(NamedTuple):
    row: int
    sku: str
    name: str | None = None
    name_en: str | None = None
    spec: str | None = None
    unit: str | None = None
    list_price: Decimal | None = None
    tier_prices: dict[str, Decimal | None] | None = None  # tier → price; None price = no special price
    safety_stock: int | None = None
    active: bool | None = None


@dataclass(frozen=True)
class WarehouseRecord:
    row: int
    code: str
    name: str | None = None
    region: str | None = None  # provinces served first, comma separated


def _given(rec: object, names: Sequence[str]) -> dict[str, Any]:
    return {n: v for n in names if (v := getattr(rec, n)) is not None}


def _picker(record: type[tuple[Any, ...]], names: tuple[str, ...]) -> Any:
    """`_given` for one NamedTuple's fields, by position (a C getter instead of a getattr per field and row)."""
    get = itemgetter(*(record._fields.index(n) for n in names))  # type: ignore[attr-defined]

    def given(rec: tuple[Any, ...]) -> dict[str, Any]:
        return {n: v for n, v in zip(names, get(rec), strict=True) if v is not None}
    return given


def _ids(s: Any, code: Any, codes: list[str]) -> dict[str, int]:
    table = code.table
    return {c: i for c, i in s.execute(select(code, table.c.id).where(code.in_(codes)))}


class _People:
    """Usernames and names → user, loaded once per import (a company has hundreds of people, not millions)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.by_key: dict[str, User] = {}
        self.by_query: dict[str, object] = {}
        self.sellers: set[int] = set()  # has_role(*SELLERS), read once per person, not once per row
        for u in uow.session.scalars(select(User)):
            self.by_key.setdefault(u.username.casefold(), u)
            self.by_key.setdefault(u.display_name.casefold(), u)
            if u.has_role(*SELLERS):
                self.sellers.add(u.id)

    def find(self, query: str) -> User | None:
        found = self.by_query.get(query, self)  # the same few owners on every row: each written form folded once
        if found is self:
            found = self.by_query[query] = self.by_key.get(query.casefold())
        return cast(User | None, found)

    def sells(self, u: User) -> bool:
        return u.id in self.sellers


# ---------------------------------------------------------------- customers

_CUSTOMER_COLS = ("name", "name_en", "province", "city", "address", "tier", "credit_limit", "payment_terms_days",
                  "tax_title", "tax_id")
_CONTACT_PARTS = ("name", "phone", "email", "role")  # ContactFields' order
_NO_CONTACT = {"name": "", "phone": "", "email": "", "role": ""}
_CUSTOMER_DEFAULTS: dict[str, Any] = {"province": "", "city": "", "address": "", "tier": "B", "credit_limit": Decimal("0.00"),
                                      "payment_terms_days": 30, "tax_title": "", "tax_id": ""}


_customer_given = _picker(CustomerRecord, _CUSTOMER_COLS)


def contact_slots(s: Session) -> int:
    """The highest contact number in use (at least 1): how many contacts' columns a customers export shows."""
    return max(1, s.scalar(select(func.max(Contact.seq))) or 1)


def _contact_after(stored: dict[str, Any] | None, given: ContactFields) -> dict[str, str] | None:
    """A contact's parts once the given ones are set (None: nothing left, the contact is removed)."""
    if stored is None and None not in given:  # a new customer's contact, all its columns in the file
        return dict(zip(_CONTACT_PARTS, cast(tuple[str, ...], given), strict=True)) if any(given) else None
    after = dict(stored or _NO_CONTACT)
    for part in _CONTACT_PARTS:
        v = getattr(given, part)
        if v is not None:
            after[part] = v
    return after if any(after[p] for p in _CONTACT_PARTS) else None


class CustomerImport:
    def __init__(self, uow: UnitOfWork, user: User | None, actor: Actor) -> None:
        check_importer(user)
        self.uow, self.actor = uow, actor
        self.people = _People(uow)

    def batch(self, records: Sequence[CustomerRecord], apply: bool) -> Batch:
        out = Batch()
        s = self.uow.session
        codes = [r.code for r in records]
        c, k = Customer.__table__.c, Contact.__table__.c
        existing = {row.code: row._asdict() for row in s.execute(
            select(c.id, c.code, c.name, c.name_en, c.province, c.city, c.address, c.tier, c.credit_limit,
                   c.payment_terms_days, c.tax_title, c.tax_id, c.sales_user_id).where(c.code.in_(codes)))}
        stored: dict[int, dict[int, dict[str, Any]]] = {}  # customer id → contact number → its row
        if existing:
            for row in s.execute(select(k.customer_id, k.id, k.seq, k.name, k.phone, k.email, k.role)
                                 .where(k.customer_id.in_([e["id"] for e in existing.values()]))):
                stored.setdefault(row.customer_id, {})[row.seq] = row._asdict()
        creates: list[tuple[CustomerRecord, dict[str, Any]]] = []
        updates: list[tuple[dict[str, Any], dict[str, Any], CustomerRecord]] = []
        for rec in records:
            wanted = _customer_given(rec)
            ok = self._rules(out, rec, wanted)
            if rec.sales is not None:
                owner = self.people.find(rec.sales) if rec.sales else None
                if rec.sales and (owner is None or not owner.active):
                    out.problem(rec.row, "sales", rec.sales, "no such salesperson (write the username or name)")
                    ok = False
                elif owner is not None and not self.people.sells(owner):
                    out.problem(rec.row, "sales", rec.sales, "{name} is not in sales", name=owner.display_name)
                    ok = False
                wanted["sales_user_id"] = owner.id if owner else None
            if not ok:
                continue
            if "name_en" in wanted:
                wanted["name_en"] = wanted["name_en"] or None
            current = existing.get(rec.code)
            if current is None:
                if not rec.name:
                    out.problem(rec.row, "name", "", "a new customer needs a name")
                    continue
                creates.append((rec, {**_CUSTOMER_DEFAULTS, **wanted, "code": rec.code}))
                out.done(rec.row, rec.code, Action.CREATED)
                continue
            changes = diff(current, wanted)
            have = stored.get(current["id"], {})
            for slot, given in rec.contacts.items():
                before = have.get(slot) or _NO_CONTACT
                after = _contact_after(have.get(slot), given) or _NO_CONTACT
                changes |= {contact_field(slot, p): (before[p] or "", after[p]) for p in _CONTACT_PARTS
                            if (before[p] or "") != after[p]}
            if not changes:
                out.done(rec.row, rec.code, Action.UNCHANGED)
                continue
            updates.append((current, wanted, rec))
            out.done(rec.row, rec.code, Action.UPDATED, changes)
        if apply and not out.problems:
            self._write(creates, updates, stored, out)
        return out

    def _rules(self, out: Batch, rec: CustomerRecord, wanted: dict[str, Any]) -> bool:
        ok = True
        if rec.tier is not None and rec.tier not in TIERS:
            out.problem(rec.row, "tier", rec.tier, "the tier must be one of {tiers}", tiers="/".join(TIERS))
            ok = False
        if rec.payment_terms_days is not None and rec.payment_terms_days > TERMS_MAX:
            out.problem(rec.row, "payment_terms_days", rec.payment_terms_days,
                        "payment terms are at most {days} days", days=TERMS_MAX)
            ok = False
        if rec.name is not None and not rec.name:
            out.problem(rec.row, "name", "", "the customer name is required")
            ok = False
        for slot, given in rec.contacts.items():
            if not 1 <= slot <= CONTACT_SLOTS:
                out.problem(rec.row, contact_field(1, "name"), slot, "No contact slot {slot}", slot=slot)
                ok = False
            elif given.email and not valid_email(given.email):  # the rule chat's customer form applies
                out.problem(rec.row, contact_field(slot, "email"), given.email, "'{email}' is not an e-mail address",
                            email=given.email)
                ok = False
        return ok

    def _write(self, creates: list[tuple[CustomerRecord, dict[str, Any]]],
               updates: list[tuple[dict[str, Any], dict[str, Any], CustomerRecord]],
               stored: dict[int, dict[int, dict[str, Any]]], out: Batch) -> None:
        s = self.uow.session
        new_contacts: list[dict[str, Any]] = []
        if creates:
            # One executemany of the rows (not the mapper, not RETURNING in parameter order, which SQLite runs row by
            # row), then the new ids in one SELECT: seconds for 100,000 rows, same column defaults.
            insert_rows(s, _CUSTOMERS, [values for _, values in creates])
            ids = _ids(s, _CUSTOMERS.c.code, [rec.code for rec, _ in creates])
            new_contacts += [{"customer_id": ids[rec.code], "seq": slot, **after} for rec, _ in creates
                             for slot, given in rec.contacts.items() if (after := _contact_after(None, given))]
        by_row = {o.key: o for o in out.outcomes if o.action == Action.UPDATED}
        if updates:
            changed = [{"id": cur["id"], **wanted} for cur, wanted, _ in updates if wanted]
            if changed:
                s.execute(update(Customer), changed)
            edits: list[dict[str, Any]] = []
            removed: list[int] = []
            for cur, _, rec in updates:
                have = stored.get(cur["id"], {})
                for slot, given in rec.contacts.items():
                    row, after = have.get(slot), _contact_after(have.get(slot), given)
                    if row is None and after is not None:
                        new_contacts.append({"customer_id": cur["id"], "seq": slot, **after})
                    elif row is not None and after is None:
                        removed.append(row["id"])
                    elif row is not None and after is not None and any(row[p] != after[p] for p in _CONTACT_PARTS):
                        edits.append({"id": row["id"], **after})
            if removed:
                s.execute(delete(Contact).where(Contact.id.in_(removed)))
            if edits:
                s.execute(update(Contact), edits)
            for cur, _, _ in updates:
                changes = by_row[cur["code"]].changes
                # Credit limit and payment terms are what finance asks about later: each change is in the history.
                record(self.uow, None, self.actor, "imported_update", subject=f"customer:{cur['id']}",
                       **{f: f"{a} → {b}" for f, (a, b) in changes.items()})
        if new_contacts:
            insert_rows(s, _CONTACTS, new_contacts)


# ---------------------------------------------------------------- products

_PRODUCT_COLS = ("name", "name_en", "spec", "unit", "list_price", "safety_stock", "active")
_PRODUCT_DEFAULTS: dict[str, Any] = {"spec": "", "unit": "个", "safety_stock": 0, "active": True}
_product_given = _picker(ProductRecord, _PRODUCT_COLS)


class ProductImport:
    def __init__(self, uow: UnitOfWork, user: User | None, actor: Actor) -> None:
        check_importer(user)
        self.uow, self.actor = uow, actor

    def batch(self, records: Sequence[ProductRecord], apply: bool) -> Batch:
        out = Batch()
        s = self.uow.session
        p, t = Product.__table__.c, TierPrice.__table__.c
        existing = {row.sku: row._asdict() for row in s.execute(
            select(p.id, p.sku, p.name, p.name_en, p.spec, p.unit, p.list_price, p.safety_stock, p.active)
            .where(p.sku.in_([r.sku for r in records])))}
        prices: dict[int, dict[str, Decimal]] = {}
        if existing:
            for pid, tier, price in s.execute(select(t.product_id, t.tier, t.price)
                                              .where(t.product_id.in_([e["id"] for e in existing.values()]))):
                prices.setdefault(pid, {})[tier] = price
        creates: list[tuple[ProductRecord, dict[str, Any]]] = []
        updates: list[tuple[dict[str, Any], dict[str, Any], ProductRecord]] = []
        for rec in records:
            wanted = _product_given(rec)
            if "name_en" in wanted:
                wanted["name_en"] = wanted["name_en"] or None
            if rec.name is not None and not rec.name:
                out.problem(rec.row, "name", "", "the product name is required")
                continue
            bad = [tier for tier in (rec.tier_prices or {}) if tier not in TIERS]
            if bad:
                out.problem(rec.row, "tier_prices", ",".join(bad), "price tiers are {tiers}", tiers="/".join(TIERS))
                continue
            current = existing.get(rec.sku)
            if current is None:
                if not rec.name or rec.list_price is None:
                    out.problem(rec.row, "name" if not rec.name else "list_price", "",
                                "a new product needs a name and a list price")
                    continue
                creates.append((rec, {**_PRODUCT_DEFAULTS, **wanted, "sku": rec.sku}))
                out.done(rec.row, rec.sku, Action.CREATED)
                continue
            changes = diff(current, wanted)
            if rec.tier_prices is not None:
                have = prices.get(current["id"], {})
                want = {k: v for k, v in rec.tier_prices.items() if v is not None}
                changes |= {f"price_{k}": (str(have.get(k, "")), str(want.get(k, ""))) for k in sorted(set(have) | set(want))
                            if have.get(k) != want.get(k) and k in rec.tier_prices}
            if not changes:
                out.done(rec.row, rec.sku, Action.UNCHANGED)
                continue
            updates.append((current, wanted, rec))
            out.done(rec.row, rec.sku, Action.UPDATED, changes)
        if apply and not out.problems:
            self._write(creates, updates, out)
        return out

    def _write(self, creates: list[tuple[ProductRecord, dict[str, Any]]],
               updates: list[tuple[dict[str, Any], dict[str, Any], ProductRecord]], out: Batch) -> None:
        s = self.uow.session
        tier_rows: list[dict[str, Any]] = []
        if creates:
            insert_rows(s, _PRODUCTS, [values for _, values in creates])
            ids = _ids(s, _PRODUCTS.c.sku, [rec.sku for rec, _ in creates])
            tier_rows += [{"product_id": ids[rec.sku], "tier": k, "price": v} for rec, _ in creates
                          for k, v in (rec.tier_prices or {}).items() if v is not None]
        if updates:
            s.execute(update(Product), [{"id": cur["id"], **wanted} for cur, wanted, _ in updates if wanted])
            for cur, _, rec in updates:
                if rec.tier_prices is not None:
                    # Only the tiers whose column is in the file; open orders keep the price they were placed at.
                    s.execute(delete(TierPrice).where(TierPrice.product_id == cur["id"], TierPrice.tier.in_(list(rec.tier_prices))))
                    tier_rows += [{"product_id": cur["id"], "tier": k, "price": v} for k, v in rec.tier_prices.items() if v is not None]
            changed = {o.key: o.changes for o in out.outcomes if o.action == Action.UPDATED}
            for cur, _, _ in updates:
                record(self.uow, None, self.actor, "imported_update", subject=f"product:{cur['id']}",
                       **{f: f"{a} → {b}" for f, (a, b) in changed[cur["sku"]].items()})
        if tier_rows:
            insert_rows(s, cast(Table, TierPrice.__table__), tier_rows)


# ---------------------------------------------------------------- warehouses


class WarehouseImport:
    def __init__(self, uow: UnitOfWork, user: User | None, actor: Actor) -> None:
        check_importer(user)
        self.uow, self.actor = uow, actor

    def batch(self, records: Sequence[WarehouseRecord], apply: bool) -> Batch:
        out = Batch()
        s = self.uow.session
        w = Warehouse.__table__.c
        existing = {row.code: row._asdict() for row in s.execute(select(w.id, w.code, w.name, w.region)
                                                                 .where(w.code.in_([r.code for r in records])))}
        creates, updates = [], []
        for rec in records:
            wanted = _given(rec, ("name", "region"))
            current = existing.get(rec.code)
            if current is None:
                if not rec.name:
                    out.problem(rec.row, "name", "", "a new warehouse needs a name")
                    continue
                creates.append({"region": "", **wanted, "code": rec.code})
                out.done(rec.row, rec.code, Action.CREATED)
            elif changes := diff(current, wanted):
                updates.append({"id": current["id"], **wanted})
                out.done(rec.row, rec.code, Action.UPDATED, changes)
            else:
                out.done(rec.row, rec.code, Action.UNCHANGED)
        if apply and not out.problems:
            if creates:
                s.execute(insert(Warehouse), creates)
            if updates:
                s.execute(update(Warehouse), updates)
                for u in updates:
                    record(self.uow, None, self.actor, "imported_update", subject=f"warehouse:{u['id']}",
                           **{k: str(v) for k, v in u.items() if k != "id"})
        return out
