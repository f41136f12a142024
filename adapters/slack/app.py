"""The Bolt App: Slack's request verification, retries of the Web API client, and our listeners.

Bolt verifies signatures (401 on a forged or stale request), acks, drops the bot's own events and routes
payloads by shape; we only register listeners (adapters/slack/listeners.py). Served over HTTP by
adapters/slack/http.py, or over Socket Mode by `run_socket_mode`.

process_before_response stays False: on a long-running server Bolt acks first and runs the listener on
its executor, so the 3-second deadline holds even when the core is slow.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient

from adapters.slack.deliverer import make_client
from adapters.slack.listeners import SlackListeners
from adapters.slack.modals import CALLBACK_ID, SUGGEST_PREFIX
from adapters.slack.settings import SlackSettings
from bot.ports import BotCorePort, InboxPort
from bot.tokens import TokenSigner

COMMAND = "/order"


def build_app(
    core: BotCorePort,
    settings: SlackSettings,
    signer: TokenSigner,
    *,
    client: WebClient | None = None,
    socket_mode: bool = False,
    replay: bool = False,
) -> App:
    """A Bolt App wired to the core. `client` defaults to one for settings.slack_api_url with retries; `signer` is the
    root's (the listeners check a modal-opening button's token with it).

    `replay`: the inbox worker's app for stored requests (adapters/slack/inbox.py): their signature was checked when
    they were received, and the listener runs before Bolt's answer, so the worker knows it ran. Socket Mode runs the
    listener before the ack too: the ack over the socket then means the event is in the database."""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if not secret and not (socket_mode or replay):
        raise ValueError("ORDERTALK_SLACK_SIGNING_SECRET is required for the HTTP endpoint")
    client = client or make_client(settings)
    app = App(
        client=client,
        signing_secret=secret,  # never None: Bolt would fall back to the SLACK_SIGNING_SECRET env var
        request_verification_enabled=not replay,
        # No auth.test inside the constructor: the app starts offline and in tests. Bolt calls auth.test
        # on the first request instead (that is how it learns the bot's own user id).
        token_verification_enabled=False,
        process_before_response=replay or socket_mode,
        # Listeners call the core synchronously; more workers than Bolt's 5 keeps acks in time under load.
        listener_executor=ThreadPoolExecutor(max_workers=16, thread_name_prefix="slack-listener"),
        name="ordertalk-slack",
    )
    listeners = SlackListeners(core, signer, locale=settings.default_locale)
    register(app, listeners)
    return app


def register(app: App, listeners: SlackListeners) -> None:
    """Order matters: Bolt runs only the first matching listener."""
    app.event("app_mention")(listeners.on_mention)
    app.event("app_home_opened")(listeners.on_home_opened)
    # A file shared in a DM also arrives as a message (subtype file_share, with its files): that one is read.
    app.event("file_shared")(lambda: None)
    # Catch-all for message events: DMs go to the core, other subtypes are acked (an unhandled event
    # would answer 404 and Slack would retry it).
    app.event("message")(listeners.on_message)
    app.command(COMMAND)(listeners.on_command)
    app.action(re.compile(r"^ot_"))(listeners.on_button)
    app.action(re.compile(r"^otl_"))(listeners.on_link)
    app.options(re.compile("^" + SUGGEST_PREFIX))(listeners.on_options)
    app.view(CALLBACK_ID)(listeners.on_submit)


def socket_mode_handler(core: BotCorePort, settings: SlackSettings, signer: TokenSigner) -> SocketModeHandler:
    if not settings.slack_app_token:
        raise ValueError("ORDERTALK_SLACK_APP_TOKEN (xapp-…, scope connections:write) is required for Socket Mode")
    token = settings.slack_app_token.get_secret_value()
    if isinstance(core, InboxPort):
        # What goes through the inbox over HTTP goes through it over the socket: stored, then acknowledged
        # (adapters/slack/socket_mode.py). The rest (a modal's field errors, a command's form, options) is answered
        # by the bot core itself before the ack (process_before_response), so it still comes back in time.
        from adapters.slack.inbox import KIND, FailureWatch, replayer
        from adapters.slack.socket_mode import InboxSocketModeHandler

        watch = FailureWatch(core.core)
        core.register_raw(KIND, replayer(build_app(watch, settings, signer, replay=True), watch))
        return InboxSocketModeHandler(build_app(core.core, settings, signer, socket_mode=True), core, app_token=token)
    return SocketModeHandler(build_app(core, settings, signer, socket_mode=True), app_token=token)


def run_socket_mode(core: BotCorePort, settings: SlackSettings, signer: TokenSigner) -> None:
    """Serve Slack over a WebSocket instead of the HTTP endpoint (no public URL needed). Blocks."""
    socket_mode_handler(core, settings, signer).start()
