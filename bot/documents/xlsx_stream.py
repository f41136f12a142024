"""Reading one XLSX sheet as a stream of rows, in memory that does not grow with the row count.

python-calamine (0.9) cannot do this: `get_sheet_by_index` parses the whole sheet into one range before its first
row is handed over (100,000 customer rows: 95 MB resident, 156 MB at peak), and `iter_rows` / `to_python(nrows=…)`
only walk that range. openpyxl's read-only mode streams but takes ~80 s for the same sheet. So the sheet's XML is
read here straight from the zip, a megabyte at a time, and cut into rows with compiled regular expressions (the
format is machine-written and regular: `<row>` holds `<c r="B7" s="3" t="s"><v>12</v></c>` cells). What stays in
memory is the shared-strings table (Excel puts every distinct text there; inline strings, which openpyxl and many
exporters write, need none) and the styles that say which numbers are dates.

Values as calamine gives them: text as str, numbers as float, booleans as bool, a number in a date format as a
date (a datetime when it has a time of day, a time when it is below one day), errors as their text (#N/A).
"""

from __future__ import annotations

import codecs
import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from html import unescape
from pathlib import Path
from xml.etree import ElementTree

CHUNK = 1 << 20
_NS = r"(?:[\w.-]+:)?"
_ATTR = re.compile(r'([\w:]+)\s*=\s*"([^"]*)"')
_V = re.compile(rf"<{_NS}v(?:\s[^>]*)?>(.*?)</{_NS}v>", re.S)
_T = re.compile(rf"<{_NS}t(?:\s[^>]*)?>(.*?)</{_NS}t>", re.S)
_RPH = re.compile(rf"<{_NS}rPh\b.*?</{_NS}rPh>", re.S)  # phonetic runs (furigana): not the cell's text
_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")
_REF = re.compile(r"([A-Z]+)(\d+)")
_DIMENSION = re.compile(r'<(?:\w+:)?dimension\s+ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')
_DATE_IDS = {*range(14, 18), 22, *range(27, 32), *range(36, 37), *range(50, 59)}
_TIME_IDS = {18, 19, 20, 21, 45, 46, 47, *range(32, 36)}
_EPOCH, _EPOCH_1904 = datetime(1899, 12, 30), datetime(1904, 1, 1)
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


class XlsxError(Exception):
    """Not a readable XLSX (not a zip, a part missing or not XML)."""


Cell = object


@dataclass(frozen=True)
class SheetRef:
    name: str
    path: str  # the worksheet's part inside the zip


