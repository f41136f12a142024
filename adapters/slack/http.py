"""Flask mount: one URL for Events API, interactivity, the slash command and external-select options.

Bolt sorts the requests by body shape and verifies the signature on the raw body, so nothing may read
`request.form` before the handler (Werkzeug would drain the stream and every request would get 401).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

from adapters.slack import inbox as durable
from adapters.slack.inbox import Parsed
from bot.ports import InboxPort

EVENTS_PATH = "/slack/events"


def _optional(value: Any, *types: type) -> bool:
    return value is None or isinstance(value, types)


def _ids_readable(d: dict[str, Any], depth: int = 0) -> bool:
    """Bolt reads team / enterprise / user / channel ids from every request (and from the event, message and
    first authorization inside it) before any listener runs, and fails with a 500 on a shape it does not expect."""
    if "event" in d and not isinstance(d["event"], dict):  # Bolt reads body.get("event", {}).get(…)
        return False
    if not (all(_optional(d.get(k), str, dict) for k in ("team", "enterprise", "user", "channel"))
            and all(_optional(d.get(k), dict) for k in ("message", "previous_message", "view", "container", "item",
                                                         "assistant_thread", "function_data"))
            and _optional(d.get("authorizations"), list) and _optional(d.get("response_urls"), list)):
        return False
    nested = [d.get(k) for k in ("event", "message", "previous_message", "item", "assistant_thread")]
    nested += (d.get("authorizations") or [])[:1] + (d.get("response_urls") or [])[:1]
    return depth > 3 or all(isinstance(n, dict) and _ids_readable(n, depth + 1) for n in nested if n is not None)


def _is_id(value: Any) -> bool:
    """A Slack id (U…, W…): what the listeners hand the core as the person's platform id."""
    return isinstance(value, str) and 0 < len(value) <= 128 and value.isprintable()


def _interactive_ok(payload: dict[str, Any]) -> bool:
    """What our listeners and Bolt's matchers need of an interactivity payload; Slack always sends it."""
    user = payload.get("user")
    if not (isinstance(user, dict) and _is_id(user.get("id"))):
        return False
    kind = payload["type"]
    if kind == "block_actions":
        actions = payload.get("actions")
        return (isinstance(actions, list) and bool(actions)
                and all(isinstance(a, dict) and isinstance(a.get("action_id"), str)
                        and _optional(a.get("value"), str) and _optional(a.get("block_id"), str) for a in actions))
    if kind in ("view_submission", "view_closed"):
        view = payload.get("view")
        return isinstance(view, dict) and all(isinstance(view.get(k), str) for k in ("callback_id", "type"))
    if kind == "block_suggestion":
        return isinstance(payload.get("action_id"), str) and _optional(payload.get("value"), str)
    return _optional(payload.get("callback_id"), str)


def _looks_like_slack(body: bytes, content_type: str) -> Parsed | None:
    """The shapes Slack sends: an Events API JSON object with a type, an interactivity form with a JSON `payload`
    object that has a type and a user, or a slash-command form. Anything else is refused before Bolt sees it (None);
    what was parsed is handed on, so the body is parsed once per request."""
    try:
        if content_type.startswith("application/json"):
            data = json.loads(body)
            if not (isinstance(data, dict) and isinstance(data.get("type"), str) and _ids_readable(data)):
                return None
            event = data.get("event")
            return Parsed(data=data) if event is None or isinstance(event.get("type"), str) else None
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: JSON nested thousands deep
        return None
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except (ValueError, RecursionError):
            return None
        ok = (isinstance(payload, dict) and isinstance(payload.get("type"), str) and _ids_readable(payload)
              and _interactive_ok(payload))
        return Parsed(form=form, payload=payload) if ok else None
    if "command" in form:
        # Slack always says who, where to answer and the trigger (our idempotency key for commands): a form
        # without them is not Slack's, e.g. a body cut short.
        ok = _is_id(form.get("user_id", [""])[0]) and all(form.get(k, [""])[0] for k in ("response_url", "trigger_id"))
        return Parsed(form=form) if ok else None
    return Parsed(form=form) if "ssl_check" in form else None


def _signed(verifier: SignatureVerifier, body: bytes, headers: dict[str, str]) -> bool:
    try:
        return verifier.is_valid_request(body, headers)
    except (ValueError, TypeError, OverflowError):
        # The SDK raises on a timestamp that is not a number (or too big for a float), a body that is not UTF-8
        # (it decodes before hashing) and a non-ASCII signature (hmac.compare_digest): none of those can be Slack's.
        return False


def slack_blueprint(app: App, *, name: str = "slack", signing_secret: str | None = None,
                    inbox: InboxPort | None = None) -> Blueprint:
    handler = SlackRequestHandler(app)
    verifier = SignatureVerifier(signing_secret) if signing_secret else None
    bp = Blueprint(name, __name__)

    @bp.post(EVENTS_PATH)
    def slack_events() -> Response | tuple[Response, int]:
        # Bolt parses the body before it checks the signature, and a malformed body makes that parse raise:
        # check the signature on the raw bytes first, so a forged or broken request is a clear 4xx, never a 500.
        body = request.get_data(cache=True)
        if verifier is not None and not _signed(verifier, body, dict(request.headers)):
            return jsonify({"error": "invalid or stale Slack signature"}), 401
        parsed = _looks_like_slack(body, request.content_type or "")
        if parsed is None:
            return jsonify({"error": "malformed Slack payload"}), 400
        routed = durable.route(parsed, body) if inbox is not None else None
        if inbox is not None and routed is not None:
            # Stored before the ack (a database error is a 503 from the app's handler: Slack retries events and
            # people see the click fail), processed by the inbox worker — or here first, when inline.
            stored = durable.store(inbox, body, request.content_type or "", *routed)
            if inbox.inline:
                inbox.process_now(stored)
            return Response("", status=200)
        try:
            return handler.handle(request)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError):
            # Signed, but not a Slack payload (JSON null, a list, broken form): Bolt's parser raises on those.
            # Listeners run after the ack, on Bolt's worker threads, so this never hides a bug of ours.
            return jsonify({"error": "malformed Slack payload"}), 400

    return bp
