"""One sheet row read into typed values through domain.parsing, every bad cell a problem with its place."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from bot.documents.imports.spec import Kind
from domain import parsing

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (sheet, row, column as in Excel) and why, in both languages."""

    sheet: str
    row: int
    column: str  # "B 客户名称"; "" for the whole row or file
    value: str
    zh: str
    en: str

    def reason(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


@dataclass(frozen=True)
class Place:
    letter: str
    header: str  # as written in the file


class RowReader:
    """Typed access to one row; each accessor returns None for a blank (or absent) cell and for a bad one, which it
    records as a problem. `given(key)`: the column is in the file (a blank cell then clears; absent keeps)."""

    def __init__(self, kind: Kind, sheet: str, row: int, cells: dict[str, object], places: dict[str, Place],
                 today: date) -> None:
        self.kind, self.sheet, self.row, self.cells, self.places, self.today = kind, sheet, row, cells, places, today
        self.problems: list[Problem] = []

    def given(self, key: str) -> bool:
        return key in self.places

    def raw(self, key: str) -> str:
        return parsing.cell_text(self.cells.get(key, "")).strip()

    def problem(self, key: str, zh: str, en: str, value: object | None = None) -> None:
        place = self.places.get(key)
        column = f"{place.letter} {place.header}" if place else self.kind.column(key).zh
        shown = self.raw(key) if value is None else str(value)
        self.problems.append(Problem(self.sheet, self.row, column, shown[:60], zh, en))

    def _read(self, key: str, reader: Callable[[str], T]) -> T | None:
        if key not in self.places:
            return None
        text = self.raw(key)
        if not text:
            if self.kind.column(key).required:
                self.problem(key, "必填，不能为空", "required; cannot be blank")
            return None
        try:
            return reader(text)
        except parsing.InputRefused as e:
            self.problem(key, e.zh, e.en)
            return None

    def text(self, key: str, maximum: int, blank: str | None = "") -> str | None:
        """Text: None when the column is absent; `blank` (default "") for an empty optional cell."""
        if key not in self.places:
            return None
        raw = self.raw(key)
        col = self.kind.column(key)
        if not raw:
            if col.required:
                self.problem(key, "必填，不能为空", "required; cannot be blank")
                return None
            return blank
        try:
            return parsing.text(raw, maximum=maximum, field=key, what=(col.zh, col.en))
        except parsing.InputRefused as e:
            self.problem(key, e.zh, e.en)
            return None

    def code(self, key: str, maximum: int) -> str | None:
        value = self.text(key, maximum)
        if value and any(ch.isspace() for ch in value):
            self.problem(key, "编码中不能有空格", "a code cannot contain spaces")
            return None
        return value

    def amount(self, key: str, allow_zero: bool = True) -> Decimal | None:
        return self._read(key, lambda t: parsing.amount(t, allow_zero=allow_zero, field=key))

    def whole(self, key: str, maximum: int = parsing.QUANTITY_MAX, allow_zero: bool = True) -> int | None:
        return self._read(key, lambda t: parsing.quantity(t, maximum=maximum, allow_zero=allow_zero, field=key))

    def percent(self, key: str) -> Decimal | None:
        return self._read(key, lambda t: parsing.percent(t, field=key))

    def date(self, key: str, latest: date | None = None) -> date | None:
        cell = self.cells.get(key)
        if isinstance(cell, date):  # a date cell: no text round trip
            try:
                return parsing.calendar_date(cell, today=self.today, latest=latest, field=key)
            except parsing.InputRefused as e:
                self.problem(key, e.zh, e.en)
                return None
        return self._read(key, lambda t: parsing.calendar_date(t, today=self.today, latest=latest, field=key, sheet=True))

    def yes_no(self, key: str) -> bool | None:
        return self._read(key, lambda t: parsing.yes_no(t, field=key))

    def choice(self, key: str, words: dict[str, Any]) -> Any | None:
        """One of fixed values, in either language (case and width ignored)."""
        def pick(text: str) -> Any:
            found = words.get(" ".join(parsing.text(text, maximum=40).casefold().replace("_", " ").split()))
            if found is None:
                shown = "、".join(self.kind.column(key).choices("zh")) or "/".join(sorted({str(v) for v in words.values()}))
                raise parsing.InputRefused(f"只能填：{shown}", f"must be one of: {', '.join(self.kind.column(key).choices('en'))}")
            return found
        return self._read(key, pick)
