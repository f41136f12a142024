"""Socket Mode through the durable inbox: an envelope that the HTTP endpoint would store (a message or mention to
the bot, a click, a slash command: `adapters.slack.inbox.route`) is stored first and its envelope acknowledged only
after that commit. If it cannot be stored (database down) it is not acknowledged, and Slack sends it again. The
inbox worker replays it through the same Bolt replay app as an HTTP request. Everything else is dispatched by Bolt
as before (listener first, then the ack)."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from adapters.slack import inbox as durable
from adapters.slack.inbox import Parsed
from bot.ports import InboxPort

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json"  # the envelope's payload is stored as JSON; Bolt reads it back as the same dict


def parsed(req: SocketModeRequest) -> Parsed | None:
    """The envelope's payload in the shape the HTTP endpoint parses a body into, or None (not one we route)."""
    payload = req.payload
    if not isinstance(payload, dict):
        return None
    if req.type == "events_api":
        return Parsed(data=payload)
    if req.type == "interactive":
        return Parsed(form={}, payload=payload)
    if req.type == "slash_commands":
        return Parsed(form={k: [str(v)] for k, v in payload.items()})
    return None


class InboxSocketModeHandler(SocketModeHandler):
    def __init__(self, app: App, inbox: InboxPort, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.inbox = inbox

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        shape = parsed(req)
        body = json.dumps(req.payload).encode() if shape is not None else b""
        routed = durable.route(shape, body) if shape is not None else None
        if routed is None:
            super().handle(client, req)  # type: ignore[arg-type]
            return
        try:
            stored = durable.store(self.inbox, body, CONTENT_TYPE, *routed)
        except Exception:  # database down (or any failure to commit): no ack, so Slack delivers it again
            log.exception("Slack Socket Mode envelope %s not stored: left unacknowledged", req.envelope_id)
            return
        client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        if self.inbox.inline:
            self.inbox.process_now(stored)
