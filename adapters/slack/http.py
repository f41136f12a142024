"""Flask mount: one URL for Events API, interactivity, the slash command and external-select options.

Bolt sorts the requests by body shape and verifies the signature on the raw body, so nothing may read
`request.form` before the handler (Werkzeug would drain the stream and every request would get 401).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs

from flask import Blueprint, Response, jsonify, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier

EVENTS_PATH = "/slack/events"


def _looks_like_slack(body: bytes, content_type: str) -> bool:
    """The shapes Slack sends: an Events API JSON object with a type, an interactivity form with a JSON `payload`
    object that has a type, or a slash-command form. Anything else is refused before Bolt sees it."""
    try:
        if content_type.startswith("application/json"):
            data = json.loads(body)
            return isinstance(data, dict) and isinstance(data.get("type"), str)
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (ValueError, UnicodeDecodeError):
        return False
    if "payload" in form:
        try:
            payload = json.loads(form["payload"][0])
        except ValueError:
            return False
        return isinstance(payload, dict) and isinstance(payload.get("type"), str)
    return "command" in form or "ssl_check" in form


def slack_blueprint(app: App, *, name: str = "slack", signing_secret: str | None = None) -> Blueprint:
    handler = SlackRequestHandler(app)
    verifier = SignatureVerifier(signing_secret) if signing_secret else None
    bp = Blueprint(name, __name__)

    @bp.post(EVENTS_PATH)
    def slack_events() -> Response | tuple[Response, int]:
        # Bolt parses the body before it checks the signature, and a malformed body makes that parse raise:
        # check the signature on the raw bytes first, so a forged or broken request is a clear 4xx, never a 500.
        body = request.get_data(cache=True)
        if verifier is not None and not verifier.is_valid_request(body, dict(request.headers)):
            return jsonify({"error": "invalid or stale Slack signature"}), 401
        if not _looks_like_slack(body, request.content_type or ""):
            return jsonify({"error": "malformed Slack payload"}), 400
        try:
            return handler.handle(request)
        except (ValueError, TypeError, AttributeError, KeyError):
            # Signed, but not a Slack payload (JSON null, a list, broken form): Bolt's parser raises on those.
            # Listeners run after the ack, on Bolt's worker threads, so this never hides a bug of ours.
            return jsonify({"error": "malformed Slack payload"}), 400

    return bp
