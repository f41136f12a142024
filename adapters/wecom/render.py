"""Neutral `Card` → WeCom payloads: a `button_interaction` template card when there is something to click,
WeCom-flavoured markdown otherwise (wecom.md §4.4, §5.2, §6.2, §6.3).

WeCom cards cannot collect free text, so: a Button's presets become buttons of their own (key = preset token),
and a Button that needs typed inputs is replaced by a note telling the user the equivalent text command.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from bot.cards.model import Button, Card, Tone
from bot.i18n import is_zh, tr, trn

# hard limits (errors) and display limits (WeCom cuts the text on screen; we cut first, with an ellipsis)
MAX_BUTTONS = 6
MAX_ROWS = 6
MAX_KEY_BYTES = 1024
TASK_ID_RE = re.compile(r"^[0-9A-Za-z_@-]{1,128}$")
MARKDOWN_MAX_BYTES = 2048
TEXT_MAX_BYTES = 2048
TITLE_CHARS, DESC_CHARS, SUB_CHARS = 36, 44, 160
KEYNAME_CHARS, VALUE_CHARS, BUTTON_CHARS, SOURCE_CHARS = 5, 30, 10, 20
REPLACE_CHARS = 20  # no documented limit for replace_text; room for "已同意 · 王经理 · 14:03" [UNVERIFIED]
DONE_KEY = "ordertalk-done"  # key of the greyed placeholder button on a decided card; never clickable

_STYLE = {"primary": 1, "default": 2, "danger": 3}  # 1 强调 · 2 次强调 · 3 中性; colour mapping is [COMM]
_SOURCE_COLOR = {Tone.NEUTRAL: 0, Tone.INFO: 1, Tone.WARNING: 2, Tone.DANGER: 2, Tone.SUCCESS: 3}
_MD_COLOR = {Tone.SUCCESS: "info", Tone.WARNING: "warning", Tone.DANGER: "warning", Tone.INFO: "comment"}


class RenderError(ValueError):
    """The card cannot be expressed for WeCom (e.g. a button token longer than a key may be)."""


def _zh(card: Card) -> bool:
    return is_zh(card.locale)


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, ending in "…" when cut."""
    text = text.strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def clip_bytes(text: str, limit: int) -> str:
    """At most `limit` UTF-8 bytes without splitting a character, ending in "…" when cut."""
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    return raw[: limit - len("…".encode())].decode("utf-8", errors="ignore") + "…"


def new_task_id(delivery_id: int, attempt: int) -> str:
    # unique per send: a re-send after a failed attempt must not reuse a task_id (42014), and the random part
    # keeps ids unique even if the outbox ids restart (fresh database in dev/staging)
    task_id = f"ot-{delivery_id}-{attempt}-{secrets.token_hex(6)}"
    assert TASK_ID_RE.match(task_id)
    return task_id


# -- buttons ---------------------------------------------------------------------------------------------------


@dataclass
class _ButtonPlan:
    buttons: list[dict[str, Any]]
    notes: list[str]  # "use this text command instead" lines for what a card cannot do


def _command_note(card: Card, button: Button) -> str:
    if button.command:
        return tr(card.locale, "{label}: send “{command}”", label=button.label, command=button.command)
    return tr(card.locale, "{label}: not available in WeCom", label=button.label)


def _key(token: str) -> str:
    if not token or len(token.encode("utf-8")) > MAX_KEY_BYTES:
        raise RenderError("button token is empty or longer than a WeCom button key (1024 bytes)")
    return token


