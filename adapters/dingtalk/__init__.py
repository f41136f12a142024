"""DingTalk (钉钉) adapter: robot messages and interactive cards over HTTP callbacks or Stream mode.

The composition root calls `install(app, core, signer, settings)` with its token signer and this adapter's own
settings model (DingTalkSettings); Stream mode is started separately by the CLI with
`adapters.dingtalk.stream.run_stream(core, signer, settings)`. See README.md for console setup.
"""

from __future__ import annotations

from collections.abc import Callable

import flask

from adapters.platform import AccountColumn, Platform, Wiring
from bot.files import FileStore
from bot.ports import BotCorePort, Deliverer, FileSource
from bot.ratelimit import Limits
from bot.tokens import TokenSigner
from domain.linking import DirectoryEntry
from domain.messages import N_

from .cli import commands, receiver_check
from .deliverer import DingTalkDeliverer
from .http_callbacks import create_blueprint
from .settings import DingTalkSettings

Settings = DingTalkSettings  # the model the composition root builds for install()

__all__ = ["PLATFORM", "DingTalkDeliverer", "Settings", "install"]


def file_source(settings: DingTalkSettings) -> FileSource | None:
    """Downloads files people send the robot (downloadCode → messageFiles/download), or None when DingTalk is off."""
    if not settings.enabled:
        return None
    from .files import DingTalkFiles

    return DingTalkFiles(settings)


def install(app: flask.Flask, core: BotCorePort, signer: TokenSigner, settings: DingTalkSettings, *,
            receiver_mode: Callable[[], str | None] | None = None, files: FileStore | None = None) -> Deliverer | None:
    """Register the HTTP callbacks and return the outbox deliverer, or None when DingTalk is not configured.

    The blueprint is registered in both modes: in Stream mode it is simply never called by DingTalk, and
    card clicks on cards created with callbackType HTTP still have somewhere to land. `receiver_mode` tells the
    deliverer how this deployment receives card clicks ("stream" / "http", recorded by the receiving process);
    `files` the stored files (report charts) it uploads. Card clicks are checked with `signer`, the root's.
    """
    if not settings.enabled:
        return None
    app.register_blueprint(create_blueprint(core, settings, signer))
    return DingTalkDeliverer(settings, receiver_mode=receiver_mode, files=files)


def _install(w: Wiring, settings: DingTalkSettings) -> Deliverer | None:
    return install(w.app, w.core, w.signer, settings, receiver_mode=w.receiver_mode, files=w.files)


def _limits(s: DingTalkSettings) -> Limits:
    from .ratelimits import limits

    return limits(s.dingtalk_per_second)


def _directory(s: DingTalkSettings) -> list[DirectoryEntry]:
    from .directory import read_directory

    return read_directory(s)


PLATFORM = Platform(name="dingtalk", settings=DingTalkSettings, install=_install, rate_limits=_limits,
                    file_source=file_source, group_chat=lambda s: s.dingtalk_warehouse_group,
                    receiver_check=receiver_check, directory=_directory, commands=commands,
                    account_column=AccountColumn(1, N_("DingTalk ID"), N_("DingTalk userid")))
