"""Neutral `Card` → Slack Block Kit.

Pure functions, no I/O. Slack rejects a whole message (`invalid_blocks`, `msg_too_long`) when one limit is
exceeded, so the renderer never fails on big data: it truncates and says "…还有 N 行" / "…and N more lines".
adapters/slack/validate.py checks a built payload against the same limits.
"""

from __future__ import annotations

from typing import Any, Literal

from adapters.slack.buttons import pack_button_value
from bot.cards.model import Button, Card, CardKind, Reply, Tone
from bot.i18n import tr, trn

Surface = Literal["message", "modal", "home"]
Block = dict[str, Any]

# Block Kit limits (shared/platforms/slack.md §4).
MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER = 150
MAX_ACTIONS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ID = 255
MAX_FALLBACK_TEXT = 40_000
FALLBACK_BUDGET = 4000  # what we send: Slack advises a few thousand chars for notification text
# Slack's cumulative text limit behind `msg_blocks_too_long` is undocumented (~12k reported); the table of
# order lines is the only part that can grow without bound, so it gets its own conservative budget.
MAX_TABLE_CHARS = 6000
MAX_TOTAL_TEXT = 12_000  # what the validator enforces for messages (assumption, see slack.md §4.1)
TEXT_BUDGET = 10_000  # what the renderer fills per message, leaving room under MAX_TOTAL_TEXT

TONE_MARK = {
    Tone.NEUTRAL: "",
    Tone.INFO: "🕒 ",
    Tone.SUCCESS: "✅ ",
    Tone.WARNING: "⚠️ ",
    Tone.DANGER: "⛔ ",
}


def more_lines(n: int, locale: str) -> str:
    return trn(locale, "…and {n} more line", "…and {n} more lines", n)


def escape(text: str) -> str:
    """mrkdwn needs exactly these three escapes; anything else is shown literally."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int) -> dict[str, Any]:
    # An empty text object is `invalid_blocks`; a single space keeps the block valid.
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def mrkdwn_section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT) or " "}}


def _split_paragraph(text: str, limit: int = MAX_SECTION_TEXT) -> list[str]:
    """Cut a long escaped paragraph into section-sized pieces, preferring line breaks."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


# --- buttons ---------------------------------------------------------------------------------------------


def confirm_dialog(button: Button, locale: str) -> dict[str, Any]:
    dialog: dict[str, Any] = {
        "title": plain(tr(locale, "Please confirm"), 100),
        "text": plain(button.confirm or button.label, 300),
        "confirm": plain(button.label, 30),
        "deny": plain(tr(locale, "Cancel"), 30),
    }
    if button.style == "danger":
        dialog["style"] = "danger"
    return dialog


def button_element(button: Button, index: int, card: Card) -> dict[str, Any]:
    if button.url:
        # Link buttons still send a block_actions payload; the app acks "otl_" ids without calling the core.
        element: dict[str, Any] = {
            "type": "button",
            "text": plain(button.label, MAX_BUTTON_TEXT),
            "action_id": clip(f"otl_{button.action}_{index}", MAX_ID),
            "url": button.url[:MAX_URL],
        }
    else:
        # A form card's submit button collects the card's inputs in a modal, like a button with inputs.
        inputs = button.inputs or (card.inputs if card.kind == CardKind.FORM else [])
        element = {
            "type": "button",
            "text": plain(button.label, MAX_BUTTON_TEXT),
            "action_id": clip(f"ot_{button.action}_{index}", MAX_ID),
            "value": pack_button_value(button, inputs, title=card.title, locale=card.locale),
        }
    if button.style in ("primary", "danger"):
        element["style"] = button.style
    if button.confirm:
        element["confirm"] = confirm_dialog(button, card.locale)
    return element


def link_button(url: str, index: int, locale: str) -> dict[str, Any]:
    return {
        "type": "button",
        "text": plain(tr(locale, "Open link"), MAX_BUTTON_TEXT),
        "action_id": f"otl_link_{index}",
        "url": url[:MAX_URL],
    }


CARD_BLOCK = "otc"  # block_id of a card's buttons: "otc<n>|<card key>", echoed back in a click's actions[].block_id