def plan_buttons(card: Card) -> _ButtonPlan:
    plan = _ButtonPlan(buttons=[], notes=[])
    seen: set[str] = set()
    candidates: list[tuple[Button, dict[str, Any]]] = []
    for b in card.buttons:
        style = _STYLE.get(b.style, 2)
        if b.url:
            candidates.append(
                (b, {"type": 1, "text": clip(b.label, BUTTON_CHARS), "style": style, "url": b.url})
            )
        elif b.presets:
            # one button per preset; the core handles "other reason → next message is the reason"
            for p in b.presets:
                candidates.append(
                    (b, {"text": clip(p.label, BUTTON_CHARS), "style": style, "key": _key(p.token)})
                )
        elif b.inputs:
            plan.notes.append(_command_note(card, b))
        else:
            candidates.append(
                (b, {"text": clip(b.label, BUTTON_CHARS), "style": style, "key": _key(b.token)})
            )
    for b, item in candidates:
        key = item.get("key")
        if key is not None and key in seen:
            continue  # keys must be unique within a card
        if len(plan.buttons) >= MAX_BUTTONS:
            note = _command_note(card, b)
            if note not in plan.notes:
                plan.notes.append(note)
            continue
        if key is not None:
            seen.add(key)
        plan.buttons.append(item)
    return plan


# -- template card ---------------------------------------------------------------------------------------------


def _sub_text(card: Card, extra: list[str], notes: list[str]) -> str:
    lines = [*extra, *card.text]
    if card.table:
        lines += [" | ".join(r) for r in card.table.rows]
        if card.table.note:
            lines.append(card.table.note)
    if card.context:
        lines.append(card.context)
    tail = "\n".join(notes)
    if len(tail) >= SUB_CHARS:
        return clip(tail, SUB_CHARS)
    room = SUB_CHARS - (len(tail) + 1 if tail else 0)  # the command notes must survive the cut
    body = clip("\n".join(lines), room) if lines else ""
    return "\n".join(p for p in (body, tail) if p)


def _rows(card: Card) -> tuple[list[dict[str, Any]], list[str]]:
    """horizontal_content_list (≤ 6 rows, link row included) and the fields that did not fit."""
    room = MAX_ROWS - (1 if card.link else 0)
    rows = [
        {"keyname": clip(f.label, KEYNAME_CHARS), "value": clip(f.value, VALUE_CHARS)}
        for f in card.fields[:room]
    ]
    overflow = [f"{f.label}: {f.value}" for f in card.fields[room:]]
    if card.link:
        rows.append(
            {
                "type": 1,
                "keyname": tr(card.locale, "Link"),
                "value": tr(card.locale, "Open link"),
                "url": card.link,
            }
        )
    return rows, overflow


def _frame(
    card: Card, task_id: str, buttons: list[dict[str, Any]], notes: list[str], text: str | None
) -> dict[str, Any]:
    if not TASK_ID_RE.match(task_id):
        raise RenderError("task_id must be 1-128 chars of [0-9A-Za-z_@-]")
    rows, overflow = _rows(card)
    main_title: dict[str, str] = {"title": clip(card.title, TITLE_CHARS)}
    if card.subtitle:
        main_title["desc"] = clip(card.subtitle, DESC_CHARS)
    payload: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {
            "desc": clip(tr(card.locale, "OrderTalk"), SOURCE_CHARS),
            "desc_color": _SOURCE_COLOR.get(card.tone, 0),
        },
        "main_title": main_title,
        "task_id": task_id,
        "button_list": buttons,
    }
    sub = _sub_text(card, ([text] if text else []) + overflow, notes)
    if sub:
        payload["sub_title_text"] = sub
    if rows:
        payload["horizontal_content_list"] = rows
    return payload


def _clickable(buttons: list[dict[str, Any]]) -> bool:
    return any("key" in b for b in buttons)  # link buttons alone give the user nothing to decide


def render_template_card(card: Card, task_id: str, *, text: str | None = None) -> dict[str, Any] | None:
    """A `button_interaction` card, or None when nothing on the card is clickable in WeCom."""
    plan = plan_buttons(card)
    if not _clickable(plan.buttons):
        return None
    return _frame(card, task_id, plan.buttons, plan.notes, text)


def replace_text_for(card: Card) -> str:
    """The grey label that replaces the buttons of a decided card, e.g. "已同意 · 王经理 · 14:03".

    `data["status"]` is a machine value ("approved") and is not shown; the card's verdict or its subtitle is.
    """
    label = card.verdict or card.subtitle
    if not label:
        label = tr(card.locale, "Handled")
    return clip(label, REPLACE_CHARS)


