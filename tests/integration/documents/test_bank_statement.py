from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal as D

import pytest
from openpyxl import Workbook

from bot.documents.bank_statement import (
    StatementError,
    match_payments,
    parse_amount,
    parse_bank_statement,
    parse_date,
)
from bot.documents.model import BankLine, MatchMethod, OpenItem, UnmatchedReason
from bot.i18n import texts

# --------------------------------------------------------------------------- parsing

ICBC_LIKE = (
    "账号: 1202 0210 0900 1234 567\n"
    "户名: 杭州小溪商贸有限公司\n"
    "起止日期: 2024-03-01 至 2024-03-31\n"
    "\n"
    "交易日期,摘要,借方金额,贷方金额,余额,对方户名,附言\n"
    "2024-03-05,转账,,\"￥12,800.00\",\"52,800.00\",上海华东贸易有限公司,货款 SO-20240301-0001\n"
    "2024/03/06,手续费,15.00,,\"52,785.00\",,\n"
    ",,,,,,\n"
    "2024年3月7日,网银转账,,\"3,000\",\"55,785.00\",北京中关村电子有限公司,\n"
    "20240308,代发工资,\"20,000.00\",,\"35,785.00\",员工工资,\n"
    "合计,,\"20,015.00\",\"15,800.00\",,,\n"
)


def test_csv_utf8_sig_with_preamble_split_columns_and_total_row() -> None:
    lines = parse_bank_statement(ICBC_LIKE.encode("utf-8-sig"), "icbc.csv")
    assert lines == [
        BankLine(row=6, txn_date=date(2024, 3, 5), amount=D("12800.00"), payer="上海华东贸易有限公司",
                 memo="转账 货款 SO-20240301-0001"),
        BankLine(row=9, txn_date=date(2024, 3, 7), amount=D("3000.00"), payer="北京中关村电子有限公司",
                 memo="网银转账"),
    ]


def test_csv_gbk() -> None:
    data = ICBC_LIKE.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    lines = parse_bank_statement(data, "建行流水.CSV")
    assert [(line.amount, line.payer) for line in lines] == [
        (D("12800.00"), "上海华东贸易有限公司"), (D("3000.00"), "北京中关村电子有限公司")]


def test_csv_plain_utf8_signed_amount_and_tabs() -> None:
    text = (
        "日期\t金额\t用途\t付款人\n"
        "2024-04-01\t￥1,234.56\t支付 SO-20240330-0002\tABC Trading Ltd\n"
        "2024-04-02\t-500.00\t采购付款\t供应商\n"
        "2024-04-03\tRMB 88\t\t李四\n"
    )
    lines = parse_bank_statement(text.encode("utf-8"), "export.txt")
    assert [(line.row, line.amount, line.memo, line.payer) for line in lines] == [
        (2, D("1234.56"), "支付 SO-20240330-0002", "ABC Trading Ltd"),
        (4, D("88.00"), "", "李四"),
    ]


def test_csv_english_headers_with_direction_column() -> None:
    text = (
        "Transaction Date,Description,Amount,Dr/Cr,Counterparty\n"
        "2024-05-02,INV SO-20240501-0003,\"1,000.00\",CR,Acme Pte Ltd\n"
        "2024-05-03,Bank fee,25.00,DR,\n"
        "2024-05-04,Refund,(300.00),C,Acme Pte Ltd\n"
    )
    lines = parse_bank_statement(text.encode(), "hsbc.csv")
    assert [(line.txn_date, line.amount, line.payer) for line in lines] == [
        (date(2024, 5, 2), D("1000.00"), "Acme Pte Ltd"), (date(2024, 5, 4), D("300.00"), "Acme Pte Ltd")]


def _xlsx(rows: list[list[object]], title: str = "Sheet1") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_bank_statement() -> None:
    data = _xlsx([
        ["招商银行账户交易明细"],
        [None],
        ["交易日期", "交易时间", "收入（元）", "支出（元）", "余额", "交易摘要", "对方户名"],
        [datetime(2024, 3, 5, 10, 22), "10:22", 12800.1, None, 60000, "SO-20240301-0001 货款", "上海华东贸易有限公司"],
        [datetime(2024, 3, 6), "11:00", None, 99.9, 59900.1, "手续费", None],
        [None, None, None, None, None, None, None],
        ["2024-03-07", "09:00", "2,000.00", None, 61900.1, "转账", "C0012"],
        [20240308, "09:00", 0.07, None, 61900.17, "利息", "银行"],
    ])
    lines = parse_bank_statement(data, "cmb.xlsx")
    assert [(line.row, line.txn_date, line.amount, line.memo, line.payer) for line in lines] == [
        (4, date(2024, 3, 5), D("12800.10"), "SO-20240301-0001 货款", "上海华东贸易有限公司"),
        (7, date(2024, 3, 7), D("2000.00"), "转账", "C0012"),
        (8, date(2024, 3, 8), D("0.07"), "利息", "银行"),
    ]


