"""A fake WeCom server API on 127.0.0.1 (wecom.md §8.2): real HTTP, token checks, errcodes, fault injection.

media/upload takes a multipart "media" part (image: JPG/PNG, > 5 bytes, ≤ 10 MB) and answers a media_id good for three
days on the fake's clock (`now`); an image message naming an unknown or expired media_id answers 40007, as WeCom does.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, request

from tests.e2e.harness import ServerThread as ServerThread  # the fake is served by the shared harness

CORP_ID = "ww1436e0e65a779aee"
SECRET = "fake-corp-secret-DO-NOT-LOG"
AGENT_ID = 1000002
TASK_ID_RE = re.compile(r"^[0-9A-Za-z_@-]{1,128}$")
CODE_TTL = 72 * 3600  # response_code lifetime in the current docs (wecom.md §5.3)
MEDIA_TTL = 3 * 24 * 3600  # media/upload: "该media_id仅三天内有效"


@dataclass
class Code:
    """A single-use response_code: which card copy it may update, when it was issued, whether it was used."""

    task_id: str
    users: frozenset[str]
    issued_at: float
    source: str = "send"  # "send": from the message/send answer; "click": from a click callback
    used: bool = False


def _err(code: int, msg: str) -> dict[str, Any]:
    return {
        "errcode": code,
        "errmsg": f"{msg}, hint: [fake], more info at https://open.work.weixin.qq.com?e={code}",
    }


@dataclass
class FakeWeCom:
    users: set[str] = field(default_factory=lambda: {"zhangsan", "lisi", "wangwu"})
    unlicensed: set[str] = field(default_factory=set)
    chats: set[str] = field(default_factory=lambda: {"warehouse01"})
    token_ttl: int = 7200
    # fault injection: codes/HTTP statuses answered once (FIFO) before normal processing of API calls
    faults: list[int] = field(default_factory=list)
    # the same, for message/send to one member only: sends to several people run side by side, in no fixed order
    faults_to: dict[str, list[int]] = field(default_factory=dict)
    token_calls: int = 0
    sends: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    chat_sends: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)  # token -> expiry (time.time())
    codes: dict[str, Code] = field(default_factory=dict)  # response_code -> what it may update
    sends_codes: list[str] = field(default_factory=list)  # the response_code of each template card sent, in order
    task_ids: set[str] = field(default_factory=set)
    # every answered API call as (api, errcode), faults included: shows retries that left no message behind
    calls: list[tuple[str, int]] = field(default_factory=list)
    now: Callable[[], float] = time.time  # response_code ages are measured on this clock (tests move it)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)  # media_id -> type, filename, mime, data, at
    upload_faults: list[int] = field(default_factory=list)  # like `faults`, for media/upload only
    _seq: itertools.count = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def expire_all_tokens(self) -> None:
        with self._lock:
            self.tokens = {t: 0.0 for t in self.tokens}

    def revoke_all_tokens(self) -> None:
        """WeCom forgets the tokens early: the next call with one of them answers 40014 (invalid)."""
        with self._lock:
            self.tokens.clear()

    def click_code(self, task_id: str, user: str) -> str:
        """The fresh ResponseCode a click callback on `user`'s copy of card `task_id` carries (wecom.md §2.2)."""
        with self._lock:
            code = f"rc{next(self._seq)}"
            self.codes[code] = Code(task_id, frozenset({user}), self.now(), source="click")
            return code

    # -- the Flask app ---------------------------------------------------------------------------------------

    def app(self) -> Flask:
        app = Flask("fake_wecom")

        @app.get("/cgi-bin/gettoken")
        def gettoken() -> Any:
            with self._lock:
                self.token_calls += 1
                if request.args.get("corpid") != CORP_ID or request.args.get("corpsecret") != SECRET:
                    return _err(40001, "invalid credential")
                token = f"tok{next(self._seq)}"
                self.tokens[token] = time.time() + self.token_ttl
                return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_ttl}

        @app.post("/cgi-bin/<path:api>")
        def api(api: str) -> Any:
            answer = self._api(api)
            code = answer.get("errcode", 0) if isinstance(answer, dict) else answer.status_code
            with self._lock:
                self.calls.append((api, int(code)))
            return answer

        return app

    def _api(self, api: str) -> dict[str, Any] | Response:
        with self._lock:
            token = request.args.get("access_token")
            if not token:
                return _err(41001, "access_token missing")
            if token not in self.tokens:
                return _err(40014, "invalid access_token")
            if self.tokens[token] < time.time():
                return _err(42001, "access_token expired")
            if self.faults:
                fault = self.faults.pop(0)
                if 500 <= fault < 600:  # an HTTP status, not an errcode
                    return Response("upstream broke", status=fault)
                return _err(fault, "injected")
            if api == "media/upload":
                if self.upload_faults:
                    fault = self.upload_faults.pop(0)
                    return Response("upstream broke", status=fault) if 500 <= fault < 600 else _err(fault, "injected")
                return self._upload()
            try:
                body = json.loads(request.get_data().decode("utf-8"))
            except ValueError:
                return _err(40058, "Warning: wrong json format.")
            if api == "message/send":
                if self.faults_to.get(str(body.get("touser"))):
                    return _err(self.faults_to[str(body["touser"])].pop(0), "injected")
                return self._send(body)
            if api == "message/update_template_card":
                return self._update(body)
            if api == "appchat/send":
                return self._chat(body)
            return _err(40058, f"unknown api {api}")

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agentid") != AGENT_ID:
            return _err(301002, "agentid mismatch")
        users = [u for u in str(body.get("touser", "")).split("|") if u]
        if not users:
            return _err(82001, "no recipients")
        msgtype = body.get("msgtype")
        if msgtype not in {"text", "markdown", "template_card", "image"}:
            return _err(40008, "invalid message type")
        if msgtype == "image" and not self._media_ok(body):
            return _err(40007, "invalid media_id")
        if msgtype in {"text", "markdown"} and len(body[msgtype]["content"].encode()) > 2048:
            return _err(45002, "content too large")
        invalid = [u.lower() for u in users if u not in self.users]
        if len(invalid) == len(users):
            return _err(81013, "user & party & tag all invalid")
        answer: dict[str, Any] = {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(invalid),
            "unlicenseduser": "|".join(u.lower() for u in users if u in self.unlicensed),
            "msgid": f"msg{next(self._seq)}",
        }
        if msgtype == "template_card":
            card = body["template_card"]
            task_id = card.get("task_id", "")
            if not TASK_ID_RE.match(task_id) or task_id in self.task_ids:
                return _err(42014, "taskid has existed or empty or exceed max len")
            buttons = card.get("button_list", [])
            keys = [b["key"] for b in buttons if b.get("type", 0) == 0]
            if not 1 <= len(buttons) <= 6 or len(set(keys)) != len(keys):
                return _err(40058, "invalid button_list")
            if len(card.get("horizontal_content_list", [])) > 6:
                return _err(40058, "invalid horizontal_content_list")
            self.task_ids.add(task_id)
            code = f"rc{next(self._seq)}"
            self.codes[code] = Code(task_id, frozenset(u for u in users if u in self.users), self.now())
            self.sends_codes.append(code)
            answer["response_code"] = code
        self.sends.append(body)
        return answer

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("agentid") != AGENT_ID:
            return _err(301002, "agentid mismatch")
        code = self.codes.get(str(body.get("response_code")))
        # used / expired codes: the real errcode is unverified (wecom.md §5.3); 42022 is the likeliest candidate
        if code is None or code.used or self.now() - code.issued_at > CODE_TTL:
            return _err(42022, "response_code used or invalid")
        if ("button" in body) == ("template_card" in body):
            return _err(40058, "need exactly one of button / template_card")
        # a code updates the card it came with, for the people that card went to; stricter than what the docs
        # pin down (task_id echo is [UNVERIFIED]), so the adapter is held to the safe reading
        card = body.get("template_card")
        if card is not None and card.get("task_id") != code.task_id:
            return _err(42016, "task_id not found")
        if not {u for u in body.get("userids") or [] if u in self.users} <= code.users:
            return _err(40058, "userids outside the card's recipients")  # unknown ones go to invaliduser
        code.used = True
        self.updates.append(body)
        return {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": [u.lower() for u in body["userids"] if u not in self.users],
        }

    def _chat(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("chatid") not in self.chats:
            return _err(40050, "chatid not found")
        if body.get("msgtype") not in {"text", "markdown", "image"}:
            return _err(40008, "invalid message type")
        if body["msgtype"] == "image" and not self._media_ok(body):
            return _err(40007, "invalid media_id")
        self.chat_sends.append(body)
        return {"errcode": 0, "errmsg": "ok"}

    def _media_ok(self, body: dict[str, Any]) -> bool:
        media = self.media.get(str((body.get("image") or {}).get("media_id")))
        return media is not None and self.now() - media["at"] <= MEDIA_TTL

    def _upload(self) -> dict[str, Any]:
        kind = request.args.get("type")
        part = request.files.get("media")
        if kind not in {"image", "voice", "video", "file"}:
            return _err(40004, "invalid media type")
        if part is None or not part.filename:
            return _err(41005, "media data missing")
        data = part.read()
        if len(data) <= 5:
            return _err(40006, "invalid media size")
        if kind == "image" and (part.mimetype not in {"image/png", "image/jpeg"} or len(data) > 10 * 1024 * 1024):
            return _err(40005, "invalid media file type")
        media_id = f"3{next(self._seq):04d}mediaFAKE"
        self.media[media_id] = {"type": kind, "filename": part.filename, "mime": part.mimetype, "data": data,
                                "at": self.now()}
        return {"errcode": 0, "errmsg": "", "type": kind, "media_id": media_id, "created_at": str(int(self.now()))}
