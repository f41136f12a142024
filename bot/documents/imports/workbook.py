"""Writing XLSX for imports: the template of a kind (headers, one example row, drop-downs for fixed values, a notes
sheet) and an export (the same columns, filled from the database, so export → edit → import round-trips)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from bot.documents.imports.cells import Problem
from bot.documents.imports.spec import TEMPLATE_NUMBERED, Column, Kind
from bot.i18n import texts, tr
from domain.contacts import CONTACT_SLOTS
from domain.messages import N_

_HEAD = Font(bold=True)
_REQUIRED = PatternFill("solid", fgColor="FFF2CC")
_OPTIONAL = PatternFill("solid", fgColor="EDEDED")
_EXAMPLE = Font(italic=True, color="7F7F7F")
VALIDATED_ROWS = 5000  # drop-downs cover this many rows below the header
EXAMPLE_MARKS = tuple({"e.g.", "例:"})  # how the example row starts (after NFKC and casefold), in either language
NOTES = (
    N_("Yellow columns are required, grey ones optional; row 2 is an example (starting with 'e.g.') — delete it; "
       "left in, it is not imported."),
    N_("Check with --dry-run first: if anything is wrong nothing is written, and every problem is listed with its "
       "row, column, value and reason."),
    N_("Rows are matched by code: importing the same file again creates no duplicates and only updates what changed."),
    N_("Headers may be Chinese or English, in any order; numbers may have thousands commas; dates may be Excel dates. "
       "CSV (UTF-8 or GBK) works too."),
)


def template(kind: Kind, lang: str = "zh") -> bytes:
    t = texts(lang)
    wb = Workbook()
    ws = wb.active
    ws.title = kind.sheet(lang)
    for j, col in enumerate(kind.up_to(TEMPLATE_NUMBERED), start=1):
        cell = ws.cell(row=1, column=j, value=col.header(lang))
        cell.font, cell.fill = _HEAD, _REQUIRED if col.required else _OPTIONAL
        value = _example(col, lang)
        if j == 1:  # marked, so an example left in is never mistaken for data
            value = t.t("e.g. {example}", example=value)
        ex = ws.cell(row=2, column=j, value=value)
        ex.font = _EXAMPLE
        ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(col.header(lang)) * 2 + 4))
        if col.choices:
            choices = col.choice_words(lang)
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=not col.required,
                                showErrorMessage=True, errorTitle="OrderTalk",
                                error=t.t("Choose one of: {choices}", choices=", ".join(choices)))
            dv.add(f"{get_column_letter(j)}2:{get_column_letter(j)}{VALIDATED_ROWS + 1}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    _notes(wb.create_sheet(t.t("Instructions")), kind, lang)
    return _bytes(wb)


def _example(col: Column, lang: str) -> object:
    if col.words and col.example in col.choices:  # Yes → 是 in a Chinese template
        return tr(lang, str(col.example))
    return col.example


def _notes(ws, kind: Kind, lang: str) -> None:
    t = texts(lang)
    lines = [t.t(kind.intro), *(t.t(n, slots=CONTACT_SLOTS) for n in kind.notes), *(t.t(n) for n in NOTES)]
    for i, line in enumerate(lines, start=1):
        ws.cell(row=i, column=1, value=line)
    top = len(lines) + 2
    for j, h in enumerate((t.t("Column"), t.t("Required"), t.t("Explanation"), t.t("Example")), start=1):
        ws.cell(row=top, column=j, value=h).font = _HEAD
    for i, col in enumerate(kind.up_to(TEMPLATE_NUMBERED), start=top + 1):
        note = t.t(col.note) if col.note else ""
        if col.choices:
            note = t.t("{note} One of: {choices}", note=note, choices="/".join(col.choice_words(lang))).strip()
        ws.cell(row=i, column=1, value=col.header(lang))
        ws.cell(row=i, column=2, value=t.t("Yes") if col.required else "")
        ws.cell(row=i, column=3, value=note).alignment = Alignment(wrap_text=True)
        ws.cell(row=i, column=4, value=_example(col, lang))
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["C"].width = 70
    ws.column_dimensions["D"].width = 26


def export(kind: Kind, rows: Iterable[list[object]], lang: str = "zh", columns: Sequence[Column] | None = None) -> bytes:
    """Write-only (streamed) workbook: a 100,000-row export does not hold the sheet in memory. `columns`: those the
    rows fill, in order (default: the kind's, without numbered ones beyond the first — contact 2 …)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(kind.sheet(lang))
    head = []
    for col in kind.up_to(1) if columns is None else columns:
        c = WriteOnlyCell(ws, value=col.header(lang))
        c.font = _HEAD
        head.append(c)
    ws.append(head)
    for row in rows:
        ws.append(row)  # Decimal is written as a number, a date as a date cell
    return _bytes(wb)


def _bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def problems_file(problems: Sequence[Problem], locale: str) -> bytes:
    """The problems of a check as a sheet (for a chat front end to send back, or `--errors FILE`)."""
    t = texts(locale)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(t.t("Problems"))
    ws.append([t.t("Sheet"), t.t("Row"), t.t("Column"), t.t("Value"), t.t("Reason")])
    for p in problems:
        ws.append([p.sheet, p.row or "", p.column, p.value, p.reason(locale)])
    return _bytes(wb)