@pytest.mark.parametrize(
    ("content", "filename", "message"),
    [
        ("名称,金额\n张三,100\n".encode(), "a.csv", "date"),
        ("交易日期,备注\n2024-01-01,x\n".encode(), "a.csv", "amount"),
        ("交易日期,金额\n2024-01-01,100\n".encode(), "a.csv", "memo or payer"),
        (b"", "empty.csv", "no header row"),
        ("交易日期,金额,摘要\n01/02/2024,100,x\n".encode(), "a.csv", "row 2"),
        ("交易日期,金额,摘要\n2024-01-02,一百元,x\n".encode(), "a.csv", "invalid amount"),
        (b"\x89PNG....", "a.xlsx", "not a readable .xlsx"),
        (b"whatever", "a.xls", ".xls files are not supported"),
        (b"whatever", "a.pdf", "unsupported file type"),
        (bytes([0xFF, 0xFE, 0x00, 0xD8, 0x00, 0xDC]) * 3, "a.csv", "UTF-8 or GBK"),
    ],
)
def test_bad_files_raise_clear_errors(content: bytes, filename: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_bank_statement(content, filename)


@pytest.mark.parametrize(
    ("content", "filename", "zh", "en"),
    [
        ("交易日期,金额,摘要\n01/02/2024,100,x\n".encode(), "a.csv", "银行流水 a.csv，第 2 行：无法读取日期 '01/02/2024'",
         "bank statement a.csv, row 2: cannot read the date '01/02/2024'"),
        ("交易日期,金额,摘要\n2024-01-02,100.123,x\n".encode(), "a.csv", "第 2 行", "row 2"),
        ("姓名,电话\n张三,1\n".encode(), "a.csv", "找不到表头行；缺少的列：日期（", "no header row found; missing columns: date ("),
        (b"whatever", "a.xls", "不支持旧版 .xls 文件", "old .xls files are not supported"),
        (b"\x89PNG....", "a.xlsx", "不是可读取的 .xlsx 文件", "not a readable .xlsx file"),
    ],
)
def test_errors_read_in_the_readers_language(content: bytes, filename: str, zh: str, en: str) -> None:
    with pytest.raises(StatementError) as err:
        parse_bank_statement(content, filename)
    chinese, english = texts("zh-CN").render(err.value.message), texts("en").render(err.value.message)
    assert zh in chinese and en in english
    assert not any(word in chinese for word in ("bank statement", "row ", "cannot", "missing"))


def test_missing_columns_are_all_listed() -> None:
    with pytest.raises(ValueError) as err:
        parse_bank_statement("姓名,电话\n张三,1\n".encode(), "a.csv")
    assert "date" in str(err.value) and "amount" in str(err.value) and "memo or payer" in str(err.value)


def test_parse_amount_and_date_helpers() -> None:
    assert parse_amount("¥12,800.00") == D("12800.00")
    assert parse_amount("￥ 1,000") == D("1000")
    assert parse_amount("(1,000.50)") == D("-1000.50")
    assert parse_amount("100.00-") == D("-100.00")
    assert parse_amount("1,000.00元") == D("1000.00")
    assert parse_amount("") is None and parse_amount(None) is None
    assert parse_amount(0.1 + 0.2) == D("0.30")
    assert parse_date("2024-3-5 12:00:01") == date(2024, 3, 5)
    assert parse_date("2024.03.05") == date(2024, 3, 5)
    assert parse_date("2024-02-30") is None
    assert parse_date("05/03/2024") is None  # day/month order is never guessed
    assert parse_date(45356) == date(2024, 3, 5)  # Excel serial number


# --------------------------------------------------------------------------- matching

OPEN = [
    ("SO-20240301-0001", "上海华东贸易有限公司", "C0012", D("12800.00")),
    ("SO-20240305-0002", "上海华东贸易有限公司", "C0012", D("3000.00")),
    ("SO-20240306-0003", "北京中关村电子有限公司", "C0020", D("5000.00")),
    ("SO-20240307-0004", "北京中关村电子有限公司", "C0020", D("5000.00")),
    ("SO-20240308-0005", "广州（南沙）进出口有限公司", "C0031", D("760.00")),
]


def line(amount: str, memo: str = "", payer: str = "", row: int = 2) -> BankLine:
    return BankLine(row=row, txn_date=date(2024, 3, 10), amount=D(amount), payer=payer, memo=memo)


def test_match_by_order_number_in_memo_full_and_partial() -> None:
    result = match_payments([
        line("12800.00", "货款 SO-20240301-0001", "某个代付公司"),
        line("1000.00", "so20240305-0002 部分回款"),
    ], OPEN)
    assert not result.unmatched
    full, part = result.matched
    assert (full.order_number, full.amount, full.partial, full.method) == (
        "SO-20240301-0001", D("12800.00"), False, MatchMethod.ORDER_NUMBER)
    assert (part.order_number, part.amount, part.partial, part.open_before) == (
        "SO-20240305-0002", D("1000.00"), True, D("3000.00"))


def test_overpayment_is_a_problem_not_a_match() -> None:
    result = match_payments([line("13000.00", "SO-20240301-0001")], OPEN)
    assert not result.matched
    (problem,) = result.problems
    assert problem.reason is UnmatchedReason.OVERPAYMENT
    assert problem.candidates == ("SO-20240301-0001",)
    assert "¥13,000.00" in problem.detail and "¥12,800.00" in problem.detail


def test_open_amount_goes_down_across_lines() -> None:
    result = match_payments([
        line("2000.00", "SO-20240305-0002", row=2),
        line("1000.00", "SO-20240305-0002", row=3),
        line("0.01", "SO-20240305-0002", row=4),
    ], OPEN)
    assert [(m.line.row, m.partial) for m in result.matched] == [(2, True), (3, False)]
    assert [(u.line.row, u.reason) for u in result.unmatched] == [(4, UnmatchedReason.OVERPAYMENT)]


def test_exact_amount_match_by_customer_name_or_code() -> None:
    result = match_payments([
        line("3000.00", "网银转账", "上海华东贸易有限公司"),
        line("760.00", "货款", "广州(南沙)进出口有限公司"),  # half-width brackets still match
        line("12800.00", "客户编码 c0012 付款"),
    ], OPEN)
    assert not result.unmatched
    assert [(m.order_number, m.method) for m in result.matched] == [
        ("SO-20240305-0002", MatchMethod.CUSTOMER_AMOUNT),
        ("SO-20240308-0005", MatchMethod.CUSTOMER_AMOUNT),
        ("SO-20240301-0001", MatchMethod.CUSTOMER_AMOUNT),
    ]


def test_ambiguous_when_several_items_have_the_amount() -> None:
    result = match_payments([line("5000.00", "货款", "北京中关村电子有限公司")], OPEN)
    assert not result.matched
    (u,) = result.unmatched
    assert u.reason is UnmatchedReason.AMBIGUOUS
    assert set(u.candidates) == {"SO-20240306-0003", "SO-20240307-0004"}


def test_unmatched_lines_say_why() -> None:
    result = match_payments([
        line("4000.00", "转账", "上海华东贸易有限公司"),  # known customer, no item of that amount
        line("100.00", "转账", "陌生人"),  # nobody
        line("3000.00", "SO-20230101-0009", "上海华东贸易有限公司"),  # names an order that is not open
        line("1.00", "C00121 is not a code match", ""),
    ], OPEN)
    assert not result.matched
    reasons = [(u.reason, u.detail) for u in result.unmatched]
    assert all(r is UnmatchedReason.NO_MATCH for r, _ in reasons)
    assert "none of its 2 open orders" in reasons[0][1]
    assert "no known customer" in reasons[1][1]
    assert "SO-20230101-0009" in reasons[2][1] and "not an open order" in reasons[2][1]
    assert "no known customer" in reasons[3][1]
    assert result.problems == ()


def test_memo_naming_several_orders() -> None:
    exact = match_payments([line("15800.00", "SO-20240301-0001/SO-20240305-0002")], OPEN)
    assert [(m.order_number, m.amount, m.partial) for m in exact.matched] == [
        ("SO-20240301-0001", D("12800.00"), False), ("SO-20240305-0002", D("3000.00"), False)]
    other = match_payments([line("15000.00", "SO-20240301-0001 SO-20240305-0002")], OPEN)
    assert not other.matched and other.unmatched[0].reason is UnmatchedReason.AMBIGUOUS


def test_order_number_is_not_matched_inside_a_longer_number() -> None:
    result = match_payments([line("100.00", "SO-20240301-00011")], OPEN)
    assert not result.matched


def test_open_items_as_models_and_parsed_lines_end_to_end() -> None:
    items = [OpenItem(*row) for row in OPEN]
    lines = parse_bank_statement(ICBC_LIKE.encode("gbk"), "icbc.csv")
    result = match_payments(lines, items)
    assert [(m.line.row, m.order_number) for m in result.matched] == [(6, "SO-20240301-0001")]
    assert [(u.line.row, u.reason) for u in result.unmatched] == [(9, UnmatchedReason.NO_MATCH)]
