"""The row reader's memo: a value read once per column is not parsed again, yet every cell reads as it would alone —
a bad cell is reported on each row it is on, a bool or -0.0 is not taken for the number it equals — and the memo stays
bounded however many distinct values a column has."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.documents.imports.cells import MEMO_CAP, Place, RowReader
from bot.documents.imports.spec import KINDS


def reader() -> RowReader:
    kind = KINDS["products"]
    places = {c.key: Place(chr(65 + i), c.en) for i, c in enumerate(kind.columns)}
    return RowReader(kind, "Products", 0, {}, places, date(2026, 11, 23))


def test_remembered_values_read_as_alone_and_bad_cells_are_reported_on_every_row():
    r = reader()
    cells = [1.0, True, 2.0, "1,000", "1,000", "x", "x", 0.0, -0.0, "  7 ", 7.0]
    got, problems = [], []
    for n, v in enumerate(cells, start=2):
        got.append(r.at(n, {"safety_stock": v, "list_price": v}).whole("safety_stock"))
        problems += [(p.row, p.value) for p in r.problems]
    assert got == [1, None, 2, 1000, 1000, None, None, 0, None, 7, 7]
    assert problems == [(3, "TRUE"), (7, "x"), (8, "x"), (10, "-0")]
    assert r.at(20, {"list_price": "12,000.50"}).amount("list_price") == Decimal("12000.50")
    assert r.at(21, {"list_price": "12,000.50"}).amount("list_price", allow_zero=False) == Decimal("12000.50")
    assert r.at(22, {"list_price": "0"}).amount("list_price") == Decimal("0.00")
    assert r.at(23, {"list_price": "0"}).amount("list_price", allow_zero=False) is None and r.problems  # not the memo's 0


def test_the_memo_of_a_column_is_bounded():
    r = reader()
    for i in range(3 * MEMO_CAP):
        assert r.at(i, {"safety_stock": str(i)}).whole("safety_stock") == i
    assert all(len(m) <= MEMO_CAP for m in r._memo.values())
    assert r.at(1, {"safety_stock": str(3 * MEMO_CAP + 5)}).whole("safety_stock") == 3 * MEMO_CAP + 5


def test_strings_read_each_cell_as_string_does_with_the_same_problems():
    kind = KINDS["customers"]
    places = {c.key: Place(chr(65 + i), c.en) for i, c in enumerate(kind.columns[:8])}
    specs = tuple((c.key, 12) for c in kind.columns[:8]) + (("tax_id", 32),)  # the last column is not in the file
    cells = ["", "  ", "plain", " 华兴　电子 ", "ＡＢＣ１２３", "a  b", "x\x07y", "waytoolongfortwelve", "中" * 13, 12.5,
             "\u00a8x", "ok"]  # blank, spaces only, clean, full-width space, full-width, double space, control, too long
    for i in range(0, len(cells), 3):
        row = {k: cells[(i + j) % len(cells)] for j, k in enumerate(places)}
        one, many = RowReader(kind, "Customers", 5, row, places, date(2026, 11, 23)), \
            RowReader(kind, "Customers", 5, row, places, date(2026, 11, 23))
        assert many.strings(specs) == [one.string(k, m) for k, m in specs]
        assert many.problems == one.problems
    r = RowReader(kind, "Customers", 7, {"code": "", "name": "x\x07y"}, places, date(2026, 11, 23))
    assert r.strings((("code", 32), ("name", 200))) == [None, None]
    assert [(p.row, p.column) for p in r.problems] == [(7, "A Customer code"), (7, "B Customer name")]
