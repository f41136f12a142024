"""What every handler receives: the open unit of work, the identified user, and the shared context."""

from __future__ import annotations

from dataclasses import dataclass

from bot.cards.common import error_card
from bot.cards.context import Viewer
from bot.cards.model import Reply
from bot.context import BotContext
from domain.audit import Actor
from domain.models import User
from domain.uow import UnitOfWork


@dataclass
class Turn:
    uow: UnitOfWork
    ctx: BotContext
    user: User
    platform: str

    @property
    def viewer(self) -> Viewer:
        return self.ctx.viewer(self.user)

    @property
    def actor(self) -> Actor:
        return Actor(self.user.id, self.platform)

    @property
    def locale(self) -> str:
        return self.user.locale

    def t(self, zh: str, en: str) -> str:
        return zh if self.locale.startswith("zh") else en

    def text(self, zh: str, en: str) -> list[Reply]:
        return [Reply(text=self.t(zh, en))]

    def error(self, zh: str, en: str, field: str | None = None) -> list[Reply]:
        return [Reply(card=error_card(self.locale, self.t(zh, en), field), ephemeral=True)]
