"""Files people send the bot in Slack: a DM with a file arrives as a `message` event (subtype `file_share`) whose
`files` carry `url_private_download`; the file is fetched from there with the bot token (scope `files:read`). When
Slack leaves the file object out (`file_access: check_file_info`), `files.info` gives it.

The bot token is only ever sent to Slack's file host (`files.slack.com`) or the configured API host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import requests
from pydantic import ValidationError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.fetch import download
from adapters.slack.deliverer import make_client
from adapters.slack.settings import SlackSettings
from bot.ports import FileUnavailable, InboundFile

FILE_HOSTS = ("files.slack.com",)


def inbound_file(event: dict[str, Any]) -> InboundFile | None:
    """The first file of a message event, or None."""
    found = event.get("files")
    if not isinstance(found, list) or not found or not isinstance(found[0], dict):
        return None
    f = found[0]
    if not isinstance(f.get("id"), str):
        return None
    name = str(f.get("name") or f.get("title") or f["id"])[:200]
    ref = {"id": f["id"]}
    url = f.get("url_private_download") or f.get("url_private")
    if isinstance(url, str):
        ref["url"] = url[:2000]
    size = f.get("size")
    try:
        return InboundFile(name=name, size=size if isinstance(size, int) and size >= 0 else None, ref=ref)
    except ValidationError:  # a name of control characters only, say: not a file we can take
        return None


class SlackFiles:
    def __init__(self, settings: SlackSettings, client: WebClient | None = None, http: requests.Session | None = None) -> None:
        self.client = client or make_client(settings)
        self.token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        self.hosts = (*FILE_HOSTS, urlparse(settings.slack_api_url).hostname or "")
        self.http = http or requests.Session()

    def _url(self, file: InboundFile) -> str:
        url = file.ref.get("url")
        if url:
            return url
        try:
            info = self.client.files_info(file=file.ref.get("id", ""))
        except SlackApiError as e:
            raise FileUnavailable(f"slack files.info: {e.response.get('error')}") from None
        f = info.get("file") or {}
        url = f.get("url_private_download") or f.get("url_private")
        if not url:
            raise FileUnavailable("slack files.info: no url_private")
        return str(url)

    def fetch(self, file: InboundFile, max_bytes: int) -> bytes:
        url = self._url(file)
        if urlparse(url).hostname not in self.hosts:
            raise FileUnavailable("slack file URL on a host that is not Slack's")
        resp = download(self.http, url, max_bytes, headers={"Authorization": f"Bearer {self.token}"})
        if resp.headers.get("Content-Type", "").startswith("text/html"):
            raise FileUnavailable("slack answered with a page, not the file (is the files:read scope granted?)")
        return resp.content
