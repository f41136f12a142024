"""Files people send the app in WeCom: a `file` message carries `MediaId`, `FileName` and `FileSize`, and the bytes
come from `GET /cgi-bin/media/get` (a JSON body there is an error, e.g. 40007 for an unknown or expired media id —
media ids last three days). The `file` message type is not in WeCom's list of app message types; it is what
clients send and what public WeCom integrations read (wecom.md lists the documented types) — [UNVERIFIED] in staging."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from pydantic import ValidationError

from adapters.fetch import download
from adapters.wecom.client import TOKEN_ERRORS, WeComClient
from adapters.wecom.settings import WeComSettings
from bot.ports import FileUnavailable, InboundFile, PermanentFailure, RetryLater


def inbound_file(root: Element) -> InboundFile | None:
    def text(tag: str) -> str:
        node = root.find(tag)
        return (node.text or "").strip() if node is not None else ""

    media, name, size = text("MediaId"), text("FileName"), text("FileSize")
    if not media or not name:
        return None
    try:
        return InboundFile(name=name[:200], size=int(size) if size.isascii() and size.isdigit() and len(size) < 16 else None,
                           ref={"media_id": media[:2000]})
    except ValidationError:  # a name of control characters only, say: not a file we can take
        return None


class WeComFiles:
    def __init__(self, settings: WeComSettings, client: WeComClient | None = None) -> None:
        self.client = client or WeComClient(settings)

    def fetch(self, file: InboundFile, max_bytes: int) -> bytes:
        for attempt in (1, 2):
            try:
                token = self.client.access_token()
            except (RetryLater, PermanentFailure) as e:
                raise FileUnavailable(str(e)) from None
            resp = download(self.client._session, self.client._base + "/cgi-bin/media/get", max_bytes,
                            params={"access_token": token, "media_id": file.ref.get("media_id", "")})
            if "json" not in resp.headers.get("Content-Type", "") and "text/plain" not in resp.headers.get("Content-Type", ""):
                return resp.content
            try:
                code = int(resp.json().get("errcode", -1))
            except (ValueError, AttributeError):
                return resp.content  # a plain-text file served as text/plain
            if code in TOKEN_ERRORS and attempt == 1:
                self.client._invalidate(token)
                continue
            raise FileUnavailable(f"WeCom media/get: errcode {code}")
        raise AssertionError("unreachable")
