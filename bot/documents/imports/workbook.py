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
from bot.documents.imports.spec import Kind

_HEAD = Font(bold=True)
_REQUIRED = PatternFill("solid", fgColor="FFF2CC")
_OPTIONAL = PatternFill("solid", fgColor="EDEDED")
_EXAMPLE = Font(italic=True, color="7F7F7F")
VALIDATED_ROWS = 5000
EXAMPLE_MARK = ("例：", "e.g. ")  # drop-downs cover this many rows below the header


def _zh(lang: str) -> bool:
    return lang.startswith("zh")


def template(kind: Kind, lang: str = "zh") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = kind.sheet(lang)
    for j, col in enumerate(kind.columns, start=1):
        cell = ws.cell(row=1, column=j, value=col.header(lang))
        cell.font, cell.fill = _HEAD, _REQUIRED if col.required else _OPTIONAL
        value = _example(col.example, col.choices(lang), col.choices_zh)
        if j == 1:  # marked, so an example left in is never mistaken for data
            value = f"{EXAMPLE_MARK[0] if _zh(lang) else EXAMPLE_MARK[1]}{value}"
        ex = ws.cell(row=2, column=j, value=value)
        ex.font = _EXAMPLE
        ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(col.header(lang)) * 2 + 4))
        if col.choices_zh:
            choices = col.choices(lang)
            dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=not col.required,
                                showErrorMessage=True, errorTitle="OrderTalk",
                                error=("只能选择：" if _zh(lang) else "Choose one of: ") + ", ".join(choices))
            dv.add(f"{get_column_letter(j)}2:{get_column_letter(j)}{VALIDATED_ROWS + 1}")
            ws.add_data_validation(dv)
    ws.freeze_panes = "A2"
    _notes(wb.create_sheet("说明" if _zh(lang) else "Notes"), kind, lang)
    return _bytes(wb)


def _example(value: object, choices: tuple[str, ...], choices_zh: tuple[str, ...]) -> object:
    if choices and value in choices_zh:  # 是 → Yes in an English template
        return choices[choices_zh.index(value)]
    return value


def _notes(ws, kind: Kind, lang: str) -> None:  # type: ignore[no-untyped-def]
    zh = _zh(lang)
    lines = [
        kind.intro_zh if zh else kind.intro_en,
        "黄色列必填，灰色列可不填；第 2 行是示例（以「例：」开头），可以删除，保留也不会被导入。" if zh else
        "Yellow columns are required, grey ones optional; row 2 is an example (starting with 'e.g.') — delete it; left in, it is not imported.",
        "先用「--dry-run」检查：有任何问题时什么都不会写入，每个问题都列出行、列、内容和原因。" if zh else
        "Check with --dry-run first: if anything is wrong nothing is written, and every problem is listed with its row, column, value and reason.",
        "按编码对应：再次导入同一文件不会重复，只更新有变化的行（新增 / 更新 / 未变）。" if zh else
        "Rows are matched by code: importing the same file again creates no duplicates and only updates what changed.",
        "列名可以用中文或英文，列的顺序不限；数字可以带千位逗号，日期可以是 Excel 日期。也可以另存为 CSV（UTF-8 或 GBK）。" if zh else
        "Headers may be Chinese or English, in any order; numbers may have thousands commas; dates may be Excel dates. CSV (UTF-8 or GBK) works too.",
    ]
    for i, line in enumerate(lines, start=1):
        ws.cell(row=i, column=1, value=line)
    top = len(lines) + 2
    heads = ("列", "必填", "说明", "示例") if zh else ("Column", "Required", "Notes", "Example")
    for j, h in enumerate(heads, start=1):
        ws.cell(row=top, column=j, value=h).font = _HEAD
    for i, col in enumerate(kind.columns, start=top + 1):
        note = col.note_zh if zh else col.note_en
        if col.choices_zh:
            note = (note + "；" if note and zh else note + "; " if note else "") + (
                "可选：" if zh else "one of: ") + "/".join(col.choices(lang))
        ws.cell(row=i, column=1, value=col.header(lang))
        ws.cell(row=i, column=2, value=("是" if zh else "yes") if col.required else "")
        ws.cell(row=i, column=3, value=note).alignment = Alignment(wrap_text=True)
        ws.cell(row=i, column=4, value=_example(col.example, col.choices(lang), col.choices_zh))
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["C"].width = 70
    ws.column_dimensions["D"].width = 26


def export(kind: Kind, rows: Iterable[list[object]], lang: str = "zh") -> bytes:
    """Write-only (streamed) workbook: a 100,000-row export does not hold the sheet in memory."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(kind.sheet(lang))
    head = []
    for col in kind.columns:
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
    zh = _zh(locale)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("问题" if zh else "Problems")
    ws.append(["工作表", "行", "列", "内容", "原因"] if zh else ["Sheet", "Row", "Column", "Value", "Reason"])
    for p in problems:
        ws.append([p.sheet, p.row or "", p.column, p.value, p.reason(locale)])
    return _bytes(wb)
