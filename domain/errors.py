"""Domain errors. Each carries a message (msgid + typed parameters, see domain.messages) that the bot layer
translates for the reader, and the field it concerns, if any."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.messages import Message


@dataclass(frozen=True)
class Refusal:
    """What a refused command leaves in the audit trail. Domain code never commits: the command raises, the unit of
    work rolls back, and the caller's one error path records this in the transaction that records its answer
    (`domain.audit.record_refusal`)."""

    actor_id: int | None
    platform: str
    order_id: int | None
    details: dict[str, Any] = field(default_factory=dict)


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, msgid: str, *, field: str | None = None, **params: Any) -> None:
        self.message = Message(msgid, params)
        super().__init__(str(self.message))
        self.field = field
        # `details` keeps every parameter (and the field) for callers that look at them as data.
        self.details: dict[str, Any] = {**params, **({"field": field} if field else {})}
        self.refusal: Refusal | None = None  # set by `domain.audit.refused` when the attempt itself is audited


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
