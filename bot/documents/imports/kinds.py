"""Per kind: a sheet row → the domain's record, the domain's bulk command for it, and the rows an export writes
(the same columns, so export → edit → import round-trips)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.documents.imports.cells import RowReader
from bot.documents.imports.spec import ID_PLATFORMS, KINDS, STATUS_WORDS, YES_NO, Kind
from bot.i18n import tr
from bot.i18n.labels import ROLE
from domain.audit import Actor
from domain.contacts import CONTACT_SLOTS, ContactFields, contact_field
from domain.masterdata import (
    CustomerImport,
    CustomerRecord,
    ProductImport,
    ProductRecord,
    WarehouseImport,
    WarehouseRecord,
    contact_slots,
)
from domain.models import Customer, Order, OrderStatus, Product, Receivable, Role, Stock, User, Warehouse
from domain.opening import (
    HistoricalOrder,
    HistoryLine,
    OpeningBalanceImport,
    OrderHistoryImport,
    ReceivableRecord,
    StockImport,
    StockRecord,
)
from domain.people import UserImport, UserRecord
from domain.uow import UnitOfWork

_ROLE_ALIASES = {Role.ADMIN: ("admin", "管理"), Role.WAREHOUSE: ("仓管", "仓库管理员")}
# Fixed values are read in either language whatever the reader's: the labels in both, and the codes.
_ROLES = {w.casefold(): role for role, label in ROLE.items()
          for w in (label, tr("zh-CN", label), role.value, role.value.replace("_", " "), *_ROLE_ALIASES.get(role, ()))}
_STATUS = {w.casefold(): st for st, label in STATUS_WORDS.items() for w in (label, tr("zh-CN", label), st.value)}
_LOCALES = {"zh-cn": "zh-CN", "zh": "zh-CN", "中文": "zh-CN", "简体中文": "zh-CN", "en": "en", "english": "en", "英文": "en"}


@dataclass(frozen=True)
class Setting:
    """What a kind needs beyond the rows: the local day and zone (dates), a reference for ledger movements."""

    today: date
    tz: ZoneInfo
    reference: str = "import"


# Each contact's columns: contact 1 … CONTACT_SLOTS (contact_name…, contact2_name…), as chat names its fields.
_CONTACT_COLUMNS = tuple((slot, tuple((contact_field(slot, part), size) for part, size in
                                      (("name", 100), ("phone", 50), ("email", 200), ("role", 50))))
                         for slot in range(1, CONTACT_SLOTS + 1))


# The texts of a customer row, read in this order (the order its problems are listed in).
_CUSTOMER_TEXTS = (("name", 200), ("name_en", 200), ("province", 50), ("city", 50), ("address", 300))
_CUSTOMER_TEXTS_AFTER = (("sales", 100), ("tax_title", 200), ("tax_id", 32))


def customer(r: RowReader) -> CustomerRecord | None:
    code = r.code("code", 32)
    contacts = {}
    for slot, specs in r.given_groups(_CONTACT_COLUMNS):
        contacts[slot] = ContactFields(*r.strings(specs))
    name, name_en, province, city, address = r.strings(_CUSTOMER_TEXTS)
    tier = (r.string("tier", 10) or "").upper() or None if r.given("tier") else None
    credit_limit, terms = r.amount("credit_limit"), r.whole("payment_terms_days", maximum=3650)
    sales, tax_title, tax_id = r.strings(_CUSTOMER_TEXTS_AFTER)
    rec = CustomerRecord(r.row, code or "", name, name_en, province, city, address, contacts, tier, credit_limit, terms,
                         sales, tax_title, tax_id)
    return rec if code and not r.problems else None


_TIER_COLUMNS = tuple((t, f"price_{t}") for t in "ABC")


def product(r: RowReader) -> ProductRecord | None:
    sku = r.code("sku", 64)
    tiers = {}
    for tier, key in _TIER_COLUMNS:
        if key in r.places:
            tiers[tier] = r.amount(key, allow_zero=False)
    rec = ProductRecord(row=r.row, sku=sku or "", name=r.string("name", 200), name_en=r.string("name_en", 200),
                        spec=r.string("spec", 200), unit=r.string("unit", 20), list_price=r.amount("list_price", allow_zero=False),
                        tier_prices=tiers or None, safety_stock=r.whole("safety_stock"), active=r.yes_no("active"))
    return rec if sku and not r.problems else None


def warehouse(r: RowReader) -> WarehouseRecord | None:
    code = r.code("code", 32)
    region = r.string("region", 50)
    if region:
        region = ",".join(p.strip() for p in region.replace("，", ",").replace("、", ",").split(",") if p.strip())
    rec = WarehouseRecord(row=r.row, code=code or "", name=r.string("name", 100), region=region)
    return rec if code and not r.problems else None


def stock(r: RowReader) -> StockRecord | None:
    wh, sku, qty = r.string("warehouse", 100), r.code("sku", 64), r.whole("on_hand")
    if r.problems or not wh or not sku or qty is None:
        return None
    return StockRecord(r.row, wh, sku, qty)


def user(r: RowReader) -> UserRecord | None:
    username = r.code("username", 64)
    roles = None
    if r.given("roles") and r.raw("roles"):
        words = [w.strip() for w in r.raw("roles").replace("，", ",").replace("、", ",").split(",") if w.strip()]
        unknown = [w for w in words if w.casefold() not in _ROLES]
        if unknown:
            r.problem("roles", "unknown role: {roles} (sales, sales manager, finance, warehouse, admin)", roles=", ".join(unknown))
        roles = frozenset(_ROLES[w.casefold()] for w in words if w.casefold() in _ROLES)
    elif r.given("roles"):
        r.problem("roles", "required; cannot be blank")
    locale = r.choice("locale", _LOCALES) if r.given("locale") else None
    ids = {p: v for p in ID_PLATFORMS if (v := r.code(p, 128))}
    rec = UserRecord(row=r.row, username=username or "", display_name=r.string("display_name", 100), roles=roles,
                     manager=r.string("manager", 64), warehouse=r.string("warehouse", 32), locale=locale,
                     email=r.string("email", 200), mobile=r.string("mobile", 32), identities=ids if any(r.given(p) for p in ID_PLATFORMS) else None)
    return rec if username and not r.problems else None


def receivable(r: RowReader, setting: Setting) -> ReceivableRecord | None:
    cust, ref, amount, due = r.code("customer", 32), r.code("reference", 64), r.amount("amount", allow_zero=False), r.date("due_date")
    if r.problems or not cust or not ref or amount is None or due is None:
        return None
    return ReceivableRecord(r.row, cust, ref, amount, due)


def order_line(r: RowReader, setting: Setting) -> tuple[dict[str, Any], HistoryLine] | None:
    """One row of an order: the order's fields (compared across its rows) and the line."""
    number, day = r.code("number", 40), r.date("order_date", latest=setting.today)
    cust, sku = r.code("customer", 32), r.code("sku", 64)
    qty, price = r.whole("quantity", allow_zero=False), r.amount("unit_price")
    discount = r.percent("discount_pct") if r.given("discount_pct") else None
    status = r.choice("status", _STATUS) if r.given("status") and r.raw("status") else OrderStatus.COMPLETED
    head = {"number": number, "order_date": day, "customer": cust, "sales": r.string("sales", 100) or None,
            "status": status, "notes": r.string("notes", 500) or ""}
    if r.problems or not number or day is None or not cust or not sku or qty is None or price is None:
        return None
    return head, HistoryLine(r.row, sku, qty, price, discount if discount is not None else HistoryLine.discount_pct)


