"""Neutral Card → DingTalk payloads: interactive-card variables (cardParamMap) or a markdown message.

Interactive cards need a template built in the card platform (see README.md and templates/*.json); this
module fills the variables those templates declare. Without a configured template, or for card kinds no
template covers, the card becomes a `sampleMarkdown` robot message whose buttons are `dtmd://` links that
send the button's text command back to the robot — or, for a button no command does (Import, link someone new),
its signed token, which the robot callback reads as the click — so the flow still works from plain chat.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote

from adapters.dingtalk.settings import DingTalkSettings
from bot.cards.model import Button, Card, CardKind, Input
from bot.i18n import tr, trn

from .inbound import TOKEN_PARAM, click_text

# Which template setting serves which card kind (the approval template is generic enough for digests).
APPROVAL_KINDS = frozenset({CardKind.APPROVAL_REQUEST, CardKind.APPROVAL_DECIDED, CardKind.REMINDER_DIGEST,
                            CardKind.IMPORT_CHECK, CardKind.IMPORT_KIND, CardKind.IMPORT_DONE,  # Import on the card
                            CardKind.UNKNOWN_PERSON})  # someone new: link or ignore
TASK_KINDS = frozenset({CardKind.SHIPPING_TASK})

MAX_BUTTONS = 3  # button slots btn1..btn3 in both templates
MAX_VALUE_BYTES = 1000  # §5.3: a cardParamMap value may hold at most 1 KB
MAX_TITLE_CHARS = 100  # §4.3 suggested title size (also the chat-list preview)
MAX_MD_CHARS = 4000  # ≤ 12 000 UTF-8 bytes: inside the 15 000-byte msgParam limit of §4.2
MAX_MD_ROWS = 20  # table rows shown in markdown before "…还有 N 行"
DTMD_SEND = "dtmd://dingtalkclient/sendMessage?content="  # §4.3 [COMM]: a click sends this text to the robot


class NotRenderable(ValueError):
    """The card does not fit the template's variables (too many buttons, a value over 1 KB)."""


@dataclass(frozen=True)
class Markdown:
    title: str  # notification / chat-list preview
    text: str

    def msg_param(self) -> dict[str, str]:
        return {"title": self.title, "text": self.text}


def template_for(card: Card, settings: DingTalkSettings) -> str | None:
    """The card template id to use for this card, or None for markdown."""
    if card.kind in APPROVAL_KINDS:
        return settings.dingtalk_card_template_approval or None
    if card.kind in TASK_KINDS:
        return settings.dingtalk_card_template_task or None
    return None


def more_lines(n: int, locale: str) -> str:
    return trn(locale, "…and {n} more line", "…and {n} more lines", n)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- interactive-card variables

def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _fit_list(items: list[dict[str, str]], locale: str, text_key: str) -> str:
    """JSON-encode `items`, dropping trailing ones (with a "…还有 N 行" item) until it fits in 1 KB."""
    for keep in range(len(items), -1, -1):
        shown: list[dict[str, str]] = list(items[:keep])
        if keep < len(items):
            more = {k: "" for k in items[0]}
            more[text_key] = more_lines(len(items) - keep, locale)
            shown.append(more)
        encoded = _json(shown)
        if len(encoded.encode()) <= MAX_VALUE_BYTES:
            return encoded
    return "[]"


def _fit_str(text: str) -> str:
    data = text.encode()
    if len(data) <= MAX_VALUE_BYTES:
        return text
    return data[: MAX_VALUE_BYTES - 3].decode("utf-8", "ignore") + "…"


def _inputs_json(inputs: list[Input]) -> str:
    """All inputs of a button (ship: carrier select, tracking number, per-line quantities) for a form in the
    template; each value comes back as a callback param named after `name`. Over 1 KB, the optional inputs
    are dropped first: the core reads a missing quantity as "ship everything that is left"."""

    def one(x: Input) -> dict[str, object]:
        return {"name": x.name, "label": x.label, "kind": x.kind, "required": "true" if x.required else "false",
                "initial": x.initial or "", "placeholder": x.placeholder or "", "options": [o.value for o in x.options]}

    encoded = _json([one(x) for x in inputs])
    if len(encoded.encode()) > MAX_VALUE_BYTES:
        encoded = _json([one(x) for x in inputs if x.required])
    return encoded


