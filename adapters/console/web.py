"""The sandbox web page and its small JSON API (the browser page and the tests use the same API)."""

from __future__ import annotations

import ipaddress
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from adapters.console.models import InboxItem
from bot.i18n import texts
from bot.ports import BotCorePort, InboundAction, InboundMessage
from domain.models import User

PAGE = Path(__file__).with_name("sandbox.html")


def _bad(message: str, status: int = 400) -> tuple[Response, int]:
    return jsonify({"error": message}), status


def _json_body() -> Any:
    try:
        return request.get_json(silent=True)
    except RecursionError:  # JSON nested thousands deep
        return None


def _user_number(raw: Any) -> int | None:
    """A user id as JSON or a query string sends it: a positive integer that fits the column, nothing else
    (not a bool, not 1e400 — which json reads as infinity — nor a 400-digit number)."""
    if isinstance(raw, str) and raw.isascii() and raw.isdecimal() and len(raw) <= 9:
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 < raw < 2**31:
        return raw
    return None


def _loopback_ip(text: str) -> bool:
    try:
        return ipaddress.ip_address(text.strip("[]")).is_loopback
    except ValueError:
        return False


def _loopback_host(host: str) -> bool:
    """The Host header names this machine by a loopback name: a page another site's DNS points here (DNS rebinding)
    names that site instead."""
    if host.startswith("["):  # [::1] or [::1]:8000
        name = host[1:host.find("]")] if "]" in host else ""
    else:
        name = host.split(":")[0] if host.count(":") == 1 else host
    return name.lower().rstrip(".") == "localhost" or _loopback_ip(name)


def sandbox_blueprint(core: BotCorePort, sessions: sessionmaker[Session], tz: ZoneInfo | None = None) -> Blueprint:
    bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")

    @bp.before_request
    def loopback_only() -> tuple[Response, int] | None:
        # The sandbox lets anyone act as anyone. `ordertalk serve` refuses to listen publicly with it on, but the app
        # may be served any other way (gunicorn bot.wsgi:app --bind 0.0.0.0): so every request is checked here.
        # The peer is the TCP peer (no proxy header is trusted); the Host check stops DNS rebinding.
        if not _loopback_ip(request.remote_addr or ""):
            return _bad("the sandbox only answers requests from this machine", 403)
        if not _loopback_host(request.host or ""):
            return _bad("the sandbox only answers to localhost / 127.0.0.1", 403)
        return None

    def user_id(raw: Any) -> int | None:
        uid = _user_number(raw)
        if uid is None:
            return None
        with sessions() as s:
            return uid if s.get(User, uid) is not None else None

    @bp.get("")
    @bp.get("/")
    def page() -> Response:
        return Response(PAGE.read_text(encoding="utf-8"), mimetype="text/html")

    @bp.get("/api/users")
    def users() -> Response:
        with sessions() as s:
            rows = s.scalars(select(User).where(User.active.is_(True)).order_by(User.id)).all()
            return jsonify([{"id": u.id, "name": u.display_name, "username": u.username,
                             "roles": sorted(r.value for r in u.roles), "locale": u.locale} for u in rows])

    @bp.post("/api/messages")
    def messages():  # type: ignore[no-untyped-def]
        body = _json_body()
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return _bad("expected JSON {\"user\": ID, \"text\": \"...\"}")
        uid = user_id(body.get("user"))
        if uid is None:
            return _bad("unknown user", 404)
        event_id = str(body.get("event_id") or uuid.uuid4())
        replies = core.handle_message(InboundMessage(platform="console", external_user_id=str(uid), text=body["text"][:4000],
                                                     event_id=event_id), deliver_replies=False)
        return jsonify({"replies": [r.model_dump(mode="json") for r in replies]})

    @bp.post("/api/actions")
    def actions():  # type: ignore[no-untyped-def]
        body = _json_body()
        if not isinstance(body, dict) or not isinstance(body.get("token"), str):
            return _bad("expected JSON {\"user\": ID, \"token\": \"...\", \"inputs\": {...}}")
        uid = user_id(body.get("user"))
        if uid is None:
            return _bad("unknown user", 404)
        inputs = body.get("inputs") or {}
        if not isinstance(inputs, dict):
            return _bad("inputs must be an object")
        event_id = str(body.get("event_id") or uuid.uuid4())
        replies = core.handle_action(InboundAction(platform="console", external_user_id=str(uid), token=body["token"],
                                                   inputs={str(k): str(v) for k, v in inputs.items()}, event_id=event_id),
                                     deliver_replies=False)
        return jsonify({"replies": [r.model_dump(mode="json") for r in replies]})

    @bp.get("/api/inbox")
    def inbox():  # type: ignore[no-untyped-def]
        uid = user_id(request.args.get("user"))
        if uid is None:
            return _bad("unknown user", 404)
        with sessions() as s:
            user = s.get(User, uid)
            t = texts(user.locale if user else None, tz or ZoneInfo("Asia/Shanghai"))
            items = s.scalars(select(InboxItem).where(InboxItem.user_id == uid).order_by(InboxItem.id)).all()
            # `stamp` is what the page shows: the local time in the persona's language (the ISO fields are data).
            return jsonify([{"id": i.id, "delivered_at": i.delivered_at.isoformat(),
                             "updated_at": i.updated_at.isoformat() if i.updated_at else None,
                             "stamp": t.datetime(i.delivered_at) + (" · " + t.t("updated {at}", at=t.time(i.updated_at))
                                                                    if i.updated_at else ""),
                             **i.payload} for i in items])

    @bp.get("/api/suggest")
    def suggest():  # type: ignore[no-untyped-def]
        uid = user_id(request.args.get("user"))
        if uid is None:
            return _bad("unknown user", 404)
        options = core.suggest("console", str(uid), request.args.get("source", ""), request.args.get("q", ""))
        return jsonify([o.model_dump() for o in options])

    return bp
