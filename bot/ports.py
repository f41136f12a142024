"""The contract between the bot core and the platform adapters.

Inbound: an adapter verifies and parses a platform callback into an `InboundMessage` or `InboundAction`
and calls `BotCore.handle_message` / `handle_action`. Every inbound event carries a stable `event_id`
(platform message id, or a key built from the click) so a redelivery has no second effect.

Outbound: the outbox dispatcher hands each `Delivery` to the `Deliverer` registered for its platform.
A deliverer either returns a `DeliveryReceipt` (with the platform's reference to the posted message, so
a later update can find it) or raises `RetryLater` / `PermanentFailure`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import AfterValidator, BaseModel, Field

from bot.cards.model import Attachment, Card, Option, Reply

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _clean_text(value: str) -> str:
    """Whatever a platform hands us, the database can store: no NUL/control characters (PostgreSQL refuses NUL),
    lone surrogates (not encodable as UTF-8) become U+FFFD."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", value))


MAX_TEXT = 4000  # a chat message longer than this is no command and no reason anyone types: the rest is dropped
MAX_INPUTS, MAX_INPUT_NAME, MAX_INPUT_VALUE = 50, 64, 4000  # far above any form we send; refused beyond (4xx)
MAX_TOKEN = 300


def _message_text(value: str) -> str:
    return _clean_text(value[:MAX_TEXT])


def _inputs(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_INPUTS:
        raise ValueError(f"more than {MAX_INPUTS} form inputs")
    for name, text in value.items():
        if len(name) > MAX_INPUT_NAME:
            raise ValueError(f"a form input name has more than {MAX_INPUT_NAME} characters")
        if len(text) > MAX_INPUT_VALUE:
            raise ValueError(f"form input {name!r} is longer than {MAX_INPUT_VALUE} characters")
    return value


def _platform_id(value: str) -> str:
    if not value or len(value) > 128 or _CONTROL.search(value) or _SURROGATE.search(value):
        raise ValueError("not a platform id (empty, too long, or with control characters)")
    return value


def _event_key(value: str) -> str:
    value = _clean_text(value)
    if not value:
        raise ValueError("an inbound event needs an id")
    # Keys are stored in a bounded column; a long platform key is kept as its digest (still stable).
    return value if len(value) <= 200 else "sha256:" + hashlib.sha256(value.encode()).hexdigest()


CleanText = Annotated[str, AfterValidator(_clean_text)]
MessageText = Annotated[str, AfterValidator(_message_text)]
PlatformId = Annotated[str, AfterValidator(_platform_id)]
EventKey = Annotated[str, AfterValidator(_event_key)]
Inputs = Annotated[dict[CleanText, CleanText], AfterValidator(_inputs)]


class ReplyTarget(BaseModel):
    """Where replies to an inbound event go when they travel through the outbox."""

    recipient: PlatformId  # platform user id, or chat / channel id when kind == "group"
    kind: Literal["user", "group"] = "user"
    thread: str | None = None  # Slack thread_ts for mentions
    ephemeral_user: str | None = None  # Slack: show only to this user in `recipient` channel
    extra: dict[str, str] = Field(default_factory=dict)  # e.g. DingTalk sessionWebhook, Slack response_url
    # The platform takes only a few posts here (a Slack response_url: 5): several replies travel as one message.
    one_message: bool = False


class InboundFile(BaseModel):
    """A file someone sent the bot, not yet downloaded: its name, the size the platform declared (if it did), and
    what that platform's `FileSource` needs to fetch it (Slack url_private, DingTalk downloadCode, WeCom MediaId)."""

    name: Annotated[CleanText, Field(min_length=1, max_length=200)]
    size: Annotated[int, Field(ge=0)] | None = None
    ref: Annotated[dict[CleanText, Annotated[CleanText, Field(max_length=2000)]], Field(max_length=8)]


class InboundMessage(BaseModel):
    platform: str  # "slack" | "dingtalk" | "wecom" | "console"
    external_user_id: PlatformId
    text: MessageText
    event_id: EventKey
    reply_to: ReplyTarget | None = None
    display_name: str | None = None
    file: InboundFile | None = None  # a file sent with (or as) the message
    locale: str | None = None  # the sender's language, when the platform says (e.g. Slack's "en-US")


class CopyTicket(BaseModel):
    """A click's single-use permission to update the card copy that was clicked (WeCom ResponseCode, Slack
    response_url of an ephemeral copy). The copy is named by the platform's `handle` for it (WeCom TaskId), or by
    the card key within the reply conversation when the platform has no handle (Slack ephemeral messages)."""

    code: Annotated[str, Field(min_length=1, max_length=2000)]
    handle: str | None = None
    card_key: str | None = None


class InboundAction(BaseModel):
    platform: str
    external_user_id: PlatformId
    token: Annotated[CleanText, Field(max_length=MAX_TOKEN)]
    event_id: EventKey
    inputs: Inputs = Field(default_factory=dict)
    reply_to: ReplyTarget | None = None
    ticket: CopyTicket | None = None


class Delivery(BaseModel):
    """One outgoing message or card operation, as the dispatcher hands it to an adapter.

    op == "image": a card's picture (a report's chart), `attachment`, as the platform's own image message in the
    conversation the card went to. It is a row of its own, queued right after the card's: the card (its summary,
    table and links) never waits for an upload or fails with one, and an upload that fails is retried on its own.
    """

    id: int
    platform: str
    recipient: str
    recipient_kind: Literal["user", "group"] = "user"
    op: Literal["send", "update", "home", "image"] = "send"
    card: Card | None = None
    text: str | None = None
    cards: list[Card] = Field(default_factory=list)  # op == "home": the user's home tab sections
    replies: list[Reply] = Field(default_factory=list)  # several replies as one message (ReplyTarget.one_message)
    attachment: Attachment | None = None  # op == "image": the stored file to show
    card_key: str | None = None
    ref: str | None = None  # op == "update": the receipt ref of the copy being replaced
    ticket: str | None = None  # op == "update": the newest unused CopyTicket code for that copy, if any
    thread: str | None = None
    ephemeral_user: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)
    attempt: int = 1


