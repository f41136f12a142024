"""The customer card (contacts, tier, credit and its use, receivables, recent orders, sales owner, the history of its
terms) and the customer form (new or edit: a Slack modal, a sandbox form, a one-message command elsewhere)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from bot.cards.context import Viewer
from bot.cards.model import Button, Card, CardKind, Field, Input, LineTable, Option, Tone
from bot.field_pairs import CUSTOMER_FIELDS, label_of
from bot.i18n.labels import status_label
from domain.customers import CONTACT_SLOTS, Overview, contact_field
from domain.masterdata import TIERS
from domain.messages import N_, Message
from domain.models import AuditEntry, Contact, Customer, User

MONEY_FIELDS = frozenset({"credit_limit", "list_price", "price_A", "price_B", "price_C"})
DAYS_FIELDS = frozenset({"payment_terms_days"})


def customer_card(ov: Overview, v: Viewer, people: dict[int, str]) -> Card:
    """`people`: user id → name, for changes recorded by id (an import's sales owner)."""
    c = ov.customer
    region = " ".join(x for x in (c.province, c.city) if x) or "—"
    fields = [
        Field(label=v.t("Sales owner"), value=c.sales_user.display_name if c.sales_user else "—"),
        Field(label=v.t("Tier"), value=c.tier),
        Field(label=v.t("Credit limit"), value=v.money(c.credit_limit)),
        Field(label=v.t("Credit used"), value=_credit_used(ov, v)),
        Field(label=v.t("Receivables"), value=v.t("{open} open, {overdue} overdue", open=v.money(ov.balance.open),
                                               overdue=v.money(ov.balance.overdue))),
        Field(label=v.t("Not shipped yet"), value=v.money(ov.in_progress)),
        Field(label=v.t("Payment terms"), value=v.t("{payment_terms_days} days", payment_terms_days=c.payment_terms_days)),
        Field(label=v.t("Region"), value=region),
    ]
    if c.address:
        fields.append(Field(label=v.t("Address"), value=c.address))
    if c.tax_title or c.tax_id:
        fields.append(Field(label=v.t("Invoice title"), value=" · ".join(x for x in (c.tax_title, c.tax_id) if x)))
    rows = [[o.number, v.date(o.created_at), status_label(v.texts, o.state)] + ([v.money(o.total)] if v.sees_prices else [])
            for o in ov.recent]
    table = LineTable(columns=[v.t("Recent orders"), v.t("Date"), v.t("Status")] + ([v.t("Total")] if v.sees_prices else []),
                      rows=rows) if rows else None
    text = [v.t("Contacts:")] + ([_contact_line(k, numbered=len(c.contacts) > 1) for k in c.contacts]
                                 or [v.t("none yet")])
    if not rows:
        text.append(v.t("No orders yet"))
    lines = [x for e in ov.history if (x := history_line(e, v, people))]
    if lines:
        text += [v.t("History:")] + lines
    buttons = []
    if ov.may_edit:
        buttons.append(Button(action="edit_customer", label=v.t("Edit customer"), token=v.token("edit_customer", c.id),
                              command=v.t("edit customer {code}", code=c.code)))
    over = c.credit_limit > 0 and ov.credit_used > c.credit_limit
    return Card(kind=CardKind.CUSTOMER, locale=v.locale, title=v.customer(c),
                subtitle=v.t("Tier {tier} · {region}", tier=c.tier, region=region),
                tone=Tone.WARNING if over or ov.balance.overdue > 0 else Tone.NEUTRAL, fields=fields, table=table,
                text=text, buttons=buttons, context=v.t("statement {code} · orders {code}", code=c.code))


def _credit_used(ov: Overview, v: Viewer) -> str:
    limit = ov.customer.credit_limit
    if limit <= 0:
        return v.t("{used} (no credit limit set)", used=v.money(ov.credit_used))
    pct = int(ov.credit_used * 100 / limit)
    return v.t("{used} of {limit} ({pct}%), {left} left", used=v.money(ov.credit_used), limit=v.money(limit), pct=pct,
               left=v.money(max(ov.credit_left, Decimal("0.00"))))


def _contact_line(k: Contact, *, numbered: bool) -> str:
    """Numbered when there are several: the number is how a message names it (联系人2=…, 删除联系人=2)."""
    line = " · ".join(x for x in (k.name, k.role, k.phone, k.email) if x)
    return f"{k.seq}. {line}" if numbered else line


# ---------------------------------------------------------------- history

CHANGE_LABELS = {f.name: f.message for f in CUSTOMER_FIELDS} | {"sales_user_id": Message(N_("Sales owner")),
                                                                   "payment_terms_days": Message(N_("Payment terms"))}


def shown_value(name: str, raw: str, v: Viewer, people: dict[int, str]) -> str:
    if raw == "":
        return "—"
    if name in MONEY_FIELDS:
        try:
            return v.money(Decimal(raw))
        except (InvalidOperation, ValueError):
            return raw
    if name in DAYS_FIELDS and raw.isdigit():
        return v.t("{payment_terms_days} days", payment_terms_days=int(raw))
    if name == "sales_user_id" and raw.isdigit():
        return people.get(int(raw), raw)
    if name == "active":
        return v.t("Yes") if raw in ("1", "True", "true") else v.t("No")
    return raw


def changes_text(details: dict[str, object], labels: dict[str, Message], v: Viewer, people: dict[int, str]) -> str:
    parts = []
    for name, change in details.items():
        if name not in labels or not isinstance(change, str):
            continue
        before, _, after = change.partition(" → ")
        parts.append(v.t("{what} {before} → {after}", what=v.texts.render(labels[name]), before=shown_value(name, before, v, people),
                         after=shown_value(name, after, v, people)))
    return v.t("; ").join(parts)


def history_line(e: AuditEntry, v: Viewer, people: dict[int, str]) -> str | None:
    who = e.actor.display_name if e.actor else v.t("import")
    d = e.details or {}
    if e.action == "customer_created":
        text = v.t("{who} created the customer: credit limit {limit}, payment terms {days} days, tier {tier}", who=who,
                   limit=shown_value("credit_limit", str(d.get("credit_limit", "")), v, people),
                   days=d.get("payment_terms_days", ""), tier=d.get("tier", ""))
    else:
        changed = changes_text(d, CHANGE_LABELS, v, people)
        if not changed:
            return None
        text = v.t("{who}: {changes}", who=who, changes=changed)
        if e.action == "imported_update":
            text = v.t("{text} (import)", text=text)
    return f"{v.date(e.at)} {text}"


# ---------------------------------------------------------------- the form


def customer_form(v: Viewer, customer: Customer | None, sellers: list[User], *, may_set_credit: bool, may_hand_over: bool,
                  token: str) -> Card:
    """New (customer None) or edit; the inputs a person may not change are left out (and shown as fields)."""
    c = customer
    inputs = [Input(name="name", label=v.t("Customer name"), initial=c.name if c else None),
              Input(name="name_en", label=v.t("English name"), required=False, initial=(c.name_en or "") if c else None)]
    if c is None:
        inputs.append(Input(name="code", label=v.t("Customer code"), required=False,
                            placeholder=v.t("blank: the next free code")))
    slots = {k.seq: k for k in c.contacts} if c else {}
    for slot in form_contact_slots(set(slots)):
        k = slots.get(slot)
        for f in ("name", "phone", "email", "role"):
            name = contact_field(slot, f)
            inputs.append(Input(name=name, label=v.texts.render(CHANGE_LABELS[name]), required=False,
                                initial=getattr(k, f) if k is not None else None))
    shown: list[Field] = []
    if may_set_credit:
        inputs += [
            Input(name="tier", label=v.t("Tier"), kind="select", options=[Option(value=x, label=x) for x in TIERS],
                  initial=c.tier if c else "B"),
            Input(name="credit_limit", label=v.t("Credit limit"), kind="number", required=False,
                  initial=str(c.credit_limit) if c else None, placeholder="0"),
            Input(name="payment_terms_days", label=v.t("Payment terms (days)"), kind="number", required=False,
                  initial=str(c.payment_terms_days) if c else None, placeholder="30"),
        ]
    elif c is not None:
        shown += [Field(label=v.t("Tier"), value=c.tier), Field(label=v.t("Credit limit"), value=v.money(c.credit_limit)),
                  Field(label=v.t("Payment terms"), value=v.t("{payment_terms_days} days",
                                                          payment_terms_days=c.payment_terms_days))]
    if may_hand_over:
        owner = c.sales_user_id if c else v.user.id
        inputs.append(Input(name="sales", label=v.t("Sales owner"), kind="select",
                            options=[Option(value=str(u.id), label=u.display_name) for u in sellers], initial=str(owner)))
    elif c is not None:
        shown.append(Field(label=v.t("Sales owner"), value=c.sales_user.display_name if c.sales_user else "—"))
    inputs += [Input(name="province", label=v.t("Province"), required=False, initial=c.province if c else None),
               Input(name="city", label=v.t("City"), required=False, initial=c.city if c else None),
               Input(name="address", label=v.t("Address"), required=False, initial=c.address if c else None),
               Input(name="tax_title", label=v.t("Invoice title"), required=False, initial=c.tax_title if c else None),
               Input(name="tax_id", label=v.t("Tax ID"), required=False, initial=c.tax_id if c else None)]
    if c is None:
        example = (v.t("new customer name=ACME contact=Chen phone=13800000001 credit limit=50000 terms=30") if may_set_credit
                   else v.t("new customer name=ACME contact=Chen phone=13800000001"))
    else:
        example = (v.t("edit customer {code} credit limit=80000 terms=45", code=c.code) if may_set_credit
                   else v.t("edit customer {code} phone=13800000001", code=c.code))
    keys = v.texts.join(i.label for i in inputs)
    text = [v.t("Or in one message: {example}", example=example), v.t("Fields: {fields}", fields=keys)]
    if not may_set_credit:
        text.append(v.t("Credit limit, payment terms and tier are set by a sales manager or an admin"))
    submit = Button(action="save_customer", label=v.t("Save customer"), style="primary", token=token, inputs=inputs,
                    command=example)
    title = v.t("New customer") if c is None else v.t("Edit {name}", name=v.customer(c))
    return Card(kind=CardKind.FORM, locale=v.locale, title=title, tone=Tone.INFO, fields=shown, inputs=inputs, buttons=[submit],
                text=text)


def form_contact_slots(taken: set[int]) -> list[int]:
    """The contacts the form shows: every one the customer has, and blank ones to add (the lowest free numbers) —
    at least one while there is room, and at least two in all."""
    shown = sorted(taken)
    free = (n for n in range(1, CONTACT_SLOTS + 1) if n not in taken)
    blanks = 0
    for n in free:
        if blanks >= 1 and len(shown) >= 2:
            break
        shown.append(n)
        blanks += 1
    return sorted(shown)


__all__ = ["customer_card", "customer_form", "changes_text", "form_contact_slots", "history_line", "label_of"]
