from __future__ import annotations

import io
import zipfile
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from bot.documents.model import OpenReceivable, Statement, StatementEntry
from bot.documents.statement import (
    AGEING_BUCKETS,
    AGEING_SHEET,
    STATEMENT_SHEET,
    ageing,
    render_statement_pdf,
    render_statement_xlsx,
    statement_rows,
    statement_totals,
)

from .conftest import pdf_text, squash

AS_OF = date(2024, 6, 30)


def item(days_overdue: int, amount: str, ref: str = "SO") -> OpenReceivable:
    return OpenReceivable(f"{ref}-{days_overdue}", AS_OF - timedelta(days=days_overdue), D(amount))


# --------------------------------------------------------------------------- ageing


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-45, "0-30"), (-1, "0-30"), (0, "0-30"), (1, "0-30"), (30, "0-30"), (31, "31-60"), (60, "31-60"),
     (61, "61-90"), (90, "61-90"), (91, "90+"), (400, "90+")],
)
def test_ageing_bucket_boundaries(days: int, bucket: str) -> None:
    result = ageing([item(days, "100.00")], AS_OF)
    assert list(result) == list(AGEING_BUCKETS)
    assert result[bucket] == D("100.00")
    assert sum(result.values()) == D("100.00")


def test_ageing_sums_exactly() -> None:
    items = [item(-3, "0.10"), item(30, "0.20"), item(31, "1000000.01"), item(60, "0.99"), item(61, "5"),
             item(90, "5.005"), item(91, "12800")]
    assert ageing(items, AS_OF) == {
        "0-30": D("0.30"),
        "31-60": D("1000001.00"),
        "61-90": D("10.01"),  # 5 + 5.005, rounded half up once at the end
        "90+": D("12800.00"),
    }
    assert ageing([], AS_OF) == dict.fromkeys(AGEING_BUCKETS, D("0.00"))


# --------------------------------------------------------------------------- computations


def test_running_balance_and_totals(statement: Statement) -> None:
    rows = statement_rows(statement)
    assert [r.entry.reference for r in rows] == ["SO-20240301-0001", "BANK-0310", "SO-20240320-0007"]
    assert [r.balance for r in rows] == [D("14800.00"), D("9799.50"), D("13256.28")]
    totals = statement_totals(statement)
    assert totals.total_debit == D("16256.78")
    assert totals.total_credit == D("5000.50")
    assert totals.closing_balance == D("13256.28")
    assert totals.ageing == {"0-30": D("11256.28"), "31-60": D("0.00"), "61-90": D("0.00"), "90+": D("2000.00")}
    assert totals.ageing_total == D("13256.28")


def test_model_validation(statement: Statement) -> None:
    with pytest.raises(TypeError):
        StatementEntry(date(2024, 3, 2), "payment", "X", credit=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        StatementEntry(date(2024, 3, 2), "payment", "X", credit=D("-1"))
    with pytest.raises(ValueError):
        StatementEntry(date(2024, 3, 2), "gift", "X")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="outside the statement period"):
        replace(statement, entries=(StatementEntry(date(2024, 4, 1), "order", "SO-LATE", debit=D(1)),))
    with pytest.raises(ValueError):
        replace(statement, period_end=date(2024, 2, 1))


# --------------------------------------------------------------------------- PDF


def test_statement_pdf_zh(statement: Statement) -> None:
    data = render_statement_pdf(statement, "zh-CN")
    text = squash(pdf_text(data))
    for expected in (
        "对账单", "杭州小溪商贸有限公司", "上海华东贸易有限公司", "C0012", "2024-03-01~2024-03-31",
        "期初余额", "2,000.00", "SO-20240301-0001", "12,800.00", "14,800.00", "收款", "BANK-0310", "部分回款",
        "5,000.50", "9,799.50", "3,456.78", "本期合计", "16,256.78", "期末余额", "¥13,256.28",
        "账龄分析", "0–30天", "31–60天", "61–90天", "90天以上", "¥11,256.28", "¥2,000.00", "¥0.00",
        "SO-20231201-0003", "2023-12-15", "107",
    ):
        assert expected in text, expected


def test_statement_pdf_en(statement: Statement) -> None:
    text = squash(pdf_text(render_statement_pdf(statement, "en")))
    for expected in ("Statementofaccount", "Openingbalance", "Closingbalance", "¥13,256.28", "90+days",
                     "Payment", "Shipment", "上海华东贸易有限公司"):
        assert expected in text, expected


def test_statement_pdf_many_entries(statement: Statement) -> None:
    entries = tuple(
        StatementEntry(date(2024, 3, 1 + i % 28), "shipment", f"SO-202403{i:02d}-{i:04d}", debit=D("100.01"))
        for i in range(1, 121)
    )
    data = render_statement_pdf(replace(statement, entries=entries), "zh-CN")
    text = squash(pdf_text(data))
    assert "12,001.20" in text  # 120 × 100.01
    assert "¥14,001.20" in text  # + opening 2,000
    assert "第1/" in text


