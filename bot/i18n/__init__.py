"""One mechanism for the words and formats people read.

Texts: a gettext catalogue. Code holds the English text as the msgid, with named placeholders
(`texts.t("Order {number} is approved", number=order.number)`); the Chinese lives in
bot/locale/zh_CN/LC_MESSAGES/messages.po, read directly at first use (no compile step). Values are formatted for
the reader before they are put in: money with Babel's `format_currency` (¥12,800.00 for every reader, the
glossary's form), dates and times in the configured zone and the
locale's date format (2026年12月15日 21:31 / Dec 15, 2026, 9:31 PM), statuses and roles by their label.

A msgid without a translation falls back to English in production and raises `MissingTranslation` when
ORDERTALK_I18N_STRICT is set (the test suite sets it); tests/test_i18n_catalog.py checks the catalogue against
every msgid in the code.
"""

from __future__ import annotations

import os
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_interval, format_skeleton, format_time
from babel.lists import format_list
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, get_currency_symbol

from domain.messages import N_, Message, Name
from domain.parsing import Period, period_name

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
ZH, EN = "zh_CN", "en"
DEFAULT_TZ = ZoneInfo("Asia/Shanghai")
_HOME_SYMBOL = {"CNY"}  # currencies shown with their Chinese symbol to every reader

__all__ = ["Message", "MissingTranslation", "N_", "Name", "Texts", "babel_locale", "catalog", "is_zh", "texts", "tr", "trn"]

_Date = date  # for annotations inside classes whose methods are named date / datetime
_DateTime = datetime


# How a named period reads (domain.parsing.PERIOD_NAMES).
PERIOD_WORDS = {
    "today": N_("Today"), "yesterday": N_("Yesterday"), "this_week": N_("This week"), "last_week": N_("Last week"),
    "this_month": N_("This month"), "last_month": N_("Last month"), "this_quarter": N_("This quarter"),
    "last_quarter": N_("Last quarter"), "this_year": N_("This year"), "last_year": N_("Last year"),
}


class MissingTranslation(KeyError):
    pass


def babel_locale(tag: str | None) -> str:
    """'zh-CN', 'zh_CN', 'zh', 'zh-Hans' → 'zh_CN'; anything else → 'en' (the msgids' language)."""
    t = (tag or "").strip().replace("-", "_").lower()
    return ZH if t == "zh" or t.startswith("zh_") else EN


def is_zh(tag: str | None) -> bool:
    return babel_locale(tag) == ZH


def po_path(lang: str = ZH) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=4)
def catalog(lang: str) -> Mapping[str, str | tuple[str, ...]]:
    """msgid → translation (a tuple of plural forms for plural entries); empty translations are left out."""
    path = po_path(lang)
    if lang == EN or not path.exists():
        return {}
    with path.open("rb") as f:
        cat = read_po(f, locale=lang)
    out: dict[str, str | tuple[str, ...]] = {}
    for m in cat:
        if not m.id or m.fuzzy:
            continue
        if isinstance(m.id, tuple | list):
            forms: tuple[str, ...] = tuple(m.string) if isinstance(m.string, tuple | list) else (str(m.string or ""),)
            if all(forms):
                out[m.id[0]] = forms
        elif m.string:
            out[m.id] = m.string  # type: ignore[assignment]
    return out


def _strict() -> bool:
    return os.environ.get("ORDERTALK_I18N_STRICT", "") not in ("", "0")


class _Formatter(string.Formatter):
    def __init__(self, texts: Texts) -> None:
        self.texts = texts

    def format_field(self, value: Any, format_spec: str) -> str:
        return format(value, format_spec) if format_spec else self.texts.value(value)


