"""Reading a message the way a person would, in tests: `en(error)` / `zh(intent)`."""

from __future__ import annotations

from typing import Any

from bot.i18n import texts
from domain.messages import Message


def _message(x: Any) -> Message:
    if isinstance(x, Message):
        return x
    if hasattr(x, "reason"):  # an Invalid intent
        return x.reason
    return x.message  # a DomainError


def en(x: Any) -> str:
    return texts("en").render(_message(x))


def zh(x: Any) -> str:
    return texts("zh-CN").render(_message(x))
