"""Signed, expiring links to documents (delivery notes, statements).

A chat card can only carry a URL, and the person opening it has no session with us, so the link itself is the
permission: an HMAC over the path and its parameters, valid until `exp`. Anyone without the link gets 403.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from urllib.parse import urlencode


class BadLink(Exception):
    pass


class LinkSigner:
    def __init__(self, secret: bytes, clock: Callable[[], datetime], base_url: str, ttl: timedelta = timedelta(days=30)) -> None:
        self._key = hashlib.sha256(b"ordertalk-link:" + secret).digest()  # separate from action-token signatures
        self._clock = clock
        self._base = base_url.rstrip("/")
        self._ttl = ttl

    def _sig(self, path: str, params: Mapping[str, str]) -> str:
        body = path + "?" + urlencode(sorted(params.items()))
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]

    def url(self, path: str, **params: str) -> str:
        params = {k: str(v) for k, v in params.items()}
        params["exp"] = str(int((self._clock() + self._ttl).timestamp()))
        params["sig"] = self._sig(path, params)
        return f"{self._base}{path}?{urlencode(params)}"

    def verify(self, path: str, args: Mapping[str, str]) -> None:
        params = {k: v for k, v in args.items() if k != "sig"}
        sig = args.get("sig", "")
        if not hmac.compare_digest(self._sig(path, params), sig):
            raise BadLink("bad signature")
        try:
            exp = int(params.get("exp", ""))
        except ValueError as e:
            raise BadLink("bad expiry") from e
        if exp < self._clock().timestamp():
            raise BadLink("expired")
