"""No log line carries a secret, at any level.

Libraries log what they send: urllib3 at DEBUG logs every request line (WeCom's `/gettoken?corpsecret=…` and
`?access_token=…`), slack_sdk its request parameters and response bodies, the DingTalk Stream SDK its endpoint
with the one-time ticket, werkzeug the query strings of signed document links. Rather than trust each library,
every log record is scrubbed when it is made (a log-record factory, so it holds under gunicorn's handlers and any
other): sensitive query parameters, auth headers, token-shaped JSON fields, Slack tokens, and the configured
secret values themselves are replaced by `[redacted]`, in the message and in a logged traceback.

`install()` is called by the composition root (bot.bootstrap.build) and the CLI; calling it again adds secrets.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any

MASK = "[redacted]"
_MIN_SECRET = 8  # shorter configured values are not searched for (they would mask ordinary words)

_NAMES = (r"access_?token|accesstoken|corpsecret|app_?secret|appsecret|client_?secret|clientsecret|secret|"
          r"password|passwd|ticket|sig|sign|signature|msg_signature|api_?key|token|refresh_?token|aes_?key|"
          r"encodingaeskey|echostr")
_PATTERNS = [
    # ?corpsecret=…&access_token=… in URLs and request lines
    (re.compile(rf"(?i)([?&;](?:{_NAMES})=)[^&\s\"'#;]+"), rf"\1{MASK}"),
    # "accessToken": "…", 'appSecret': '…', access_token=… in dicts, JSON and key=value text
    (re.compile(rf"(?i)([\"']?(?<![A-Za-z0-9_])(?:{_NAMES})[\"']?\s*[:=]\s*[\"']?)(?!\[redacted\])[^\"'\s,;&}})\]]+"),
     rf"\1{MASK}"),
    # Authorization: Bearer …, x-acs-dingtalk-access-token: …
    (re.compile(r"(?i)((?:authorization|proxy-authorization|x-acs-dingtalk-access-token|x-slack-signature)[\"']?\s*"
                r"[:=]\s*[\"']?)(?:bearer\s+|basic\s+)?(?!\(redacted\)|\[redacted\])[^\"'\s,}]+"), rf"\1{MASK}"),
    # Slack tokens wherever they appear
    (re.compile(r"\b(xox[abposre]|xapp)-[A-Za-z0-9-]+"), rf"\1-{MASK}"),
]

_lock = threading.Lock()
_secrets: set[str] = set()
_installed = False


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed log call; logging reports it itself when it formats
        return
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def install(secrets: Iterable[str | None] = ()) -> None:
    """Scrub every log record made from now on; also mask these exact values (the deployment's secrets)."""
    global _installed
    with _lock:
        _secrets.update(s for s in secrets if s and len(s) >= _MIN_SECRET)
        if _installed:
            return
        make = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = make(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True
