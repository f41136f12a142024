"""What a card builder needs to know about the person looking at it."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.i18n import fmt_money, t
from bot.tokens import ActionToken, TokenSigner
from domain.models import User
from domain.permissions import sees_prices


@dataclass(frozen=True)
class Viewer:
    user: User
    tz: ZoneInfo
    currency: str
    signer: TokenSigner

    @property
    def locale(self) -> str:
        return self.user.locale

    @property
    def sees_prices(self) -> bool:
        return sees_prices(self.user)

    def t(self, zh: str, en: str) -> str:
        return t(self.locale, zh, en)

    def money(self, amount) -> str:  # type: ignore[no-untyped-def]
        return fmt_money(amount, self.currency)

    def token(self, action: str, target: int, version: int = 0, arg: str = "") -> str:
        return self.signer.sign(ActionToken(action, target, version, arg))
