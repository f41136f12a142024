"""A report's numbers as a table of typed cells, and that table as an XLSX workbook.

The same `Table` feeds the card (each cell formatted for the reader by bot.i18n.Texts) and the spreadsheet (each cell
kept as a number with a number format, so the figures can be summed and charted again in Excel).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

Kind = Literal["text", "money", "count", "quantity", "hours", "days", "percent", "date"]
Cell = str | int | Decimal | date | None
FORMATS: dict[str, str] = {"money": "#,##0.00", "count": "#,##0", "quantity": "#,##0", "hours": "0.0", "days": "0.0",
                           "percent": '0.0"%"', "date": "yyyy-mm-dd"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    label: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


def render_xlsx(title: str, subtitle: str, table: Table, sheet: str, notes: tuple[str, ...] = ()) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet[:31]
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([subtitle])
    ws.append([])
    ws.append([c.label for c in table.columns])
    header = ws.max_row
    for i in range(1, len(table.columns) + 1):
        cell = ws.cell(row=header, column=i)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E5E7EB")
        cell.alignment = Alignment(horizontal="center")
    for row in table.rows:
        ws.append(list(row))
        for i, column in enumerate(table.columns, start=1):
            if column.kind in FORMATS:
                ws.cell(row=ws.max_row, column=i).number_format = FORMATS[column.kind]
    for note in notes:
        ws.append([note])
    for i, column in enumerate(table.columns, start=1):
        longest = max([len(column.label) * 2, *(len(str(r[i - 1] or "")) * (2 if column.kind == "text" else 1) + 2
                                              for r in table.rows)], default=10)
        ws.column_dimensions[get_column_letter(i)].width = min(max(10, longest), 40)
    ws.freeze_panes = ws.cell(row=header + 1, column=1)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