@dataclass(frozen=True)
class Texts:
    """The reader's language, zone and currency: translates msgids and formats values for them."""

    locale: str = ZH  # a Babel locale id: zh_CN | en
    tz: ZoneInfo = DEFAULT_TZ
    currency: str = "CNY"

    @property
    def zh(self) -> bool:
        return self.locale == ZH

    @property
    def tag(self) -> str:
        """The user-facing tag stored on users and cards: zh-CN | en."""
        return "zh-CN" if self.zh else "en"

    # ------------------------------------------------------------ texts
    def gettext(self, msgid: str) -> str:
        if not self.zh:
            return msgid
        found = catalog(self.locale).get(msgid)
        if found is None:
            if _strict():
                raise MissingTranslation(msgid)
            return msgid
        return found if isinstance(found, str) else found[0]

    def t(self, msgid: str, /, **params: Any) -> str:
        text = self.gettext(msgid)
        return self._fill(text, params) if params else text

    def tn(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        """A text with a count: `tn("{n} open task", "{n} open tasks", 3)`; `n` is a parameter too."""
        if self.zh:
            found = catalog(self.locale).get(singular)
            if found is None:
                if _strict():
                    raise MissingTranslation(singular)
                found = (singular, plural)
            text = found[0] if isinstance(found, str) else found[min(len(found) - 1, _plural_index(self.locale, n))]
        else:
            text = singular if _plural_index(EN, n) == 0 else plural
        return self._fill(text, {"n": n, **params})

    def render(self, message: Message | str) -> str:
        if isinstance(message, str):
            return message
        return self.t(message.msgid, **message.params)

    def _fill(self, text: str, params: Mapping[str, Any]) -> str:
        return _Formatter(self).vformat(text, (), params)

    # ------------------------------------------------------------ values
    def value(self, v: Any) -> str:
        """How a placeholder's value reads: money, dates, statuses and nested messages formatted for this reader."""
        if isinstance(v, Message):
            return self.render(v)
        if isinstance(v, Name):
            return v.zh if self.zh or not v.en else v.en
        if isinstance(v, list | tuple):
            return ("；" if self.zh else "; ").join(self.value(x) for x in v)
        if isinstance(v, bool) or v is None:
            return "" if v is None else str(v)
        if isinstance(v, Decimal):
            return self.money(v)
        if isinstance(v, datetime):
            return self.datetime(v)
        if isinstance(v, date):
            return self.date(v)
        if isinstance(v, Enum):
            from bot.i18n.labels import enum_label

            return enum_label(self, v)
        return str(v)

    def money(self, amount: Decimal | None) -> str:
        if amount is None:
            return "—"
        # The deployment's own currency reads as its colleagues write it (¥12,800.00, the glossary's form) in
        # every language; CLDR's English "CN¥" is for telling currencies apart, which one company never needs.
        if self.currency in _HOME_SYMBOL:
            sign = "-" if amount < 0 else ""
            digits = format_decimal(abs(amount), format="#,##0.00", locale=self.locale)
            return f"{sign}{get_currency_symbol(self.currency, locale=ZH)}{digits}"
        return format_currency(amount, self.currency, locale=self.locale)

    def number(self, n: int | Decimal) -> str:
        return format_decimal(n, locale=self.locale)

    def percent(self, p: Decimal | None) -> str:
        """A discount percentage as stored (12.5 means 12.5 %); none reads '—'."""
        if not p:
            return "—"
        return f"{format_decimal(p, locale=self.locale)}%"

    def date(self, d: date | None) -> str:
        if d is None:
            return "—"
        if isinstance(d, datetime):
            d = d.astimezone(self.tz).date()
        return format_date(d, "medium", locale=self.locale)

    def datetime(self, at: datetime | None) -> str:
        """A moment in the configured zone: '2026年12月1日 21:31' / 'Dec 1, 2026, 9:31 PM'."""
        if at is None:
            return "—"
        local = at.astimezone(self.tz)
        pattern = str(Locale.parse(self.locale).datetime_formats["medium"])
        return pattern.replace("{1}", self.date(local.date())).replace("{0}", self.time(local))

    def time(self, at: _DateTime | None) -> str:
        """The clock only: '21:31' / '9:31 PM'."""
        if at is None:
            return "—"
        return format_time(at.astimezone(self.tz), "short", locale=self.locale)

    def join(self, items: Iterable[str]) -> str:
        """'王经理、李四和赵六' / 'Wang, Li, and Zhao'."""
        seq = [i for i in items if i]
        return format_list(seq, locale=self.locale) if seq else "—"

    def skeleton(self, d: _Date, pattern: str) -> str:
        """A date in a CLDR skeleton: 'MMMd' → '11月2日' / 'Nov 2'; 'yMMM' → '2026年11月' / 'Nov 2026'."""
        return format_skeleton(pattern, d, locale=self.locale)

    def period(self, p: Period, today: _Date | None = None) -> str:
        """A period in words and dates: '本月（2026年11月1日 – 23日）' / 'This month (Nov 1 – 23, 2026)';
        '2026年第3季度' / 'Q3 2026'; '近30天（…）' / 'Last 30 days (…)'. The words only when `today` is given."""
        dates = self.period_dates(p)
        words = None
        if today is not None:
            name = period_name(p, today=today)
            if name is not None:
                words = self.t(PERIOD_WORDS[name])
            elif p.unit == "days" and p.end == today and p.days > 1:
                words = self.tn("Last {n} day", "Last {n} days", p.days)
        return self.t("{name} ({dates})", name=words, dates=dates) if words else dates

    def period_dates(self, p: Period) -> str:
        """'2026年11月' / 'November 2026' for a whole month; a quarter, a year, a day; else the range of days."""
        after = date.fromordinal(p.end.toordinal() + 1)
        if p.start.day == 1 and after.day == 1:
            months = (after.year - p.start.year) * 12 + after.month - p.start.month
            if months == 1:
                return self.skeleton(p.start, "yMMMM")
            if months == 3 and p.start.month % 3 == 1:
                return self.skeleton(p.start, "yQQQ")
            if months == 12 and p.start.month == 1:
                return self.skeleton(p.start, "y")
        if p.start == p.end:
            return self.date(p.start)
        return format_interval(p.start, p.end, "yMMMd", locale=self.locale)

    def date_example(self, d: _Date) -> str:
        """How a date field shows a date to this reader (its placeholder)."""
        return self.date(d)


@lru_cache(maxsize=256)
def _plural_index(lang: str, n: int) -> int:
    if lang == ZH:
        return 0
    return 0 if n == 1 else 1


def texts(locale: str | None, tz: ZoneInfo = DEFAULT_TZ, currency: str = "CNY") -> Texts:
    return Texts(babel_locale(locale), tz, currency)


def tr(locale: str | None, msgid: str, /, **params: Any) -> str:
    """For code that has only a locale tag (adapters rendering a card): `tr(card.locale, "Cancel")`."""
    return texts(locale).t(msgid, **params)


def trn(locale: str | None, singular: str, plural: str, n: int, /, **params: Any) -> str:
    return texts(locale).tn(singular, plural, n, **params)
