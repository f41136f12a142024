"""The Slack workspace's people (`users.list`, paged by cursor), for `ordertalk users sync slack`.

Needs the bot scopes `users:read` and `users:read.email` (without the latter Slack leaves `profile.email` out).
Bots, Slackbot and deactivated accounts are left out.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.deliverer import make_client
from adapters.slack.settings import SlackSettings
from domain.linking import DirectoryEntry

PAGE = 200  # Slack recommends no more than 200 per page


class DirectoryError(Exception):
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
