"""One sheet row read into typed values through domain.parsing, every bad cell a problem with its place."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from bot.documents.imports.spec import Kind
from bot.i18n import texts
from domain import parsing
from domain.messages import Message

T = TypeVar("T")
G = TypeVar("G", bound=tuple[Any, tuple[tuple[str, int], ...]])


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


MEMO_CAP = 1024  # distinct values remembered per column read: units, tiers, provinces, terms, owners repeat; codes do not


class RowReader:
    """Typed access to one row; each accessor returns None for a blank (or absent) cell and for a bad one, which it
    records as a problem. `given(key)`: the column is in the file (a blank cell then clears; absent keeps).

    One reader serves every row of an import (`at(row, cells)` moves it on), and each accessor runs once per cell of
    a 100,000-row sheet: the common case (a cell that reads) takes no closure, no keyword dispatch and no second
    lookup, and a value already read in the same column the same way is not parsed again — a memo per column and
    accessor (up to MEMO_CAP values) keeps what a cell that read well gave. A bad cell is never remembered: it goes
    through domain.parsing each time, which says what is wrong, with the row it is on."""

    __slots__ = ("kind", "sheet", "row", "cells", "places", "today", "problems", "_cols", "_memo")

    def __init__(self, kind: Kind, sheet: str, row: int, cells: dict[str, object], places: dict[str, Place],
                 today: date) -> None:
        self.kind, self.sheet, self.row, self.cells, self.places, self.today = kind, sheet, row, cells, places, today
        self.problems: list[Problem] = []
        self._cols = kind.by_key
        self._memo: dict[tuple[object, ...], Any] = {}  # (accessor, column, arguments) → {cell value: read}

    def at(self, row: int, cells: dict[str, object]) -> RowReader:
        """The next row (the memo kept)."""
        self.row, self.cells, self.problems = row, cells, []
        return self

    def _memo_of(self, site: tuple[object, ...], value: object) -> dict[object, Any] | None:
        """The memo of one column read one way, if `value` may be looked up in it: text, a date, or a number other
        than ±0.0 (whose texts differ) — not a bool, which equals 1 and 0.0."""
        t = type(value)
        if t is str or (t is float and value) or t is date or t is datetime:
            memo = self._memo.get(site)
            if memo is None:
                memo = self._memo[site] = {}
            return memo
        return None

    def given(self, key: str) -> bool:
        return key in self.places

    def given_groups(self, groups: tuple[G, ...]) -> tuple[G, ...]:
        """Those of `groups` ((anything, ((column key, size), …))) with a column in the file: the same for every row,
        found once."""
        site = ("groups", id(groups))
        found = self._memo.get(site)
        if found is None:
            found = self._memo[site] = tuple(g for g in groups if any(k in self.places for k, _ in g[1]))
        return cast(tuple[G, ...], found)

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

    def _read(self, site: tuple[object, ...], key: str, reader: Callable[[str], T]) -> T | None:
        """`reader` over the cell's text, remembered under `site` (the accessor, the column and its arguments)."""
        value = self.cells.get(key, "")
        memo = self._memo_of(site, value) if key in self.places else None
        if memo is not None:
            hit = memo.get(value)
            if hit is not None:
                return hit
        text = self._text(key)
        if text is None:
            return None
        try:
            found = reader(text)
        except parsing.InputRefused as e:
            self.problem(key, e.message)
            return None
        if memo is not None and len(memo) < MEMO_CAP:
            memo[value] = found
        return found

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
        s: str | None = None
        if raw.isprintable():  # parsing.text's reading, inline for the common case (no control characters)
            s = raw if raw.isascii() else unicodedata.normalize("NFKC", raw)
            # Printable text holds no whitespace but U+0020 (the others are not printable) and NFKC makes no other, so
            # split/join (slow on non-ASCII text) is needed only where spaces repeat or lead or trail.
            if "  " in s or s[:1] == " " or s[-1:] == " ":
                s = " ".join(s.split())
            if len(s) > maximum:
                s = None
        if s is None:
            try:
                s = parsing.text(raw, maximum=maximum, field=key, what=self._cols[key].en)
            except parsing.InputRefused as e:
                self.problem(key, e.message)
                return None
        return s

    def strings(self, specs: tuple[tuple[str, int], ...]) -> list[str | None]:
        """string(key, maximum) for each of `specs`, in that order, in one call: a customer row reads fourteen texts,
        and most cells are clean text that needs only the checks below. Any other cell (blank and required, not
        printable, spaces to collapse, too long, not text) is read by string() itself, so the results and the problems
        are the same."""
        places, cells, normalize = self.places, self.cells, unicodedata.normalize
        out: list[str | None] = []
        for key, maximum in specs:
            if key not in places:
                out.append(None)
                continue
            value = cells.get(key, "")
            if type(value) is str:
                raw = value.strip()
                if raw and raw.isprintable():
                    s = raw if raw.isascii() else normalize("NFKC", raw)
                    if len(s) <= maximum and "  " not in s and s[:1] != " " and s[-1:] != " ":
                        out.append(s)
                        continue
                elif not raw and not self._cols[key].required:
                    out.append("")
                    continue
            out.append(self.string(key, maximum))
        return out

    def code(self, key: str, maximum: int) -> str | None:
        value = self.string(key, maximum)
        if value and " " in value:  # string() collapsed every kind of whitespace to one space
            self.problem(key, "a code cannot contain spaces")
            return None
        return value

    def amount(self, key: str, allow_zero: bool = True) -> Decimal | None:
        value = self.cells.get(key, "")
        memo = self._memo_of(("amount", key, allow_zero), value)
        if memo is not None:
            hit = memo.get(value)
            if hit is not None:
                return hit
        text = self._text(key)
        if text is None:
            return None
        try:
            found = parsing.amount(text, allow_zero=allow_zero, field=key)
        except parsing.InputRefused as e:
            self.problem(key, e.message)
            return None
        if memo is not None and len(memo) < MEMO_CAP:
            memo[value] = found
        return found

    def whole(self, key: str, maximum: int = parsing.QUANTITY_MAX, allow_zero: bool = True) -> int | None:
        value = self.cells.get(key, "")
        memo = self._memo_of(("whole", key, maximum, allow_zero), value)
        if memo is not None:
            hit = memo.get(value)
            if hit is not None:
                return hit
        text = self._text(key)
        if text is None:
            return None
        try:
            found = parsing.quantity(text, maximum=maximum, allow_zero=allow_zero, field=key)
        except parsing.InputRefused as e:
            self.problem(key, e.message)
            return None
        if memo is not None and len(memo) < MEMO_CAP:
            memo[value] = found
        return found

    def percent(self, key: str) -> Decimal | None:
        return self._read(("percent", key), key, lambda t: parsing.percent(t, field=key))

    def date(self, key: str, latest: date | None = None) -> date | None:
        cell = self.cells.get(key)
        if isinstance(cell, date):  # a date cell: no text round trip
            try:
                return parsing.calendar_date(cell, today=self.today, latest=latest, field=key)
            except parsing.InputRefused as e:
                self.problem(key, e.message)
                return None
        return self._read(("date", key, latest), key,
                          lambda t: parsing.calendar_date(t, today=self.today, latest=latest, field=key, sheet=True))

    def yes_no(self, key: str) -> bool | None:
        value = self.cells.get(key, "")
        memo = self._memo_of(("yes_no", key), value)
        if memo is not None:
            hit = memo.get(value)
            if hit is not None:
                return hit
        text = self._text(key)
        if text is None:
            return None
        try:
            found = parsing.yes_no(text, field=key)
        except parsing.InputRefused as e:
            self.problem(key, e.message)
            return None
        if memo is not None and len(memo) < MEMO_CAP:
            memo[value] = found
        return found

    def choice(self, key: str, words: dict[str, Any]) -> Any | None:
        """One of fixed values, in either language (case and width ignored)."""
        def pick(text: str) -> Any:
            found = words.get(" ".join(parsing.text(text, maximum=40).casefold().replace("_", " ").split()))
            if found is None:
                col = self.kind.column(key)
                shown = " / ".join(dict.fromkeys((*col.choice_words("zh-CN"), *col.choice_words("en"))))
                raise parsing.InputRefused("must be one of: {choices}", choices=shown)
            return found
        return self._read(("choice", key, id(words)), key, pick)
