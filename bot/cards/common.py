"""Help, error and short information cards."""

from __future__ import annotations

from bot.cards.model import Card, Tone
from bot.i18n import Texts
from bot.i18n.labels import roles_label
from domain.messages import N_
from domain.models import Role, User

HELP = [
    # (roles that see it or None for everyone, msgid: the commands as the reader types them in their language)
    (None, N_("SO-20261122-0007 or 'status SO-…': order status")),
    (None, N_("'my orders': my recent orders")),
    ((Role.SALES, Role.SALES_MANAGER, Role.ADMIN), N_("'new order': order form; 'order ACME SKU-001 x10': one-line order")),
    ((Role.SALES, Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN), N_("'customer ACME': a customer's open orders and receivables")),
    (None, N_("'stock SKU-001': stock levels")),
    ((Role.SALES, Role.SALES_MANAGER, Role.ADMIN), N_("'remind SO-…': nudge the approvers")),
    ((Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN), N_("'pending': my approvals; 'approve SO-…' / 'reject SO-… reason'")),
    ((Role.WAREHOUSE, Role.ADMIN), N_("'tasks': shipping tasks; 'claim T-12'; 'ship T-12 SF SF123…'")),
    ((Role.FINANCE, Role.ADMIN), N_("'paid SO-… 12000': record a payment; 'statement ACME'")),
    (None, N_("'away until 2026-12-01 delegate Li' / 'back': out of office")),
]


def help_card(user: User, texts: Texts) -> Card:
    lines = [texts.t(msgid) for roles, msgid in HELP if roles is None or user.has_role(*roles)]
    return Card(kind="help", locale=texts.tag, title=texts.t("What I can do for you"), tone=Tone.NEUTRAL, text=lines,
                context=f"{user.display_name} · {roles_label(texts, user.roles)}")


def error_card(texts: Texts, message: str, field: str | None = None) -> Card:
    return Card(kind="error", locale=texts.tag, title=texts.t("That did not work"), tone=Tone.DANGER, text=[message],
                data={"field": field} if field else {})


def info_card(locale: str, title: str, lines: list[str], tone: Tone = Tone.NEUTRAL) -> Card:
    return Card(kind="info", locale=locale, title=title, tone=tone, text=lines)
