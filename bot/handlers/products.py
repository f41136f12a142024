"""Products in chat (admins): the product form, or the same in one message (`新建商品 SKU=… 名称=… 单价=…`,
`修改商品 SKU-001 单价=130 A级价=120`), read by one reader; every bad field answered, nothing written."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot import intents as it
from bot.cards.common import error_card
from bot.cards.model import Card, Reply
from bot.cards.products import product_card, product_form
from bot.handlers.base import Turn
from bot.tokens import ActionToken
from domain import parsing, products
from domain.audit import history
from domain.catalog import find_products
from domain.errors import PermissionDenied, ValidationFailed
from domain.masterdata import TIERS
from domain.messages import N_, Message
from domain.models import Product
from domain.permissions import may_edit_products
from domain.products import ProductFields

_TEXT = {"sku": (Product.sku, N_("SKU")), "name": (Product.name, N_("Product name")),
         "name_en": (Product.name_en, N_("English name")), "spec": (Product.spec, N_("Spec")),
         "unit": (Product.unit, N_("Unit"))}


def _only_admins(turn: Turn) -> None:
    if not may_edit_products(turn.user):
        raise PermissionDenied("Only admins can create and edit products and prices")


def _target(turn: Turn, query: str) -> Product:
    found = find_products(turn.uow.session, query)
    exact = [p for p in found if p.sku.casefold() == query.strip().casefold()]
    if len(exact) == 1:
        return exact[0]
    if len(found) != 1:
        raise ValidationFailed("'{query}' matches several products: {skus}; use the SKU" if found else
                               "No product matches '{query}'", query=query,
                               skus=", ".join(p.sku for p in found[:6]), field="sku")
    return found[0]


def _card(turn: Turn, p: Product) -> Reply:
    entries = history(turn.uow.session, f"product:{p.id}")
    return Reply(card=product_card(p, turn.viewer, entries, may_edit_products(turn.user)))


def form(turn: Turn, query: str | None) -> list[Reply]:
    _only_admins(turn)
    p = _target(turn, query) if query is not None else None
    return [Reply(card=_form_card(turn, p))]


def edit_form(turn: Turn, product_id: int) -> list[Reply]:
    _only_admins(turn)
    return [Reply(card=_form_card(turn, products.product_by_id(turn.uow, product_id)))]


def _form_card(turn: Turn, p: Product | None) -> Card:
    token = turn.viewer.token("save_product", p.id if p else 0, 0, products.fingerprint(p) if p else "")
    return product_form(turn.viewer, p, token)


def submit(turn: Turn, tok: ActionToken, inputs: Mapping[str, str]) -> list[Reply]:
    products.check_editor(turn.user, turn.actor, inputs.get("sku") or str(tok.target))
    current = products.product_by_id(turn.uow, tok.target) if tok.target else None
    return _save(turn, current, inputs, whole=True, seen=tok.arg or None)


def save_by_text(turn: Turn, intent: it.SaveProduct) -> list[Reply]:
    products.check_editor(turn.user, turn.actor, intent.query or dict(intent.values).get("sku") or intent.head)
    values = dict(intent.values)
    current = _target(turn, intent.query) if intent.query is not None else None
    if current is None and intent.head:
        if "sku" in values:
            raise ValidationFailed("'{text}' is not a field; write it as SKU=…", text=intent.head, field="sku")
        values["sku"] = intent.head  # 新建商品 SKU-100 名称=…: the first word is the SKU
    return _save(turn, current, values, whole=False, seen=None)


def _save(turn: Turn, current: Product | None, inputs: Mapping[str, str], *, whole: bool,
          seen: str | None) -> list[Reply]:
    wanted, problems = read_fields(turn, inputs, whole=whole, creating=current is None)
    if problems:
        return [Reply(card=error_card(turn.texts, turn.texts.render(msg), name), ephemeral=True) for name, msg in problems]
    if current is None:
        saved = products.create_product(turn.uow, turn.user, turn.actor, wanted)
        said = turn.t("Product {sku} created.", sku=saved.product.sku)
    else:
        saved = products.update_product(turn.uow, turn.user, turn.actor, current.id, wanted, seen)
        said = (turn.t("Product {sku} saved.", sku=saved.product.sku) if saved.changes
                else turn.t("Nothing changed for {name}.", name=saved.product.sku))
    reply = _card(turn, saved.product)
    reply.text = said
    return [reply]


def read_fields(turn: Turn, inputs: Mapping[str, str], *, whole: bool,
                creating: bool) -> tuple[ProductFields, list[tuple[str, Message]]]:
    """Inputs → ProductFields and a problem per bad field (see customers.read_fields for `whole`)."""
    problems: list[tuple[str, Message]] = []
    got: dict[str, Any] = {}

    def attempt(name: str, read: Any) -> Any:
        try:
            return read()
        except ValidationFailed as e:
            problems.append((e.field or name, e.message))
            return None

    for name, (column, label) in _TEXT.items():
        raw = inputs.get(name)
        if raw is None:
            if not whole or name in ("sku", "name", "unit"):
                continue
            raw = ""
        limit = column.property.columns[0].type.length
        got[name] = attempt(name, lambda raw=raw, limit=limit, label=label, name=name:
                            parsing.text(raw, maximum=limit, field=name, what=label))
    maximum = turn.ctx.settings.max_amount
    price = (inputs.get("list_price") or "").strip()
    if price:
        got["list_price"] = attempt("list_price", lambda: parsing.amount(price, maximum=maximum, field="list_price"))
    tiers: dict[str, Decimal | None] = {}
    for tier in TIERS:
        raw = inputs.get(f"price_{tier}")
        if raw is None and not whole:
            continue
        text = (raw or "").strip()
        # blank: no tier price (the list price applies)
        tiers[tier] = attempt(f"price_{tier}", lambda text=text, tier=tier: parsing.amount(
            text, maximum=maximum, field=f"price_{tier}")) if text else None
    safety = (inputs.get("safety_stock") or "").strip()
    if safety:
        got["safety_stock"] = attempt("safety_stock", lambda: parsing.quantity(
            safety, maximum=turn.ctx.settings.max_quantity, allow_zero=True, field="safety_stock"))
    active = (inputs.get("active") or "").strip()
    if active:
        got["active"] = attempt("active", lambda: parsing.yes_no(active, field="active"))
    if creating:
        for need, what in (("sku", N_("A new product needs a SKU")), ("name", N_("A new product needs a name")),
                           ("list_price", N_("A new product needs a list price"))):
            if not got.get(need) and not any(n == need for n, _ in problems):
                problems.append((need, Message(what)))
    failed = {n for n, _ in problems}
    tiers = {k: v for k, v in tiers.items() if f"price_{k}" not in failed}
    got = {k: v for k, v in got.items() if v is not None}
    return ProductFields(tier_prices=tiers, **got), problems
