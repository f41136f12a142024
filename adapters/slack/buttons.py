"""What a Slack button carries back to us in its `value`.

A plain button's value is the core's action token, unchanged. A button that needs inputs first (reject →
reason, ship → carrier / tracking / quantities, a form card's submit) must let the click handler open a
modal without asking the core, and a `block_actions` payload only echoes `value` and `action_id` (ephemeral
cards have no `message.blocks`). So such a button's value packs the token together with the inputs to ask
for: "otm1." + base64url(zlib(json)). Slack caps `value` at 2000 chars; a spec that does not fit stays in a
bounded in-process registry ("otk1." + key) — good for a single process, see README.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from bot.cards.model import Button, Input

log = logging.getLogger(__name__)

PACKED = "otm1."
REGISTERED = "otk1."
MAX_VALUE = 2000
_REGISTRY_SIZE = 10_000


@dataclass(frozen=True)
class ButtonSpec:
    """A click that needs a modal: the token to hand back and the inputs to collect."""

    token: str
    inputs: list[Input] = field(default_factory=list)
    title: str = ""
    submit: str = ""
    locale: str = "zh-CN"


_registry: OrderedDict[str, ButtonSpec] = OrderedDict()
_registry_lock = Lock()


def _encode(payload: dict[str, object]) -> str:
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    return PACKED + base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def _decode(body: str) -> dict[str, Any]:
    padded = body + "=" * (-len(body) % 4)
    try:
        data = json.loads(zlib.decompress(base64.urlsafe_b64decode(padded)))
    except RecursionError:  # JSON nested thousands deep: not a value we packed
        raise ValueError("a packed button value is nested too deep") from None
    if not isinstance(data, dict):
        raise ValueError("a packed button value is a JSON object")
    return data


def pack_button_value(button: Button, inputs: list[Input], *, title: str, locale: str) -> str:
    if not inputs:
        return button.token
    spec = ButtonSpec(token=button.token, inputs=list(inputs), title=title, submit=button.label, locale=locale)
    value = _encode(
        {
            "t": spec.token,
            "i": [i.model_dump(exclude_defaults=True) for i in spec.inputs],
            "ti": spec.title,
            "s": spec.submit,
            "l": spec.locale,
        }
    )
    if len(value) <= MAX_VALUE:
        return value
    key = hashlib.sha256(value.encode()).hexdigest()[:40]
    with _registry_lock:
        _registry[key] = spec
        _registry.move_to_end(key)
        while len(_registry) > _REGISTRY_SIZE:
            _registry.popitem(last=False)
    log.warning("button spec too large for Slack value (%d chars); kept in process registry", len(value))
    return REGISTERED + key


def unpack_button_value(value: str) -> ButtonSpec | None:
    """The modal spec of a clicked button, or None when the value is a plain token (act immediately).

    Raises KeyError when a registered spec is unknown to this process (restart, other worker), and ValueError
    when a packed value does not decode (tampered or truncated: Slack echoes back whatever the client sends)."""
    if value.startswith(PACKED):
        try:
            data = _decode(value[len(PACKED) :])
            return ButtonSpec(
                token=str(data["t"]),
                inputs=[Input.model_validate(i) for i in data.get("i", [])],
                title=str(data.get("ti", "")),
                submit=str(data.get("s", "")),
                locale=str(data.get("l", "zh-CN")),
            )
        except (ValueError, KeyError, TypeError, AttributeError, zlib.error) as exc:
            raise ValueError("not a packed button value") from exc
    if value.startswith(REGISTERED):
        with _registry_lock:
            return _registry[value[len(REGISTERED) :]]
    return None
