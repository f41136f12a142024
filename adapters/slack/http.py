"""Flask mount: one URL for Events API, interactivity, the slash command and external-select options.

Bolt sorts the requests by body shape and verifies the signature on the raw body, so nothing may read
`request.form` before the handler (Werkzeug would drain the stream and every request would get 401).
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from slack_bolt import App
from slack_bolt.adapter.flask import SlackRequestHandler

EVENTS_PATH = "/slack/events"


def slack_blueprint(app: App, *, name: str = "slack") -> Blueprint:
    handler = SlackRequestHandler(app)
    bp = Blueprint(name, __name__)

    @bp.post(EVENTS_PATH)
    def slack_events() -> Response:
        return handler.handle(request)

    return bp
