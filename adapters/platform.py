"""What a platform's adapter declares to the composition root: one `Platform` in `adapters/<platform>/__init__.py`
(`PLATFORM = Platform(...)`), named once in bot/platforms.py. The root loops over these; nothing outside the adapter
names the platform, so adding one touches only its package and that one line.

Everything here is data or a callable taking the adapter's own settings model (adapters/settings.py): the root builds
the model, the adapter says what to do with it. Traits (`ids_are_user_ids`, `is_sandbox`, …) replace the checks of a
platform's name the core would otherwise make.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from adapters.settings import AdapterSettings

if TYPE_CHECKING:
    import click
    from flask import Flask
    from sqlalchemy.orm import Session, sessionmaker

    from bot.files import FileStore
    from bot.ports import BotCorePort, Deliverer, FileSource, PersonLocale
    from bot.ratelimit import Limits
    from bot.records import Receiver
    from bot.tokens import TokenSigner
    from domain.linking import DirectoryEntry

S = TypeVar("S", bound=AdapterSettings)


@dataclass(frozen=True)
class AccountColumn:
    """The users sheet's column of this platform's account ids (imports and exports): its header and note are
    msgids (English; the Chinese is in the catalogue), `aliases` other headers seen in companies' sheets; the
    columns stand in the order of `position` (a published file format: a new platform's comes after the others)."""

    position: int
    header: str
    note: str = ""
    aliases: str = ""


class DirectoryError(Exception):
    """A platform's directory could not be read (each adapter's own error derives from this)."""


@dataclass(frozen=True)
class Wiring:
    """What the composition root hands every adapter's install(), besides the adapter's own settings."""

    app: Flask
    core: BotCorePort  # the inbox's front: stores each event, then processes it (inline, or by the worker)
    signer: TokenSigner  # the root's one token signer: adapters check clicks with it and build none of their own
    sessions: sessionmaker[Session]
    files: FileStore  # stored files (report charts) a deliverer uploads
    receiver_mode: Callable[[], str | None]  # how this deployment receives this platform's callbacks (bot.receivers)


@dataclass(frozen=True)
class Cli:
    """What the `ordertalk` command hands a platform's own commands (they run in the CLI's process)."""

    settings: Callable[[], Any]  # the application's settings, read and checked as every command does
    build: Callable[[Any], Any]  # the composition root (bot.bootstrap.build): an OrderTalk
    start: Callable[[Any], Any]  # refuse a receiver mismatch, then start the background work; returns the OrderTalk


@dataclass(frozen=True)
class Platform(Generic[S]):
    name: str  # the platform's id: identities, outbox rows and inbound events carry it
    settings: type[S]  # its own model, reading its own ORDERTALK_ variables
    install: Callable[[Wiring, S], Deliverer | None]  # routes on the app; the deliverer, or None when it is off
    rate_limits: Callable[[S], Limits] | None = None  # the dispatcher's buckets for its API methods
    file_source: Callable[[S], FileSource | None] | None = None  # downloads files people send the bot
    person_locale: Callable[[S], PersonLocale | None] | None = None  # a stranger's language, from the platform
    group_chat: Callable[[S], str | None] | None = None  # the warehouse group chat the core posts tasks to
    # At start: an error message when this process's settings disagree with how callbacks are received (the
    # recorded row, None when nothing was recorded), else None.
    receiver_check: Callable[[S, Receiver | None], str | None] | None = None
    directory: Callable[[S], list[DirectoryEntry]] | None = None  # `ordertalk users sync`; raises DirectoryError
    commands: Callable[[Cli], Iterable[click.Command]] | None = None  # its own `ordertalk` commands
    account_column: AccountColumn | None = None  # the users sheet's column of account ids on this platform
    ids_are_user_ids: bool = False  # a sender's id is the OrderTalk user id (the sandbox): nobody to link
    is_sandbox: bool = False  # orders placed here are sandbox orders; served only on a loopback address
    answers_inline: bool = False  # events are processed in the request that received them (someone is looking)
    links_people: bool = True  # people are linked to accounts here (`ordertalk users link`, the unknown-person card)
