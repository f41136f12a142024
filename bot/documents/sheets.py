"""Reading a sheet as a stream of rows: XLSX (bot.documents.xlsx_stream: the sheet's XML read from the zip a
megabyte at a time, so memory does not grow with the rows) and CSV (UTF-8 with or without BOM, or GBK/GB18030, which Chinese Excel writes), and finding the header row.

Nothing here knows what the columns mean; bot.documents.imports maps headers to fields.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bot.documents.xlsx_stream import Workbook, XlsxError
from domain.messages import Message

HEADER_SCAN_ROWS = 10
NOTES_SHEETS = ("说明", "填写说明", "notes", "instructions", "readme")  # never the data


class SheetError(Exception):
    """The file cannot be read at all (not XLSX or CSV, not UTF-8/GBK, no such sheet): a message for the reader."""

    def __init__(self, msgid: str, **params: object) -> None:
        self.message = Message(msgid, params)
        super().__init__(str(self.message))


Cell = object  # str | int | float | bool | date | datetime ("" when empty)


@dataclass
class Rows:
    """One sheet: its name, an estimate of its row count (for the progress bar), and its rows numbered as in Excel."""

    sheet: str
    rows: Iterator[tuple[int, list[Cell]]]
    estimated_rows: int | None = None


def open_sheet(source: bytes | Path, filename: str, wanted: Sequence[str] = ()) -> Rows:
    """The sheet whose name is one of `wanted` (case-insensitive), else the first that is not a notes sheet."""
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        return _xlsx(source, wanted)
    if name.endswith((".csv", ".txt")):
        return _csv(source, Path(filename).stem or filename)
    raise SheetError("Unsupported file type: {filename} (use .xlsx or .csv)", filename=filename)


def _xlsx(source: bytes | Path, wanted: Sequence[str]) -> Rows:
    try:
        wb = Workbook(source)
    except XlsxError as e:
        raise SheetError("Cannot read this Excel file (damaged or not .xlsx): {error}", error=str(e)) from None
    names = [s.name for s in wb.sheets]
    folded = {n.strip().casefold(): i for i, n in enumerate(names)}
    index = next((folded[w.casefold()] for w in wanted if w.casefold() in folded), None)
    if index is None:
        index = next((i for i, n in enumerate(names) if n.strip().casefold() not in NOTES_SHEETS), None)
    if index is None:
        wb.close()
        raise SheetError("The file has no data sheet")
    sheet = wb.sheets[index]

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        try:
            yield from wb.rows(sheet)
        except XlsxError as e:
            raise SheetError("The Excel file broke off while reading (damaged?): {error}", error=str(e)) from None
        finally:
            wb.close()

    try:
        estimate = wb.declared_rows(sheet)
    except (XlsxError, OSError, zipfile.BadZipFile):
        estimate = None
    return Rows(sheet.name, rows(), estimate)


def _csv(source: bytes | Path, sheet: str) -> Rows:
    raw: IO[bytes] = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    head = raw.read(1 << 16)
    raw.seek(0)
    encoding = _encoding(head)
    size = len(source) if isinstance(source, bytes) else source.stat().st_size
    sample = head.decode(encoding, errors="ignore")
    try:
        delimiter = csv.Sniffer().sniff("\n".join(sample.splitlines()[:20]), delimiters=",\t;").delimiter
    except csv.Error:
        delimiter = ","
    text = io.TextIOWrapper(raw, encoding=encoding, newline="")
    lines = max(1, sample.count("\n"))

    def rows() -> Iterator[tuple[int, list[Cell]]]:
        try:
            for n, row in enumerate(csv.reader(text, delimiter=delimiter), start=1):
                yield n, [c.removeprefix("=").strip('"') if c.startswith('="') else c for c in row]  # ="00123" keeps zeros
        except UnicodeDecodeError:
            raise SheetError("The file is not {encoding} throughout; save it as 'CSV UTF-8'", encoding=encoding) from None
        except csv.Error as e:
            raise SheetError("The CSV is malformed: {error}", error=str(e)) from None
        finally:
            text.close()

    estimate = int(size / max(1, len(head)) * lines) if head else 0
    return Rows(sheet, rows(), estimate)


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if e.start >= len(head) - 3:  # a character cut at the end of the sample
            return "utf-8"
    try:
        head.decode("gb18030")  # ⊇ GBK ⊇ GB2312
        return "gb18030"
    except UnicodeDecodeError:
        raise SheetError("Cannot tell the file's encoding (save it as 'CSV UTF-8' or .xlsx)") from None


# ---------------------------------------------------------------- headers


def norm_header(value: object) -> str:
    """'客户编码 *' / 'Customer Code' / '信用额度(元)' → comparable text."""
    s = unicodedata.normalize("NFKC", str(value or "")).strip().casefold()
    s = re.sub(r"[(（][^)）]*[)）]$", "", s)  # a unit or hint in brackets at the end
    return re.sub(r"[\s_\-:：.*/、]+", "", s)


@dataclass(frozen=True)
class Header:
    row: int  # Excel row number of the (last) header row
    columns: dict[int, str]  # column index → the header text shown in the file


def find_header(first_rows: Sequence[tuple[int, list[Cell]]], known: set[str]) -> Header | None:
    """The row among the first few whose cells name most known columns.

    Merged header cells: Excel keeps a merged cell's text in its first cell only. So a blank header cell takes the
    cell above it (a title merged down over two rows), and a two-row header ('联系人' merged over '姓名 电话') is
    tried as group + sub-header as well."""
    best: Header | None = None
    best_hits = 0
    previous: list[Cell] = []
    for n, row in first_rows:
        group, carried = "", []
        for j in range(max(len(row), len(previous))):
            above = previous[j] if j < len(previous) else ""
            if str(above).strip():
                group = str(above).strip()
            carried.append(group)
        columns: dict[int, str] = {}
        hits = 0
        for j in range(max(len(row), len(previous))):
            cell = str(row[j]).strip() if j < len(row) and row[j] is not None else ""
            above = str(previous[j]).strip() if j < len(previous) else ""
            for candidate in (cell, carried[j] + cell if cell else "", above if not cell else ""):
                if candidate and norm_header(candidate) in known:
                    columns[j] = candidate
                    hits += 1
                    break
        if hits > best_hits:
            best, best_hits = Header(n, columns), hits
        previous = row
    return best


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
