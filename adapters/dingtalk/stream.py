"""Stream mode through the official `dingtalk-stream` SDK (dingtalk.md §2).

The SDK keeps one outbound WebSocket, acks each frame with what `process()` returns, and reconnects. Our
handlers only convert frames with inbound.py and call the same core methods as the HTTP blueprint. The core
is synchronous (database work), so it runs in a worker thread: the SDK's event loop must stay free to answer
pings and other frames.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import dingtalk_stream
from dingtalk_stream import AckMessage, CallbackMessage

from adapters.dingtalk.settings import DingTalkSettings
from bot.ports import BotCorePort, InboxPort
from bot.tokens import TokenSigner

from .click_answer import CLICK_BUDGET_SECONDS, click_answer
from .inbound import (
    MalformedPayload,
    UnsupportedMessage,
    message_click,
    parse_card_callback,
    parse_robot_message,
    verify_action_token,
)

log = logging.getLogger(__name__)

ROBOT_TOPIC = dingtalk_stream.ChatbotMessage.TOPIC  # /v1.0/im/bot/messages/get
CARD_TOPIC = dingtalk_stream.CallbackHandler.TOPIC_CARD_CALLBACK  # /v1.0/card/instances/callback
GATEWAY_PATH = "/v1.0/gateway/connections/open"


class RobotMessageHandler(dingtalk_stream.ChatbotHandler):
    """Robot chat messages. The ack value is ignored by DingTalk; replies go through the outbox."""

    def __init__(self, core: BotCorePort, signer: TokenSigner) -> None:
        super().__init__()
        self._core = core
        self._signer = signer

    async def process(self, callback: CallbackMessage) -> tuple[int, Any]:
        try:
            msg = parse_robot_message(callback.data)
        except UnsupportedMessage as exc:
            log.info("dingtalk stream message ignored: %s", exc)
            return AckMessage.STATUS_OK, "OK"
        except MalformedPayload as exc:
            log.warning("dingtalk stream message malformed: %s", exc)
            return AckMessage.STATUS_BAD_REQUEST, str(exc)
        try:
            # Through the inbox this only stores the message (the worker answers), so the ack means it is kept;
            # a redelivery carries the same event_id anyway.
            click = message_click(msg, self._signer)  # a markdown card's button pressed
            if click is not None:
                await asyncio.to_thread(self._core.handle_action, click, deliver_replies=True)
            else:
                await asyncio.to_thread(self._core.handle_message, msg, deliver_replies=True)
        except Exception:
            log.exception("dingtalk stream message %s failed in the core", msg.event_id)
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "error"
        return AckMessage.STATUS_OK, "OK"


class CardCallbackHandler(dingtalk_stream.CallbackHandler):
    """Interactive-card clicks. The ack carries the card update object DingTalk applies (§5.6)."""

    def __init__(self, core: BotCorePort, signer: TokenSigner, click_budget: float = CLICK_BUDGET_SECONDS) -> None:
        super().__init__()
        self._core = core
        self._signer = signer
        self._budget = click_budget

    async def process(self, callback: CallbackMessage) -> tuple[int, Any]:
        try:
            action = parse_card_callback(callback.data)
            verify_action_token(action, self._signer)
        except MalformedPayload as exc:
            log.warning("dingtalk card callback malformed: %s", exc)
            return AckMessage.STATUS_BAD_REQUEST, str(exc)
        core = self._core
        if isinstance(core, InboxPort):
            # Stored before the ack; a database error is a 500 ack, so DingTalk delivers the click again.
            try:
                stored = await asyncio.to_thread(core.store_action, action)
            except Exception:
                log.exception("dingtalk card action %s could not be stored", action.event_id)
                return AckMessage.STATUS_SYSTEM_EXCEPTION, "error"
            if stored is None or not core.inline:
                return AckMessage.STATUS_OK, click_answer(core_finished=stored is None)
            task = asyncio.ensure_future(asyncio.to_thread(core.process_now, stored))
        else:
            task = asyncio.ensure_future(asyncio.to_thread(core.handle_action, action, deliver_replies=True))
        done, _ = await asyncio.wait({task}, timeout=self._budget)
        if not done:
            task.add_done_callback(_log_late_failure)
            return AckMessage.STATUS_OK, click_answer(core_finished=False)
        if task.exception() is not None:
            log.error("dingtalk card action %s failed in the core", action.event_id, exc_info=task.exception())
            return AckMessage.STATUS_SYSTEM_EXCEPTION, "error"
        return AckMessage.STATUS_OK, click_answer(core_finished=True)


def _log_late_failure(task: asyncio.Future[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("dingtalk card action failed after the click was answered", exc_info=task.exception())


def build_stream_client(core: BotCorePort, signer: TokenSigner,
                        settings: DingTalkSettings) -> dingtalk_stream.DingTalkStreamClient:
    """A configured SDK client with both handlers registered; `run_stream` starts it. Card clicks are checked
    with `signer`, the root's."""
    if not settings.dingtalk_app_key or settings.dingtalk_app_secret is None:
        raise ValueError("DingTalk Stream mode needs ORDERTALK_DINGTALK_APP_KEY and _APP_SECRET")
    # SDK 0.24.3 reads the gateway URL from this class attribute (fixed at import from the env var
    # DINGTALK_OPENAPI_ENDPOINT). Setting it from our settings lets tests and other regions (api.dingtalk.io)
    # point it elsewhere without touching the environment before import. One app per process, so the
    # process-wide assignment is harmless.
    dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API = settings.dingtalk_api_url.rstrip("/") + GATEWAY_PATH
    credential = dingtalk_stream.Credential(settings.dingtalk_app_key,
                                            settings.dingtalk_app_secret.get_secret_value())
    client = dingtalk_stream.DingTalkStreamClient(credential, logger=logging.getLogger("dingtalk_stream.client"))
    client.register_callback_handler(ROBOT_TOPIC, RobotMessageHandler(core, signer))
    client.register_callback_handler(CARD_TOPIC, CardCallbackHandler(core, signer))
    return client


def run_stream(core: BotCorePort, signer: TokenSigner, settings: DingTalkSettings) -> None:
    """Open the Stream long connection and serve until the process stops (the SDK reconnects by itself)."""
    client = build_stream_client(core, signer, settings)
    log.info("dingtalk stream mode starting for app %s", settings.dingtalk_app_key)
    client.start_forever()
