"""One sheet row read into typed values through domain.parsing, every bad cell a problem with its place."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from bot.documents.imports.spec import Kind
from bot.i18n import texts
from domain import parsing
from domain.messages import Message

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (sheet, row, column as in Excel) and why (translated for the reader)."""

    sheet: str
    row: int
    column: str  # the Excel letter and the header as written in the file; "" for the whole row or file
    value: str
    message: Message

    def reason(self, locale: str) -> str:
        return texts(locale).render(self.message)


@dataclass(frozen=True)
class Place:
    letter: str
    header: str  # as written in the file


class RowReader:
    """Typed access to one row; each accessor returns None for a blank (or absent) cell and for a bad one, which it
    records as a problem. `given(key)`: the column is in the file (a blank cell then clears; absent keeps).

    One is made per row of a 100,000-row import, and each accessor runs once per cell: the common case (a cell that
    reads) takes no closure, no keyword dispatch and no second lookup; anything unusual goes through domain.parsing,
    which says what is wrong."""

    __slots__ = ("kind", "sheet", "row", "cells", "places", "today", "problems", "_cols")

    def __init__(self, kind: Kind, sheet: str, row: int, cells: dict[str, object], places: dict[str, Place],
                 today: date) -> None:
        self.kind, self.sheet, self.row, self.cells, self.places, self.today = kind, sheet, row, cells, places, today
        self.problems: list[Problem] = []
        self._cols = kind.by_key

    def given(self, key: str) -> bool:
        return key in self.places

    def raw(self, key: str) -> str:
        value = self.cells.get(key, "")
        return (value if type(value) is str else parsing.cell_text(value)).strip()

    def problem(self, key: str, reason: Message | str, value: object | None = None, **params: Any) -> None:
        place = self.places.get(key)
        column = f"{place.letter} {place.header}" if place else self.kind.column(key).en
        shown = self.raw(key) if value is None else str(value)
        message = reason if isinstance(reason, Message) else Message(reason, params)
        self.problems.append(Problem(self.sheet, self.row, column, shown[:60], message))

    def _text(self, key: str) -> str | None:
        """The cell's text, stripped; None when the column is absent or the cell blank (a required one a problem)."""
        if key not in self.places:
            return None
        value = self.cells.get(key, "")
        text = (value if type(value) is str else parsing.cell_text(value)).strip()
        if not text:
            if self._cols[key].required:
                self.problem(key, "required; cannot be blank")
            return None
        return text

    def _read(self, key: str, reader: Callable[[str], T]) -> T | None:
        text = self._text(key)
        if text is None:
            return None
        try:
            return reader(text)
        except parsing.InputRefused as e:
            self.problem(key, e.message)
            return None

    def string(self, key: str, maximum: int, blank: str | None = "") -> str | None:
        """Text: None when the column is absent; `blank` (default "") for an empty optional cell."""
        if key not in self.places:
            return None
        value = self.cells.get(key, "")
        raw = (value if type(value) is str else parsing.cell_text(value)).strip()  # the common case first: a text cell
        if not raw:
            if self._cols[key].required:
                self.problem(key, "required; cannot be blank")
                return None
            return blank
        if raw.isprintable():  # parsing.text's reading, inline for the common case (no control characters)
            s = " ".join((raw if raw.isascii() else unicodedata.normalize("NFKC", raw)).split())
            if len(s) <= maximum:
                return s
        try:
            return parsing.text(raw, maximum=maximum, field=key, what=self._cols[key].en)
        except parsing.InputRefused as e:
            self.problem(key, e.message)
            return None

    def code(self, key: str, maximum: int) -> str | None:
        value = self.string(key, maximum)
        if value and " " in value:  # string() collapsed every kind of whitespace to one space
            self.problem(key, "a code cannot contain spaces")
            return None
        return value

    def amount(self, key: str, allow_zero: bool = True) -> Decimal | None:
        text = self._text(key)
        if text is None:
            return None
        try:
            return parsing.amount(text, allow_zero=allow_zero, field=key)
        except parsing.InputRefused as e:
            self.problem(key, e.message)
            return None

    def whole(self, key: str, maximum: int = parsing.QUANTITY_MAX, allow_zero: bool = True) -> int | None:
        text = self._text(key)
        if text is None:
            return None
        try:
            return parsing.quantity(text, maximum=maximum, allow_zero=allow_zero, field=key)
        except parsing.InputRefused as e:
            self.problem(key, e.message)
            return None

    def percent(self, key: str) -> Decimal | None:
        return self._read(key, lambda t: parsing.percent(t, field=key))

    def date(self, key: str, latest: date | None = None) -> date | None:
        cell = self.cells.get(key)
        if isinstance(cell, date):  # a date cell: no text round trip
            try:
                return parsing.calendar_date(cell, today=self.today, latest=latest, field=key)
            except parsing.InputRefused as e:
                self.problem(key, e.message)
                return None
        return self._read(key, lambda t: parsing.calendar_date(t, today=self.today, latest=latest, field=key, sheet=True))

    def yes_no(self, key: str) -> bool | None:
        text = self._text(key)
        if text is None:
            return None
        try:
            return parsing.yes_no(text, field=key)
        except parsing.InputRefused as e:
            self.problem(key, e.message)
            return None

    def choice(self, key: str, words: dict[str, Any]) -> Any | None:
        """One of fixed values, in either language (case and width ignored)."""
        def pick(text: str) -> Any:
            found = words.get(" ".join(parsing.text(text, maximum=40).casefold().replace("_", " ").split()))
            if found is None:
                col = self.kind.column(key)
                shown = " / ".join(dict.fromkeys((*col.choice_words("zh-CN"), *col.choice_words("en"))))
                raise parsing.InputRefused("must be one of: {choices}", choices=shown)
            return found
        return self._read(key, pick)
