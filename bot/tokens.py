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
    """`number` is the token's second number; what it means depends on the action, and each meaning has its name
    below (the wire format stays `action@target@number@arg@sig`, so buttons already sent keep working)."""

    action: str
    target: int
    version: int = 0  # the number slot; read it through the name that fits the action
    arg: str = ""

    @property
    def order_version(self) -> int:
        """Order-level buttons (cancel): the order's version when the card was drawn; 0 = not checked."""
        return self.version

    @property
    def page(self) -> int:
        """Paging buttons (tasks_page, orders_page): the page to show, from 0."""
        return self.version

    @property
    def slot(self) -> int:
        """The choice button of a one-line order: which product of the command it fills in, from 1."""
        return self.version


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
