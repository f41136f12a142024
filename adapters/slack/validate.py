"""Check a built Slack message or view against Block Kit limits (shared/platforms/slack.md §4-5).

The renderer (blocks.py) is meant to never produce a violation; the tests run this on every card kind, and
it is handy when Slack answers `invalid_blocks`.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.blocks import (
    MAX_ACTIONS,
    MAX_BLOCKS,
    MAX_BUTTON_TEXT,
    MAX_BUTTON_VALUE,
    MAX_CONTEXT_ELEMENTS,
    MAX_FALLBACK_TEXT,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER,
    MAX_ID,
    MAX_SECTION_TEXT,
    MAX_TOTAL_TEXT,
    MAX_URL,
    Block,
    Surface,
)


def _check_text(obj: Any, limit: int, where: str, errors: list[str], *, plain_only: bool = False) -> int:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        errors.append(f"{where}: not a text object")
        return 0
    if plain_only and obj["type"] != "plain_text":
        errors.append(f"{where}: must be plain_text")
    text = obj.get("text", "")
    if not text:
        errors.append(f"{where}: empty text")
    if len(text) > limit:
        errors.append(f"{where}: {len(text)} > {limit} chars")
    return len(text)


def _check_element(el: dict[str, Any], where: str, errors: list[str]) -> int:
    size = 0
    kind = el.get("type")
    if len(el.get("action_id", "")) > MAX_ID:
        errors.append(f"{where}: action_id too long")
    if kind == "button":
        size += _check_text(el.get("text"), MAX_BUTTON_TEXT, f"{where}.text", errors, plain_only=True)
        if len(el.get("value", "")) > MAX_BUTTON_VALUE:
            errors.append(f"{where}: value > {MAX_BUTTON_VALUE}")
        if len(el.get("url", "")) > MAX_URL:
            errors.append(f"{where}: url > {MAX_URL}")
        if el.get("style") not in (None, "primary", "danger"):
            errors.append(f"{where}: bad style")
    if "confirm" in el:
        c = el["confirm"]
        for key, limit in (("title", 100), ("text", 300), ("confirm", 30), ("deny", 30)):
            _check_text(c.get(key), limit, f"{where}.confirm.{key}", errors, plain_only=key != "text")
    if "placeholder" in el:
        _check_text(el["placeholder"], 150, f"{where}.placeholder", errors, plain_only=True)
    if "options" in el:
        if not 1 <= len(el["options"]) <= 100:
            errors.append(f"{where}: {len(el['options'])} options (1..100)")
        for j, opt in enumerate(el["options"]):
            _check_text(opt.get("text"), 75, f"{where}.options[{j}].text", errors, plain_only=True)
            if not 1 <= len(opt.get("value", "")) <= 150:
                errors.append(f"{where}.options[{j}]: value length")
    return size


def _check_blocks(blocks: list[Block], surface: Surface, errors: list[str]) -> int:
    if not 1 <= len(blocks) <= MAX_BLOCKS[surface]:
        errors.append(f"{len(blocks)} blocks (1..{MAX_BLOCKS[surface]} in a {surface})")
    total = 0
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"blocks[{i}]({block.get('type')})"
        if "block_id" in block:
            if len(block["block_id"]) > MAX_ID or block["block_id"] in block_ids:
                errors.append(f"{where}: block_id too long or duplicated")
            block_ids.add(block["block_id"])
        kind = block.get("type")
        if kind == "header":
            total += _check_text(block.get("text"), MAX_HEADER, where, errors, plain_only=True)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                errors.append(f"{where}: neither text nor fields")
            if "text" in block:
                total += _check_text(block["text"], MAX_SECTION_TEXT, where, errors)
            fields = block.get("fields", [])
            if len(fields) > MAX_FIELDS:
                errors.append(f"{where}: {len(fields)} fields > {MAX_FIELDS}")
            for j, f in enumerate(fields):
                total += _check_text(f, MAX_FIELD_TEXT, f"{where}.fields[{j}]", errors)
        elif kind == "context":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= MAX_CONTEXT_ELEMENTS:
                errors.append(f"{where}: {len(elements)} elements")
            for j, el in enumerate(elements):
                total += _check_text(el, MAX_SECTION_TEXT, f"{where}[{j}]", errors)
        elif kind == "actions":
            elements = block.get("elements", [])
            if not 1 <= len(elements) <= MAX_ACTIONS:
                errors.append(f"{where}: {len(elements)} elements (1..{MAX_ACTIONS})")
            ids = [el.get("action_id") for el in elements]
            if len(set(ids)) != len(ids):
                errors.append(f"{where}: duplicate action_id")
            for j, el in enumerate(elements):
                total += _check_element(el, f"{where}[{j}]", errors)
        elif kind == "input":
            total += _check_text(block.get("label"), 2000, f"{where}.label", errors, plain_only=True)
            if "element" not in block:
                errors.append(f"{where}: no element")
            else:
                _check_element(block["element"], f"{where}.element", errors)
        elif kind != "divider":
            errors.append(f"{where}: unexpected block type")
    return total


def validate_message(message: dict[str, Any]) -> list[str]:
    """Limit violations of a `chat.postMessage`-style payload; an empty list means Slack should accept it."""
    errors: list[str] = []
    text = message.get("text") or ""
    if not text:
        errors.append("missing fallback text")
    if len(text) > MAX_FALLBACK_TEXT:
        errors.append("fallback text too long")
    total = _check_blocks(message.get("blocks", []), "message", errors)
    if total > MAX_TOTAL_TEXT:
        errors.append(f"cumulative block text {total} > {MAX_TOTAL_TEXT}")
    return errors


def validate_view(view: dict[str, Any]) -> list[str]:
    """Limit violations of a modal or Home tab view."""
    errors: list[str] = []
    surface: Surface = "home" if view.get("type") == "home" else "modal"
    if surface == "modal":
        _check_text(view.get("title"), 24, "title", errors, plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                _check_text(view[key], 24, key, errors, plain_only=True)
        if any(b.get("type") == "input" for b in view.get("blocks", [])) and "submit" not in view:
            errors.append("modal with inputs needs submit")
        if len(view.get("callback_id", "")) > MAX_ID:
            errors.append("callback_id too long")
    if len(view.get("private_metadata", "")) > 3000:
        errors.append("private_metadata > 3000")
    _check_blocks(view.get("blocks", []), surface, errors)
    return errors
