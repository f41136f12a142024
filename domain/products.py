"""Products one at a time, as an admin keeps them in chat: create and edit a product and its prices.

Admins only (domain.permissions.may_edit_products). Every change is an audit entry on "product:<id>" with each changed
field as "before → after" — list price and tier prices included — which the product card shows as its history. A
price change applies to orders placed after it: an order line keeps the unit price it was placed at, so open orders
(and their approvals, shipments and receivables) are untouched. A new safety stock re-checks the low-stock state of
the product's stock rows (an alert when one falls below it). The commands never commit; a refusal is a DomainError.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from domain import ledger
from domain.audit import Actor, record, refused
from domain.errors import NotFound, PermissionDenied, StaleVersion, ValidationFailed
from domain.masterdata import TIERS
from domain.messages import Name
from domain.models import Product, Stock, TierPrice, User
from domain.permissions import may_edit_products
from domain.uow import UnitOfWork

_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}")
_PLAIN = ("name", "name_en", "spec", "unit", "list_price", "safety_stock", "active")


@dataclass(frozen=True)
class ProductFields:
    """A field that is None was not given (on create: the default; on edit: the stored value stays)."""

    sku: str | None = None
    name: str | None = None
    name_en: str | None = None
    spec: str | None = None
    unit: str | None = None
    list_price: Decimal | None = None
    tier_prices: dict[str, Decimal | None] = field(default_factory=dict)  # tier → price; None: no tier price
    safety_stock: int | None = None
    active: bool | None = None


@dataclass(frozen=True)
class Saved:
    product: Product
    created: bool
    changes: dict[str, tuple[str, str]]


def fingerprint(p: Product) -> str:
    parts = [str(getattr(p, f)) for f in _PLAIN] + sorted(f"{t.tier}:{t.price}" for t in p.tier_prices)
    return base64.urlsafe_b64encode(hashlib.sha256("\x1f".join(parts).encode()).digest()[:9]).decode()


def product_by_id(uow: UnitOfWork, product_id: int) -> Product:
    p = uow.session.get(Product, product_id)
    if p is None:
        raise NotFound("No such product")
    return p


def check_editor(user: User, actor: Actor, sku: str | None) -> None:
    """Refused (and audited) unless `user` may edit products."""
    if not may_edit_products(user):
        raise refused(PermissionDenied("Only admins can create and edit products and prices"), None, actor,
                      action_tried="product_edit", sku=sku or "")


def _rules(wanted: ProductFields) -> None:
    if wanted.list_price is not None and wanted.list_price <= 0:
        raise ValidationFailed("The list price must be above 0", field="list_price")
    for tier, price in wanted.tier_prices.items():
        if tier not in TIERS:
            raise ValidationFailed("price tiers are {tiers}", tiers="/".join(TIERS), field=f"price_{tier}")
        if price is not None and price <= 0:
            raise ValidationFailed("A tier price must be above 0 (leave it blank for the list price)",
                                   field=f"price_{tier}")
    if wanted.safety_stock is not None and wanted.safety_stock < 0:
        raise ValidationFailed("The safety stock cannot be negative", field="safety_stock")
    if wanted.unit is not None and not wanted.unit:
        raise ValidationFailed("The unit is required (盒, 个, box …)", field="unit")
    if wanted.name is not None and not wanted.name:
        raise ValidationFailed("the product name is required", field="name")


def _saved(uow: UnitOfWork, obj: Any, created: bool, changes: dict[str, Any]) -> Saved:
    """The command's read model: what was saved, written and read back as the database now holds it."""
    uow.session.flush()
    uow.session.refresh(obj)
    return Saved(obj, created, changes)


def create_product(uow: UnitOfWork, user: User, actor: Actor, wanted: ProductFields) -> Saved:
    check_editor(user, actor, wanted.sku)
    s = uow.session
    if not wanted.sku:
        raise ValidationFailed("A new product needs a SKU", field="sku")
    if not _SKU.fullmatch(wanted.sku):
        raise ValidationFailed("A SKU is letters, digits, dots, slashes and dashes, without spaces (at most 64)",
                               field="sku")
    if not wanted.name or wanted.list_price is None:
        raise ValidationFailed("a new product needs a name and a list price", field="name" if not wanted.name else "list_price")
    _rules(wanted)
    taken = s.scalar(select(Product).where(func.lower(Product.sku) == wanted.sku.casefold()))
    if taken is not None:
        raise ValidationFailed("SKU {sku} is taken by {name}", sku=taken.sku, name=Name.of(taken), field="sku")
    values = {"unit": "个", "spec": "", "safety_stock": 0, "active": True,
              **{f: getattr(wanted, f) for f in _PLAIN if getattr(wanted, f) is not None}}
    if values.get("name_en") == "":
        values["name_en"] = None
    p = Product(sku=wanted.sku, **values)
    for tier, price in sorted(wanted.tier_prices.items()):
        if price is not None:
            p.tier_prices.append(TierPrice(tier=tier, price=price))
    s.add(p)
    s.flush()
    record(uow, None, actor, "product_created", subject=f"product:{p.id}", sku=p.sku, list_price=str(p.list_price),
           **{f"price_{t.tier}": str(t.price) for t in p.tier_prices})
    return _saved(uow, p, True, {})


def update_product(uow: UnitOfWork, user: User, actor: Actor, product_id: int, wanted: ProductFields,
                   seen: str | None = None) -> Saved:
    check_editor(user, actor, str(product_id))
    s = uow.session
    p = s.scalars(select(Product).where(Product.id == product_id).with_for_update()
                  .execution_options(populate_existing=True)).one_or_none()
    if p is None:
        raise NotFound("No such product")
    if seen is not None and seen != fingerprint(p):
        raise StaleVersion("{sku} changed since this form was opened; open it again", sku=p.sku)
    if wanted.sku is not None and wanted.sku != p.sku:
        raise ValidationFailed("A product's SKU does not change (orders, stock and imports use it)", field="sku")
    _rules(wanted)
    changes: dict[str, tuple[str, str]] = {}
    for f in _PLAIN:
        given = getattr(wanted, f)
        if given is None:
            continue
        new = None if f == "name_en" and given == "" else given
        old = getattr(p, f)
        if old != new:
            changes[f] = (_shown(old), _shown(new))
            setattr(p, f, new)
    have = {t.tier: t for t in p.tier_prices}
    for tier, price in sorted(wanted.tier_prices.items()):
        row = have.get(tier)
        old = row.price if row is not None else None
        if old == price:
            continue
        changes[f"price_{tier}"] = (_shown(old), _shown(price))
        if price is None:
            p.tier_prices.remove(row)  # type: ignore[arg-type]
        elif row is None:
            p.tier_prices.append(TierPrice(tier=tier, price=price))
        else:
            row.price = price
    if not changes:
        return _saved(uow, p, False, {})
    s.flush()
    if "safety_stock" in changes:
        # Lock the rows in one order (as every stock change does), then enter or leave the low-stock state.
        for held in s.scalars(select(Stock).where(Stock.product_id == p.id).order_by(Stock.warehouse_id)
                              .with_for_update().execution_options(populate_existing=True)):
            ledger.level_changed(uow, held, p)
    record(uow, None, actor, "product_updated", subject=f"product:{p.id}",
           **{k: f"{a} → {b}" for k, (a, b) in changes.items()})
    return _saved(uow, p, False, changes)


def _shown(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)
