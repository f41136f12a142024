"""Texts the domain hands to people, without choosing their language.

The domain never translates: it names a message by its English text with named placeholders (the gettext
msgid, e.g. "No order {number}") and passes the values as typed data. The bot layer (bot.i18n) looks the msgid
up in the reader's catalogue and formats each value for the reader's locale: a `Decimal` is money, a `date` or
`datetime` is shown in the reader's date format and time zone, a `Message` is translated in turn, a status or role
enum by its label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def N_(msgid: str) -> str:
    """Marks a msgid kept in a table (so the extractor finds it); translated where it is shown."""
    return msgid


@dataclass(frozen=True)
class Message:
    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:  # English, unformatted values: logs and exception text
        try:
            return self.msgid.format(**{k: str(v) for k, v in self.params.items()})
        except (KeyError, IndexError, ValueError):
            return self.msgid


@dataclass(frozen=True)
class Name:
    """A name kept in two languages (products, customers, approval steps): the English one shown to English
    readers when there is one."""

    zh: str
    en: str | None = None

    def __str__(self) -> str:
        return self.en or self.zh

    @classmethod
    def of(cls, item: Any) -> Name:
        return cls(item.name, getattr(item, "name_en", None))
