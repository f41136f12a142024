"""What every handler receives: the open unit of work, the identified user, and the shared context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.cards.common import error_card
from bot.cards.context import Viewer
from bot.cards.model import Reply
from bot.context import BotContext
from bot.i18n import Texts
from bot.ports import ReplyTarget
from domain.audit import Actor
from domain.messages import Message
from domain.models import User
from domain.uow import UnitOfWork


@dataclass
class Turn:
    uow: UnitOfWork
    ctx: BotContext
    user: User
    platform: str
    reply_to: ReplyTarget | None = None  # where this turn's answers go
    event: str | None = None  # the inbound event's key (platform:event id): what work it leads to is keyed on
    # Work that must wait for this turn's commit and may take long (checking a file sent in): run after the commit,
    # off the caller's thread, and only if the turn committed.
    later: list[Callable[[], None]] = field(default_factory=list)

    @property
    def viewer(self) -> Viewer:
        return self.ctx.viewer(self.user)

    @property
    def texts(self) -> Texts:
        return self.viewer.texts

    @property
    def actor(self) -> Actor:
        return Actor(self.user.id, self.platform)

    @property
    def locale(self) -> str:
        return self.user.locale

    def t(self, msgid: str, /, **params: Any) -> str:
        return self.texts.t(msgid, **params)

    def text(self, msgid: str, /, **params: Any) -> list[Reply]:
        return [Reply(text=self.t(msgid, **params))]

    def error(self, msgid: str, /, *, field: str | None = None, **params: Any) -> list[Reply]:
        return [Reply(card=error_card(self.texts, self.t(msgid, **params), field), ephemeral=True)]

    def refuse(self, message: Message, field: str | None = None) -> list[Reply]:
        """An error card for a message made elsewhere (the parser's, the domain's)."""
        return [Reply(card=error_card(self.texts, self.texts.render(message), field), ephemeral=True)]
