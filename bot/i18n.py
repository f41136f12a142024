"""Bilingual text and the formats people read: money like ¥12,800.00, times in the configured zone."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

SYMBOLS = {"CNY": "¥", "RMB": "¥", "USD": "$", "EUR": "€", "HKD": "HK$", "JPY": "¥", "GBP": "£"}


def t(locale: str, zh: str, en: str) -> str:
    return zh if locale.startswith("zh") else en


def fmt_money(amount: Decimal, currency: str = "CNY") -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{SYMBOLS.get(currency, currency + ' ')}{abs(amount):,.2f}"


def fmt_time(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if at else ""


def fmt_clock(at: datetime | None, tz: ZoneInfo) -> str:
    return at.astimezone(tz).strftime("%H:%M") if at else ""


def fmt_date(d: date | None) -> str:
    return d.isoformat() if d else "—"


def fmt_pct(p: Decimal) -> str:
    return f"{p.normalize():f}%" if p else "—"
