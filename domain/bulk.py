"""What the bulk commands share: a row's outcome, a row's problem, and the digest of what a check found.

A bulk command (customers, products, stock… moving in from a file) takes a batch of typed records, each with the row
it came from, checks them against the database and the business rules, and — only when asked to apply — writes them.
It answers per row: created, updated (with what changed), unchanged, or the problems that stop it. The same call with
`apply=False` is the dry run, so a check and the import that follows it run the same rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

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
        self._h.update(_line(outcome).encode())

    def add_all(self, outcomes: Sequence[Outcome]) -> None:
        """The same digest as add() for each, with one update for the lot (a batch of an import: 1,000 rows)."""
        self._h.update("".join([_line(o) if o.changes else f"{o.action.value}|{o.key}|\n" for o in outcomes]).encode())

    def hexdigest(self) -> str:
        return self._h.hexdigest()[:32]


def _line(outcome: Outcome) -> str:
    if not outcome.changes:  # most rows of an import: the same text, without sorting and joining nothing
        return f"{outcome.action.value}|{outcome.key}|\n"
    changes = ";".join(f"{k}={a}>{b}" for k, (a, b) in sorted(outcome.changes.items()))
    return f"{outcome.action}|{outcome.key}|{changes}\n"


_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_rows(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT `rows` (column name → value) into `table`: one executemany of tuples through the database driver.

    What Core's insert(table) does for each row of a many-row call — build its parameters from the dict, each through
    the bind step of its column's type — costs more than SQLite's own insert (100,000 customers: ~30 % of an import's
    CPU). Here the column list, the defaults and the types' bind processors are worked out once per call, and each row is
    one tuple. Same values as Core: a column a row leaves out takes its scalar default (or NULL); a table whose
    defaults are not plain values (a function, a sequence) goes through Core."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    mark = _PLACEHOLDERS.get(dialect.paramstyle)
    given = set().union(*rows)
    columns, defaults, processors = [], [], []
    for c in table.columns:
        default = c.default
        if default is not None and not default.is_scalar:
            mark = None  # computed in Python per row (Core knows how)
            break
        if c.key not in given and (default is None or c.server_default is not None):
            continue  # NULL, an autoincrement id, or the server's default: left to the database, as Core does
        columns.append(c)
        defaults.append(getattr(default, "arg", None))  # a scalar default's value
        processors.append(c.type.dialect_impl(dialect).bind_processor(dialect))
    if mark is None:
        session.execute(insert(table), list(rows))
        return
    keys = [c.key for c in columns]
    spec = list(zip(keys, defaults, strict=True))
    tuples = [tuple([row.get(k, d) for k, d in spec]) for row in rows]
    converted = [(i, f) for i, f in enumerate(processors) if f is not None]
    if converted:
        tuples = [_processed(t, converted) for t in tuples]
    prep = dialect.identifier_preparer
    sql = (f"INSERT INTO {prep.format_table(table)} ({', '.join(prep.format_column(c) for c in columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    session.flush()  # what Session.execute would have flushed first
    conn.exec_driver_sql(sql, tuples)


def _processed(values: tuple[Any, ...], converted: list[tuple[int, Any]]) -> tuple[Any, ...]:
    out = list(values)
    for i, f in converted:
        out[i] = f(out[i])
    return tuple(out)


def check_importer(user: User | None) -> None:
    """`None` is the operator at the command line, trusted like every other `ordertalk` command."""
    if user is not None and not may_import(user):
        raise PermissionDenied("Only admins can import data")
