"""Help, error and short information cards."""

from __future__ import annotations

from bot.cards.model import Card, Tone
from domain.models import Role, User

HELP = [
    # (roles that see it or None for everyone, zh, en)
    (None, "SO-20261122-0007 或「订单 SO-…」：查看订单状态", "SO-20261122-0007 or 'status SO-…': order status"),
    (None, "「我的订单」：我最近的订单", "'my orders': my recent orders"),
    ((Role.SALES, Role.SALES_MANAGER, Role.ADMIN), "「下单」：打开下单表单；「下单 华兴 SKU-001 x10」：一句话下单",
     "'new order': order form; 'order ACME SKU-001 x10': one-line order"),
    ((Role.SALES, Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN), "「客户 华兴」：客户的在途订单与应收款",
     "'customer ACME': a customer's open orders and receivables"),
    (None, "「库存 SKU-001」：查看库存", "'stock SKU-001': stock levels"),
    ((Role.SALES, Role.SALES_MANAGER, Role.ADMIN), "「催办 SO-…」：提醒审批人", "'remind SO-…': nudge the approvers"),
    ((Role.SALES_MANAGER, Role.FINANCE, Role.ADMIN), "「待审批」：我的待审批；「同意 SO-…」/「驳回 SO-… 理由」",
     "'pending': my approvals; 'approve SO-…' / 'reject SO-… reason'"),
    ((Role.WAREHOUSE, Role.ADMIN), "「我的任务」：发货任务；「领取 T-12」；「发货 T-12 顺丰 SF123…」",
     "'tasks': shipping tasks; 'claim T-12'; 'ship T-12 SF SF123…'"),
    ((Role.FINANCE, Role.ADMIN), "「收款 SO-… 12000」：登记收款；「对账单 华兴」", "'paid SO-… 12000': record a payment; 'statement ACME'"),
    (None, "「外出 至 12-01 转交 李四」/「回来了」：外出代理审批", "'away until 2026-12-01 delegate Li' / 'back': out of office"),
]


def help_card(user: User, locale: str) -> Card:
    zh = locale.startswith("zh")
    lines = [z if zh else e for roles, z, e in HELP if roles is None or user.has_role(*roles)]
    return Card(kind="help", locale=locale, title="我能帮您做什么" if zh else "What I can do for you",
                tone=Tone.NEUTRAL, text=lines,
                context=f"{user.display_name} · " + ", ".join(sorted(r.value for r in user.roles)))


def error_card(locale: str, message: str, field: str | None = None) -> Card:
    zh = locale.startswith("zh")
    return Card(kind="error", locale=locale, title="操作未完成" if zh else "That did not work",
                tone=Tone.DANGER, text=[message], data={"field": field} if field else {})


def info_card(locale: str, title: str, lines: list[str], tone: Tone = Tone.NEUTRAL) -> Card:
    return Card(kind="info", locale=locale, title=title, tone=tone, text=lines)
