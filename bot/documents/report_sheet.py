"""A report's numbers as a table of typed cells, and that table as an XLSX workbook.

The same `Table` feeds the card (each cell formatted for the reader by bot.i18n.Texts) and the spreadsheet (each cell
kept as a number with a number format, so the figures can be summed and charted again in Excel). The workbook is
written in openpyxl's streaming mode: an ageing of thousands of customers is a few hundred milliseconds, not seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any, Literal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

Kind = Literal["text", "money", "count", "quantity", "hours", "days", "percent", "date"]
Cell = str | int | Decimal | date | None
FORMATS: dict[str, str] = {"money": "#,##0.00", "count": "#,##0", "quantity": "#,##0", "hours": "0.0", "days": "0.0",
                           "percent": '0.0"%"', "date": "yyyy-mm-dd"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADER_ROW = 4  # title, subtitle, a blank line, then the column headers


@dataclass(frozen=True)
class Column:
    label: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


def render_xlsx(title: str, subtitle: str, table: Table, sheet: str, notes: tuple[str, ...] = ()) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    for i, column in enumerate(table.columns, start=1):  # widths go before any row in streaming mode
        longest = max([len(column.label) * 2, *(len(str(r[i - 1] or "")) * (2 if column.kind == "text" else 1) + 2
                                              for r in table.rows[:200])], default=10)
        ws.column_dimensions[get_column_letter(i)].width = min(max(10, longest), 40)
    ws.freeze_panes = f"A{HEADER_ROW + 1}"

    def cell(value: Any, **style: Any) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=value)
        for k, v in style.items():
            setattr(c, k, v)
        return c

    ws.append([cell(title, font=Font(bold=True, size=13))])
    ws.append([subtitle])
    ws.append([])
    header = dict(font=Font(bold=True), fill=PatternFill("solid", fgColor="E5E7EB"), alignment=Alignment(horizontal="center"))
    ws.append([cell(c.label, **header) for c in table.columns])
    formats = [FORMATS.get(c.kind) for c in table.columns]
    for row in table.rows:
        ws.append([cell(v, number_format=f) if f and v is not None else v for v, f in zip(row, formats, strict=True)])
    for note in notes:
        ws.append([note])
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
