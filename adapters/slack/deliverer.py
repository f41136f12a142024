"""Outbox deliveries → Slack Web API, with Slack errors mapped to RetryLater / PermanentFailure.

Delivery.ref / DeliveryReceipt.ref format: "<channel id>:<message ts>" (e.g. "D0123ABC:1712345678.000200"),
exactly what `chat.update` needs later. Ephemeral messages cannot be updated, so they return ref=None.

Answers to a click or a slash command carry the request's `response_url` (Delivery.extra["response_url"]): they
are posted there, ephemerally, which works in any conversation — also where the bot is not a member, where
`chat.postEphemeral` answers `not_in_channel` / `channel_not_found`. When the URL no longer works (30 minutes, 5 uses)
or an ephemeral post is refused for membership, the person gets the answer as a DM from the bot instead. An
ephemeral copy of a card (ref None) is updated through the response_url of a click on it (Delivery.ticket,
`replace_original`), else it is left as it is: nothing else can reach it.

A card's picture (Delivery.op "image", a report's chart) is uploaded with `files_upload_v2` (files.getUploadURLExternal,
the upload, files.completeUploadExternal) into the conversation the card went to, in its thread; an answer only the
asker sees (ephemeral, response_url) has its chart put in the asker's DM with the bot instead, never in the channel.
The receipt ref is "file:<file id>".
"""

from __future__ import annotations

import logging
from threading import Lock
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from adapters.slack.blocks import escape, mrkdwn_section, render_card, render_home, render_replies
from adapters.slack.settings import SlackSettings
from bot.files import FileStore
from bot.ports import Delivery, DeliveryReceipt, PermanentFailure, RetryLater
from bot.singleflight import KeyedLocks

log = logging.getLogger(__name__)

# Errors that a later attempt may get past. Everything else (channel_not_found, not_in_channel,
# invalid_auth, account_inactive, token_revoked, user_not_found, invalid_blocks, …) will fail again the
# same way, so the dispatcher should alert an admin instead of retrying.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
# chat.update on a message that is gone or not ours: post a fresh copy instead (slack.md §7.5).
STALE_MESSAGE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# The bot cannot post into this conversation (not a member, a DM between people, archived): for an answer meant for
# one person, a DM from the bot reaches them instead.
NOT_REACHABLE_ERRORS = frozenset({"not_in_channel", "channel_not_found", "is_archived", "user_not_in_channel"})
RESPONSE_URL_TIMEOUT = 10  # seconds