# --------------------------------------------------------------------------- XLSX


def _open(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_statement_xlsx_values_and_formats(statement: Statement) -> None:
    data = render_statement_xlsx(statement, "zh-CN")
    wb = _open(data)
    assert wb.sheetnames == [STATEMENT_SHEET, AGEING_SHEET]
    ws = wb[STATEMENT_SHEET]
    assert ws["A1"].value == "杭州小溪商贸有限公司"
    assert ws["A2"].value == "对账单"
    assert ws["B3"].value == "上海华东贸易有限公司" and ws["E3"].value == "C0012"
    # table header and frozen panes
    assert [c.value for c in ws[8]] == ["日期", "类型", "单号", "摘要", "借方(应收)", "贷方(收款)", "余额"]
    assert ws.freeze_panes == "A9"
    # opening balance row
    assert ws["A9"].value.date() == date(2024, 3, 1) and ws["A9"].number_format == "yyyy-mm-dd"
    assert ws["B9"].value == "期初余额" and ws["G9"].value == 2000
    # entries, sorted, with running balance
    assert [ws.cell(row=r, column=3).value for r in (10, 11, 12)] == [
        "SO-20240301-0001", "BANK-0310", "SO-20240320-0007"]
    assert ws["A10"].value.date() == date(2024, 3, 2) and ws["A10"].number_format == "yyyy-mm-dd"
    assert ws["B10"].value == "发货" and ws["B11"].value == "收款" and ws["B12"].value == "订单"
    assert ws["E10"].value == 12800 and ws["E10"].number_format == "#,##0.00"
    assert ws["F10"].value is None
    assert ws["F11"].value == pytest.approx(5000.50) and ws["F11"].number_format == "#,##0.00"
    assert ws["D11"].value == "部分回款"
    assert [ws.cell(row=r, column=7).value for r in (10, 11, 12)] == [14800, 9799.5, 13256.28]
    assert all(ws.cell(row=r, column=7).number_format == "#,##0.00" for r in (9, 10, 11, 12, 14))
    # totals and closing balance
    assert ws["B13"].value == "本期合计" and ws["E13"].value == 16256.78 and ws["F13"].value == 5000.5
    assert ws["B14"].value == "期末余额" and ws["G14"].value == 13256.28
    assert ws["A14"].value.date() == date(2024, 3, 31)
    assert ws.column_dimensions["C"].width >= 20


def test_statement_xlsx_money_written_as_exact_decimal_text(statement: Statement) -> None:
    data = render_statement_xlsx(statement, "en")
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    for exact in ("<v>5000.5</v>", "<v>13256.28</v>", "<v>16256.78</v>", "<v>3456.78</v>"):
        assert exact in sheet_xml, exact
    assert "0000000" not in sheet_xml  # no binary float noise like 13256.280000000001


def test_statement_xlsx_ageing_sheet(statement: Statement) -> None:
    wa = _open(render_statement_xlsx(statement, "zh-CN"))[AGEING_SHEET]
    assert wa["A2"].value == "截至" and wa["B2"].value.date() == date(2024, 3, 31)
    assert [wa.cell(row=r, column=1).value for r in range(5, 10)] == [
        "0–30 天", "31–60 天", "61–90 天", "90 天以上", "合计"]
    assert [wa.cell(row=r, column=2).value for r in range(5, 10)] == [11256.28, 0, 0, 2000, 13256.28]
    assert all(wa.cell(row=r, column=2).number_format == "#,##0.00" for r in range(5, 10))
    # open items detail, oldest first
    assert [c.value for c in wa[11]] == ["单号", "到期日", "逾期天数", "账龄", "金额"]
    assert wa["A12"].value == "SO-20231201-0003" and wa["C12"].value == 107 and wa["D12"].value == "90 天以上"
    assert wa["B12"].number_format == "yyyy-mm-dd" and wa["E12"].number_format == "#,##0.00"
    assert wa["C14"].value == 0  # not yet due shows 0 days overdue


def test_statement_xlsx_en_labels_and_empty(statement: Statement) -> None:
    stmt = replace(statement, entries=(), open_items=())
    wb = _open(render_statement_xlsx(stmt, "en"))
    ws = wb[STATEMENT_SHEET]
    assert ws["B9"].value == "Opening balance" and ws["B11"].value == "Closing balance"
    assert ws["G11"].value == 2000
    wa = wb[AGEING_SHEET]
    assert wa["A5"].value == "0–30 days" and wa["B9"].value == 0
    assert wa["A12"].value == "No open receivables"
