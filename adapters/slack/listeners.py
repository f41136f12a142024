"""Bolt listeners: Slack payload → neutral InboundMessage / InboundAction → BotCorePort.

No business rule lives here. Each listener only parses, calls the core, and shows what the core answered
where Slack needs an immediate answer (slash command, modal submission, options). Everything else the
core delivers itself through the outbox (deliver_replies=True) and SlackDeliverer.

Idempotency: Slack retries an Events API delivery (X-Slack-Retry-Num) with the same envelope `event_id`;
we pass exactly that as "slack:<event_id>", and the core dedups on it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from adapters.slack.blocks import render_home, render_replies
from adapters.slack.buttons import unpack_button_value
from adapters.slack.deliverer import SlackDeliverer
from adapters.slack.modals import (
    SUGGEST_PREFIX,
    ModalOrigin,
    build_modal,
    field_errors,
    form_spec,
    input_block_ids,
    read_inputs,
    read_metadata,
    suggestion_options,
)
from bot.cards.model import Reply
from bot.i18n import tr
from bot.ports import BotCorePort, InboundAction, InboundMessage, ReplyTarget

log = logging.getLogger(__name__)

PLATFORM = "slack"
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
# Message subtypes that are a person writing to us; edits, joins, deletions… are ignored (but acked).
_USER_SUBTYPES = (None, "file_share", "thread_broadcast")


def unescape(text: str) -> str:
    """Incoming message text is mrkdwn-escaped; the core parses plain text."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def from_bot(event: dict[str, Any], context: Any) -> bool:
    """Any bot's message (ours or another app's): answering it could start a loop."""
    bot_user = getattr(context, "bot_user_id", None)
    return bool(
        event.get("bot_id")
        or event.get("subtype") == "bot_message"
        or event.get("bot_profile")
        or (bot_user and event.get("user") == bot_user)
    )


def envelope_event_id(body: dict[str, Any], event: dict[str, Any]) -> str:
    """The Events API envelope id: identical on every retry. Fallback channel+ts is stable too."""
    if body.get("event_id"):
        return f"{PLATFORM}:{body['event_id']}"
    return f"{PLATFORM}:{event.get('channel', '')}:{event.get('ts', '')}"


