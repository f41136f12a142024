"""The local chat sandbox: an adapter like the others, delivering into a per-persona inbox table."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from adapters.console.deliverer import ConsoleDeliverer
from adapters.console.settings import ConsoleSettings
from adapters.console.web import sandbox_blueprint
from bot.ports import BotCorePort

Settings = ConsoleSettings  # the model the composition root builds for install()

__all__ = ["ConsoleDeliverer", "Settings", "install"]


def install(app: Flask, core: BotCorePort, settings: ConsoleSettings,
            sessions: sessionmaker[Session]) -> ConsoleDeliverer | None:
    """The sandbox page and its deliverer, or None when the sandbox is off. The core checks its buttons' tokens."""
    if not settings.enabled:
        return None
    app.register_blueprint(sandbox_blueprint(core, sessions, settings.tz))
    return ConsoleDeliverer(sessions)
