"""Downloading a file a person sent, for every adapter: streamed, cut off past the size the bot takes."""

from __future__ import annotations

from collections.abc import Mapping

import requests

from bot.ports import FileTooLarge, FileUnavailable

CHUNK = 64 * 1024


def download(http: requests.Session, url: str, max_bytes: int, *, headers: Mapping[str, str] | None = None,
             params: Mapping[str, str] | None = None, timeout: float = 30.0) -> requests.Response:
    """GET `url`; the response with `.content` read, at most `max_bytes` (FileTooLarge beyond). The URL may hold a
    token, so no exception text quotes it."""
    try:
        resp = http.get(url, headers=dict(headers or {}), params=dict(params or {}), stream=True, timeout=timeout)
    except requests.RequestException as e:
        raise FileUnavailable(f"download failed: {type(e).__name__}") from None
    with resp:
        if resp.status_code != 200:
            raise FileUnavailable(f"download answered HTTP {resp.status_code}")
        declared = resp.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FileTooLarge(f"{declared} bytes")
        body = bytearray()
        try:
            for chunk in resp.iter_content(CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise FileTooLarge(f"more than {max_bytes} bytes")
        except requests.RequestException as e:
            raise FileUnavailable(f"download broke off: {type(e).__name__}") from None
        resp._content = bytes(body)  # what .content returns from now on
    return resp