def make_client(settings: SlackSettings, *, rate_limit_retries: int = 1) -> WebClient:
    """A WebClient for settings.slack_api_url that retries connection errors and honours 429 Retry-After."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    handlers: list[Any] = [ConnectionErrorRetryHandler()]
    if rate_limit_retries > 0:
        handlers.append(RateLimitErrorRetryHandler(max_retry_count=rate_limit_retries))
    return WebClient(token=token, base_url=settings.slack_api_url, retry_handlers=handlers)


def _is_user_id(recipient: str) -> bool:
    # U… / W… (Enterprise Grid) are people; C… / G… / D… are conversations we can post to directly.
    return recipient[:1] in ("U", "W")


def _map_error(exc: Exception, method: str) -> Exception:
    if isinstance(exc, SlackApiError):
        resp = exc.response
        error = str(resp.get("error") or "") if resp is not None else ""
        status = getattr(resp, "status_code", 0) or 0
        if status == 429 or error in ("ratelimited", "rate_limited"):
            headers = {k.lower(): v for k, v in (getattr(resp, "headers", None) or {}).items()}
            raw = headers.get("retry-after")
            raw = raw[0] if isinstance(raw, list) else raw
            try:
                retry_after = float(raw) if raw is not None else None
            except ValueError:
                retry_after = None
            return RetryLater(f"slack {method}: rate limited", retry_after=retry_after)
        if status >= 500 or error in TRANSIENT_ERRORS:
            return RetryLater(f"slack {method}: {error or status}")
        return PermanentFailure(f"slack {method}: {error or status}")
    # Connection refused / reset, timeouts, DNS: the client already retried once.
    return RetryLater(f"slack {method}: {type(exc).__name__}")


class SlackDeliverer:
    """bot.ports.Deliverer for Slack."""

    platform = "slack"

    def __init__(self, settings: SlackSettings, *, client: WebClient | None = None, files: FileStore | None = None) -> None:
        self.client = client or make_client(settings)
        self.files = files
        self._dm_channels: dict[str, str] = {}
        self._lock = Lock()
        self._opening = KeyedLocks()  # user id: one conversations.open at a time

    # -- Deliverer ------------------------------------------------------------------------------------

    def deliver(self, delivery: Delivery) -> DeliveryReceipt:
        if delivery.op == "home":
            locale = delivery.cards[0].locale if delivery.cards else "zh-CN"
            self._call("views_publish", user_id=delivery.recipient, view=render_home(delivery.cards, locale))
            return DeliveryReceipt(ref=None)
        if delivery.op == "image":
            return self._image(delivery)
        message = self._message(delivery)
        if delivery.op == "update":
            return self._update(delivery, message)
        response_url = delivery.extra.get("response_url")
        if response_url:
            if self._respond(response_url, message, replace_original=False):
                return DeliveryReceipt(ref=None)  # ephemeral: only a later click on it can replace it
            return self._dm_instead(delivery, message, "response_url no longer usable")
        try:
            return self._send(delivery.recipient, message, thread=delivery.thread,
                              ephemeral_user=delivery.ephemeral_user)
        except PermanentFailure as exc:
            if not delivery.ephemeral_user or not any(e in exc.reason for e in NOT_REACHABLE_ERRORS):
                raise
            return self._dm_instead(delivery, message, exc.reason)

    # -- helpers ----------------------------------------------------------------------------------------

    def dm_channel(self, user_id: str) -> str:
        """The bot's DM channel with a user (conversations.open, cached: one call per user per process)."""
        with self._lock:
            cached = self._dm_channels.get(user_id)
        if cached:
            return cached
        # Deliveries go out side by side (a card in a channel and its chart in the asker's DM, say): one opens the
        # DM, the others wait for it and use its channel.
        with self._opening.hold(user_id):
            with self._lock:
                cached = self._dm_channels.get(user_id)
            if cached:
                return cached
            resp = self._call("conversations_open", users=user_id)
            channel = str(resp["channel"]["id"])
            with self._lock:
                self._dm_channels[user_id] = channel
            return channel

    def link_by_email(self, email: str) -> str | None:
        """Slack user id for an email (users.lookupByEmail, needs users:read.email); None if unknown."""
        try:
            resp = self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if exc.response is not None and exc.response.get("error") == "users_not_found":
                return None
            raise _map_error(exc, "users.lookupByEmail") from exc
        except (SlackClientError, OSError) as exc:
            raise _map_error(exc, "users.lookupByEmail") from exc
        return str(resp["user"]["id"])

    # -- internals ------------------------------------------------------------------------------------

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except (SlackApiError, SlackClientError, OSError) as exc:
            mapped = _map_error(exc, method)
            log.warning("slack %s failed: %s", method, mapped)
            raise mapped from exc

    @staticmethod
    def _message(delivery: Delivery) -> dict[str, Any]:
        if delivery.replies:  # the answers to a command or click, as one message (a response_url takes 5 posts)
            locale = next((r.card.locale for r in delivery.replies if r.card), "zh-CN")
            return render_replies(delivery.replies, locale)
        if delivery.card is None:
            return {"text": escape(delivery.text or "") or " ", "blocks": None}
        message = render_card(delivery.card)
        if delivery.text:
            # A short lead-in above the card ("王经理已同意"): its own section, and first in the notification.
            message = {
                "text": escape(delivery.text) + "\n" + message["text"],
                "blocks": [mrkdwn_section(escape(delivery.text)), *message["blocks"]][:50],
            }
        return message

    def _send(self, recipient: str, message: dict[str, Any], *, thread: str | None,
              ephemeral_user: str | None) -> DeliveryReceipt:
        channel = self.dm_channel(recipient) if _is_user_id(recipient) else recipient
        blocks = message.get("blocks")
        if ephemeral_user:
            self._call("chat_postEphemeral", channel=channel, user=ephemeral_user, text=message["text"],
                       blocks=blocks, thread_ts=thread)
            return DeliveryReceipt(ref=None)  # ephemeral messages cannot be updated later
        resp = self._call("chat_postMessage", channel=channel, text=message["text"], blocks=blocks, thread_ts=thread)
        return DeliveryReceipt(ref=f"{resp['channel']}:{resp['ts']}")

    def _image(self, delivery: Delivery) -> DeliveryReceipt:
        image = delivery.attachment
        if image is None:
            raise PermanentFailure(f"slack delivery {delivery.id}: an image delivery without its image")
        found = self.files.read(image.key) if self.files is not None else None
        if found is None:
            raise PermanentFailure(f"slack: stored file {image.key} is not available to the deliverer")
        info, data = found
        if delivery.ephemeral_user or delivery.extra.get("response_url"):
            person = delivery.ephemeral_user or (delivery.recipient if _is_user_id(delivery.recipient) else None)
            if person is None:
                raise PermanentFailure(f"slack: no person to show the picture of ephemeral delivery {delivery.id} to")
            channel, thread = self.dm_channel(person), None  # only the asker saw the card: the chart stays private
        else:
            channel = self.dm_channel(delivery.recipient) if _is_user_id(delivery.recipient) else delivery.recipient
            thread = delivery.thread
        resp = self._call("files_upload_v2", channel=channel, file=data, filename=info.filename, title=image.title,
                          alt_txt="\n".join(image.summary)[:1000] or image.title, thread_ts=thread)
        uploaded = resp.get("file") or {}
        return DeliveryReceipt(ref=f"file:{uploaded.get('id', '')}")

    def _respond(self, url: str, message: dict[str, Any], *, replace_original: bool) -> bool:
        """POST to a response_url (ephemeral). False when Slack no longer takes it (expired, used up, gone)."""
        try:
            resp = WebhookClient(url, timeout=RESPONSE_URL_TIMEOUT).send(
                text=message["text"], blocks=message.get("blocks"), response_type="ephemeral",
                replace_original=replace_original)
        except (OSError, SlackClientError) as exc:
            raise RetryLater(f"slack response_url: {type(exc).__name__}") from exc  # the URL may hold secrets
        if resp.status_code == 429 or resp.status_code >= 500:
            raise RetryLater(f"slack response_url: HTTP {resp.status_code}")
        if resp.status_code == 200:
            return True
        log.info("slack response_url refused (HTTP %s %s)", resp.status_code, (resp.body or "")[:40])
        return False

    def _dm_instead(self, delivery: Delivery, message: dict[str, Any], why: str) -> DeliveryReceipt:
        person = delivery.ephemeral_user or (delivery.recipient if _is_user_id(delivery.recipient) else None)
        if person is None:
            raise PermanentFailure(f"slack: cannot answer in {delivery.recipient} ({why}) and no person to DM")
        log.info("slack delivery %s: %s; answering by DM", delivery.id, why)
        return self._send(person, message, thread=None, ephemeral_user=None)

    def _update(self, delivery: Delivery, message: dict[str, Any]) -> DeliveryReceipt:
        if not delivery.ref:
            # An ephemeral copy: only the response_url of a click on it can replace it.
            if delivery.ticket:
                self._respond(delivery.ticket, message, replace_original=True)
            return DeliveryReceipt(ref=None)
        if ":" not in delivery.ref:
            raise PermanentFailure(f"slack update: bad ref {delivery.ref!r}")
        channel, ts = delivery.ref.split(":", 1)
        try:
            resp = self._call("chat_update", channel=channel, ts=ts, text=message["text"], blocks=message.get("blocks"))
        except PermanentFailure as exc:
            if not any(e in exc.reason for e in STALE_MESSAGE_ERRORS):
                raise
            return self._send(channel, message, thread=delivery.thread, ephemeral_user=None)
        return DeliveryReceipt(ref=f"{resp.get('channel', channel)}:{resp.get('ts', ts)}")
