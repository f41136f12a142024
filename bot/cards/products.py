"""The product card an admin gets after a change (prices, safety stock, the history of its changes) and the product
form (new or edit)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.cards.context import Viewer
from bot.cards.customers import changes_text, shown_value
from bot.cards.model import Button, Card, CardKind, Field, Input, Option, Tone
from bot.field_pairs import PRODUCT_FIELDS
from domain.masterdata import TIERS
from domain.messages import N_
from domain.models import AuditEntry, Product

CHANGE_LABELS = {f.name: f.message for f in PRODUCT_FIELDS}
TIER_PRICE = {"A": N_("Tier A price"), "B": N_("Tier B price"), "C": N_("Tier C price")}


def product_card(p: Product, v: Viewer, entries: Sequence[AuditEntry], may_edit: bool) -> Card:
    prices = {t.tier: t.price for t in p.tier_prices}
    fields = [Field(label=v.t("Spec"), value=p.spec or "—"), Field(label=v.t("Unit"), value=p.unit),
              Field(label=v.t("List price"), value=v.money(p.list_price))]
    fields += [Field(label=v.t(TIER_PRICE[tier]), value=v.money(prices[tier])) for tier in TIERS if tier in prices]
    fields += [Field(label=v.t("Safety stock"), value=str(p.safety_stock)),
               Field(label=v.t("Active"), value=v.t("Yes") if p.active else v.t("No"))]
    lines = []
    for e in entries:
        who = e.actor.display_name if e.actor else v.t("import")
        if e.action == "product_created":
            lines.append(f"{v.date(e.at)} " + v.t("{who} created the product at {price}", who=who,
                                                  price=shown_value("list_price", str((e.details or {}).get("list_price", "")), v, {})))
        elif changed := changes_text(e.details or {}, CHANGE_LABELS, v, {}):
            text = v.t("{who}: {changes}", who=who, changes=changed)
            lines.append(f"{v.date(e.at)} " + (v.t("{text} (import)", text=text) if e.action == "imported_update" else text))
    buttons = [Button(action="edit_product", label=v.t("Edit product"), token=v.token("edit_product", p.id),
                      command=v.t("edit product {sku}", sku=p.sku))] if may_edit else []
    return Card(kind=CardKind.PRODUCT, locale=v.locale, title=f"{p.sku} {v.name(p)}",
                tone=Tone.NEUTRAL if p.active else Tone.WARNING, fields=fields,
                text=([v.t("History:")] + lines[-6:]) if lines else [], buttons=buttons,
                context=v.t("Orders already placed keep their prices"))


def product_form(v: Viewer, p: Product | None, token: str) -> Card:
    prices = {t.tier: t.price for t in p.tier_prices} if p else {}
    inputs = []
    if p is None:
        inputs.append(Input(name="sku", label=v.t("SKU"), placeholder="SKU-100"))
    inputs += [
        Input(name="name", label=v.t("Product name"), initial=p.name if p else None),
        Input(name="name_en", label=v.t("English name"), required=False, initial=(p.name_en or "") if p else None),
        Input(name="spec", label=v.t("Spec"), required=False, initial=p.spec if p else None),
        Input(name="unit", label=v.t("Unit"), initial=p.unit if p else None, placeholder="盒"),
        Input(name="list_price", label=v.t("List price"), kind="number", initial=str(p.list_price) if p else None),
    ]
    inputs += [Input(name=f"price_{tier}", label=v.t(TIER_PRICE[tier]), kind="number", required=False,
                     initial=str(prices[tier]) if tier in prices else None, placeholder=v.t("blank = the list price"))
               for tier in TIERS]
    inputs += [
        Input(name="safety_stock", label=v.t("Safety stock"), kind="number", required=False,
              initial=str(p.safety_stock) if p else None, placeholder="0"),
        Input(name="active", label=v.t("Active"), kind="select", initial=("yes" if p.active else "no") if p else "yes",
              options=[Option(value="yes", label=v.t("Yes")), Option(value="no", label=v.t("No"))]),
    ]
    example = (v.t("new product SKU=SKU-100 name=Hex bolt M8 unit=box list price=25 safety stock=50") if p is None
               else v.t("edit product {sku} list price=130 tier A price=120", sku=p.sku))
    submit = Button(action="save_product", label=v.t("Save product"), style="primary", token=token, inputs=inputs,
                    command=example)
    return Card(kind=CardKind.FORM, locale=v.locale, title=v.t("New product") if p is None else v.t("Edit {name}", name=f"{p.sku} {v.name(p)}"),
                tone=Tone.INFO, inputs=inputs, buttons=[submit],
                text=[v.t("Or in one message: {example}", example=example),
                      v.t("Fields: {fields}", fields=v.texts.join(i.label for i in inputs)),
                      v.t("Orders already placed keep their prices")])