class Workbook:
    def __init__(self, source: bytes | Path) -> None:
        try:
            self._zip = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
            self.sheets = self._sheets()
            self._styles: dict[int, str] | None = None
            self._strings: list[str] | None = None
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError) as e:
            raise XlsxError(str(e) or type(e).__name__) from None

    def close(self) -> None:
        self._zip.close()

    def _xml(self, part: str) -> ElementTree.Element:
        with self._zip.open(part) as f:
            return ElementTree.parse(f).getroot()

    def _sheets(self) -> list[SheetRef]:
        book = self._xml("xl/workbook.xml")
        pr = book.find(f"{_MAIN}workbookPr")
        self.date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
        targets = {r.get("Id"): r.get("Target", "") for r in self._xml("xl/_rels/workbook.xml.rels")}
        out = []
        for s in book.iter(f"{_MAIN}sheet"):
            target = targets.get(s.get(f"{_RELS}id"), "")
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            if path in self._zip.NameToInfo:
                out.append(SheetRef(s.get("name", ""), path))
        return out

    # ------------------------------------------------------------ the parts a cell's value needs
    def _date_styles(self) -> dict[int, str]:
        """Style index → "date" / "time" / "datetime" for the styles whose number format shows a date or time."""
        if self._styles is None:
            self._styles = {}
            if "xl/styles.xml" in self._zip.NameToInfo:
                root = self._xml("xl/styles.xml")
                custom = {int(f.get("numFmtId", "0")): f.get("formatCode", "") for f in root.iter(f"{_MAIN}numFmt")}
                xfs = root.find(f"{_MAIN}cellXfs")
                for i, xf in enumerate(xfs if xfs is not None else []):
                    kind = _format_kind(int(xf.get("numFmtId", "0")), custom)
                    if kind:
                        self._styles[i] = kind
        return self._styles

    def _shared(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            if "xl/sharedStrings.xml" in self._zip.NameToInfo:
                with self._zip.open("xl/sharedStrings.xml") as f:
                    for _, el in ElementTree.iterparse(f):
                        if el.tag == f"{_MAIN}si":
                            self._strings.append(_shared_text(el))
                            el.clear()
        return self._strings

    # ------------------------------------------------------------ rows
    def declared_rows(self, sheet: SheetRef) -> int | None:
        """The last row the sheet's <dimension> names, from its first bytes; None if absent."""
        with self._zip.open(sheet.path) as f:
            m = _DIMENSION.search(f.read(4096).decode("utf-8", "ignore"))
        return int(m.group(1)) if m and m.group(1) else None

    def rows(self, sheet: SheetRef, fast: bool = True) -> Iterator[tuple[int, list[Cell]]]:
        """(Excel row number, cells from column A); rows without cells are left out. `fast=False` reads every row
        the general way (the tests compare the two)."""
        strings, styles = self._shared(), self._date_styles()
        epoch = _EPOCH_1904 if self.date1904 else _EPOCH
        n_strings = len(strings)
        style_kinds: dict[str, str | None] = {}  # the s="…" attribute as written → styles' kind, looked up once
        codes: dict[str, str] = {}  # a cell's attributes as written (` s="3" t="s"`) → how its value reads
        columns: dict[str, int] = {}
        n = 0
        cells: list[Cell] = []

        def plain_row(piece: str, start: int) -> list[Cell] | None:
            """The cells of one row in the shapes machines write (text, shared text, numbers, dates, blanks), with
            one pattern of four groups per cell; None when any cell is another shape (the general reading takes
            the row). The same values, columns and gaps as the general reading."""
            found = _PLAIN_CELL.findall(piece, start)
            if len(found) != piece.count("<c", start):
                return None
            out: list[Cell] = []
            for letters, attrs, v, inline in found:
                code = codes.get(attrs)
                if code is None:
                    code = codes[attrs] = _cell_code(attrs, styles)
                if code == "i":
                    if not inline:
                        continue
                    value: Cell = _text(inline) if "&" in inline or "_x" in inline else inline
                elif code == "s":
                    value = strings[i] if v and (i := int(v)) < n_strings else ""
                    if value == "":
                        continue
                elif code == "n":
                    if not v:
                        continue
                    value = float(v)
                elif code:  # a number in a date or time format
                    if not v:
                        continue
                    value = _when(float(v), code, epoch)
                else:
                    return None
                col = columns.get(letters)
                if col is None:
                    col = columns[letters] = _column(letters)
                if len(out) < col:
                    out += [""] * (col - len(out))
                out.append(value)
            return out

        try:
            with self._zip.open(sheet.path) as raw:
                decoder = codecs.getincrementaldecoder("utf-8")()
                buf, end_tag = "", ""
                while True:
                    chunk = raw.read(CHUNK)
                    buf += decoder.decode(chunk, final=not chunk)
                    if not end_tag:
                        m = _SHEET_DATA.search(buf)
                        if m is None and chunk:
                            continue
                        end_tag = f"</{(m.group(1) or '') if m else ''}row>"
                    cut = len(buf) if not chunk else buf.rfind(end_tag)
                    if cut < 0:
                        continue
                    cut = cut + len(end_tag) if chunk else cut
                    # Row by row: one without a prefix, in the common shapes, is read by plain_row; any other
                    # text by the general tokens (a piece ends where its row does, so no token spans two pieces).
                    for piece in buf[:cut].split(end_tag) if fast and end_tag == "</row>" else (buf[:cut],):
                        if piece[:5] == "<row " and (j := piece.find(">")) > 0 and piece[j - 1] != "/" \
                                and piece.find("<row", j) < 0:
                            found = plain_row(piece, j + 1)
                            if found is not None:
                                if cells:
                                    yield n, cells
                                r = _ATTR_R.search(piece, 0, j)
                                n, cells = (int(r.group(1)) if r else n + 1), found
                                continue
                        for row_tag, letters, style, t, v, inline, attrs, content in _TOKEN.findall(piece):
                            if row_tag:
                                if cells:
                                    yield n, cells
                                r = _ATTR_R.search(row_tag)
                                n, cells = (int(r.group(1)) if r else n + 1), []
                                continue
                            if letters:  # the common shapes, read without a second pattern
                                if t == "s":
                                    value: Cell = strings[i] if v and (i := int(v)) < n_strings else ""
                                elif t == "inlineStr":
                                    value = _text(inline) if "&" in inline or "_x" in inline else inline
                                elif t in ("", "n"):
                                    if not v:
                                        continue
                                    value = float(v)
                                    if style and styles:
                                        kind = style_kinds.get(style, "")
                                        if kind == "":
                                            kind = style_kinds[style] = styles.get(int(style))
                                        if kind is not None:
                                            value = _when(value, kind, epoch)
                                else:
                                    value = _value(t, style, f"<v>{v}</v>", strings, styles, epoch)
                                col = columns.get(letters)
                                if col is None:
                                    col = columns[letters] = _column(letters)
                            else:
                                a = dict(_ATTR.findall(attrs))
                                value = _value(a.get("t", "n"), a.get("s"), content, strings, styles, epoch)
                                rm = _REF.match(a.get("r", ""))
                                col = _column(rm.group(1)) if rm else len(cells)
                            if value == "":
                                continue
                            if len(cells) < col:
                                cells += [""] * (col - len(cells))
                            cells.append(value)
                    buf = buf[cut:]
                    if not chunk:
                        break
            if cells:
                yield n, cells
        except (zipfile.BadZipFile, EOFError, OSError, UnicodeDecodeError, ValueError) as e:
            raise XlsxError(str(e) or type(e).__name__) from None


def _cell_code(attrs: str, styles: dict[int, str]) -> str:
    """How plain_row reads a cell with these attributes: "i" inline text, "s" shared text, "n" a number, a styles
    kind ("date", "time", "datetime") for a number in that format, "" any other type (the general reading's)."""
    a = dict(_ATTR.findall(attrs))
    t = a.get("t", "n")
    if t == "inlineStr":
        return "i"
    if t == "s":
        return "s"
    if t != "n":
        return ""
    style = a.get("s")
    return (styles.get(int(style)) if style and style.isdigit() else None) or "n"


_ATTR_R = re.compile(r'\br="(\d+)"')
_SHEET_DATA = re.compile(r"<([\w.-]+:)?sheetData\b")
_TOKEN = re.compile(
    rf"(<{_NS}row\b[^>]*>)"  # a row begins (a self-closing one has no cells to follow)
    r'|<c r="([A-Z]+)\d+"(?: s="(\d+)")?(?: t="(\w+)")?(?: ?/>|>(?:<v>([^<]*)</v>|<is><t(?: [^>]*)?>([^<]*)</t></is>)</c>)'
    rf"|<{_NS}c\b([^>]*?)(?:/>|>(.*?)</{_NS}c>)",  # any other cell
    re.S)
# A cell in the shapes plain_row reads: column letters, the other attributes as written, a value or inline text
# (self-closing or empty: blank). Four groups, one pattern: half the time of _TOKEN's eight over the same cells.
_PLAIN_CELL = re.compile(r'<c r="([A-Z]+)\d+"([^>/]*)(?:/>|>(?:<v>([^<]*)</v>|<is><t(?: [^>]*)?>([^<]*)</t></is>)?</c>)')


def _shared_text(si: ElementTree.Element) -> str:
    """A shared string: its own text, or its rich-text runs' (phonetic runs, rPh, are not the cell's text)."""
    parts = []
    for child in si:
        if child.tag == f"{_MAIN}t":
            parts.append(child.text or "")
        elif child.tag == f"{_MAIN}r":
            parts += (t.text or "" for t in child.iter(f"{_MAIN}t"))
    text = "".join(parts)
    return _XESC.sub(lambda m: chr(int(m.group(1), 16)), text) if "_x" in text else text


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _text(s: str) -> str:
    if "&" in s:
        s = unescape(s)
    if "_x" in s:
        s = _XESC.sub(lambda m: chr(int(m.group(1), 16)), s)
    return s


def _value(t: str, style: str | None, content: str, strings: list[str], styles: dict[int, str],
           epoch: datetime) -> Cell:
    if t == "inlineStr":
        if "rPh" in content:
            content = _RPH.sub("", content)
        return _text("".join(_T.findall(content)))
    v = _V.search(content)
    if v is None:
        return ""
    raw = v.group(1)
    if t == "s":
        try:
            return strings[int(raw)]
        except (ValueError, IndexError):
            return ""
    if t in ("str", "e"):
        return _text(raw)
    if t == "b":
        return raw.strip() in ("1", "true")
    if t == "d":
        try:
            return datetime.fromisoformat(raw.strip())
        except ValueError:
            return _text(raw)
    try:
        number = float(raw)
    except ValueError:
        return _text(raw)
    kind = styles.get(int(style)) if style else None
    if kind is None:
        return number
    return _when(number, kind, epoch)


def _when(serial: float, kind: str, epoch: datetime) -> Cell:
    if serial < 0 or serial > 2958465:  # not a date Excel can show
        return serial
    moment = epoch + timedelta(days=serial)
    moment = (moment + timedelta(microseconds=500)).replace(microsecond=0)  # float noise off the seconds
    if kind == "time" or (serial < 1 and kind == "datetime"):
        return time(moment.hour, moment.minute, moment.second)
    if moment.time() == time(0):
        return moment.date()
    return moment


def _format_kind(num_fmt: int, custom: dict[int, str]) -> str | None:
    if num_fmt in _DATE_IDS:
        return "datetime" if num_fmt == 22 else "date"
    if num_fmt in _TIME_IDS:
        return "time"
    code = custom.get(num_fmt)
    if not code:
        return None
    plain = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", code.split(";")[0]).lower()  # quoted text, escapes, colours
    has_date = any(ch in plain for ch in "dy") or ("m" in plain and "h" not in plain and "s" not in plain)
    has_time = "h" in plain or "s" in plain
    if has_date and has_time:
        return "datetime"
    if has_date:
        return "date"
    if has_time:
        return "time"
    return None
