"""WeCom (企业微信) self-built app adapter: callback blueprint + outbox deliverer. See README.md for setup."""

from __future__ import annotations

import flask

from adapters.wecom.callback import make_blueprint
from adapters.wecom.client import WeComClient
from adapters.wecom.deliverer import WeComDeliverer
from bot.ports import BotCorePort, Deliverer
from bot.settings import Settings

__all__ = ["install", "WeComClient", "WeComDeliverer", "make_blueprint"]


def install(app: flask.Flask, core: BotCorePort, settings: Settings) -> Deliverer | None:
    """Register /wecom/callback and return the deliverer, or do nothing when WeCom is not configured."""
    if not settings.wecom_enabled:
        return None
    # build the client first: a missing agent id fails at start-up, not at the first approval
    client = WeComClient(settings)
    app.register_blueprint(make_blueprint(core, settings))
    return WeComDeliverer(client)