# ---------------------------------------------------------------- exports


def _yes(v: bool, lang: str) -> str:
    return tr(lang, YES_NO[0 if v else 1])


def export_customers(s: Session, lang: str) -> Iterator[list[object]]:
    """Each contact in the columns of its number (Contact.seq, as chat numbers it): a contact removed in chat leaves
    its columns blank, so importing the export does not bring it back, and the others keep their numbers."""
    slots = contact_slots(s)
    for c in s.scalars(select(Customer).options(selectinload(Customer.contacts), selectinload(Customer.sales_user))
                       .order_by(Customer.code)):
        by_slot = {k.seq: (k.name, k.phone, k.email, k.role) for k in c.contacts}
        blank = ("", "", "", "")
        yield [c.code, c.name, c.name_en or "", c.province, c.city, c.address, *by_slot.get(1, blank), c.tier,
               c.credit_limit, c.payment_terms_days, c.sales_user.username if c.sales_user else "", c.tax_title, c.tax_id,
               *(part for slot in range(2, slots + 1) for part in by_slot.get(slot, blank))]


def export_products(s: Session, lang: str) -> Iterator[list[object]]:
    for p in s.scalars(select(Product).options(selectinload(Product.tier_prices)).order_by(Product.sku)):
        tiers = {tp.tier: tp.price for tp in p.tier_prices}
        yield [p.sku, p.name, p.name_en or "", p.spec, p.unit, p.list_price, tiers.get("A", ""), tiers.get("B", ""),
               tiers.get("C", ""), p.safety_stock, _yes(p.active, lang)]


