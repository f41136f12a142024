"""Slack adapter: Bolt app on POST /slack/events (or Socket Mode) and a Deliverer for the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import flask

    from bot.files import FileStore
    from bot.ports import BotCorePort, Deliverer, FileSource
    from bot.settings import Settings


def file_source(settings: Settings) -> FileSource | None:
    """Downloads files people send the bot (url_private with the bot token), or None when Slack is off."""
    if not settings.slack_enabled:
        return None
    from adapters.slack.files import SlackFiles

    return SlackFiles(settings)


def install(app: flask.Flask, core: BotCorePort, settings: Settings, *, files: FileStore | None = None) -> Deliverer | None:
    """Mount /slack/events on the Flask app and return the Slack deliverer, or None when Slack is off. `files`: the
    stored files (report charts) the deliverer uploads."""
    if not settings.slack_enabled:
        return None
    # Imported here so a deployment without Slack never imports slack_bolt.
    from adapters.slack.app import build_app
    from adapters.slack.deliverer import SlackDeliverer
    from adapters.slack.http import slack_blueprint
    from adapters.slack.inbox import KIND, FailureWatch, replayer
    from bot.ports import InboxPort

    deliverer = SlackDeliverer(settings, files=files)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    inbox = core if isinstance(core, InboxPort) else None
    if inbox is not None:
        # Stored requests are replayed through an app of their own (in whichever process runs the inbox); what
        # Bolt answers in the request (options, modal submissions, modal-opening buttons) calls the core directly.
        watch = FailureWatch(inbox.core)
        inbox.register_raw(KIND, replayer(build_app(watch, settings, replay=True), watch))
        core = inbox.core
    app.register_blueprint(slack_blueprint(build_app(core, settings), signing_secret=secret, inbox=inbox))
    return deliverer
