"""The local chat sandbox: an adapter like the others, delivering into a per-persona inbox table."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from adapters.console.deliverer import ConsoleDeliverer
from adapters.console.web import sandbox_blueprint
from bot.ports import BotCorePort
from bot.settings import Settings


def install(app: Flask, core: BotCorePort, settings: Settings, sessions: sessionmaker[Session]) -> ConsoleDeliverer | None:
    if not settings.sandbox:
        return None
    app.register_blueprint(sandbox_blueprint(core, sessions, settings.tz))
    return ConsoleDeliverer(sessions)
