"""The DingTalk organisation's people, for `ordertalk users sync dingtalk`: every department from the root down
(`topapi/v2/department/listsub`, which lists one level), and each department's users (`topapi/v2/user/list`, paged
by cursor, at most 100 a page). Both are old-API (`oapi.dingtalk.com`) calls with the app's access token as the
`access_token` parameter (dingtalk.md §3.1); they need the app permission 通讯录只读 (and 手机号/邮箱 for those fields).
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

import requests

from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.settings import DingTalkSettings
from adapters.platform import DirectoryError as PlatformDirectoryError
from domain.linking import DirectoryEntry

ROOT_DEPT = 1
PAGE = 100
_TOKEN_ERRORS = {40014, 88, 42001}


class DirectoryError(PlatformDirectoryError):
    pass


class DingTalkDirectory:
    def __init__(self, settings: DingTalkSettings, client: DingTalkClient | None = None,
                 session: requests.Session | None = None, timeout: float = 10.0) -> None:
        self.client = client or DingTalkClient(settings)
        self.base = settings.dingtalk_oapi_url.rstrip("/")
        self.http = session or requests.Session()
        self.timeout = timeout

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        for attempt in (1, 2):
            token = self.client.access_token()
            try:
                resp = self.http.post(self.base + path, params={"access_token": token}, timeout=self.timeout,
                                      data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
                data = resp.json()
            except (requests.RequestException, ValueError):
                raise DirectoryError(f"DingTalk {path}: no JSON answer") from None  # the URL holds the token
            code = int(data.get("errcode", 0)) if isinstance(data, dict) else -1
            if code in _TOKEN_ERRORS and attempt == 1:
                self.client.invalidate_token(token)
                continue
            if code != 0:
                raise DirectoryError(f"DingTalk {path}: errcode {code} {str(data.get('errmsg', ''))[:200]}")
            return data
        raise AssertionError("unreachable")

    def departments(self) -> list[int]:
        found, queue = [ROOT_DEPT], deque([ROOT_DEPT])
        while queue:
            dept = queue.popleft()
            for sub in self._post("/topapi/v2/department/listsub", {"dept_id": dept}).get("result") or []:
                sub_id = int(sub["dept_id"])
                if sub_id not in found:
                    found.append(sub_id)
                    queue.append(sub_id)
        return found

    def users(self, dept_id: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = 0
        while True:
            result = self._post("/topapi/v2/user/list", {"dept_id": dept_id, "cursor": cursor, "size": PAGE})["result"]
            out.extend(result.get("list") or [])
            if not result.get("has_more"):
                return out
            cursor = int(result["next_cursor"])

    def read(self) -> list[DirectoryEntry]:
        people: dict[str, DirectoryEntry] = {}
        for dept in self.departments():
            for u in self.users(dept):
                if not u.get("userid") or u.get("active") is False or u["userid"] in people:
                    continue
                people[u["userid"]] = DirectoryEntry(
                    external_id=str(u["userid"]), names=tuple(str(n) for n in (u.get("name"),) if n),
                    email=str(u.get("email") or u.get("org_email") or ""), mobile=str(u.get("mobile") or ""))
        return list(people.values())


def read_directory(settings: DingTalkSettings) -> list[DirectoryEntry]:
    return DingTalkDirectory(settings).read()