class SlackListeners:
    def __init__(self, core: BotCorePort, deliverer: SlackDeliverer, *, locale: str = "zh-CN") -> None:
        self.core = core
        self.deliverer = deliverer
        self.locale = locale

    def _sorry(self) -> str:
        return tr(self.locale, "Something went wrong, please try again.")

    # -- Events API -----------------------------------------------------------------------------------

    def on_message(self, event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        """message.im: a DM to the bot. Other message events (subtypes, channels) are acked and dropped."""
        if from_bot(event, context) or event.get("subtype") not in _USER_SUBTYPES:
            return
        if event.get("channel_type") != "im" or not event.get("user") or not event.get("channel"):
            return
        msg = InboundMessage(
            platform=PLATFORM,
            external_user_id=event["user"],
            text=unescape(event.get("text") or "").strip(),
            event_id=envelope_event_id(body, event),
            reply_to=ReplyTarget(recipient=event["channel"], kind="user", thread=event.get("thread_ts")),
        )
        self.core.handle_message(msg, deliver_replies=True)

    def on_mention(self, event: dict[str, Any], body: dict[str, Any], context: Any) -> None:
        """app_mention in a channel: answer in the thread of the mention."""
        if from_bot(event, context) or not event.get("user") or not event.get("channel"):
            return
        text = _MENTION.sub(lambda m: "" if m.group(1) == getattr(context, "bot_user_id", None) else m.group(0),
                            event.get("text") or "")
        msg = InboundMessage(
            platform=PLATFORM,
            external_user_id=event["user"],
            text=unescape(text).strip(),
            event_id=envelope_event_id(body, event),
            reply_to=ReplyTarget(
                recipient=event["channel"], kind="group", thread=event.get("thread_ts") or event.get("ts")
            ),
        )
        self.core.handle_message(msg, deliver_replies=True)

    def on_home_opened(self, event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home" or not event.get("user"):
            return
        cards = self.core.home(PLATFORM, event["user"])
        client.views_publish(user_id=event["user"], view=render_home(cards, self.locale))

    # -- slash command --------------------------------------------------------------------------------

    def on_command(self, ack: Any, command: dict[str, Any], respond: Any, client: WebClient) -> None:
        """/order …: ack at once (3 s deadline), then answer ephemerally through response_url."""
        ack()
        try:
            self._command(command, respond, client)
        except Exception:
            # Caught here, not by Bolt: Bolt's handler for an exception after the ack resets the ack, and the
            # request it is still answering can then wait 3 s and end as a 404.
            log.exception("/order failed after the ack")

    def _command(self, command: dict[str, Any], respond: Any, client: WebClient) -> None:
        user, channel = command["user_id"], command.get("channel_id")
        msg = InboundMessage(
            platform=PLATFORM,
            external_user_id=user,
            text=(command.get("text") or "").strip(),
            # No envelope id for commands; trigger_id is unique per invocation (commands are not retried).
            event_id=f"{PLATFORM}:cmd:{command.get('trigger_id') or command.get('response_url', '')}",
            reply_to=ReplyTarget(recipient=channel or user, kind="group" if channel else "user", ephemeral_user=user),
            display_name=command.get("user_name"),
        )
        try:
            replies = self.core.handle_message(msg, deliver_replies=False)
        except Exception:
            log.exception("core failed on /order")
            respond(text=self._sorry(), response_type="ephemeral")
            return
        replies = self._open_form(replies, command.get("trigger_id"), client, ModalOrigin(channel=channel))
        if replies:
            respond(**render_replies(replies, self.locale), response_type="ephemeral")

    def _open_form(self, replies: list[Reply], trigger_id: str | None, client: WebClient,
                   origin: ModalOrigin) -> list[Reply]:
        """`/order new` answers with a form card: open it as a modal right away (the trigger lives 3 s)."""
        if not trigger_id:
            return replies
        for n, reply in enumerate(replies):
            spec = form_spec(reply.card) if reply.card else None
            if spec is None:
                continue
            try:
                client.views_open(trigger_id=trigger_id, view=build_modal(spec, origin))
            except SlackApiError as exc:
                # expired_trigger_id etc.: the card itself (with its open button) is shown instead.
                log.warning("views.open for form failed: %s", exc.response.get("error"))
                return replies
            return replies[:n] + replies[n + 1 :]
        return replies

    # -- interactivity --------------------------------------------------------------------------------

    def on_button(self, ack: Any, body: dict[str, Any], action: dict[str, Any], client: WebClient,
                  respond: Any = None) -> None:
        ack()
        try:
            self._button(body, action, client, respond)
        except Exception:
            log.exception("button click failed after the ack")  # see on_command for why not left to Bolt
            try:
                self._tell_clicker(body, respond)
            except Exception:
                log.exception("could not tell the clicker")

    def _button(self, body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Any) -> None:
        user = body["user"]["id"]
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        thread = (body.get("message") or {}).get("thread_ts")
        try:
            spec = unpack_button_value(action.get("value") or "")
        except KeyError:
            log.warning("button spec unknown to this process; asking the user to retry")
            self._tell_clicker(body, respond)
            return
        except ValueError:
            log.warning("button value does not decode (tampered or truncated); nothing done")
            self._tell_clicker(body, respond)
            return
        if spec is not None:
            # Open first: the trigger_id expires 3 s after the click.
            try:
                view = build_modal(spec, ModalOrigin(channel, thread))
                client.views_open(trigger_id=body.get("trigger_id") or "", view=view)
            except SlackApiError as exc:
                log.warning("views.open failed: %s", exc.response.get("error"))
                self._tell_clicker(body, respond)
            return
        anchor = container.get("message_ts") or container.get("view_id") or ""
        reply_to = (
            ReplyTarget(recipient=channel, kind="group", ephemeral_user=user, thread=thread)
            if channel
            else ReplyTarget(recipient=user, kind="user")  # Home tab: no channel, answer in the DM
        )
        self.core.handle_action(
            InboundAction(
                platform=PLATFORM,
                external_user_id=user,
                token=action.get("value") or "",
                event_id=f"{PLATFORM}:action:{anchor}:{action.get('action_ts', '')}",
                reply_to=reply_to,
            ),
            deliver_replies=True,
        )

    def _tell_clicker(self, body: dict[str, Any], respond: Any) -> None:
        """Something went wrong with a click before the core saw it: say so, to the clicker only."""
        if body.get("response_url") and respond is not None:
            respond(text=self._sorry(), response_type="ephemeral", replace_original=False)

    def on_link(self, ack: Any) -> None:
        """Link buttons (URL) still send block_actions; ack so the user sees no error."""
        ack()

    def on_options(self, ack: Any, body: dict[str, Any]) -> None:
        source = str(body.get("action_id", ""))[len(SUGGEST_PREFIX) :]
        try:
            options = self.core.suggest(PLATFORM, body["user"]["id"], source, body.get("value") or "")
        except Exception:
            log.exception("core.suggest failed")
            options = []
        ack(options=suggestion_options(options))

    def on_submit(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """Modal submitted: the core decides before we ack, so its field errors keep the modal open."""
        user = body["user"]["id"]
        first = next(iter(input_block_ids(view)), None)
        try:
            token, origin, _ = read_metadata(view)
            inputs = read_inputs(view)
            digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]
            reply_to = (
                ReplyTarget(recipient=origin.channel, kind="group", ephemeral_user=user, thread=origin.thread)
                if origin.channel
                else ReplyTarget(recipient=user, kind="user")
            )
            action = InboundAction(
                platform=PLATFORM,
                external_user_id=user,
                token=token,
                # One view + the same values = one effect; corrected values after a field error are a new event.
                event_id=f"{PLATFORM}:view:{view.get('id', '')}:{digest}",
                inputs=inputs,
                reply_to=reply_to,
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            # Not a modal we built (or one from an incompatible version): nothing to hand the core. An exception
            # before the ack would be a 500, so answer with an error on the form instead.
            log.warning("modal submission without readable metadata or state; refused")
            ack(**({"response_action": "errors", "errors": {first: self._sorry()}} if first else {}))
            return
        try:
            replies = self.core.handle_action(action, deliver_replies=False)
        except Exception:
            log.exception("core failed on modal submission")
            if first:
                ack(response_action="errors", errors={first: self._sorry()})
            else:
                ack()
            return
        errors = field_errors(replies, view)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        try:
            self.deliverer.send_replies(reply_to, replies)
        except Exception:
            log.exception("could not post modal result")
