"""A fake DingTalk OpenAPI on localhost (dingtalk.md §8.1): token API, robot sends, cards, Stream gateway, and the
old API's media/upload (token in the query, errors as HTTP 200 with an errcode), whose media_ids an image message
(sampleImageMsg photoURL) must name.

It validates what the real service validates (token, 20-user cap, msgParam as a JSON string, string-only
cardParamMap, openSpaceId shape, duplicate outTrackId) and can be scripted to fail the way DingTalk fails.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

APP_KEY = "dingorderbot01"
APP_SECRET = "test-secret"

_OPEN_SPACE = re.compile(r"^dtv1\.card//[A-Z_]+\..+")


@dataclass
class FakeState:
    expire_in: int = 7200
    valid_tokens: set[str] = field(default_factory=set)
    token_calls: int = 0
    invalid_token_once: bool = False  # next API call answers InvalidAuthentication despite a valid token
    qps_limit_once: bool = False  # next API call answers 403 QpsLimitForAppkeyAndApi
    server_error_once: bool = False  # next API call answers 500 system.busy
    forbidden: bool = False  # every API call answers 403 AccessTokenPermissionDenied
    card_deliver_fails: bool = False  # createAndDeliver creates the card but deliverResults[].success=false
    invalid_users: set[str] = field(default_factory=set)
    flow_controlled_users: set[str] = field(default_factory=set)
    cards: dict[str, dict[str, Any]] = field(default_factory=dict)  # outTrackId → create body (+ updates)
    card_updates: list[dict[str, Any]] = field(default_factory=list)
    batch_sends: list[dict[str, Any]] = field(default_factory=list)
    group_sends: list[dict[str, Any]] = field(default_factory=list)
    api_calls: list[str] = field(default_factory=list)
    ws_endpoint: str = ""  # set by the Stream test
    tickets: set[str] = field(default_factory=set)
    gateway_requests: list[dict[str, Any]] = field(default_factory=list)
    callback_routes: dict[str, dict[str, Any]] = field(default_factory=dict)  # routeKey → registration
    media: dict[str, dict[str, Any]] = field(default_factory=dict)  # media_id → type, filename, mime, data
    uploads_down: int = 0  # the next N media/upload calls answer HTTP 503
    uploads_refused: bool = False  # media/upload answers errcode 40005 (file type refused): no retry helps
    forgotten_media: set[str] = field(default_factory=set)  # media_ids DingTalk no longer knows

    def revoke_tokens(self) -> None:
        """DingTalk-side expiry: every issued token stops working."""
        self.valid_tokens.clear()


def _err(status: int, code: str, message: str = "") -> Any:
    resp = jsonify({"code": code, "message": message or code, "requestid": uuid.uuid4().hex})
    resp.status_code = status
    return resp


def create_fake_app(state: FakeState) -> Flask:
    app = Flask("fake_dingtalk")
    counter = itertools.count(1)
    lock = threading.Lock()

    @app.post("/v1.0/oauth2/accessToken")
    def token() -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _err(400, "MissingBody", "body is mandatory")
        if body.get("appKey") != APP_KEY or body.get("appSecret") != APP_SECRET:
            return _err(400, "invalidClientIdOrSecret")
        with lock:
            state.token_calls += 1
            tok = f"tok-{next(counter)}"
            state.valid_tokens.add(tok)
        return jsonify({"accessToken": tok, "expireIn": state.expire_in})

    def guard() -> Any:
        """Common checks for every authenticated API; returns an error response or None."""
        state.api_calls.append(f"{request.method} {request.path}")
        tok = request.headers.get("x-acs-dingtalk-access-token")
        if state.invalid_token_once:
            state.invalid_token_once = False
            state.valid_tokens.discard(tok or "")
            return _err(400, "InvalidAuthentication", "不合法的access_token")
        if tok not in state.valid_tokens:
            return _err(400, "InvalidAuthentication", "不合法的access_token")
        if state.qps_limit_once:
            state.qps_limit_once = False
            return _err(403, "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi")
        if state.server_error_once:
            state.server_error_once = False
            return _err(500, "system.busy")
        if state.forbidden:
            return _err(403, "Forbidden.AccessDenied.AccessTokenPermissionDenied")
        return None

    def msg_param_ok(body: dict[str, Any]) -> bool:
        raw = body.get("msgParam")
        if not isinstance(raw, str) or len(raw.encode()) > 15000:
            return False
        try:
            return isinstance(json.loads(raw), dict)
        except ValueError:
            return False

    def image_ok(body: dict[str, Any]) -> bool:
        """A sampleImageMsg must name media we hold (or a URL)."""
        if body.get("msgKey") != "sampleImageMsg":
            return True
        photo = str(json.loads(body["msgParam"]).get("photoURL") or "")
        return photo.startswith("http") or (photo in state.media and photo not in state.forgotten_media)

    @app.post("/media/upload")
    def media_upload() -> Any:
        state.api_calls.append(f"{request.method} {request.path}")
        if state.uploads_down:
            state.uploads_down -= 1
            return "upstream unavailable", 503
        if request.args.get("access_token") not in state.valid_tokens:
            return jsonify({"errcode": 40014, "errmsg": "不合法的access_token"})
        if state.uploads_refused:
            return jsonify({"errcode": 40005, "errmsg": "不合法的文件类型"})
        upload = request.files.get("media")
        kind = request.form.get("type")
        if upload is None or kind not in {"image", "voice", "video", "file"}:
            return jsonify({"errcode": 40004, "errmsg": "不合法的媒体文件类型"})
        data = upload.read()
        if kind == "image" and (upload.mimetype not in {"image/png", "image/jpeg", "image/gif", "image/bmp"}
                                or len(data) > 20 * 1024 * 1024):
            return jsonify({"errcode": 40005, "errmsg": "不合法的文件类型"})
        media_id = f"@lAz{next(counter):04d}"
        state.media[media_id] = {"type": kind, "filename": upload.filename, "mime": upload.mimetype, "data": data}
        return jsonify({"errcode": 0, "errmsg": "ok", "type": kind, "media_id": media_id, "created_at": 1795000000000})

    @app.post("/v1.0/robot/oToMessages/batchSend")
    def batch_send() -> Any:
        if (e := guard()) is not None:
            return e
        body = request.get_json()
        if body.get("robotCode") != APP_KEY:
            return _err(400, "invalidParameter.robotCode.auth")
        users = body.get("userIds") or []
        if not users:
            return _err(400, "invalidParameter.userIds.empty")
        if len(users) > 20:
            return _err(400, "invalidParameter.userIds.overMax")
        if body.get("msgKey") not in {"sampleText", "sampleMarkdown", "sampleImageMsg"} or not msg_param_ok(body):
            return _err(400, "invalidParameter.msgParam.invalid")
        if not image_ok(body):
            return _err(400, "invalidParameter.msgParam.photoURL")
        state.batch_sends.append(body)
        return jsonify({
            "processQueryKey": f"pqk-{next(counter)}",
            "invalidStaffIdList": [u for u in users if u in state.invalid_users],
            "flowControlledStaffIdList": [u for u in users if u in state.flow_controlled_users],
            "filteredStaffIdList": [],
        })

    @app.post("/v1.0/robot/groupMessages/send")
    def group_send() -> Any:
        if (e := guard()) is not None:
            return e
        body = request.get_json()
        if body.get("robotCode") != APP_KEY:
            return _err(400, "invalidParameter.robotCode.auth")
        if not str(body.get("openConversationId", "")).startswith("cid"):
            return _err(400, "invalid.openConversationId")
        if not msg_param_ok(body):
            return _err(400, "invalidParameter.msgParam.invalid")
        if not image_ok(body):
            return _err(400, "invalidParameter.msgParam.photoURL")
        state.group_sends.append(body)
        return jsonify({"processQueryKey": f"pqk-{next(counter)}"})

    def card_map_ok(body: dict[str, Any]) -> bool:
        params = (body.get("cardData") or {}).get("cardParamMap")
        return isinstance(params, dict) and all(
            isinstance(k, str) and isinstance(v, str) and len(v.encode()) <= 1024 for k, v in params.items())

    @app.post("/v1.0/card/instances/createAndDeliver")
    def create_and_deliver() -> Any:
        if (e := guard()) is not None:
            return e
        body = request.get_json()
        if not body.get("cardTemplateId"):
            return _err(400, "param.cardTemplateIdEmpty")
        if not body.get("outTrackId"):
            return _err(400, "param.outTrackIdEmpty")
        if not _OPEN_SPACE.match(str(body.get("openSpaceId", ""))):
            return _err(400, "param.openSpaceIdInvalid")
        if body.get("callbackType") not in {"STREAM", "HTTP"}:
            return _err(400, "param.invalid")
        if body["callbackType"] == "HTTP" and not body.get("callbackRouteKey"):
            return _err(400, "param.invalid", "callbackRouteKey is required for HTTP callbacks")
        if not card_map_ok(body):
            return _err(400, "param.invalid", "cardParamMap values must be strings ≤ 1 KB")
        with lock:
            if body["outTrackId"] in state.cards:
                return _err(400, "param.cardAlreadyExist")
            state.cards[body["outTrackId"]] = body
        space_type, space_id = body["openSpaceId"].split("//", 1)[1].split(".", 1)
        return jsonify({"success": True, "result": {"outTrackId": body["outTrackId"], "deliverResults": [
            {"spaceType": space_type, "spaceId": space_id, "success": not state.card_deliver_fails, "carrierId": "c1",
             "errorMsg": "robot not in group" if state.card_deliver_fails else ""}]}})

    @app.put("/v1.0/card/instances")
    def update_card() -> Any:
        if (e := guard()) is not None:
            return e
        body = request.get_json()
        card = state.cards.get(body.get("outTrackId", ""))
        if card is None:
            return _err(400, "param.cardNotExist")
        if not card_map_ok(body):
            return _err(400, "param.invalid")
        state.card_updates.append(body)
        new = body["cardData"]["cardParamMap"]
        if (body.get("cardUpdateOptions") or {}).get("updateCardDataByKey"):
            card["cardData"]["cardParamMap"].update(new)
        else:
            card["cardData"]["cardParamMap"] = dict(new)
        return jsonify({"success": True, "result": True})

    @app.post("/v1.0/card/callbacks/register")
    def register_callback() -> Any:
        if (e := guard()) is not None:
            return e
        body = request.get_json(silent=True) or {}
        key, url = body.get("callbackRouteKey"), body.get("callbackUrl")
        if not isinstance(key, str) or not key or not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return _err(400, "param.invalid", "callbackRouteKey and callbackUrl are required")
        with lock:
            if key in state.callback_routes and not body.get("forceUpdate"):
                return jsonify({"success": True, "result": state.callback_routes[key]})  # returns the current one
            state.callback_routes[key] = {"callbackUrl": url, "apiSecret": body.get("apiSecret"),
                                          "callbackRouteKey": key}
        return jsonify({"success": True, "result": state.callback_routes[key]})

    @app.post("/v1.0/gateway/connections/open")
    def open_connection() -> Any:
        body = request.get_json(silent=True) or {}
        state.gateway_requests.append({"body": body, "accept": request.headers.get("Accept")})
        if body.get("clientId") != APP_KEY or body.get("clientSecret") != APP_SECRET:
            return _err(401, "invalidClientIdOrSecret")
        if request.headers.get("Accept") != "application/json" or not state.ws_endpoint:
            return _err(400, "bad request")
        ticket = str(uuid.uuid4())
        state.tickets.add(ticket)
        return jsonify({"endpoint": state.ws_endpoint, "ticket": ticket})

    return app


class FakeDingTalk:
    """The fake served on 127.0.0.1:<free port> in a background thread."""

    def __init__(self) -> None:
        self.state = FakeState()
        self._server = make_server("127.0.0.1", 0, create_fake_app(self.state), threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def start(self) -> FakeDingTalk:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
