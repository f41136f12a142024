"""Modals for clicks that need inputs: neutral `Input`s → input blocks, and a submission back → inputs.

Each input block's `block_id` is the input's name, so `view.state.values` maps straight back to the
`inputs` dict the core expects and a core field error ("field": name) names the block to mark.
Type-ahead selects (`Input.source`) become `external_select`s whose action_id "sugg_<source>" tells the
options listener which list to search.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from adapters.slack.blocks import clip, plain
from adapters.slack.buttons import ButtonSpec
from bot.cards.model import Card, CardKind, Input, Option, Reply
from bot.i18n import tr

CALLBACK_ID = "ot_modal"
SUGGEST_PREFIX = "sugg_"
MAX_INPUT_BLOCKS = 100
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ModalOrigin:
    """Where the click came from, kept in private_metadata so the submission can answer there."""

    channel: str | None = None  # channel of the card that was clicked, or of the slash command (None: Home tab)
    thread: str | None = None
    response_url: str | None = None  # of the click or command that opened the modal (30 minutes, 5 uses)


def slack_option(option: Option) -> dict[str, Any]:
    return {"text": plain(option.label, 75), "value": option.value[:150]}


def input_element(inp: Input, locale: str) -> dict[str, Any]:
    el: dict[str, Any]
    if inp.kind == "select" and inp.source:
        el = {"type": "external_select", "action_id": SUGGEST_PREFIX + inp.source, "min_query_length": 0}
        if inp.initial:
            el["initial_option"] = {"text": plain(inp.initial, 75), "value": inp.initial[:150]}
    elif inp.kind == "select":
        options = [slack_option(o) for o in inp.options[:100]] or [slack_option(Option(value="-", label="-"))]
        el = {"type": "static_select", "action_id": "value", "options": options}
        chosen = [o for o in options if o["value"] == inp.initial]
        if chosen:
            el["initial_option"] = chosen[0]
    elif inp.kind == "number":
        # Quantities and amounts share this kind; the core validates the number, Slack only its shape.
        el = {"type": "number_input", "action_id": "value", "is_decimal_allowed": True}
        if inp.initial:
            el["initial_value"] = inp.initial
    elif inp.kind == "date":
        el = {"type": "datepicker", "action_id": "value"}
        if inp.initial and _DATE.match(inp.initial):
            el["initial_date"] = inp.initial
    else:
        el = {"type": "plain_text_input", "action_id": "value", "multiline": inp.multiline, "max_length": 3000}
        if inp.initial:
            el["initial_value"] = inp.initial[:3000]
    if inp.placeholder:
        el["placeholder"] = plain(inp.placeholder, 150)
    elif inp.kind == "select":
        el["placeholder"] = plain(tr(locale, "Choose…"), 150)
    return el


def input_block(inp: Input, locale: str) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": inp.name[:255],
        "label": plain(inp.label, 2000),
        "element": input_element(inp, locale),
        "optional": not inp.required,
    }


def build_modal(spec: ButtonSpec, origin: ModalOrigin | None = None) -> dict[str, Any]:
    """The modal for a button (or form) that needs inputs; private_metadata carries the token back."""
    if len(spec.inputs) > MAX_INPUT_BLOCKS:
        # Never a modal that silently leaves inputs out: the core keeps its forms within this (a long shipping task
        # asks "everything" vs a typed list), so this is a bug to surface, not to paper over.
        raise ValueError(f"a modal holds {MAX_INPUT_BLOCKS} inputs; this form has {len(spec.inputs)}")
    origin = origin or ModalOrigin()
    meta = {"t": spec.token, "c": origin.channel, "th": origin.thread, "r": origin.response_url, "l": spec.locale}
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "title": plain(clip(spec.title or tr(spec.locale, "Order"), 24), 24),
        "submit": plain(clip(spec.submit or tr(spec.locale, "Submit"), 24), 24),
        "close": plain(tr(spec.locale, "Cancel"), 24),
        "private_metadata": json.dumps(meta, ensure_ascii=False, separators=(",", ":")),
        "blocks": [input_block(i, spec.locale) for i in spec.inputs],
    }
    return view


def read_metadata(view: dict[str, Any]) -> tuple[str, ModalOrigin, str]:
    """(token, origin, locale) from a submitted view's private_metadata; ValueError when it is not ours."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except RecursionError:  # JSON nested thousands deep: not metadata we wrote
        raise ValueError("private_metadata nested too deep") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("t"), str):
        raise ValueError("private_metadata without an action token")
    channel, thread, url, locale = meta.get("c"), meta.get("th"), meta.get("r"), meta.get("l", "zh-CN")
    if not (_str_or_none(channel) and _str_or_none(thread) and _str_or_none(url) and isinstance(locale, str)):
        raise ValueError("private_metadata with a malformed origin")
    return meta["t"], ModalOrigin(channel=channel or None, thread=thread or None, response_url=url or None), locale


def _str_or_none(value: Any) -> bool:
    return value is None or isinstance(value, str)


def input_block_ids(view: dict[str, Any]) -> list[str]:
    blocks = view.get("blocks")
    return [b["block_id"] for b in blocks if isinstance(b, dict) and b.get("type") == "input"
            and isinstance(b.get("block_id"), str)] if isinstance(blocks, list) else []


def read_inputs(view: dict[str, Any]) -> dict[str, str]:
    """`view.state.values` → {input name: value}; unset optional inputs are left out. AttributeError on a state
    that is not Slack's shape."""
    inputs: dict[str, str] = {}
    for block_id, elements in view.get("state", {}).get("values", {}).items():
        for state in elements.values():
            kind = state.get("type")
            if kind in ("static_select", "external_select"):
                value = (state.get("selected_option") or {}).get("value")
            elif kind == "datepicker":
                value = state.get("selected_date")
            else:
                value = state.get("value")
            if value is not None:
                inputs[block_id] = str(value)
    return inputs


def field_errors(replies: list[Reply], view: dict[str, Any]) -> dict[str, str]:
    """Core validation errors as `response_action="errors"` content: {block_id: message}.

    The core reports a field error as a reply whose card names the input in `field_error`; a field the
    modal does not show is put on the first input so the user still sees it."""
    block_ids = input_block_ids(view)
    errors: dict[str, str] = {}
    for reply in replies:
        card = reply.card
        if card is None or card.field_error is None:
            continue
        field = card.field_error
        block = field if field in block_ids else (block_ids[0] if block_ids else field)
        message = " ".join(card.text) if card.text else (reply.text or card.title)
        errors[block] = clip(f"{errors[block]} {message}" if block in errors else message, 2000)
    return errors


def form_spec(card: Card) -> ButtonSpec | None:
    """A "form" card (e.g. the new-order form) as a modal spec: its inputs plus its submit button's token."""
    if card.kind != CardKind.FORM or not card.inputs:
        return None
    submit = next((b for b in card.buttons if not b.url), None)
    if submit is None:
        return None
    return ButtonSpec(token=submit.token, inputs=card.inputs, title=card.title, submit=submit.label, locale=card.locale)


def suggestion_options(options: list[Option]) -> list[dict[str, Any]]:
    """core.suggest() results for an external_select (Slack shows at most 100)."""
    return [slack_option(o) for o in options[:100]]


__all__ = [
    "CALLBACK_ID",
    "SUGGEST_PREFIX",
    "ModalOrigin",
    "build_modal",
    "field_errors",
    "form_spec",
    "input_block_ids",
    "read_inputs",
    "read_metadata",
    "suggestion_options",
]
