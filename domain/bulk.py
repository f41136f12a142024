"""What the bulk commands share: a row's outcome, a row's problem, and the digest of what a check found.

A bulk command (customers, products, stock… moving in from a file) takes a batch of typed records, each with the row
it came from, checks them against the database and the business rules, and — only when asked to apply — writes them.
It answers per row: created, updated (with what changed), unchanged, or the problems that stop it. The same call with
`apply=False` is the dry run, so a check and the import that follows it run the same rules.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from domain.errors import DomainError, PermissionDenied
from domain.messages import Message
from domain.models import User
from domain.permissions import may_import


class Action(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class RowProblem:
    """Why one row cannot be imported; `column` is the record field (the caller maps it to the sheet's header)."""

    row: int
    column: str
    value: str
    message: Message


class Outcome(NamedTuple):
    """One per row of an import: a NamedTuple, made several times faster than a frozen dataclass."""

    row: int
    key: str
    action: Action
    changes: dict[str, tuple[str, str]]  # field → (before, after); empty unless updated


@dataclass
class Batch:
    """The answer to one bulk call."""

    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    def problem(self, row: int, column: str, value: object, reason: DomainError | str, **params: Any) -> None:
        """`reason`: a msgid with its `params`, or a domain error whose message says why."""
        message = reason.message if isinstance(reason, DomainError) else Message(reason, params)
        self.problems.append(RowProblem(row, column, "" if value is None else str(value), message))

    def done(self, row: int, key: str, action: Action, changes: dict[str, tuple[str, str]] | None = None) -> None:
        self.outcomes.append(Outcome(row, key, action, changes or {}))


def diff(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Fields whose wanted value differs from the stored one, as text (before, after)."""
    return {k: (_shown(current.get(k)), _shown(v)) for k, v in wanted.items() if current.get(k) != v}


def _shown(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    return str(v)


class Digest:
    """A fingerprint of a check's outcomes: an import applies only if it finds exactly what the check found."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()

    def add(self, outcome: Outcome) -> None:
        if not outcome.changes:  # most rows of an import: the same text, without sorting and joining nothing
            self._h.update(f"{outcome.action.value}|{outcome.key}|\n".encode())
            return
        changes = ";".join(f"{k}={a}>{b}" for k, (a, b) in sorted(outcome.changes.items()))
        self._h.update(f"{outcome.action}|{outcome.key}|{changes}\n".encode())

    def hexdigest(self) -> str:
        return self._h.hexdigest()[:32]


def check_importer(user: User | None) -> None:
    """`None` is the operator at the command line, trusted like every other `ordertalk` command."""
    if user is not None and not may_import(user):
        raise PermissionDenied("Only admins can import data")