class DeliveryReceipt(BaseModel):
    ref: str | None = None  # opaque to the core: Slack "channel:ts", DingTalk outTrackId, WeCom task/user…
    handle: str | None = None  # the platform's id of this copy that later clicks name (WeCom TaskId)
    ticket: str | None = None  # a single-use permission to update this copy later (WeCom send response_code)


class RetryLater(Exception):
    """Temporary failure (rate limit, 5xx, timeout). The dispatcher backs off and tries again.

    `hold`: the platform refused for the API method's own rate (the app's, not this message's), so nothing else
    drawing from the method's bucket goes out for `retry_after` either (bot.ratelimit.RateLimiter.hold)."""

    def __init__(self, reason: str, retry_after: float | None = None, *, hold: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.hold = hold


class PermanentFailure(Exception):
    """Will not succeed by retrying (bad config, no permission, unknown user). Admins get an alert."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Deliverer(Protocol):
    platform: str

    def deliver(self, delivery: Delivery) -> DeliveryReceipt: ...


# Whether the core queues its replies in the outbox: all (True), none (False: the adapter shows them itself, e.g. as
# a modal's field errors), or those a function picks from the replies, inside the same transaction.
Deliver = bool | Callable[[list[Reply]], list[Reply]]


class FileTooLarge(Exception):
    """The file is larger than the bot takes; nothing more is downloaded."""


class FileUnavailable(Exception):
    """The platform would not hand the file over (expired, no permission, unreachable)."""


class FileSource(Protocol):
    """Downloads a file someone sent the bot, with the platform's own API (one per platform, in its adapter)."""

    def fetch(self, file: InboundFile, max_bytes: int) -> bytes: ...


class PersonLocale(Protocol):
    """A platform's word for a person's language, from their profile (Slack `users.info` with its locale), for
    someone nobody is linked to yet. None when the platform does not say or cannot be asked now."""

    def locale(self, external_id: str) -> str | None: ...


class WithEvent(Protocol):
    """Writes that commit with the effect of the inbound event the bot core records next on this thread (the inbox
    marking its row done in the same transaction as the decision, instead of a transaction of its own after it)."""

    def write(self, session: Session) -> None: ...

    def committed(self) -> None: ...


# Set by the caller around one core call (bot.inbox); the core runs `write` before the commit that records the event
# key (its effect, or its refusal) and `committed` once that commit succeeded. Not for a redelivery (no commit).
with_event: ContextVar[WithEvent | None] = ContextVar("ordertalk_with_event", default=None)


class BotCorePort(Protocol):
    """What adapters may call on the bot core."""

    def handle_message(self, msg: InboundMessage, *, deliver_replies: Deliver = True) -> list[Reply]: ...

    def handle_action(self, action: InboundAction, *, deliver_replies: Deliver = True) -> list[Reply]: ...

    def suggest(self, platform: str, external_user_id: str, source: str, query: str) -> list[Option]: ...

    def home(self, platform: str, external_user_id: str) -> list[Card]: ...


@runtime_checkable
class InboxPort(Protocol):
    """What the composition root hands adapters when callbacks go through the durable inbox (bot.inbox.InboxCore):
    the BotCorePort calls store the event before they return; adapters that need more use these. `core` is the bot
    core itself, for what must be answered in the request (read-only calls, a modal's field errors)."""

    inline: bool
    core: BotCorePort

    def handle_message(self, msg: InboundMessage, *, deliver_replies: Deliver = True) -> list[Reply]: ...

    def handle_action(self, action: InboundAction, *, deliver_replies: Deliver = True) -> list[Reply]: ...

    def store_raw(self, platform: str, key: str, conversation: str, kind: str, payload: dict[str, Any]) -> Any: ...

    def store_action(self, action: InboundAction) -> Any: ...

    def process_now(self, stored: Any, deliver_replies: Deliver = True) -> list[Reply] | None: ...

    def register_raw(self, kind: str, handler: Callable[[dict[str, Any]], None]) -> None: ...
