"""Help, error and short information cards."""

from __future__ import annotations

from datetime import date, timedelta

from bot.cards.model import Button, Card, CardKind, Tone
from bot.i18n import Texts
from bot.i18n.labels import roles_label
from domain.messages import N_
from domain.models import Role, User

HELP = [
    # (roles that see it or None for everyone, msgid: the commands as the reader types them in their language).
    # Every command quoted in a line must work as written: tests/e2e/console/test_walk_docs.py runs each of them in both
    # languages. {away} is a date a week from today, so the example is never in the past.
    (None, N_("SO-20261122-0007 or 'status SO-…': order status")),
    (None, N_("'my orders': my recent orders")),
    ((Role.SALES, Role.SALES_MANAGER, Role.ADMIN),
     N_("'new order': order form; 'order ACME SKU-001 x10': one-line order (a requested date may follow)")),
    ((Role.SALES, Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN),
     N_("'customer ACME': a customer's contacts, credit, receivables and recent orders")),
    ((Role.SALES, Role.SALES_MANAGER, Role.ADMIN),
     N_("'new customer' (form) or 'new customer name=Nova Tech phone=13800000001'; 'edit customer ACME': change a customer")),
    ((Role.ADMIN,), N_("'new product' (form) or 'new product SKU=SKU-100 name=Hex bolt M8 list price=25'; "
                       "'edit product SKU-001 list price=130': products and prices")),
    (None, N_("'stock SKU-001': stock levels; 'low stock': what is below its safety stock")),
    (None, N_("'orders ACME last month', 'orders pending', 'orders over 50000': find orders")),
    ((Role.WAREHOUSE,), N_("'product ranking', 'lead time this month': your warehouse's figures")),
    ((Role.SALES, Role.SALES_MANAGER, Role.ADMIN), N_("'remind SO-…': nudge the approvers")),
    ((Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN), N_("'pending': my approvals; 'approve SO-…' / 'reject SO-… price too low'")),
    ((Role.WAREHOUSE, Role.ADMIN), N_("'tasks': shipping tasks; 'claim T-12'; 'ship T-12 SF SF1234567890'")),
    ((Role.WAREHOUSE, Role.ADMIN),
     N_("'receive SKU-001 100' or 'receive' (receipt form); 'count SKU-001 95'; 'transfer SKU-001 20 WH-SH WH-GZ'")),
    ((Role.FINANCE, Role.ADMIN), N_("'paid SO-… 12000': record a payment")),
    ((Role.SALES, Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN),
     N_("'statement ACME': everything open plus last month; 'statement ACME last month': a given period; "
        "'overdue': overdue receivables")),
    ((Role.SALES, Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN),
     N_("'report', 'sales trend last month', 'product ranking', 'leaderboard', 'ageing': reports with a chart")),
    (None, N_("'away until {away} delegate Tom' / 'back': out of office")),
    ((Role.SALES, Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN),
     N_("'subscribe daily' / 'unsubscribe weekly': the morning digests; 'my subscriptions': which you receive")),
]


def help_card(user: User, texts: Texts, today: date | None = None) -> Card:
    away = ((today or date.today()) + timedelta(days=7)).strftime("%m-%d")
    lines = [texts.t(msgid, away=away) if "{away}" in msgid else texts.t(msgid)
             for roles, msgid in HELP if roles is None or user.has_role(*roles)]
    return Card(kind=CardKind.HELP, locale=texts.tag, title=texts.t("What I can do for you"), tone=Tone.NEUTRAL, text=lines,
                context=f"{user.display_name} · {roles_label(texts, user.roles)}")


def error_card(texts: Texts, message: str, field: str | None = None) -> Card:
    return Card(kind=CardKind.ERROR, locale=texts.tag, title=texts.t("That did not work"), tone=Tone.DANGER, text=[message],
                field_error=field)


def info_card(locale: str, title: str, lines: list[str], tone: Tone = Tone.NEUTRAL) -> Card:
    return Card(kind=CardKind.INFO, locale=locale, title=title, tone=tone, text=lines)


def link_button(label: str, url: str) -> Button:
    """A document offered as a button that opens its link (no callback; platforms without buttons show a link)."""
    return Button(action="open_document", label=label, url=url, token="")
