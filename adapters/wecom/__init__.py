"""WeCom (企业微信) self-built app adapter: callback blueprint + outbox deliverer. See README.md for setup."""

from __future__ import annotations

import flask

from adapters.wecom.callback import make_blueprint
from adapters.wecom.client import WeComClient
from adapters.wecom.deliverer import WeComDeliverer
from adapters.wecom.settings import WeComSettings
from bot.files import FileStore
from bot.ports import BotCorePort, Deliverer, FileSource
from bot.tokens import TokenSigner

Settings = WeComSettings  # the model the composition root builds for install()

__all__ = ["install", "Settings", "WeComClient", "WeComDeliverer", "make_blueprint"]


def file_source(settings: WeComSettings) -> FileSource | None:
    """Downloads files people send the app (MediaId → media/get), or None when WeCom is off."""
    if not settings.enabled or settings.wecom_agent_id is None:
        return None
    from adapters.wecom.files import WeComFiles

    return WeComFiles(settings)


def install(app: flask.Flask, core: BotCorePort, signer: TokenSigner, settings: WeComSettings, *,
            files: FileStore | None = None) -> Deliverer | None:
    """Register /wecom/callback and return the deliverer, or do nothing when WeCom is not configured. `files`: the
    stored files (report charts) the deliverer uploads; `signer`: the root's, which checks each card click."""
    if not settings.enabled:
        return None
    # build the client first: a missing agent id fails at start-up, not at the first approval
    client = WeComClient(settings)
    app.register_blueprint(make_blueprint(core, settings, signer))
    return WeComDeliverer(client, files)