def export_warehouses(s: Session, lang: str) -> Iterator[list[object]]:
    for w in s.scalars(select(Warehouse).order_by(Warehouse.code)):
        yield [w.code, w.name, w.region]


def export_stock(s: Session, lang: str) -> Iterator[list[object]]:
    for code, sku, on_hand in s.execute(select(Warehouse.code, Product.sku, Stock.on_hand).join(Stock.warehouse)
                                        .join(Stock.product).order_by(Warehouse.code, Product.sku)):
        yield [code, sku, on_hand]


def export_users(s: Session, lang: str) -> Iterator[list[object]]:
    names = {u.id: u.username for u in s.scalars(select(User))}
    codes = {w.id: w.code for w in s.scalars(select(Warehouse))}
    for u in s.scalars(select(User).options(selectinload(User.identities)).order_by(User.username)):
        ids = {x.platform: x.external_id for x in u.identities}
        yield [u.username, u.display_name, ",".join(tr(lang, ROLE[r]) for r in sorted(u.roles, key=list(Role).index)),
               names.get(u.manager_id, "") if u.manager_id else "", codes.get(u.warehouse_id, "") if u.warehouse_id else "",
               u.locale, u.email or "", u.mobile or "", *(ids.get(p, "") for p in ID_PLATFORMS)]


def export_receivables(s: Session, lang: str) -> Iterator[list[object]]:
    for r, code in s.execute(select(Receivable, Customer.code).join(Receivable.customer)
                             .where(Receivable.order_id.is_(None)).order_by(Receivable.reference)):
        yield [code, r.reference, r.amount, r.due_date]


def export_orders(s: Session, lang: str, tz: ZoneInfo) -> Iterator[list[object]]:
    done = {st.value for st in STATUS_WORDS}
    for o in s.scalars(select(Order).where(Order.status.in_(done)).options(
            selectinload(Order.lines), selectinload(Order.customer), selectinload(Order.sales_user)).order_by(Order.created_at, Order.id)):
        for ln in o.lines:
            yield [o.number, o.created_at.astimezone(tz).date(), o.customer.code, o.sales_user.username, ln.product.sku,
                   ln.quantity, ln.unit_price, ln.discount_pct, tr(lang, STATUS_WORDS[OrderStatus(o.status)]), o.notes]


# ---------------------------------------------------------------- the table


@dataclass(frozen=True)
class KindPlan:
    kind: Kind
    read: Callable[..., Any]
    importer: Callable[[UnitOfWork, User | None, Actor, Setting], Any]
    export: Callable[[Session, str, Setting], Iterator[list[object]]]
    key: Callable[[Any], str]
    numbered: Callable[[Session], int] | None = None  # how many numbered columns (contacts) an export shows
    whole_file: bool = False  # checked in one batch (a staff list: managers may come later in the sheet)
    grouped: bool = False  # rows form groups (an order's lines)


PLANS: dict[str, KindPlan] = {
    "customers": KindPlan(KINDS["customers"], lambda r, st: customer(r), lambda u, who, a, st: CustomerImport(u, who, a),
                          lambda s, lang, st: export_customers(s, lang), lambda rec: rec.code, contact_slots),
    "products": KindPlan(KINDS["products"], lambda r, st: product(r), lambda u, who, a, st: ProductImport(u, who, a),
                         lambda s, lang, st: export_products(s, lang), lambda rec: rec.sku),
    "warehouses": KindPlan(KINDS["warehouses"], lambda r, st: warehouse(r), lambda u, who, a, st: WarehouseImport(u, who, a),
                           lambda s, lang, st: export_warehouses(s, lang), lambda rec: rec.code),
    "stock": KindPlan(KINDS["stock"], lambda r, st: stock(r), lambda u, who, a, st: StockImport(u, who, a, st.reference),
                      lambda s, lang, st: export_stock(s, lang), lambda rec: f"{rec.warehouse.casefold()}/{rec.sku}"),
    "users": KindPlan(KINDS["users"], lambda r, st: user(r), lambda u, who, a, st: UserImport(u, who, a),
                      lambda s, lang, st: export_users(s, lang), lambda rec: rec.username, whole_file=True),
    "receivables": KindPlan(KINDS["receivables"], receivable, lambda u, who, a, st: OpeningBalanceImport(u, who, a),
                            lambda s, lang, st: export_receivables(s, lang), lambda rec: rec.reference),
    "orders": KindPlan(KINDS["orders"], order_line, lambda u, who, a, st: OrderHistoryImport(u, who, a, st.tz, st.today),
                       lambda s, lang, st: export_orders(s, lang, st.tz), lambda rec: rec.number, grouped=True),
}

__all__ = ["PLANS", "HistoricalOrder", "KindPlan", "Setting"]
