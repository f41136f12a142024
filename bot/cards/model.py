"""The neutral card model every adapter renders.

A card is data, not markup: each platform adapter turns it into Block Kit (Slack), interactive-card
variables or markdown (DingTalk), or a template card / markdown (WeCom). Nothing here knows a platform.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel
from pydantic import Field as PField


class Tone(StrEnum):
    """Header status colour. Renderers map it to their own palette."""

    NEUTRAL = "neutral"
    INFO = "info"  # pending / waiting for someone
    SUCCESS = "success"  # approved, shipped, completed
    WARNING = "warning"  # overdue, low stock
    DANGER = "danger"  # rejected, cancelled, error


class CardKind(StrEnum):
    """What a card is. Renderers choose by it (a DingTalk template, a Slack modal for a form); the values are the
    strings stored with outbox rows and shown to the sandbox as `data-kind`."""

    APPROVAL_REQUEST = "approval_request"
    APPROVAL_DECIDED = "approval_decided"
    APPROVAL_LIST = "approval_list"
    REJECT_CONFIRM = "reject_confirm"
    REMINDER_DIGEST = "reminder_digest"
    DAILY_DIGEST = "daily_digest"
    ORDER_STATUS = "order_status"
    ORDER_LIST = "order_list"
    LIST = "list"
    MORE = "more"
    PARTIAL = "partial"
    CHOICES = "choices"
    CONFIRM = "confirm"
    SHIPPING_TASK = "shipping_task"
    STATEMENT = "statement"
    STOCK = "stock"
    LOW_STOCK = "low_stock"
    CUSTOMER = "customer"
    PRODUCT = "product"
    REPORT = "report"
    SUBSCRIPTIONS = "subscriptions"
    IMPORT_CHECK = "import_check"
    IMPORT_DONE = "import_done"
    IMPORT_KIND = "import_kind"
    UNKNOWN_PERSON = "unknown_person"
    HELP = "help"
    INFO = "info"
    ERROR = "error"
    FORM = "form"  # `inputs` and a submit button: a modal on Slack, a form in the sandbox


class Field(BaseModel):
    label: str
    value: str


class LineTable(BaseModel):
    """Order lines (or any small table). `rows` are already formatted strings."""

    columns: list[str]
    rows: list[list[str]]
    note: str | None = None  # e.g. "合计 ¥12,800.00" shown under the table


class Option(BaseModel):
    value: str
    label: str


class Input(BaseModel):
    """A form input. `source` names a type-ahead list the bot core can search
    (BotCore.suggest(source, query)) instead of a fixed `options` list."""

    name: str
    label: str
    kind: Literal["text", "number", "select", "date"] = "text"
    required: bool = True
    options: list[Option] = PField(default_factory=list)
    source: Literal["customers", "products"] | None = None
    placeholder: str | None = None
    initial: str | None = None
    multiline: bool = False


class Button(BaseModel):
    """A button. `token` is the signed action token the platform must hand back unchanged.

    `inputs`: values the platform must collect before sending the action (a Slack modal, a sandbox form,
    WeCom preset choices). `presets`: ready-made values for platforms that cannot take free text (WeCom):
    each preset has its own token with the value signed in. `command`: the text command with the same
    effect, for platforms without interactive cards (DingTalk markdown fallback links).
    """

    action: str  # approve | reject | claim | ship | cancel | submit_order | pay | promise | snooze | ...
    label: str
    token: str
    style: Literal["default", "primary", "danger"] = "default"
    confirm: str | None = None  # confirmation question, if the click needs one
    inputs: list[Input] = PField(default_factory=list)
    presets: list[Preset] = PField(default_factory=list)
    command: str | None = None
    url: str | None = None  # a link button (no callback)


class Preset(BaseModel):
    label: str
    token: str


class Attachment(BaseModel):
    """A file that goes with a card: a report's chart (`image`) or its numbers (`file`, an XLSX).

    The bytes are stored once under `key` (bot.files; the key names the content, so every copy of the card shares
    one stored file): a deliverer reads them with `bot.files.get(session, key)` and uploads them with its platform's
    API (Slack files_upload_v2, DingTalk media upload + image message, WeCom media/upload + image message). `url` is
    a signed link to the same bytes, for platforms that show a picture by URL (the sandbox shows it inline) and as
    the card's link button. The card's own text — `summary` and table — is the fallback that always arrives: a
    deliverer that cannot upload sends the card without the file.
    """

    key: str
    kind: Literal["image", "file"]
    filename: str  # "sales-trend-2026-11-01-2026-11-23.png"
    mime: str
    title: str  # alt text of an image, name of a file
    size: int  # bytes
    url: str | None = None
    width: int | None = None  # pixels, for images
    height: int | None = None
    summary: list[str] = PField(default_factory=list)  # what the image says, in two lines (also the card's text)


class Card(BaseModel):
    kind: CardKind
    key: str | None = None  # logical identity: every copy of one card shares it, so updates find them all
    locale: str = "zh-CN"
    title: str
    tone: Tone = Tone.NEUTRAL
    subtitle: str | None = None
    fields: list[Field] = PField(default_factory=list)
    table: LineTable | None = None
    text: list[str] = PField(default_factory=list)  # paragraphs, plain text (renderers escape)
    context: str | None = None  # small print: "SO-20261122-0007 · 王经理 · 14:03"
    buttons: list[Button] = PField(default_factory=list)
    inputs: list[Input] = PField(default_factory=list)  # a form card: inputs + a submit button in `buttons`
    link: str | None = None  # e.g. delivery note PDF
    data: dict[str, str] = PField(default_factory=dict)  # flat string variables for template cards
    # A refusal about one form input (an ERROR card): that input's name, so a modal shows the message beside it.
    field_error: str | None = None
    # A decided card's outcome, "已同意 · 王经理 · 14:03": the grey label that replaces its buttons where the
    # platform has one (WeCom replace_text); the subtitle stands in when unset.
    verdict: str | None = None
    # A one-line summary per language ("zh", "en") for chat lists that show the reader's own client language
    # (DingTalk's lastMessageI18n), whatever language the card itself is in; the title when unset.
    preview: dict[str, str] = PField(default_factory=dict)
    attachments: list[Attachment] = PField(default_factory=list)  # a report's chart and spreadsheet

    def fallback_text(self) -> str:
        """Plain-text version: notifications, screen readers, platforms that only take text."""
        parts = [self.title]
        if self.subtitle:
            parts.append(self.subtitle)
        parts += [f"{f.label}: {f.value}" for f in self.fields]
        if self.table:
            parts += [" | ".join(r) for r in self.table.rows]
            if self.table.note:
                parts.append(self.table.note)
        parts += self.text
        if self.context:
            parts.append(self.context)
        return "\n".join(parts)


class Reply(BaseModel):
    """What a handler answers: text, a card, or both."""

    text: str | None = None
    card: Card | None = None
    ephemeral: bool = False  # only the asker should see it (where the platform can)

    def as_text(self) -> str:
        if self.text and self.card:
            return self.text + "\n" + self.card.fallback_text()
        return self.text or (self.card.fallback_text() if self.card else "")


Button.model_rebuild()
