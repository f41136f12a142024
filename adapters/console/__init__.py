"""The local chat sandbox: an adapter like the others, delivering into a per-persona inbox table."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from adapters.console.deliverer import ConsoleDeliverer
from adapters.console.settings import ConsoleSettings
from adapters.console.web import sandbox_blueprint
from adapters.platform import Platform
from bot.ports import BotCorePort

Settings = ConsoleSettings  # the model the composition root builds for install()

__all__ = ["PLATFORM", "ConsoleDeliverer", "Settings", "install"]


def install(app: Flask, core: BotCorePort, settings: ConsoleSettings,
            sessions: sessionmaker[Session]) -> ConsoleDeliverer | None:
    """The sandbox page and its deliverer, or None when the sandbox is off. The core checks its buttons' tokens."""
    if not settings.enabled:
        return None
    app.register_blueprint(sandbox_blueprint(core, sessions, settings.tz))
    return ConsoleDeliverer(sessions)


# The sandbox: a sender's id is their OrderTalk user id (anyone may act as anyone, so it serves only on a loopback
# address), its orders are sandbox orders, and it answers in the request: someone is looking at the page.
PLATFORM = Platform(name="console", settings=ConsoleSettings,
                    install=lambda w, settings: install(w.app, w.core, settings, w.sessions),
                    ids_are_user_ids=True, is_sandbox=True, answers_inline=True, links_people=False)
