"""Everything handlers and notifications share, built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from bot import intents
from bot.cards.context import Viewer
from bot.i18n import Texts, texts
from bot.links import LinkSigner
from bot.outbox import Outbox
from bot.ports import FileSource, PersonLocale
from bot.settings import Settings
from bot.tokens import TokenSigner
from domain.models import User
from domain.orders import Policy
from domain.rules import RuleSet
from domain.types import utcnow
from domain.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.chat_imports import ChatImports


@dataclass
class BotContext:
    settings: Settings
    signer: TokenSigner
    outbox: Outbox
    rules: RuleSet
    clock: Callable[[], datetime] = utcnow
    group_chats: dict[str, str] = field(default_factory=dict)  # platform → warehouse group chat id
    file_sources: dict[str, FileSource] = field(default_factory=dict)  # platform → how to download a file sent in
    person_locales: dict[str, PersonLocale] = field(default_factory=dict)  # platform → a stranger's language
    # What the installed platforms' descriptors say (bot/platforms.py), so the core checks no platform's name:
    linkable: tuple[str, ...] = ()  # people are linked to their accounts on these
    by_user_id: frozenset[str] = frozenset()  # a sender's id there is the OrderTalk user id (the sandbox)
    sandboxes: frozenset[str] = frozenset()  # orders placed there are sandbox orders
    links: LinkSigner | None = None
    imports: ChatImports | None = None  # files sent in to import (set by the bot core)

    def __post_init__(self) -> None:
        if self.links is None:
            self.links = LinkSigner(self.settings.token_secret(), self.clock, self.settings.link_base())

    def delivery_note_url(self, shipment_id: int, locale: str) -> str:
        assert self.links is not None
        return self.links.url(f"/documents/delivery-note/{shipment_id}", lang=locale).replace("?", ".pdf?", 1)

    def statement_urls(self, code: str, start: date, end: date, locale: str) -> tuple[str, str]:
        """PDF and XLSX links; one signature covers both (the extension is not signed)."""
        assert self.links is not None
        url = self.links.url(f"/documents/statement/{code}", start=start.isoformat(), end=end.isoformat(), lang=locale)
        return url.replace("?", ".pdf?", 1), url.replace("?", ".xlsx?", 1)

    def unit_of_work(self, sessions: sessionmaker[Session]) -> UnitOfWork:
        """One transaction on this deployment's clock and time zone."""
        return UnitOfWork(sessions, self.clock, self.settings.tz)

    def file_url(self, key: str, ext: str, locale: str) -> str:
        """A stored file (a report's chart or spreadsheet, bot.files) behind a signed link."""
        assert self.links is not None
        return self.links.url(f"/documents/files/{key}", lang=locale).replace("?", f".{ext}?", 1)

    def viewer(self, user: User) -> Viewer:
        return Viewer(user=user, tz=self.settings.tz, currency=self.settings.currency, signer=self.signer,
                      today=self.today())

    def texts(self, locale: str | None = None) -> Texts:
        return texts(locale or self.settings.default_locale, self.settings.tz, self.settings.currency)

    def local_now(self) -> datetime:
        return self.clock().astimezone(self.settings.tz)

    def today(self) -> date:
        return self.local_now().date()

    def parse(self, text: str, units: tuple[str, ...] = ()) -> intents.Intent:
        """One chat message → one intent, read with this deployment's order prefix and input limits; `units`: the
        products' units a quantity may carry (bot.order_lines.unit_words)."""
        return intents.parse(text, today=self.today(), order_prefix=self.settings.order_prefix, units=units,
                             limits=self.settings.limits)

    def policy(self) -> Policy:
        return Policy(rules=self.rules, order_prefix=self.settings.order_prefix, local_today=self.today(),
                      orders_for_others=self.settings.orders_for_other_sales)
