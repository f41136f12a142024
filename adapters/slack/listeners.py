"""Bolt listeners: Slack payload → neutral InboundMessage / InboundAction → BotCorePort.

No business rule lives here. Each listener only parses and calls the core; the core's answers travel through the
outbox like every message (SlackDeliverer). Answers to a slash command, a click or a modal opened from one carry the
request's `response_url`, so they reach the person ephemerally in any conversation — also where the bot is not a
member — and fall back to a DM from the bot. What Slack needs at once stays here: a modal's field errors (in the
ack), opening a modal within the trigger's 3 seconds, and options for type-ahead selects.

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

from adapters.slack.blocks import card_key_of_block, render_home
from adapters.slack.buttons import unpack_button_value
from adapters.slack.files import inbound_file
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
from bot.ports import BotCorePort, CopyTicket, InboundAction, InboundMessage, ReplyTarget
from bot.tokens import BadToken, TokenSigner

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


def answer_target(user: str, channel: str | None, response_url: str | None, thread: str | None = None) -> ReplyTarget:
    """Where the answer to a command, click or modal goes: its response_url (ephemeral, any conversation), else
    ephemeral in the channel, else the person's DM with the bot; the deliverer falls back to the DM."""
    extra = {"response_url": response_url} if response_url else {}
    few = bool(response_url)  # 5 posts per response_url: several answers go as one message
    if channel:
        return ReplyTarget(recipient=channel, kind="group", ephemeral_user=user, thread=thread, extra=extra,
                           one_message=few)
    return ReplyTarget(recipient=user, kind="user", extra=extra, one_message=few)


class SlackListeners:
    def __init__(self, core: BotCorePort, signer: TokenSigner, *, locale: str = "zh-CN") -> None:
        self.core = core
        self.signer = signer  # the root's: checks the token a modal-opening button carries before the modal opens
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
            file=inbound_file(event),
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
        trigger, response_url = command.get("trigger_id"), command.get("response_url") or None
        msg = InboundMessage(
            platform=PLATFORM,
            external_user_id=user,
            text=(command.get("text") or "").strip(),
            # No envelope id for commands; trigger_id is unique per invocation (commands are not retried).
            event_id=f"{PLATFORM}:cmd:{trigger or response_url or ''}",
            reply_to=answer_target(user, channel, response_url),
            display_name=command.get("user_name"),
        )

        def is_form(reply: Reply) -> bool:
            return bool(trigger and reply.card and form_spec(reply.card))

        def keep(replies: list[Reply]) -> list[Reply]:
            """`/order new` answers with a form: it opens as a modal (below), so it is not also posted."""
            form = next((r for r in replies if is_form(r)), None)
            return [r for r in replies if r is not form]

        try:
            replies = self.core.handle_message(msg, deliver_replies=keep)
        except Exception:
            log.exception("core failed on /order")
            if response_url:
                respond(text=self._sorry(), response_type="ephemeral")
            return
        form = next((r for r in replies if is_form(r)), None)
        if form and not self._open_form(form, trigger, client, ModalOrigin(channel=channel, response_url=response_url)):
            # The trigger expired (or views.open failed): the form card itself, with its button, through the outbox.
            self.core.handle_message(msg.model_copy(update={"event_id": msg.event_id + ":form"}), deliver_replies=True)

    def _open_form(self, reply: Reply, trigger_id: str | None, client: WebClient, origin: ModalOrigin) -> bool:
        spec = form_spec(reply.card) if reply.card else None
        if spec is None or not trigger_id:
            return False
        try:
            client.views_open(trigger_id=trigger_id, view=build_modal(spec, origin))
        except SlackApiError as exc:
            log.warning("views.open for form failed: %s", exc.response.get("error"))
            return False
        return True

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
        response_url = body.get("response_url") or None  # absent on the Home tab
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
        token = action.get("value") or ""
        if spec is not None and not self._signed(spec.token):
            # A packed value whose token we did not sign: no modal to fill in for nothing. It goes to the core like a
            # plain button with that token, which refuses it, audits the refusal and tells the clicker.
            log.warning("modal-opening button with an unknown or tampered token; handed to the core as a click")
            token, spec = spec.token, None
        if spec is not None:
            # Open first: the trigger_id expires 3 s after the click. The modal keeps the click's response_url, so
            # its result is answered where the click was.
            try:
                view = build_modal(spec, ModalOrigin(channel, thread, response_url))
                client.views_open(trigger_id=body.get("trigger_id") or "", view=view)
            except (SlackApiError, ValueError) as exc:
                log.warning("views.open failed: %s", exc.response.get("error") if isinstance(exc, SlackApiError) else exc)
                self._tell_clicker(body, respond)
            return
        anchor = container.get("message_ts") or container.get("view_id") or ""
        key = card_key_of_block(action.get("block_id"))
        # A click on an ephemeral card: its response_url is the only way to replace that card later.
        ticket = (CopyTicket(code=response_url, card_key=key)
                  if container.get("is_ephemeral") and response_url and key else None)
        self.core.handle_action(
            InboundAction(
                platform=PLATFORM,
                external_user_id=user,
                token=token,
                event_id=f"{PLATFORM}:action:{anchor}:{action.get('action_ts', '')}",
                reply_to=answer_target(user, channel, response_url, thread),
                ticket=ticket,
            ),
            deliver_replies=True,
        )

    def _signed(self, token: str) -> bool:
        try:
            self.signer.verify(token)
        except BadToken:
            return False
        return True

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
        """Modal submitted: the core decides before we ack, so its field errors keep the modal open; every other
        answer travels through the outbox to where the modal was opened from (the click's or command's
        response_url, else the person's DM)."""
        user = body["user"]["id"]
        first = next(iter(input_block_ids(view)), None)
        try:
            token, origin, _ = read_metadata(view)
            inputs = read_inputs(view)
            digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]
            action = InboundAction(
                platform=PLATFORM,
                external_user_id=user,
                token=token,
                # One view + the same values = one effect; corrected values after a field error are a new event.
                event_id=f"{PLATFORM}:view:{view.get('id', '')}:{digest}",
                inputs=inputs,
                reply_to=answer_target(user, origin.channel, origin.response_url, origin.thread),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            # Not a modal we built (or one from an incompatible version): nothing to hand the core. An exception
            # before the ack would be a 500, so answer with an error on the form instead.
            log.warning("modal submission without readable metadata or state; refused")
            ack(**({"response_action": "errors", "errors": {first: self._sorry()}} if first else {}))
            return
        try:
            # Field errors are shown on the form (below), so they are not also posted.
            replies = self.core.handle_action(
                action, deliver_replies=lambda replies: [] if field_errors(replies, view) else replies)
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
