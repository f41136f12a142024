"""The Slack workspace's people (`users.list`, paged by cursor), for `ordertalk users sync slack`; and one person's
language (`users.info` with `include_locale`), for someone who writes to the bot before anyone linked them.

Needs the bot scopes `users:read` and `users:read.email` (without the latter Slack leaves `profile.email` out).
Bots, Slackbot and deactivated accounts are left out.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from adapters.platform import DirectoryError as PlatformDirectoryError
from adapters.slack.deliverer import make_client
from adapters.slack.settings import SlackSettings
from domain.linking import DirectoryEntry

log = logging.getLogger("ordertalk.slack")

PAGE = 200  # Slack recommends no more than 200 per page
LOCALE_TIMEOUT = 5  # seconds: someone waits for the answer this is for


class DirectoryError(PlatformDirectoryError):
    pass


def entry(member: dict[str, Any]) -> DirectoryEntry | None:
    if member.get("deleted") or member.get("is_bot") or member.get("id") in (None, "USLACKBOT"):
        return None
    profile = member.get("profile") or {}
    names = tuple(dict.fromkeys(str(n) for n in (profile.get("real_name"), member.get("real_name"),
                                                  profile.get("display_name")) if n))
    return DirectoryEntry(external_id=str(member["id"]), names=names, email=str(profile.get("email") or ""),
                          mobile=str(profile.get("phone") or ""), locale=str(member.get("locale") or ""))


def read_directory(settings: SlackSettings, client: WebClient | None = None) -> list[DirectoryEntry]:
    client = client or make_client(settings, rate_limit_retries=3)
    out: list[DirectoryEntry] = []
    try:
        # A SlackResponse iterates over its pages, following response_metadata.next_cursor.
        for page in client.users_list(limit=PAGE, include_locale=True):
            for member in page.get("members") or []:
                if (e := entry(member)) is not None:
                    out.append(e)
    except SlackApiError as e:
        raise DirectoryError(f"slack users.list: {e.response.get('error')}") from None
    return out


class SlackLocales:
    """`users.info?include_locale=true`: Slack names the person's language as an IETF tag ("zh-CN", "en-US")."""

    def __init__(self, settings: SlackSettings, client: WebClient | None = None) -> None:
        self.client = client or make_client(settings, rate_limit_retries=1)
        self.client.timeout = min(self.client.timeout, LOCALE_TIMEOUT)

    def locale(self, external_id: str) -> str | None:
        try:
            found = self.client.users_info(user=external_id, include_locale=True)
        except SlackApiError as e:
            log.info("slack users.info %s: %s", external_id, e.response.get("error"))
            return None
        except (SlackClientError, OSError) as e:  # Slack unreachable: answered in the language they wrote in
            log.warning("slack users.info %s failed: %s", external_id, e)
            return None
        user = found.get("user") or {}
        locale = user.get("locale") if isinstance(user, dict) else None
        return str(locale) if isinstance(locale, str) and locale else None