def _button_slots(buttons: list[Button]) -> dict[str, str]:
    if len(buttons) > MAX_BUTTONS:
        raise NotRenderable(f"{len(buttons)} buttons; the templates have {MAX_BUTTONS} slots")
    slots: dict[str, str] = {}
    for i in range(1, MAX_BUTTONS + 1):
        b = buttons[i - 1] if i <= len(buttons) else None
        # Every slot is always written: updates merge by key, so an emptied slot must be sent explicitly
        # or a decided card would keep its 同意/驳回 buttons.
        slots[f"btn{i}_visible"] = "true" if b else "false"
        slots[f"btn{i}_text"] = b.label if b else ""
        slots[f"btn{i}_action"] = b.action if b else ""
        slots[f"btn{i}_style"] = b.style if b else ""
        slots[f"btn{i}_{TOKEN_PARAM}"] = b.token if b and not b.url else ""
        slots[f"btn{i}_url"] = (b.url or "") if b else ""
        slots[f"btn{i}_confirm"] = (b.confirm or "") if b else ""
        first_input = b.inputs[0] if b and b.inputs else None
        slots[f"btn{i}_input"] = first_input.name if first_input else ""
        slots[f"btn{i}_input_label"] = first_input.label if first_input else ""
        slots[f"btn{i}_inputs"] = _inputs_json(b.inputs) if b else "[]"
    for key, value in slots.items():
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise NotRenderable(f"{key} is over {MAX_VALUE_BYTES} bytes")
    return slots


def card_params(card: Card, *, intro: str | None = None) -> dict[str, str]:
    """The cardParamMap for our templates. Every value is a string (lists JSON-encoded), ≤ 1 KB."""
    params: dict[str, str] = {k: v for k, v in card.data.items() if isinstance(v, str)}
    if card.verdict is not None:  # a decided card's outcome, for templates that bind it
        params["verdict"] = card.verdict
    paragraphs = ([intro] if intro else []) + card.text
    rows = card.table.rows if card.table else []
    ours: dict[str, str] = {
        "kind": card.kind.value,
        "title": _clip(card.title, MAX_TITLE_CHARS),
        "subtitle": card.subtitle or "",
        "tone": card.tone.value,
        "fields": _fit_list([{"label": f.label, "value": f.value} for f in card.fields], card.locale, "label"),
        "columns": " | ".join(card.table.columns) if card.table else "",
        "lines": _fit_list([{"text": " | ".join(r)} for r in rows], card.locale, "text"),
        "table_note": (card.table.note or "") if card.table else "",
        "text": "\n".join(paragraphs),
        "context": card.context or "",
        "link": card.link or "",
        "has_actions": "true" if card.buttons else "false",
        "processing": "false",  # "true" only in the click answer while the core works (click_answer.py)
        "lastMessage": _clip(card.title, MAX_TITLE_CHARS),  # chat-list preview variable
    }
    params.update({k: _fit_str(v) for k, v in ours.items()})
    params.update(_button_slots(card.buttons))
    return params


def preview(card: Card) -> dict[str, str]:
    """lastMessageI18n: the chat-list line in the reader's client language (the card is in one language only)."""
    title = _clip(card.title, MAX_TITLE_CHARS)
    return {"ZH_CN": _clip(card.preview.get("zh", title), MAX_TITLE_CHARS),
            "EN_US": _clip(card.preview.get("en", title), MAX_TITLE_CHARS)}


# ---------------------------------------------------------------- markdown

_MD_SPECIAL = str.maketrans({"*": "＊", "[": "［", "]": "］", "`": "｀", "|": "｜"})
_LINE_START = re.compile(r"^(\s*)(#|>|[-+] |\d+\. )", re.MULTILINE)


def md_escape(text: str) -> str:
    """Neutralise markdown in plain text: emphasis, links, code and line-start markers become look-alikes.

    DingTalk's markdown subset does not reliably honour backslash escapes, so full-width look-alikes are used.
    """
    text = text.translate(_MD_SPECIAL)
    return _LINE_START.sub(lambda m: m.group(1) + "\u200b" + m.group(2), text)


def dtmd_link(label: str, command: str) -> str:
    return f"[{md_escape(label)}]({DTMD_SEND}{quote(command, safe='')})"


