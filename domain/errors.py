"""Domain errors. Each carries a message (msgid + typed parameters, see domain.messages) that the bot layer
translates for the reader, and the field it concerns, if any."""

from __future__ import annotations

from typing import Any

from domain.messages import Message


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, msgid: str, *, field: str | None = None, **params: Any) -> None:
        self.message = Message(msgid, params)
        super().__init__(str(self.message))
        self.field = field
        # `details` keeps every parameter (and the field) for callers that look at them as data.
        self.details: dict[str, Any] = {**params, **({"field": field} if field else {})}


class NotFound(DomainError):
    code = "not_found"


class PermissionDenied(DomainError):
    code = "permission_denied"


class IllegalTransition(DomainError):
    code = "illegal_transition"


class InsufficientStock(DomainError):
    code = "insufficient_stock"


class AlreadyDecided(DomainError):
    code = "already_decided"


class ValidationFailed(DomainError):
    code = "invalid"


class StaleVersion(DomainError):
    code = "stale"


class RulesError(Exception):
    """A broken approval-rules file: names the rule and the field."""
