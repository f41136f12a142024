"""Compact signed action tokens carried by card buttons: action, target, version, optional argument.

Format `action@target@version@arg@sig` — only [A-Za-z0-9_@-], well inside every platform's limits
(WeCom button keys, DingTalk card params, Slack button values). The signature is a truncated
HMAC-SHA256; a tampered token fails it, a stale one fails the version check in the handler.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

_ACTION = re.compile(r"^[a-z_]{1,20}$")
_ARG = re.compile(r"^[A-Za-z0-9_-]{0,40}$")


class BadToken(Exception):
    pass


@dataclass(frozen=True)
class ActionToken:
    action: str
    target: int
    version: int = 0
    arg: str = ""


class TokenSigner:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _sig(self, body: str) -> str:
        mac = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def sign(self, tok: ActionToken) -> str:
        if not _ACTION.match(tok.action) or not _ARG.match(tok.arg):
            raise ValueError(f"cannot sign action {tok.action!r} / arg {tok.arg!r}")
        body = f"{tok.action}@{tok.target}@{tok.version}@{tok.arg}"
        return f"{body}@{self._sig(body)}"

    def verify(self, token: str) -> ActionToken:
        if not isinstance(token, str) or len(token) > 200:
            raise BadToken("malformed")
        parts = token.split("@")
        if len(parts) != 5:
            raise BadToken("malformed")
        body, sig = "@".join(parts[:4]), parts[4]
        if not hmac.compare_digest(self._sig(body), sig):
            raise BadToken("bad signature")
        action, target, version, arg = parts[:4]
        if not _ACTION.match(action) or not target.isdigit() or not version.isdigit():
            raise BadToken("malformed")
        return ActionToken(action, int(target), int(version), arg)
