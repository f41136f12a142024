"""What a card builder needs to know about the person looking at it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.i18n import Texts, texts
from bot.tokens import ActionToken, TokenSigner
from domain.models import User
from domain.permissions import sees_prices

_Date = date  # for annotations inside classes whose methods are named date / datetime
_DateTime = datetime


class Named(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def name_en(self) -> str | None: ...


@dataclass(frozen=True)
class Viewer:
    user: User
    tz: ZoneInfo
    currency: str
    signer: TokenSigner
    today: date  # the reader's local date (overdue marks, payment state)

    @property
    def locale(self) -> str:
        return self.user.locale

    @property
    def texts(self) -> Texts:
        return texts(self.user.locale, self.tz, self.currency)

    @property
    def zh(self) -> bool:
        return self.texts.zh

    @property
    def sees_prices(self) -> bool:
        return sees_prices(self.user)

    def t(self, msgid: str, /, **params: Any) -> str:
        return self.texts.t(msgid, **params)

    def tn(self, singular: str, plural: str, n: int, /, **params: Any) -> str:
        return self.texts.tn(singular, plural, n, **params)

    def money(self, amount: Decimal | None) -> str:
        return self.texts.money(amount)

    def date(self, d: date | None) -> str:
        return self.texts.date(d)

    def datetime(self, at: datetime | None) -> str:
        return self.texts.datetime(at)

    def time(self, at: _DateTime | None) -> str:
        return self.texts.time(at)

    def when(self, at: _DateTime | None) -> str:
        """A moment as a card shows it: the clock for today, the date and clock otherwise."""
        if at is None:
            return "—"
        return self.time(at) if at.astimezone(self.tz).date() == self.today else self.datetime(at)

    def name(self, item: Named) -> str:
        """A product's or customer's name in the reader's language: the English name for English readers, when set."""
        return item.name if self.zh or not item.name_en else item.name_en

    def customer(self, c: Named) -> str:
        """'杭州华兴电子（C001）' / 'Huaxing Electronics (C001)'."""
        return self.t("{name} ({code})", name=self.name(c), code=getattr(c, "code", ""))

    def qty(self, quantity: int, unit: str) -> str:
        """'10 盒' / '10 boxes'."""
        from bot.i18n.labels import unit_label

        return f"{self.texts.number(quantity)} {unit_label(self.texts, unit, quantity)}"

    def both(self, msgid: str, /, **params: Any) -> dict[str, str]:
        """The same text for a Chinese and an English reader, for Card.preview (chat lists in the reader's client
        language, whatever language the card is in)."""
        return {"zh": texts("zh-CN", self.tz, self.currency).t(msgid, **params),
                "en": texts("en", self.tz, self.currency).t(msgid, **params)}

    def both_n(self, singular: str, plural: str, n: int, /, **params: Any) -> dict[str, str]:
        return {"zh": texts("zh-CN", self.tz, self.currency).tn(singular, plural, n, **params),
                "en": texts("en", self.tz, self.currency).tn(singular, plural, n, **params)}

    def token(self, action: str, target: int, version: int = 0, arg: str = "") -> str:
        return self.signer.sign(ActionToken(action, target, version, arg))
