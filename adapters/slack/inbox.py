"""Slack requests through the durable inbox: the signed raw request is stored, then acknowledged; the worker replays
it through a Bolt app of its own (same listeners, signature already checked, listener run before Bolt's answer).

Bolt acknowledges before its listener runs (process_before_response=False), so without this a click or a DM that
Slack saw acknowledged was lost when the process died or the database was down — and Slack does not retry an
acknowledged request. What must be answered in the request itself stays with Bolt in the web process: URL
verification, type-ahead options, modal submissions (their field errors are the answer; they are decided before the
ack, so a failure shows on the form), buttons that open a modal (the trigger expires in 3 s; nothing changes until
the modal is submitted), link buttons and the Home tab (read only).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_bolt import App, BoltRequest

from adapters.slack.buttons import PACKED, REGISTERED
from bot.inbox import TryAgain, conversation_of, one_core_call
from bot.ports import BotCorePort, InboundAction, InboundMessage, InboxPort

log = logging.getLogger(__name__)

KIND = "slack"
PLATFORM = "slack"
_EVENTS = ("message", "app_mention")  # what a person says to the bot; other events are answered by Bolt at once


@dataclass(frozen=True)
class Parsed:
    """A request body as parsed once by the endpoint's shape check: the Events API object (`data`), or the form
    (`form`) and, for interactivity, its JSON `payload`."""

    data: dict[str, Any] | None = None
    form: dict[str, list[str]] | None = None
    payload: dict[str, Any] | None = None


def route(parsed: Parsed, body: bytes) -> tuple[str, str] | None:
    """(dedup key, conversation) when this request goes through the inbox, None when Bolt answers it directly.
    The key is the one the listeners hand the core (so the core's own dedup agrees)."""
    try:
        if parsed.data is not None:
            data = parsed.data
            event = data.get("event") or {}
            if data.get("type") != "event_callback" or event.get("type") not in _EVENTS:
                return None
            user = str(event.get("user") or "")
            if data.get("event_id"):
                key = f"{PLATFORM}:{PLATFORM}:{data['event_id']}"
            else:
                key = f"{PLATFORM}:{PLATFORM}:{event.get('channel', '')}:{event.get('ts', '')}"
            return key, _conversation(user, body)
        form = parsed.form or {}
        if "command" in form:
            user = form.get("user_id", [""])[0]
            trigger = form.get("trigger_id", [""])[0] or form.get("response_url", [""])[0]
            return f"{PLATFORM}:{PLATFORM}:cmd:{trigger}", _conversation(user, body)
        payload = parsed.payload
        if payload is None or payload.get("type") != "block_actions":
            return None
        actions = payload.get("actions") or []
        action = actions[0] if actions else {}
        action_id, value = str(action.get("action_id") or ""), str(action.get("value") or "")
        if not action_id.startswith("ot_") or value.startswith((PACKED, REGISTERED)):
            return None  # a link button, or one that opens a modal: Bolt answers at once
        container = payload.get("container") or {}
        anchor = container.get("message_ts") or container.get("view_id") or ""
        user = str((payload.get("user") or {}).get("id") or "")
        key = f"{PLATFORM}:{PLATFORM}:action:{anchor}:{action.get('action_ts', '')}"
        return key, conversation_of(PLATFORM, user, value) if user else _conversation(user, body)
    except (AttributeError, TypeError):
        return None  # not a shape we route: Bolt (and the checks before it) answer it as before


def _conversation(user: str, body: bytes) -> str:
    return conversation_of(PLATFORM, user) if user else f"{PLATFORM}:?{hashlib.sha256(body).hexdigest()[:16]}"


class FailureWatch:
    """The core as the replaying listeners see it: the same calls, but an exception is remembered for the worker
    (the listeners catch and log exceptions so that Bolt's ack stays right; in the worker, a database error must
    leave the event in the inbox instead of being logged away)."""

    def __init__(self, core: BotCorePort) -> None:
        self._core = core
        self._local = threading.local()

    def reset(self) -> None:
        self._local.error = None
        self._local.reached = False

    def reached(self) -> None:
        """Bolt's own checks (authorization: auth.test on the first request) passed and listeners may run."""
        self._local.reached = True

    @property
    def was_reached(self) -> bool:
        return bool(getattr(self._local, "reached", False))

    @property
    def error(self) -> BaseException | None:
        return getattr(self._local, "error", None)

    def _watch(self, name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(self._core, name)(*args, **kwargs)
        except BaseException as e:
            self._local.error = e
            raise

    def handle_message(self, msg: InboundMessage, **kw: Any) -> Any:
        return self._watch("handle_message", msg, **kw)

    def handle_action(self, action: InboundAction, **kw: Any) -> Any:
        return self._watch("handle_action", action, **kw)

    def suggest(self, *args: Any) -> Any:
        return self._watch("suggest", *args)

    def home(self, *args: Any) -> Any:
        return self._watch("home", *args)


def replayer(app: App, watch: FailureWatch):  # type: ignore[no-untyped-def]
    """The inbox handler for stored Slack requests: dispatch through the replay app, listener before the answer."""

    @app.middleware
    def reached(next: Any) -> Any:  # noqa: A002 - Bolt passes it by this name
        watch.reached()
        return next()

    def replay(payload: dict[str, Any]) -> None:
        watch.reset()
        if not _slash_command(payload):  # a slash command may call the core twice (its form, then the fallback card)
            one_core_call()
        resp = app.dispatch(BoltRequest(body=payload["body"], headers={"content-type": [payload["content_type"]]}))
        if watch.error is not None:
            raise watch.error
        # Bolt answers a failed authorization (auth.test while Slack's API is down) with a 200 and no listener run:
        # the event stays in the inbox until Bolt lets it through.
        if not watch.was_reached or resp.status >= 500:
            raise TryAgain(f"Slack replay stopped before the listeners ({resp.status}: {resp.body[:200]})")

    return replay


def _slash_command(payload: dict[str, Any]) -> bool:
    if "json" in str(payload.get("content_type", "")):
        return False  # the Events API
    return "command" in parse_qs(str(payload.get("body", "")))


def store(inbox: InboxPort, body: bytes, content_type: str, key: str, conversation: str) -> Any:
    """Store the signed request (the caller has verified it). Returns the Stored handle (None: a redelivery)."""
    return inbox.store_raw(PLATFORM, key, conversation, KIND, {"body": body.decode("utf-8"), "content_type": content_type})
