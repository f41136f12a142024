"""Slack adapter: Bolt app on POST /slack/events (or Socket Mode) and a Deliverer for the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from adapters.platform import AccountColumn, Cli, Platform, Wiring
from adapters.slack.settings import SlackSettings
from domain.messages import N_

if TYPE_CHECKING:
    import click
    import flask

    from bot.files import FileStore
    from bot.ports import BotCorePort, Deliverer, FileSource, PersonLocale
    from bot.ratelimit import Limits
    from bot.tokens import TokenSigner
    from domain.linking import DirectoryEntry

Settings = SlackSettings  # the model the composition root builds for install()


def file_source(settings: SlackSettings) -> FileSource | None:
    """Downloads files people send the bot (url_private with the bot token), or None when Slack is off."""
    if not settings.enabled:
        return None
    from adapters.slack.files import SlackFiles

    return SlackFiles(settings)


def person_locale(settings: SlackSettings) -> PersonLocale | None:
    """A person's language from their Slack profile (`users.info` with `include_locale`), or None when Slack is off."""
    if not settings.enabled:
        return None
    from adapters.slack.directory import SlackLocales

    return SlackLocales(settings)


def install(app: flask.Flask, core: BotCorePort, signer: TokenSigner, settings: SlackSettings, *,
            files: FileStore | None = None) -> Deliverer | None:
    """Mount /slack/events on the Flask app and return the Slack deliverer, or None when Slack is off. `files`: the
    stored files (report charts) the deliverer uploads.

    `signer`: the root's token signer. A Slack click reaches the core as Slack sent it (through the inbox replay,
    the request's signature checked by Bolt), and the core checks its button token with this same signer and
    audits a refusal. The listeners check with it the token a modal-opening button carries, so a token we did not
    sign opens no modal (the core refuses it as a click); the adapter itself signs nothing and has no key of its own."""
    if not settings.enabled:
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
        inbox.register_raw(KIND, replayer(build_app(watch, settings, signer, replay=True), watch))
        core = inbox.core
    app.register_blueprint(slack_blueprint(build_app(core, settings, signer), signing_secret=secret, inbox=inbox))
    return deliverer


def _install(w: Wiring, settings: SlackSettings) -> Deliverer | None:
    return install(w.app, w.core, w.signer, settings, files=w.files)


def _limits(s: SlackSettings) -> Limits:
    from adapters.slack.ratelimits import limits

    return limits(s.slack_post_per_second, s.slack_tier3_per_minute, s.slack_tier4_per_minute)


def _directory(s: SlackSettings) -> list[DirectoryEntry]:
    from adapters.slack.directory import read_directory

    return read_directory(s)


def _commands(cli: Cli) -> Iterable[click.Command]:
    from adapters.slack.cli import commands

    return commands(cli)


PLATFORM = Platform(name="slack", settings=SlackSettings, install=_install, rate_limits=_limits,
                    file_source=file_source, person_locale=person_locale,
                    group_chat=lambda s: s.slack_warehouse_channel, directory=_directory, commands=_commands,
                    account_column=AccountColumn(3, N_("Slack ID"), N_("Slack member id (U…)")))
