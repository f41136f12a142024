"""Signature checks for DingTalk's HTTP-mode callbacks (dingtalk.md §1.4 and §5.7).

Neither signature covers the body: each only proves the caller knew the secret at about that time. Replay
protection is therefore the time window here plus event-id dedup in the core.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

# §1.4: DingTalk documents a one-hour window for the robot callback `timestamp`.
ROBOT_SKEW_MS = 3_600_000
# §5.7 leaves unit and window of `x-ddpaas-signature-timestamp` unverified; we accept the same hour so a
# wrong guess about the window never silently drops manager clicks, and accept seconds as well as ms.
CARD_SKEW_MS = 3_600_000

Clock = Callable[[], float]  # returns epoch seconds, like time.time


class SignatureError(Exception):
    """The request is not provably from DingTalk. `reason` is safe to show (never contains a secret)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _b64_hmac(key: str, msg: str) -> str:
    digest = hmac.new(key.encode("utf-8"), msg.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def robot_sign(timestamp: str, app_secret: str) -> str:
    """The `sign` header DingTalk sends with a robot message for this `timestamp` header."""
    return _b64_hmac(app_secret, f"{timestamp}\n{app_secret}")


def card_sign(timestamp: str, api_secret: str) -> str:
    """The `x-ddpaas-signature` header of an HTTP card callback (key = the apiSecret we registered)."""
    return _b64_hmac(api_secret, timestamp)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Flask's headers are case-insensitive; plain dicts in tests may not be.
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), None)
    return value


def _timestamp_ms(raw: str) -> int:
    try:
        ts = int(raw.strip())
    except ValueError:
        raise SignatureError("bad timestamp") from None
    # A value below 10^12 cannot be epoch milliseconds after 2001: read it as seconds.
    return ts * 1000 if ts < 1_000_000_000_000 else ts


def _check(timestamp: str | None, given: str | None, expected_for: Callable[[str], str], skew_ms: int,
           clock: Clock) -> None:
    if not timestamp or not given:
        raise SignatureError("missing signature headers")
    ts_ms = _timestamp_ms(timestamp)
    if abs(int(clock() * 1000) - ts_ms) > skew_ms:
        raise SignatureError("timestamp outside the allowed window")
    expected = expected_for(timestamp.strip())
    if not hmac.compare_digest(expected.encode("ascii"), given.strip().encode("utf-8", "replace")):
        raise SignatureError("bad signature")


def verify_robot_callback(headers: Mapping[str, str], app_secret: str, *, clock: Clock = time.time,
                          skew_ms: int = ROBOT_SKEW_MS) -> None:
    """Raise SignatureError unless headers `timestamp` + `sign` prove the robot callback is DingTalk's."""
    _check(_header(headers, "timestamp"), _header(headers, "sign"),
           lambda ts: robot_sign(ts, app_secret), skew_ms, clock)


def verify_card_callback(headers: Mapping[str, str], api_secret: str, *, clock: Clock = time.time,
                         skew_ms: int = CARD_SKEW_MS) -> None:
    """Raise SignatureError unless the `x-ddpaas-signature*` headers prove the card callback is DingTalk's."""
    _check(_header(headers, "x-ddpaas-signature-timestamp"), _header(headers, "x-ddpaas-signature"),
           lambda ts: card_sign(ts, api_secret), skew_ms, clock)
