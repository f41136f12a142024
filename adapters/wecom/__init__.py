"""WeCom (企业微信) self-built app adapter: callback blueprint + outbox deliverer. See README.md for setup."""

from __future__ import annotations

import flask

from adapters.wecom.callback import make_blueprint
from adapters.wecom.client import WeComClient
from adapters.wecom.deliverer import WeComDeliverer
from bot.files import FileStore
from bot.ports import BotCorePort, Deliverer, FileSource
from bot.settings import Settings

__all__ = ["install", "WeComClient", "WeComDeliverer", "make_blueprint"]


def file_source(settings: Settings) -> FileSource | None:
    """Downloads files people send the app (MediaId → media/get), or None when WeCom is off."""
    if not settings.wecom_enabled or settings.wecom_agent_id is None:
        return None
    from adapters.wecom.files import WeComFiles

    return WeComFiles(settings)


def install(app: flask.Flask, core: BotCorePort, settings: Settings, *, files: FileStore | None = None) -> Deliverer | None:
    """Register /wecom/callback and return the deliverer, or do nothing when WeCom is not configured. `files`: the
    stored files (report charts) the deliverer uploads."""
    if not settings.wecom_enabled:
        return None
    # build the client first: a missing agent id fails at start-up, not at the first approval
    client = WeComClient(settings)
    app.register_blueprint(make_blueprint(core, settings))
    return WeComDeliverer(client, files)
