"""Files people send the robot in DingTalk: a `file` message carries `content.downloadCode` and `fileName`
(dingtalk.md §1.2); `POST /v1.0/robot/messageFiles/download` turns the code into a short-lived `downloadUrl`, which
is fetched without further authentication."""

from __future__ import annotations

from typing import Any

import requests
from pydantic import ValidationError

from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.settings import DingTalkSettings
from adapters.fetch import download
from bot.ports import FileUnavailable, InboundFile, PermanentFailure, RetryLater


def inbound_file(body: dict[str, Any]) -> InboundFile | None:
    if body.get("msgtype") != "file" or not isinstance(body.get("content"), dict):
        return None
    content = body["content"]
    code, name = content.get("downloadCode"), content.get("fileName")
    if not isinstance(code, str) or not code or not isinstance(name, str) or not name.strip():
        return None
    try:
        return InboundFile(name=name.strip()[:200], ref={"downloadCode": code[:2000]})
    except ValidationError:  # a name of control characters only, say: not a file we can take
        return None


class DingTalkFiles:
    def __init__(self, settings: DingTalkSettings, client: DingTalkClient | None = None,
                 http: requests.Session | None = None) -> None:
        self.client = client or DingTalkClient(settings)
        self.http = http or requests.Session()

    def fetch(self, file: InboundFile, max_bytes: int) -> bytes:
        try:
            body = self.client.call("POST", "/v1.0/robot/messageFiles/download",
                                    {"downloadCode": file.ref.get("downloadCode", ""), "robotCode": self.client.robot_code})
        except (RetryLater, PermanentFailure) as e:
            raise FileUnavailable(str(e)) from None
        url = body.get("downloadUrl")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise FileUnavailable("DingTalk messageFiles/download answered without a downloadUrl")
        return download(self.http, url, max_bytes).content