def action_blocks(card: Card) -> list[Block]:
    elements = [button_element(b, i, card) for i, b in enumerate(card.buttons)]
    if card.link:
        elements.append(link_button(card.link, len(card.buttons), card.locale))
    blocks: list[Block] = []
    for n, i in enumerate(range(0, len(elements), MAX_ACTIONS)):
        block: Block = {"type": "actions", "elements": elements[i : i + MAX_ACTIONS]}
        if card.key and len(card.key) < MAX_ID - 8:
            # A click on an ephemeral copy names its card this way (Slack sends no message then), so the click's
            # response_url can replace that very copy when the card changes.
            block["block_id"] = f"{CARD_BLOCK}{n}|{card.key}"
        blocks.append(block)
    return blocks


def unique_block_ids(blocks: list[Block]) -> list[Block]:
    """Several cards in one message or view may share a key: block ids must be unique there, so a repeat loses its
    id (its buttons still work; only replacing an ephemeral copy needs the id)."""
    seen: set[str] = set()
    for block in blocks:
        bid = block.get("block_id")
        if bid is None:
            continue
        if bid in seen:
            del block["block_id"]
        seen.add(bid)
    return blocks


def card_key_of_block(block_id: object) -> str | None:
    """The card key a clicked actions block carries (see action_blocks), or None."""
    if not isinstance(block_id, str) or not block_id.startswith(CARD_BLOCK) or "|" not in block_id:
        return None
    return block_id.split("|", 1)[1] or None


# --- card body -------------------------------------------------------------------------------------------


def _table_lines(card: Card) -> list[str]:
    assert card.table is not None
    lines = []
    if card.table.columns:
        lines.append(" · ".join(f"*{escape(c)}*" for c in card.table.columns))
    lines += [" · ".join(escape(cell) for cell in row) for row in card.table.rows]
    return lines


def table_blocks(card: Card, max_blocks: int, max_chars: int = MAX_TABLE_CHARS) -> list[Block]:
    """Order lines as mrkdwn sections (Block Kit has no table in messages), within a block and char budget."""
    if card.table is None:
        return []
    header_lines = 1 if card.table.columns else 0
    lines = _table_lines(card)
    note = [f"*{escape(card.table.note)}*"] if card.table.note else []
    budget_blocks = max(1, max_blocks - (1 if note else 0))
    chunks: list[list[str]] = [[]]
    used_chars = 0
    shown = 0
    for line in lines:
        line = clip(line, MAX_SECTION_TEXT - 100)
        size = len(line) + 1
        if used_chars + size > max_chars:
            break
        if sum(len(x) + 1 for x in chunks[-1]) + size > MAX_SECTION_TEXT - 100:
            if len(chunks) >= budget_blocks:
                break
            chunks.append([])
        chunks[-1].append(line)
        used_chars += size
        shown += 1
    hidden_rows = len(card.table.rows) - max(0, shown - header_lines)
    if hidden_rows:
        # The "more" line goes into the last chunk (room was kept: 100 chars under the section limit).
        chunks[-1].append(f"_{more_lines(hidden_rows, card.locale)}_")
    blocks = [mrkdwn_section("\n".join(c)) for c in chunks if c]
    if note and len(blocks) < max_blocks:
        blocks.append(mrkdwn_section(note[0]))
    return blocks


def _body_blocks(card: Card) -> list[tuple[Block, int]]:
    """Subtitle, fields and paragraphs, each with how many items it shows (for the "…N more" count)."""
    blocks: list[tuple[Block, int]] = []
    if card.subtitle:
        blocks.append((mrkdwn_section(escape(card.subtitle)), 1))
    for i in range(0, len(card.fields), MAX_FIELDS):
        fields = card.fields[i : i + MAX_FIELDS]
        section = {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": clip(f"*{escape(f.label)}*\n{escape(f.value)}", MAX_FIELD_TEXT)}
                for f in fields
            ],
        }
        blocks.append((section, len(fields)))
    for paragraph in card.text:
        blocks += [(mrkdwn_section(p), 1) for p in _split_paragraph(escape(paragraph))]
    return blocks


def _tail_blocks(card: Card) -> list[Block]:
    blocks: list[Block] = []
    if card.context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(escape(card.context), 3000)}]})
    blocks += action_blocks(card)
    return blocks