def render_update_card(card: Card, task_id: str) -> dict[str, Any]:
    """Replacement card for update_template_card: the decided card under the original task_id.

    If the new card still has buttons (e.g. a claimed shipping task now offers "ship"), they stay clickable;
    otherwise the buttons become one greyed `replace_text` label such as "已同意" / "已处理".
    """
    plan = plan_buttons(card)
    if _clickable(plan.buttons):
        return _frame(card, task_id, plan.buttons, plan.notes, None)
    label = replace_text_for(card)
    # button_list stays required for button_interaction; replace_text greys it out with the label
    payload = _frame(card, task_id, [{"text": label, "style": 3, "key": DONE_KEY}], plan.notes, None)
    payload["replace_text"] = label
    return payload


# -- markdown --------------------------------------------------------------------------------------------------

_MD_ESCAPE = str.maketrans({"<": "＜", ">": "＞", "[": "［", "]": "］", "`": "'", "*": "＊"})


def md_escape(text: str) -> str:
    """Neutralise WeCom markdown in user-provided text (font tags, links, code, bold, headings, quotes)."""
    out = text.translate(_MD_ESCAPE)
    return "＃" + out[1:] if out.startswith("#") else out


def _fit_lines(lines: list[str], limit: int, zh: bool) -> str:
    """Join lines; if over `limit` bytes, drop whole lines from the end and say how many were left out."""
    lines = [clip_bytes(line, limit // 2) for line in lines]
    text = "\n".join(lines)
    if len(text.encode("utf-8")) <= limit:
        return text
    kept = list(lines)
    while kept:
        dropped = len(lines) - len(kept)
        note = trn("zh-CN" if zh else "en", "…and {n} more line", "…and {n} more lines", dropped)
        candidate = "\n".join([*kept, note])
        if dropped and len(candidate.encode("utf-8")) <= limit:
            return candidate
        kept.pop()
    return clip_bytes(text, limit)


def group_note(card: Card) -> str:
    """What a group reader can do instead of clicking or typing in the group: messages in an app group chat never
    reach a self-built app (wecom.md §9), so only the 1:1 chat with the app works."""
    return tr(card.locale, "To act on this (claim, ship…), use your 1:1 chat with OrderTalk: the card was sent to each "
                           "colleague concerned.")


def render_markdown(card: Card, *, text: str | None = None, limit: int = MARKDOWN_MAX_BYTES,
                    group: bool = False) -> str:
    """`group`: for an app group chat, where nothing typed or clicked reaches the app; commands are left out."""
    zh = _zh(card)
    title = md_escape(card.title)
    color = _MD_COLOR.get(card.tone)
    lines = [f'### <font color="{color}">{title}</font>' if color else f"### {title}"]
    if text:
        lines.append(md_escape(text))
    if card.subtitle:
        lines.append(f'<font color="comment">{md_escape(card.subtitle)}</font>')
    lines += [tr(card.locale, "{label}: {value}", label=f"**{md_escape(f.label)}**", value=md_escape(f.value))
              for f in card.fields]
    if card.table:
        lines.append("**" + md_escape(" | ".join(card.table.columns)) + "**")
        lines += [md_escape(" | ".join(r)) for r in card.table.rows]
        if card.table.note:
            lines.append(md_escape(card.table.note))
    lines += [md_escape(p) for p in card.text]
    # no clicks in markdown: every action is offered as its text command (in a 1:1 chat; a group cannot use them)
    for b in card.buttons:
        if b.url:
            lines.append(f"[{md_escape(b.label)}]({b.url})")
        elif b.command and not group:
            lines.append(md_escape(_command_note(card, b)))
    if group and any(not b.url for b in card.buttons):
        lines.append(md_escape(group_note(card)))
    if card.link:
        lines.append(f"[{tr(card.locale, 'Details')}]({card.link})")
    if card.context:
        lines.append(f'<font color="comment">{md_escape(card.context)}</font>')
    return _fit_lines(lines, limit, zh)


def render_text(text: str, *, locale: str = "zh-CN") -> str:
    """Plain text within the 2048-byte limit (WeCom would silently cut it mid-character otherwise)."""
    return _fit_lines(text.split("\n"), TEXT_MAX_BYTES, is_zh(locale))
