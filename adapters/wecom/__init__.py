"""WeCom (企业微信) self-built app adapter: callback blueprint + outbox deliverer. See README.md for setup."""

from __future__ import annotations

import flask

from adapters.platform import AccountColumn, Platform, Wiring
from adapters.wecom.callback import make_blueprint
from adapters.wecom.client import WeComClient
from adapters.wecom.deliverer import WeComDeliverer
from adapters.wecom.settings import WeComSettings
from bot.files import FileStore
from bot.ports import BotCorePort, Deliverer, FileSource
from bot.ratelimit import Limits
from bot.tokens import TokenSigner
from domain.linking import DirectoryEntry
from domain.messages import N_

Settings = WeComSettings  # the model the composition root builds for install()

__all__ = ["PLATFORM", "install", "Settings", "WeComClient", "WeComDeliverer", "make_blueprint"]


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


def _install(w: Wiring, settings: WeComSettings) -> Deliverer | None:
    return install(w.app, w.core, w.signer, settings, files=w.files)


def _limits(s: WeComSettings) -> Limits:
    from adapters.wecom.ratelimits import limits

    return limits(s.wecom_per_second, s.wecom_member_per_minute)


def _directory(s: WeComSettings) -> list[DirectoryEntry]:
    from adapters.wecom.directory import read_directory

    return read_directory(s)


PLATFORM = Platform(name="wecom", settings=WeComSettings, install=_install, rate_limits=_limits,
                    file_source=file_source, group_chat=lambda s: s.wecom_warehouse_chat, directory=_directory,
                    account_column=AccountColumn(2, N_("WeCom ID"), N_("WeCom UserID"), aliases="企微id"))