def block_chars(block: Block) -> int:
    """Visible text of a block, for the cumulative text budget."""
    parts: list[Any] = [block.get("text"), *block.get("fields", [])]
    for el in block.get("elements", []):
        parts.append(el if el.get("type") in ("mrkdwn", "plain_text") else el.get("text"))
    return sum(len(p.get("text", "")) for p in parts if isinstance(p, dict))


def card_blocks(card: Card, max_blocks: int = MAX_BLOCKS["message"], max_chars: int = TEXT_BUDGET) -> list[Block]:
    """All blocks of one card within a block count and a text budget.

    The header, context and buttons are always kept; body blocks then order lines fill what is left, and
    whatever does not fit is summarised as "…还有 N 行" / "…and N more lines"."""
    header: Block = {"type": "header", "text": plain(TONE_MARK[card.tone] + card.title, MAX_HEADER)}
    tail = _tail_blocks(card)[: max(0, max_blocks - 2)]
    blocks_left = max_blocks - 1 - len(tail)
    chars_left = max_chars - block_chars(header) - sum(block_chars(b) for b in tail)
    kept: list[Block] = []
    dropped = 0
    for block, items in _body_blocks(card):
        size = block_chars(block)
        # Always keep one slot free: for the order lines or for the "more" line.
        if dropped or len(kept) + 1 > blocks_left - 1 or size > chars_left - 200:
            dropped += items
            continue
        kept.append(block)
        chars_left -= size
    if dropped:
        kept.append(mrkdwn_section(f"_{more_lines(dropped, card.locale)}_"))
        chars_left -= 30
    room = blocks_left - len(kept)
    table = table_blocks(card, room, min(MAX_TABLE_CHARS, chars_left - 100)) if room > 0 else []
    return [header, *kept, *table, *tail]


def render_card(card: Card) -> dict[str, Any]:
    """`chat.postMessage` / `chat.update` / `respond` arguments: blocks plus the fallback `text`."""
    return {"text": clip(escape(card.fallback_text()), FALLBACK_BUDGET) or " ", "blocks": card_blocks(card)}


def render_replies(replies: list[Reply], locale: str = "zh-CN") -> dict[str, Any]:
    """Several replies as one message (a slash command's `response_url` allows only a few posts)."""
    blocks: list[Block] = []
    texts: list[str] = []
    max_blocks = MAX_BLOCKS["message"]
    chars = 0
    for reply in replies:
        part: list[Block] = []
        if reply.text:
            part += [mrkdwn_section(p) for p in _split_paragraph(escape(reply.text))]
        if reply.card:
            room = max_blocks - len(blocks) - len(part) - 1
            if room < 3:
                break
            part += card_blocks(reply.card, room, TEXT_BUDGET - chars - sum(block_chars(b) for b in part))
        if blocks and part:
            part.insert(0, {"type": "divider"})
        size = sum(block_chars(b) for b in part)
        if len(blocks) + len(part) > max_blocks or chars + size > TEXT_BUDGET:
            break
        blocks += part
        chars += size
        texts.append(reply.as_text())
    if not texts and replies:
        texts = [r.as_text() for r in replies]
    text = clip(escape("\n".join(t for t in texts if t)), FALLBACK_BUDGET) or tr(locale, "OK")
    if not blocks:  # nothing fitted as blocks (one enormous text): the plain text, cut to one section
        blocks = [mrkdwn_section(text)]
    return {"text": text, "blocks": unique_block_ids(blocks)}


def render_home(cards: list[Card], locale: str = "zh-CN") -> dict[str, Any]:
    """The App Home tab: the user's cards one after another, within the 100-block view limit."""
    max_blocks = MAX_BLOCKS["home"]
    blocks: list[Block] = []
    for n, card in enumerate(cards):
        room = max_blocks - len(blocks) - (1 if blocks else 0) - 1  # keep one slot for a "more" line
        if room < 3:
            left = len(cards) - n
            blocks.append(mrkdwn_section(f"_{more_lines(left, locale)}_"))
            break
        if blocks:
            blocks.append({"type": "divider"})
        blocks += card_blocks(card, room)
    if not blocks:
        blocks.append(mrkdwn_section(tr(locale, "Nothing waiting for you.")))
    return {"type": "home", "blocks": unique_block_ids(blocks)}
