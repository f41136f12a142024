"""The WeCom organisation's people, for `ordertalk users sync wecom`: the departments the app may see
(`department/simplelist`) and each one's members with details (`user/list`). Members in several departments are
read once. Apps created after 2022-06-20 get no mobile or e-mail from `user/list` (WeCom's privacy change; name and
userid still come), so such a company is matched by name only.
"""

from __future__ import annotations

from typing import Any

from adapters.platform import DirectoryError as PlatformDirectoryError
from adapters.wecom.client import TOKEN_ERRORS, WeComClient
from adapters.wecom.settings import WeComSettings
from bot.ports import PermanentFailure, RetryLater
from domain.linking import DirectoryEntry

ACTIVE = (1, 4)  # status: 1 active, 2 disabled, 4 not yet activated, 5 left


class DirectoryError(PlatformDirectoryError):
    pass


class WeComDirectory:
    def __init__(self, settings: WeComSettings, client: WeComClient | None = None) -> None:
        self.client = client or WeComClient(settings)

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            for attempt in (1, 2):
                token = self.client.access_token()
                data = self.client._request("GET", path, params={"access_token": token, **params})
                code = int(data.get("errcode", 0))
                if code in TOKEN_ERRORS and attempt == 1:
                    self.client._invalidate(token)
                    continue
                if code != 0:
                    raise DirectoryError(f"WeCom {path}: errcode {code} {str(data.get('errmsg', ''))[:200]}")
                return data
        except (RetryLater, PermanentFailure) as e:
            raise DirectoryError(str(e)) from None
        raise AssertionError("unreachable")

    def read(self) -> list[DirectoryEntry]:
        people: dict[str, DirectoryEntry] = {}
        for dept in self._get("/cgi-bin/department/simplelist", {}).get("department_id") or []:
            for u in self._get("/cgi-bin/user/list", {"department_id": str(dept["id"])}).get("userlist") or []:
                if not u.get("userid") or u["userid"] in people or u.get("status", 1) not in ACTIVE:
                    continue
                people[u["userid"]] = DirectoryEntry(
                    external_id=str(u["userid"]), names=tuple(str(n) for n in (u.get("name"), u.get("english_name")) if n),
                    email=str(u.get("email") or u.get("biz_mail") or ""), mobile=str(u.get("mobile") or ""))
        return list(people.values())


def read_directory(settings: WeComSettings) -> list[DirectoryEntry]:
    return WeComDirectory(settings).read()
