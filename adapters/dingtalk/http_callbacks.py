"""HTTP-mode DingTalk callbacks: verify, parse, store in the inbox, answer at once. No business rules here.

POST /dingtalk/callback       robot messages   (headers timestamp + sign, §1.4)
POST /dingtalk/card-callback  card clicks      (headers x-ddpaas-signature*, §5.7; apiSecret = app secret)
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Blueprint, Response, jsonify, request

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
from .signature import SignatureError, verify_card_callback, verify_robot_callback

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # real callbacks are a few KB; anything bigger is not DingTalk

# §1.3: answer 200 quickly and send nothing inline — replies travel through the outbox.
_EMPTY_REPLY = {"msgtype": "empty"}


def _error(status: int, message: str) -> Response:
    resp = jsonify({"error": message})
    resp.status_code = status
    return resp


def _read_json() -> Any:
    """The request body as JSON, or MalformedPayload. Reads at most MAX_BODY_BYTES + 1 bytes."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise MalformedPayload("body too large")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise MalformedPayload("body too large")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise MalformedPayload("body is not JSON") from None


def create_blueprint(core: BotCorePort, settings: DingTalkSettings, signer: TokenSigner, *, clock: Callable[[], float] = time.time,
                     click_budget: float = CLICK_BUDGET_SECONDS) -> Blueprint:
    if settings.dingtalk_app_secret is None:
        raise ValueError("DingTalk callbacks need ORDERTALK_DINGTALK_APP_SECRET")
    secret = settings.dingtalk_app_secret
    bp = Blueprint("dingtalk", __name__)
    # Card clicks run the core here so the answer can leave within DingTalk's 2 seconds even when it is slow.
    clicks = ThreadPoolExecutor(max_workers=8, thread_name_prefix="dingtalk-click")
    inbox = core if isinstance(core, InboxPort) else None  # asked once: a Protocol isinstance check is slow

    @bp.post("/dingtalk/callback")
    def robot_callback() -> Response:
        try:
            verify_robot_callback(request.headers, secret.get_secret_value(), clock=clock)
        except SignatureError as exc:
            log.warning("dingtalk robot callback rejected: %s", exc.reason)
            return _error(401, exc.reason)
        try:
            msg = parse_robot_message(_read_json())
        except UnsupportedMessage as exc:
            log.info("dingtalk robot callback ignored: %s", exc)
            return jsonify(_EMPTY_REPLY)
        except MalformedPayload as exc:
            return _error(400, str(exc))
        click = message_click(msg, signer)
        if click is not None:  # a markdown card's button: the click, stored or run like a card callback's
            core.handle_action(click, deliver_replies=True)
        else:
            core.handle_message(msg, deliver_replies=True)
        return jsonify(_EMPTY_REPLY)

    @bp.post("/dingtalk/card-callback")
    def card_callback() -> Response:
        try:
            verify_card_callback(request.headers, secret.get_secret_value(), clock=clock)
        except SignatureError as exc:
            log.warning("dingtalk card callback rejected: %s", exc.reason)
            return _error(401, exc.reason)
        try:
            action = parse_card_callback(_read_json())
            verify_action_token(action, signer)
        except MalformedPayload as exc:
            log.warning("dingtalk card callback refused: %s", exc)
            return _error(400, str(exc))
        if inbox is not None:
            # Stored before DingTalk hears anything (a database error is a 503, and the click shows as failed);
            # the worker decides and the card update follows through the outbox, so the answer is "processing".
            stored = inbox.store_action(action)
            if stored is None or not inbox.inline:
                return jsonify(click_answer(core_finished=stored is None))
            future = clicks.submit(inbox.process_now, stored)
        else:
            future = clicks.submit(core.handle_action, action, deliver_replies=True)
        try:
            future.result(timeout=click_budget)
        except FutureTimeout:
            future.add_done_callback(_log_late_failure)
            return jsonify(click_answer(core_finished=False))
        # A core exception propagates: Flask answers 500 and DingTalk shows the click failed.
        return jsonify(click_answer(core_finished=True))

    return bp


def _log_late_failure(future: Any) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("dingtalk card action failed after the click was answered", exc_info=exc)