def _fit_md(head: list[str], body: list[str], tail: list[str], locale: str) -> str:
    """Join head/body/tail, dropping body lines from the end (with "…还有 N 行") to stay under MAX_MD_CHARS.

    The tail holds the buttons: they are the point of the message and are never cut.
    """
    for keep in range(len(body), -1, -1):
        lines = head + body[:keep]
        if keep < len(body):
            lines.append(more_lines(len(body) - keep, locale))
        text = "\n\n".join(x for x in ["\n".join(lines), "\n".join(tail)] if x)
        if len(text) <= MAX_MD_CHARS:
            return text
    return _clip("\n".join(head + tail), MAX_MD_CHARS)


def _reply_hint(label: str, command: str, locale: str, group: bool = False) -> str:
    if group:  # in a group the robot receives only messages that @-mention it
        return "- " + tr(locale, "{label}: mention me (@) with “{command}”", label=md_escape(label),
                         command=md_escape(command))
    return "- " + tr(locale, "{label}: reply “{command}”", label=md_escape(label), command=md_escape(command))


def card_markdown(card: Card, *, intro: str | None = None, group: bool = False) -> Markdown:
    """`group`: for a group chat, where a dtmd:// sendMessage link posts text without the @-mention the robot needs
    to receive it; such actions become "@我 …" hints (links to pages still work)."""
    head = [f"### {md_escape(card.title)}"]
    if card.subtitle:
        head.append(f"**{md_escape(card.subtitle)}**")
    body: list[str] = []
    if intro:
        body.append(md_escape(intro))
    body += ["- " + tr(card.locale, "{label}: {value}", label=md_escape(f.label), value=md_escape(f.value))
             for f in card.fields]
    if card.table:
        body.append("")
        body.append(f"**{md_escape(' | '.join(card.table.columns))}**")
        rows = card.table.rows
        body += [f"- {md_escape(' | '.join(r))}" for r in rows[:MAX_MD_ROWS]]
        if len(rows) > MAX_MD_ROWS:
            body.append(more_lines(len(rows) - MAX_MD_ROWS, card.locale))
        if card.table.note:
            body.append(md_escape(card.table.note))
    body += [md_escape(p) for p in card.text]
    if card.link:
        label = tr(card.locale, "Open link")
        body.append(f"[{label}]({card.link})")
    if card.context:
        body.append(f"<font color=#999999>{md_escape(card.context)}</font>")

    links: list[str] = []
    typed: list[str] = []
    for b in card.buttons:
        if b.command and (group or any(x.required for x in b.inputs)):
            # The command is a pattern the user must complete ("驳回 SO-… 理由", "发货 T-1 顺丰 SF…"), or a group
            # message where only an @-mention reaches the robot: a link would send it unedited or unheard, so show it
            # as text to type instead.
            typed.append(_reply_hint(b.label, b.command, card.locale, group))
        elif b.command:
            links.append(dtmd_link(b.label, b.command))
        elif b.url:
            links.append(f"[{md_escape(b.label)}]({b.url})")
        elif group or b.confirm:
            continue  # a link posts to a group unheard, and would skip the confirmation: left out, not dead
        elif b.presets:  # a choice made in advance (link this account to …): one link each, as on WeCom
            links += [dtmd_link(f"{b.label}: {p.label}", click_text(f"{b.label}: {p.label}", p.token)) for p in b.presets]
        elif b.token and not any(x.required for x in b.inputs):
            # No text command does this (Import a checked file, Ignore someone new): the link sends the signed token
            # back as the user's message, which the robot callback reads as this click (inbound.message_click).
            links.append(dtmd_link(b.label, click_text(b.label, b.token)))
    tail = typed + (["  ".join(links)] if links else [])
    return Markdown(title=_clip(card.title, MAX_TITLE_CHARS), text=_fit_md(head, body, tail, card.locale))


def text_markdown(text: str, locale: str = "zh-CN") -> Markdown:
    """A plain-text delivery as markdown, so long text is truncated the same way as cards."""
    lines = [md_escape(line) for line in text.splitlines()] or [""]
    first = text.strip().splitlines()[0] if text.strip() else "OrderTalk"
    return Markdown(title=_clip(first, MAX_TITLE_CHARS), text=_fit_md([], lines, [], locale))
