"""Thin DingTalk OpenAPI client: token cache, error mapping, and the four calls the adapter needs.

Errors become the core's two outcomes (bot.ports): RetryLater for what time can fix (QPS limits, 5xx,
timeouts, per-user flow control) and PermanentFailure for what needs a human (permissions, bad config,
unknown users). The outbox dispatcher owns backoff, give-up and admin alerts, so nothing here sleeps or loops.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import requests

from adapters.dingtalk.settings import DingTalkSettings
from bot.ports import PermanentFailure, RetryLater

log = logging.getLogger(__name__)

TOKEN_REFRESH_EARLY = 300.0  # seconds; the official SDK also refreshes 5 minutes before expiry (§3.3)
MAX_BATCH_USERS = 20  # §4.1: oToMessages/batchSend takes at most 20 userIds
QPS_RETRY_AFTER = 1.0  # §6.1: back off at least one second after a QPS answer
DEFAULT_TIMEOUT = 10.0
CARD_CALLBACK_ROUTE_KEY = "ordertalk"  # routes HTTP-mode card callbacks to /dingtalk/card-callback (§5.7)

_TOKEN_CODES = {"InvalidAuthentication", "40014", "88"}  # §7.2: refresh once, retry once
_QPS_CODES = {
    "Forbidden.AccessDenied.QpsLimitForApi",
    "Forbidden.AccessDenied.QpsLimitForAppkeyAndApi",
    "90002",
    "90018",
}
_CARD_EXISTS = "param.cardAlreadyExist"


@dataclass
class BatchSendResult:
    """Per-user outcome of one batchSend: a 200 does not mean every user got the message (§4.1)."""

    process_query_key: str | None
    invalid: set[str] = field(default_factory=set)
    flow_controlled: set[str] = field(default_factory=set)
    filtered: set[str] = field(default_factory=set)

    def delivered(self, user_ids: list[str]) -> list[str]:
        failed = self.invalid | self.flow_controlled | self.filtered
        return [u for u in user_ids if u not in failed]


class CardAlreadyExists(PermanentFailure):
    """`param.cardAlreadyExist`: only meaningful to create_and_deliver_card, which counts it as success."""


def _error_code(body: Any) -> str:
    if isinstance(body, dict):
        for key in ("code", "errcode"):
            if body.get(key) not in (None, 0, "0", ""):
                return str(body[key])
    return ""


def _retry_after(resp: requests.Response, default: float | None) -> float | None:
    raw = resp.headers.get("Retry-After")
    try:
        return max(float(raw), 0.0) if raw else default
    except ValueError:
        return default


class DingTalkClient:
    def __init__(self, settings: DingTalkSettings, session: requests.Session | None = None, *,
                 clock: Callable[[], float] = time.monotonic, timeout: float = DEFAULT_TIMEOUT) -> None:
        if not settings.dingtalk_app_key or settings.dingtalk_app_secret is None:
            raise ValueError("DingTalk is not configured (ORDERTALK_DINGTALK_APP_KEY / _APP_SECRET)")
        self._app_key = settings.dingtalk_app_key
        self._secret = settings.dingtalk_app_secret  # SecretStr: unwrapped only when sent
        self.robot_code = settings.dingtalk_robot_code or settings.dingtalk_app_key  # §0: equals the AppKey
        self._base = settings.dingtalk_api_url.rstrip("/")
        self._oapi = settings.dingtalk_oapi_url.rstrip("/")  # the old API: media/upload
        self._http = session or requests.Session()
        self._clock = clock
        self._timeout = timeout
        self._lock = threading.Lock()  # single-flight token refresh across dispatcher threads
        self._token: str | None = None
        self._token_expires = 0.0

    # ------------------------------------------------------------------ token

    def access_token(self) -> str:
        with self._lock:
            if self._token and self._clock() < self._token_expires - TOKEN_REFRESH_EARLY:
                return self._token
            body = self._post_token()
            token, expire_in = body.get("accessToken"), body.get("expireIn", 7200)
            if not isinstance(token, str) or not token:
                raise RetryLater("DingTalk token answer without accessToken")
            self._token = token
            self._token_expires = self._clock() + float(expire_in)
            return token

    def invalidate_token(self, token: str) -> None:
        """Drop the cached token, unless another thread already replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _post_token(self) -> dict[str, Any]:
        payload = {"appKey": self._app_key, "appSecret": self._secret.get_secret_value()}
        resp = self._send("POST", "/v1.0/oauth2/accessToken", payload, token=None)
        if resp.status_code == 200:
            return self._json(resp)
        body = self._json_or_none(resp)
        code = _error_code(body)
        if code in _QPS_CODES or resp.status_code == 429:
            raise RetryLater(f"DingTalk token API throttled ({code or resp.status_code})",
                             _retry_after(resp, QPS_RETRY_AFTER))
        if resp.status_code >= 500:
            raise RetryLater(f"DingTalk token API HTTP {resp.status_code}", _retry_after(resp, None))
        # invalidClientIdOrSecret and friends: retrying cannot help; the admin must fix the settings.
        raise PermanentFailure(f"DingTalk token API refused the app credentials ({code or resp.status_code})")

    # ------------------------------------------------------------------ transport

    def _send(self, method: str, path: str, payload: dict[str, Any], token: str | None) -> requests.Response:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["x-acs-dingtalk-access-token"] = token
        try:
            return self._http.request(method, self._base + path, data=json.dumps(payload, ensure_ascii=False)
                                      .encode("utf-8"), headers=headers, timeout=self._timeout)
        except requests.Timeout:
            # The call may still have gone through; the caller's idempotency (outTrackId) covers cards.
            raise RetryLater(f"DingTalk {path} timed out") from None
        except requests.RequestException as exc:
            raise RetryLater(f"DingTalk {path} unreachable: {type(exc).__name__}") from None

    @staticmethod
    def _json_or_none(resp: requests.Response) -> Any:
        try:
            return resp.json()
        except ValueError:
            return None

    def _json(self, resp: requests.Response) -> dict[str, Any]:
        body = self._json_or_none(resp)
        if not isinstance(body, dict):
            # §6.1: the per-IP punishment answers with HTML or {"status":1111,"wait":5,"punish":"deny"}.
            raise RetryLater(f"DingTalk answered HTTP {resp.status_code} without a JSON object")
        if body.get("punish"):
            wait = body.get("wait")
            raise RetryLater("DingTalk IP rate punishment", float(wait) * 60 if isinstance(wait, int | float)
                             else 300.0)
        return body

    def call(self, method: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """One authenticated OpenAPI call; refreshes the token once if DingTalk says it is invalid."""
        for attempt in (1, 2):
            token = self.access_token()
            resp = self._send(method, path, payload, token)
            body = self._json_or_none(resp)
            code = _error_code(body)
            if resp.status_code == 401 or code in _TOKEN_CODES:
                self.invalidate_token(token)
                if attempt == 1:
                    log.info("DingTalk rejected the access token on %s; refreshing once", path)
                    continue
                raise RetryLater(f"DingTalk rejected a fresh access token on {path}")
            if 200 <= resp.status_code < 300 and not code:
                return self._json(resp)
            self._raise_for(path, resp, body, code)
        raise AssertionError("unreachable")

    @staticmethod
    def _raise_for(path: str, resp: requests.Response, body: Any, code: str) -> None:
        status = resp.status_code
        message = (body.get("message") or body.get("errmsg") or "") if isinstance(body, dict) else ""
        what = f"DingTalk {path}: HTTP {status} {code} {message}".strip()
        if status == 429 or code in _QPS_CODES:  # the app's QPS for this API (§6.1): every message waits it out
            raise RetryLater(what, _retry_after(resp, QPS_RETRY_AFTER), hold=True)
        if isinstance(body, dict) and body.get("punish"):
            raise RetryLater(what, 300.0)
        if status >= 500 or code == "system.busy":
            raise RetryLater(what, _retry_after(resp, None))
        if code == _CARD_EXISTS:
            raise CardAlreadyExists(what)
        # 403 Forbidden.AccessDenied.*, invalidParameter.robotCode.*, param.*, invalid.openConversationId…
        raise PermanentFailure(what)

    # ------------------------------------------------------------------ media

    def upload_media(self, kind: Literal["image", "file"], filename: str, data: bytes, mime: str) -> str:
        """POST oapi /media/upload?access_token=… (multipart: form field `type`, file field `media`, as the official
        SDK's upload_to_dingtalk does, §4.3): the media_id, which a robot message then names (sampleImageMsg
        photoURL). The old API answers errors as HTTP 200 with a non-zero errcode; the same token rules apply."""
        path = "/media/upload"
        for attempt in (1, 2):
            token = self.access_token()
            try:
                resp = self._http.post(self._oapi + path, params={"access_token": token}, data={"type": kind},
                                       files={"media": (filename, data, mime)}, timeout=self._timeout)
            except requests.Timeout:
                raise RetryLater(f"DingTalk {path} timed out") from None
            except requests.RequestException as exc:  # the URL holds the token: never str(exc)
                raise RetryLater(f"DingTalk {path} unreachable: {type(exc).__name__}") from None
            body = self._json_or_none(resp)
            code = _error_code(body)
            if resp.status_code == 401 or code in _TOKEN_CODES:
                self.invalidate_token(token)
                if attempt == 1:
                    continue
                raise RetryLater(f"DingTalk rejected a fresh access token on {path}")
            if 200 <= resp.status_code < 300 and not code:
                media_id = self._json(resp).get("media_id")
                if not isinstance(media_id, str) or not media_id:
                    raise RetryLater(f"DingTalk {path} answer without media_id")
                return media_id
            self._raise_for(path, resp, body, code)
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------ robot messages

    def batch_send(self, user_ids: list[str], msg_key: str, msg_param: dict[str, Any]) -> BatchSendResult:
        """POST /v1.0/robot/oToMessages/batchSend to ≤ 20 users; per-user failures are in the result."""
        if not 0 < len(user_ids) <= MAX_BATCH_USERS:
            raise ValueError(f"batchSend takes 1..{MAX_BATCH_USERS} userIds, got {len(user_ids)}")
        body = self.call("POST", "/v1.0/robot/oToMessages/batchSend", {
            "robotCode": self.robot_code,
            "userIds": user_ids,
            "msgKey": msg_key,
            "msgParam": json.dumps(msg_param, ensure_ascii=False),  # a JSON string, not an object (§4.1)
        })

        def ids(key: str) -> set[str]:
            value = body.get(key)
            return {str(v) for v in value} if isinstance(value, list) else set()

        return BatchSendResult(
            process_query_key=body.get("processQueryKey"),
            invalid=ids("invalidStaffIdList"),
            flow_controlled=ids("flowControlledStaffIdList"),
            filtered=ids("filteredStaffIdList"),
        )

    def send_to_user(self, user_id: str, msg_key: str, msg_param: dict[str, Any]) -> str:
        """Send to one user; raises unless DingTalk confirms this user was not refused. Returns the key."""
        result = self.batch_send([user_id], msg_key, msg_param)
        if user_id in result.flow_controlled:
            raise RetryLater(f"DingTalk flow-controls messages to user {user_id}", QPS_RETRY_AFTER)
        if user_id in result.invalid:
            raise PermanentFailure(f"DingTalk does not know staff id {user_id}")
        if user_id in result.filtered:
            # filteredStaffIdList is undocumented (§4.1): not delivered, and nothing says a retry helps.
            raise PermanentFailure(f"DingTalk filtered the message to user {user_id}")
        if not result.process_query_key:
            raise RetryLater("DingTalk batchSend answer without processQueryKey")
        return result.process_query_key

    def group_send(self, open_conversation_id: str, msg_key: str, msg_param: dict[str, Any]) -> str:
        """POST /v1.0/robot/groupMessages/send; returns the processQueryKey."""
        body = self.call("POST", "/v1.0/robot/groupMessages/send", {
            "robotCode": self.robot_code,
            "openConversationId": open_conversation_id,
            "msgKey": msg_key,
            "msgParam": json.dumps(msg_param, ensure_ascii=False),
        })
        key = body.get("processQueryKey")
        if not isinstance(key, str) or not key:
            raise RetryLater("DingTalk group send answer without processQueryKey")
        return key

    # ------------------------------------------------------------------ interactive cards

    def create_and_deliver_card(self, *, template_id: str, out_track_id: str, params: dict[str, str],
                                recipient: str, recipient_kind: Literal["user", "group"],
                                callback_type: Literal["STREAM", "HTTP"] = "STREAM",
                                preview: dict[str, str] | None = None) -> None:
        """POST /v1.0/card/instances/createAndDeliver (§5.3). Idempotent on `out_track_id`."""
        payload: dict[str, Any] = {
            "cardTemplateId": template_id,
            "outTrackId": out_track_id,
            "callbackType": callback_type,
            "cardData": {"cardParamMap": params},
            "userIdType": 1,
        }
        if callback_type == "HTTP":
            payload["callbackRouteKey"] = CARD_CALLBACK_ROUTE_KEY
        space: dict[str, Any] = {"supportForward": False}
        if preview:
            space["lastMessageI18n"] = preview  # {"ZH_CN": …, "EN_US": …}: shown in the reader's client language
        if recipient_kind == "group":
            payload["openSpaceId"] = f"dtv1.card//IM_GROUP.{recipient}"
            payload["imGroupOpenSpaceModel"] = space
            payload["imGroupOpenDeliverModel"] = {"robotCode": self.robot_code}
        else:
            payload["openSpaceId"] = f"dtv1.card//IM_ROBOT.{recipient}"
            payload["imRobotOpenSpaceModel"] = space
            payload["imRobotOpenDeliverModel"] = {"spaceType": "IM_ROBOT", "robotCode": self.robot_code}
        try:
            body = self.call("POST", "/v1.0/card/instances/createAndDeliver", payload)
        except CardAlreadyExists:
            # Our outTrackIds are derived from the outbox row, so this is our own earlier attempt whose answer
            # was lost (timeout, crash): the card exists, a second create would not make another one.
            log.info("DingTalk card %s already exists; treating the retried create as done", out_track_id)
            return
        result = body.get("result") if isinstance(body.get("result"), dict) else {}
        results = result.get("deliverResults") or []
        failed = [r for r in results if isinstance(r, dict) and r.get("success") is False]
        if body.get("success") is False or (results and len(failed) == len(results)):
            reason = "; ".join(str(r.get("errorMsg") or "") for r in failed) or "success=false"
            # Not RetryLater: a retry hits "card already exists" and would wrongly count as delivered.
            raise PermanentFailure(f"DingTalk created card {out_track_id} but could not deliver it: {reason}")

    def update_card(self, out_track_id: str, params: dict[str, str]) -> None:
        """PUT /v1.0/card/instances, merging by key so variables we do not send stay as they are (§5.5)."""
        body = self.call("PUT", "/v1.0/card/instances", {
            "outTrackId": out_track_id,
            "cardData": {"cardParamMap": params},
            "cardUpdateOptions": {"updateCardDataByKey": True},
            "userIdType": 1,
        })
        if body.get("success") is False:
            raise PermanentFailure(f"DingTalk refused to update card {out_track_id}")

    def register_card_callback(self, callback_url: str, *, force: bool = False) -> None:
        """One-off setup for HTTP-mode card clicks (§5.7). The apiSecret is the app secret, which is what
        http_callbacks.py verifies `x-ddpaas-signature` with."""
        self.call("POST", "/v1.0/card/callbacks/register", {
            "callbackRouteKey": CARD_CALLBACK_ROUTE_KEY,
            "callbackUrl": callback_url,
            "apiSecret": self._secret.get_secret_value(),
            "forceUpdate": force,
        })
