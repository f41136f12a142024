"""The streaming XLSX reader: a workbook as Excel writes it (shared strings with rich text and phonetic runs, a
namespace prefix, date formats, a notes sheet listed first, rows and cells with gaps), a workbook as openpyxl writes
it (inline strings), and rows cut across the reader's chunks."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time

import openpyxl
import pytest

from bot.documents import xlsx_stream
from bot.documents.sheets import SheetError, open_sheet
from bot.documents.xlsx_stream import Workbook

_M = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PARTS = {
    "xl/workbook.xml": f'<x:workbook {_M} xmlns:r="{_R}"><x:workbookPr/><x:sheets><x:sheet name="说明" sheetId="1" '
                       'r:id="rId2"/><x:sheet name="客户" sheetId="2" r:id="rId1"/></x:sheets></x:workbook>',
    "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                                  f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>'
                                  f'<Relationship Id="rId2" Type="{_R}/worksheet" Target="/xl/worksheets/sheet2.xml"/>'
                                  '</Relationships>',
    "xl/sharedStrings.xml": f'<x:sst {_M}><x:si><x:t>编码</x:t></x:si><x:si><x:r><x:t>名</x:t></x:r><x:r><x:rPr><x:b/>'
                            '</x:rPr><x:t xml:space="preserve">称 </x:t></x:r><x:rPh sb="0" eb="1"><x:t>ミョウ</x:t>'
                            '</x:rPh></x:si><x:si><x:t>A&amp;B_x000D_</x:t></x:si><x:si><x:t>日期</x:t></x:si></x:sst>',
    "xl/styles.xml": f'<x:styleSheet {_M}><x:numFmts><x:numFmt numFmtId="170" formatCode="[$-804]yyyy&quot;年&quot;m'
                     '&quot;月&quot;d&quot;日&quot;"/><x:numFmt numFmtId="171" formatCode="yyyy-mm-dd hh:mm"/></x:numFmts>'
                     '<x:cellXfs><x:xf numFmtId="0"/><x:xf numFmtId="170"/><x:xf numFmtId="14"/><x:xf numFmtId="4"/>'
                     '<x:xf numFmtId="171"/><x:xf numFmtId="20"/></x:cellXfs></x:styleSheet>',
    "xl/worksheets/sheet1.xml": f'<x:worksheet {_M}><x:dimension ref="B2:E5"/><x:sheetData>'
                                '<x:row r="2" spans="2:5"><x:c r="B2" t="s"><x:v>0</x:v></x:c><x:c r="C2" t="s"><x:v>1'
                                '</x:v></x:c><x:c r="E2" t="s"><x:v>3</x:v></x:c></x:row><x:row r="3"/>'
                                '<x:row r="4"><x:c r="B4" t="s"><x:v>2</x:v></x:c><x:c r="C4" s="3"><x:v>1234.5</x:v>'
                                '</x:c><x:c r="D4" t="b"><x:v>0</x:v></x:c><x:c r="E4" s="1"><x:v>46000</x:v></x:c>'
                                '</x:row><x:row r="5"><x:c r="B5" t="str"><x:f>A1</x:f><x:v>x&lt;y</x:v></x:c>'
                                '<x:c r="C5" t="e"><x:v>#N/A</x:v></x:c><x:c r="D5" s="4"><x:v>46000.75</x:v></x:c>'
                                '<x:c r="E5" s="2"><x:v>45000</x:v></x:c><x:c r="F5" s="5"><x:v>0.5</x:v></x:c>'
                                '</x:row></x:sheetData></x:worksheet>',
    "xl/worksheets/sheet2.xml": f'<x:worksheet {_M}><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>'
                                'notes</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>',
}


def excel_file() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, xml in PARTS.items():
            z.writestr(name, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + xml)
    return buf.getvalue()


def test_a_workbook_as_excel_writes_it() -> None:
    rows = open_sheet(excel_file(), "客户.xlsx")
    assert rows.sheet == "客户"  # the notes sheet listed first is passed over; found through the relationships
    assert rows.estimated_rows == 5
    assert list(rows.rows) == [
        (2, ["", "编码", "名称 ", "", "日期"]),  # rich-text runs joined, the phonetic run left out; column A empty
        (4, ["", "A&B\r", 1234.5, False, date(2025, 12, 9)]),  # a custom Chinese date format is a date
        (5, ["", "x<y", "#N/A", datetime(2025, 12, 9, 18, 0), date(2023, 3, 15), time(12, 0)]),
    ]


def test_a_workbook_as_openpyxl_writes_it() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "商品"
    ws.append(["SKU", "价格", "日期", "有效"])
    ws.append([])
    ws.append(["P-1", 12.5, date(2026, 1, 5), True])
    ws.append(["  P&2 ", 3, datetime(2026, 1, 5, 10, 30), None])
    buf = io.BytesIO()
    wb.save(buf)
    rows = open_sheet(buf.getvalue(), "x.xlsx")
    assert list(rows.rows) == [(1, ["SKU", "价格", "日期", "有效"]), (3, ["P-1", 12.5, date(2026, 1, 5), True]),
                               (4, ["  P&2 ", 3.0, datetime(2026, 1, 5, 10, 30)])]


def test_rows_cut_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("s")
    for i in range(3000):
        ws.append([f"编码{i}", i, "中文" * (i % 7)])
    buf = io.BytesIO()
    wb.save(buf)
    monkeypatch.setattr(xlsx_stream, "CHUNK", 997)  # rows and multi-byte characters split between reads
    book = Workbook(buf.getvalue())
    got = list(book.rows(book.sheets[0]))
    assert len(got) == 3000
    assert got[0] == (1, ["编码0", 0.0])
    assert got[2999] == (3000, ["编码2999", 2999.0, "中文" * (2999 % 7)])
    assert all(n == i + 1 and cells[0] == f"编码{i}" for i, (n, cells) in enumerate(got))


def test_not_a_workbook() -> None:
    with pytest.raises(SheetError):
        open_sheet(b"PK\x03\x04 not really", "x.xlsx")
    broken = excel_file().replace(b"sheetData", b"sheetDatb")  # the zip's checksums no longer match
    with pytest.raises(SheetError):
        list(open_sheet(broken, "x.xlsx").rows)


def test_plain_rows_read_as_the_general_reading_does(monkeypatch: pytest.MonkeyPatch) -> None:
    """plain_row takes the rows in the common shapes; every other row is left to the general reading. Both give the
    same rows: gaps, blanks (self-closing, empty, blank text), entities, shared strings, dates, and rows with one cell
    of another shape (a formula, a boolean, rich text, cells out of order)."""
    strings = "<x>" + "".join(f"<si><t>{t}</t></si>" for t in ("共享", "A&amp;B", "")) + "</x>"
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>编码</t></is></c><c r="C1" t="s"><v>0</v></c></row>'
             '<row r="2" spans="1:6"><c r="A2" t="inlineStr"><is><t>x&lt;y_x000D_</t></is></c><c r="B2" s="1"/>'
             '<c r="C2" t="n"><v>12.5</v></c><c r="D2" s="2"><v>45000</v></c><c r="E2" t="s"><v>1</v></c>'
             '<c r="F2" t="inlineStr"><is><t xml:space="preserve"> sp </t></is></c><c r="G2" t="s"><v>2</v></c></row>'
             '<row r="3"><c r="A3" s="1"></c><c r="B3" t="inlineStr"><is><t></t></is></c><c r="C3"><v></v></c></row>'
             '<row r="4"><c r="A4" t="b"><v>1</v></c><c r="B4" t="inlineStr"><is><t>b</t></is></c></row>'
             '<row r="5"><c r="A5"><f>1+1</f><v>2</v></c><c r="C5" t="inlineStr"><is><t>c</t></is></c></row>'
             '<row r="6"><c r="A6" t="inlineStr"><is><r><t>ri</t></r><r><t>ch</t></r></is></c></row>'
             '<row r="7"><c r="C7"><v>3</v></c><c r="A7"><v>1</v></c></row><row r="8"/>'
             '<row r="9"><c r="B9" s="3"><v>0.5</v></c><c r="AA9" t="inlineStr"><is><t>far</t></is></c></row>'
             '<row><c r="A10" t="inlineStr"><is><t>no number</t></is></c></row>'
             '</sheetData></worksheet>')
    styles = ('<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><cellXfs><xf numFmtId="0"/>'
              '<xf numFmtId="4"/><xf numFmtId="14"/><xf numFmtId="20"/></cellXfs></styleSheet>')
    parts = {**PARTS, "xl/worksheets/sheet1.xml": sheet, "xl/styles.xml": styles,
             "xl/sharedStrings.xml": strings.replace("<x>", f"<x:sst {_M}>").replace("</x>", "</x:sst>")
             .replace("<si>", "<x:si>").replace("</si>", "</x:si>").replace("<t>", "<x:t>").replace("</t>", "</x:t>")}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, xml in parts.items():
            z.writestr(name, xml)
    for chunk in (1 << 20, 61):  # rows whole in a read, and rows cut across reads
        monkeypatch.setattr(xlsx_stream, "CHUNK", chunk)
        book = Workbook(buf.getvalue())
        sheet = next(s for s in book.sheets if s.path.endswith("sheet1.xml"))
        fast, general = list(book.rows(sheet)), list(book.rows(sheet, fast=False))
        assert fast == general
        assert fast == [
            (1, ["编码", "", "共享"]),
            (2, ["x<y\r", "", 12.5, date(2023, 3, 15), "A&B", " sp "]),
            (4, [True, "b"]),
            (5, [2.0, "", "c"]),
            (6, ["rich"]),
            (7, ["", "", 3.0, 1.0]),  # out of order: as the general reading has always taken them
            (9, ["", time(12, 0), *[""] * 24, "far"]),
            (10, ["no number"]),
        ]
