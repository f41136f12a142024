"""Thin WeCom server-API client: cached access token, one refresh-and-retry, errcodes → RetryLater/PermanentFailure.

Decisions follow wecom.md §3 and §7: decide on `errcode` only (errmsg text changes), retry only system errors,
frequency limits, token errors and transport failures. Secrets and tokens travel in URLs, so exception text from
`requests` (which quotes the URL) is never put into a reason or a log line.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from adapters.wecom.settings import WeComSettings
from bot.ports import PermanentFailure, RetryLater

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40014, 42001, 40001}  # invalid / expired / "invalid credential": refresh once, retry once
RATE_LIMITS = {45009: 60.0, 45033: 10.0}  # minute window blocks for 60 s (§6.1); concurrency clears sooner
HOLD_METHOD = {45009}  # the API's frequency limit (per app): hold the method's bucket; 45033 is concurrency
SYSTEM_BUSY = -1
MAX_REFRESH_MARGIN = 300.0  # refresh 5 minutes before WeCom says the token expires


class WeComClient:
    def __init__(
        self,
        settings: WeComSettings,
        session: requests.Session | None = None,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not settings.wecom_corp_id or settings.wecom_secret is None:
            raise ValueError("ORDERTALK_WECOM_CORP_ID and ORDERTALK_WECOM_SECRET are required")
        if settings.wecom_agent_id is None:
            raise ValueError("ORDERTALK_WECOM_AGENT_ID is required to send app messages")
        self._corp_id = settings.wecom_corp_id
        self._secret = settings.wecom_secret
        self.agent_id: int = settings.wecom_agent_id
        self._base = settings.wecom_api_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_expires_at = 0.0

    # -- access token --------------------------------------------------------------------------------------

    def access_token(self) -> str:
        # single-flight: one thread fetches, the others wait on the lock and then reuse its token
        with self._lock:
            if self._token is None or self._clock() >= self._token_expires_at:
                self._token, self._token_expires_at = self._fetch_token()
            return self._token

    def _invalidate(self, stale: str) -> None:
        with self._lock:
            if self._token == stale:  # another thread may already have replaced it
                self._token = None

    def _fetch_token(self) -> tuple[str, float]:
        data = self._request(
            "GET",
            "/cgi-bin/gettoken",
            params={"corpid": self._corp_id, "corpsecret": self._secret.get_secret_value()},
        )
        code = int(data.get("errcode", 0))
        if code != 0:
            # on gettoken, 40001 means a wrong secret: configuration, not an expired token
            raise self._error("gettoken", data, token_call=True)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise RetryLater("gettoken: answer without access_token")
        expires_in = float(data.get("expires_in") or 7200)
        margin = min(MAX_REFRESH_MARGIN, expires_in / 10)  # short test expiries still get cached a while
        log.info("wecom access token refreshed (expires in %.0fs)", expires_in)
        return token, self._clock() + expires_in - margin

    # -- transport -----------------------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, params: dict[str, str], body: dict[str, Any] | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"params": params, "timeout": self._timeout}
        if files is not None:
            kwargs["files"] = files  # multipart/form-data, each part with its filename and content type
        elif body is not None:
            # raw UTF-8: WeCom rejects \uXXXX escapes (40033)
            kwargs["data"] = json.dumps(body, ensure_ascii=False).encode("utf-8")
            kwargs["headers"] = {"Content-Type": "application/json; charset=utf-8"}
        try:
            resp = self._session.request(method, self._base + path, **kwargs)
        except requests.RequestException as exc:
            raise RetryLater(f"{path}: {type(exc).__name__}") from None  # the URL holds secrets: no str(exc)
        if resp.status_code == 429 or resp.status_code >= 500:
            raise RetryLater(f"{path}: HTTP {resp.status_code}", retry_after=_retry_after(resp))
        if resp.status_code != 200:
            raise PermanentFailure(f"{path}: HTTP {resp.status_code}")
        try:
            data = resp.json()
        except ValueError:
            raise RetryLater(f"{path}: answer is not JSON") from None
        if not isinstance(data, dict):
            raise RetryLater(f"{path}: answer is not a JSON object")
        return data

    def _error(self, path: str, data: dict[str, Any], *, token_call: bool = False) -> Exception:
        code = int(data.get("errcode", 0))
        reason = f"{path}: errcode {code} {str(data.get('errmsg', ''))[:300]}"
        if code == SYSTEM_BUSY:
            return RetryLater(reason)
        if code in RATE_LIMITS:
            # 45009 is the app's frequency limit for the API: every message waits it out, not only this one
            return RetryLater(reason, retry_after=RATE_LIMITS[code], hold=code in HOLD_METHOD)
        if code in TOKEN_ERRORS and not token_call:
            return RetryLater(reason)  # the token was refreshed once already; try again later, not forever
        return PermanentFailure(reason)

    def call(self, path: str, body: dict[str, Any] | None, *, query: dict[str, str] | None = None,
             files: dict[str, tuple[str, bytes, str]] | None = None) -> dict[str, Any]:
        """POST `body` (or multipart `files`) to `path` with the access token; refresh once on a token error.
        Returns errcode-0 JSON."""
        for attempt in (1, 2):
            token = self.access_token()
            data = self._request("POST", path, params={"access_token": token, **(query or {})}, body=body,
                                 files=files)
            code = int(data.get("errcode", 0))
            if code == 0:
                return data
            if code in TOKEN_ERRORS and attempt == 1:
                log.info("wecom %s: token rejected (errcode %s), refreshing", path, code)
                self._invalidate(token)
                continue
            raise self._error(path, data)
        raise AssertionError("unreachable")

    # -- messages ------------------------------------------------------------------------------------------

    def _send(self, touser: str, msgtype: str, content: dict[str, Any]) -> dict[str, Any]:
        data = self.call(
            "/cgi-bin/message/send",
            {"touser": touser, "msgtype": msgtype, "agentid": self.agent_id, msgtype: content, "safe": 0},
        )
        # errcode 0 can still mean "not delivered to you": WeCom lists such users (lower-cased) instead
        _check_recipients("message/send", touser, data)
        return data

    def send_text(self, touser: str, content: str) -> dict[str, Any]:
        return self._send(touser, "text", {"content": content})

    def send_markdown(self, touser: str, content: str) -> dict[str, Any]:
        return self._send(touser, "markdown", {"content": content})

    def upload_media(self, kind: str, filename: str, data: bytes, mime: str) -> str:
        """POST /cgi-bin/media/upload?type=`kind` (multipart field "media"): the media_id, good for three days."""
        answer = self.call("/cgi-bin/media/upload", None, query={"type": kind},
                           files={"media": (filename, data, mime)})
        media_id = answer.get("media_id")
        if not isinstance(media_id, str) or not media_id:
            raise RetryLater("media/upload: answer without media_id")
        return media_id

    def send_image(self, touser: str, media_id: str) -> dict[str, Any]:
        return self._send(touser, "image", {"media_id": media_id})

    def send_template_card(self, touser: str, template_card: dict[str, Any]) -> dict[str, Any]:
        """Returns the answer with `msgid` and, for interactive cards, the send-time `response_code`."""
        return self._send(touser, "template_card", template_card)

    def update_template_card(
        self,
        userids: list[str],
        response_code: str,
        *,
        template_card: dict[str, Any] | None = None,
        replace_name: str | None = None,
    ) -> dict[str, Any]:
        if (template_card is None) == (replace_name is None):
            raise ValueError("give exactly one of template_card / replace_name")
        body: dict[str, Any] = {"userids": userids, "agentid": self.agent_id, "response_code": response_code}
        if template_card is not None:
            body["template_card"] = template_card
        else:
            body["button"] = {"replace_name": replace_name}
        data = self.call("/cgi-bin/message/update_template_card", body)
        _check_recipients("update_template_card", "|".join(userids), data)
        return data

    def appchat_send(self, chatid: str, msgtype: str, content: dict[str, Any]) -> dict[str, Any]:
        return self.call(
            "/cgi-bin/appchat/send", {"chatid": chatid, "msgtype": msgtype, msgtype: content, "safe": 0}
        )


def _retry_after(resp: requests.Response) -> float | None:
    try:
        return float(resp.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _as_set(value: Any) -> set[str]:
    # message/send answers "a|b"; update_template_card answers ["a", "b"]
    if isinstance(value, list):
        return {str(v).lower() for v in value if v}
    if isinstance(value, str):
        return {v.lower() for v in value.split("|") if v}
    return set()


def _check_recipients(path: str, touser: str, data: dict[str, Any]) -> None:
    wanted = {u.lower() for u in touser.split("|") if u}  # WeCom echoes userids lower-cased
    for key in ("invaliduser", "unlicenseduser"):
        missed = wanted & _as_set(data.get(key))
        if missed:
            raise PermanentFailure(f"{path}: not delivered to {', '.join(sorted(missed))} ({key})")
