"""Finding customers and products by code or (fuzzy) name, Chinese names included."""

from __future__ import annotations

import difflib
import unicodedata
from typing import TypeVar

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session

from domain.models import Customer, Product, Warehouse

T = TypeVar("T", Customer, Product)


def _norm(s: str) -> str:
    return unicodedata.normalize("NFKC", s).strip().casefold()


def find_customers(session: Session, query: str, limit: int = 10,
                   among: ColumnElement[bool] | None = None) -> list[Customer]:
    """`among`: only customers matching this condition (permissions.customers_visible_to the asker)."""
    return _find(session, Customer, Customer.code, Customer.name, query, limit, among)


def find_products(session: Session, query: str, limit: int = 10) -> list[Product]:
    return _find(session, Product, Product.sku, Product.name, query, limit)


def _find(session: Session, model: type[T], code_col: object, name_col: object, query: str, limit: int,
          among: ColumnElement[bool] | None = None) -> list[T]:
    q = _norm(query)
    if not q:
        return []
    scope = among if among is not None else true()
    exact = session.scalars(select(model).where(func.lower(code_col) == q, scope)).all()
    if exact:
        return list(exact)
    like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"  # typed % or _ match only themselves
    hits = session.scalars(
        select(model)
        .where(or_(func.lower(name_col).like(like, escape="\\"), func.lower(code_col).like(like, escape="\\")),
               scope)
        .order_by(func.length(name_col))
        .limit(limit)
    ).all()
    if hits:
        return list(hits)
    # Typos and abbreviations: rank every name by similarity (master data is small: hundreds, not millions).
    everyone = session.scalars(select(model).where(scope)).all()
    scored = [(difflib.SequenceMatcher(None, q, _norm(m.name)).ratio(), m) for m in everyone]
    scored = [s for s in scored if s[0] >= 0.5]
    scored.sort(key=lambda s: -s[0])
    return [m for _, m in scored[:limit]]


def first_customers(session: Session, among: ColumnElement[bool] | None = None, limit: int = 20) -> list[Customer]:
    """A picker's list before anything is typed: the first customers by code (among those the asker may see)."""
    return list(session.scalars(select(Customer).where(true() if among is None else among).order_by(Customer.code)
                                .limit(limit)))


def first_products(session: Session, limit: int = 20) -> list[Product]:
    return list(session.scalars(select(Product).order_by(Product.sku).limit(limit)))


def warehouses(session: Session) -> list[Warehouse]:
    """Every warehouse, by code."""
    return list(session.scalars(select(Warehouse).order_by(Warehouse.code)))


def product_units(session: Session) -> tuple[str, ...]:
    """Every unit the products are sold by (盒, 桶, 台 …), so a typed quantity may carry one."""
    return tuple(sorted(u for u in session.scalars(select(Product.unit).distinct()) if u))


def find_warehouse(session: Session, query: str) -> Warehouse | None:
    """By code (WH-SH) or name (上海仓, or 上海 without 仓), case and width ignored; None if none or several."""
    q = _norm(query)
    if not q:
        return None
    everyone = session.scalars(select(Warehouse)).all()
    for exact in (lambda w: _norm(w.code) == q, lambda w: _norm(w.name) == q, lambda w: _norm(w.name).removesuffix("仓") == q):
        hits = [w for w in everyone if exact(w)]
        if len(hits) == 1:
            return hits[0]
    return None
