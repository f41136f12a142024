"""Import a bank statement (CSV or XLSX) and match incoming payments to open orders.

Chinese bank exports (工行, 建行, 招行 …) are usually GBK, start with a few lines of account details
before the header row, may split amounts into 借方/贷方 (or 支出/收入) columns, and end with a 合计
row. We find the header row by its column names (Chinese or English), keep only incoming money
(贷方 / 收入 / credit, or a positive signed amount) and skip everything else.

Matching never guesses: a payment is matched only when the memo names an open order, or when the
payer is a known customer with exactly one open item of exactly that amount.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import PurePath

from bot.documents.fmt import format_money, money
from bot.documents.model import (
    BankLine,
    Match,
    MatchMethod,
    MatchResult,
    OpenItem,
    Unmatched,
    UnmatchedReason,
)
from domain import parsing
from domain.messages import N_, Message


class StatementError(ValueError):
    """A bank statement (or one of its cells) that cannot be read: the reason as a catalogue message, so the reader
    gets it in their language; str() is the English text for logs."""

    def __init__(self, message: Message | str, **params: object) -> None:
        self.message = message if isinstance(message, Message) else Message(message, params)
        super().__init__(str(self.message))

# Header names, compared after normalisation (NFKC, lower case, no spaces, no "(元)" style suffix).
DATE_HEADERS = ("交易日期", "日期", "记账日期", "入账日期", "交易时间", "date", "transactiondate",
                "valuedate", "postingdate", "bookingdate")
CREDIT_HEADERS = ("贷方金额", "贷方发生额", "收入", "收入金额", "存入金额", "credit", "creditamount",
                  "deposit", "deposits", "moneyin", "paidin")
DEBIT_HEADERS = ("借方金额", "借方发生额", "支出", "支出金额", "取出金额", "debit", "debitamount",
                 "withdrawal", "withdrawals", "moneyout", "paidout")
AMOUNT_HEADERS = ("金额", "交易金额", "发生额", "amount", "transactionamount")
DIRECTION_HEADERS = ("借贷标志", "借贷", "收支", "收支标志", "借贷方向", "交易方向", "direction", "dr/cr",
                     "drcr", "creditdebit", "debitcredit", "type")
MEMO_HEADERS = ("摘要", "备注", "用途", "附言", "交易附言", "交易摘要", "memo", "description", "reference",
                "remark", "remarks", "narrative", "details", "purpose")
PAYER_HEADERS = ("对方户名", "付款人", "付款人名称", "付款方", "对方账户名称", "对方名称", "对方单位",
                 "对方账户名", "payer", "payername", "counterparty", "counterpartyname", "from")

_CREDIT_WORDS = {"贷", "收", "收入", "贷方", "入", "c", "cr", "credit", "in"}
_DEBIT_WORDS = {"借", "支", "支出", "借方", "出", "d", "dr", "debit", "out"}
_SUMMARY_WORDS = ("合计", "总计", "小计", "本页", "累计", "total", "subtotal")
_HEADER_SCAN_ROWS = 30


@dataclass(frozen=True, slots=True)
class _Columns:
    date: int
    credit: int | None
    debit: int | None
    amount: int | None
    direction: int | None
    memo: tuple[int, ...]
    payer: int | None


def _norm_header(value: object) -> str:
    text = unicodedata.normalize("NFKC", str(value or "")).strip().lower()
    text = re.sub(r"\((元|rmb|cny|人民币)\)$", "", text)
    return re.sub(r"[\s_\-:：.]+", "", text)


def _find(headers: Sequence[str], names: Iterable[str]) -> list[int]:
    wanted = set(names)
    return [i for i, h in enumerate(headers) if h in wanted]


def _columns(row: Sequence[object]) -> tuple[_Columns | None, list[Message]]:
    """Columns of a candidate header row, or None and the list of what is missing."""
    headers = [_norm_header(v) for v in row]
    dates = _find(headers, DATE_HEADERS)
    credit = _find(headers, CREDIT_HEADERS)
    debit = _find(headers, DEBIT_HEADERS)
    amount = _find(headers, AMOUNT_HEADERS)
    direction = _find(headers, DIRECTION_HEADERS)
    memo = _find(headers, MEMO_HEADERS)
    payer = _find(headers, PAYER_HEADERS)
    missing: list[Message] = []
    if not dates:
        missing.append(Message("date ({names})", {"names": "交易日期/日期/date"}))
    if not credit and not amount:
        missing.append(Message("amount ({names})", {"names": "金额/贷方金额/收入/amount/credit"}))
    if not memo and not payer:
        missing.append(Message("memo or payer ({names})", {
            "names": "摘要/备注/用途/附言/memo/description/reference, 对方户名/付款人/payer/counterparty"}))
    if missing:
        return None, missing
    return _Columns(
        date=dates[0],
        credit=credit[0] if credit else None,
        debit=debit[0] if debit else None,
        amount=amount[0] if amount else None,
        direction=direction[0] if direction else None,
        memo=tuple(memo),
        payer=payer[0] if payer else None,
    ), []


# --------------------------------------------------------------------------- cell parsing


def parse_amount(value: object, maximum: Decimal = parsing.AMOUNT_MAX) -> Decimal | None:
    """'¥12,800.00' → Decimal('12800.00'); '(1,000.00)' and '-1,000' → negative; blank → None.

    The magnitude is read by domain.parsing.amount (at most 2 decimals, at most `maximum`, no exponent, NaN or
    Infinity, `12.000,50` refused as ambiguous). Raises StatementError with the reason for text that is not an amount."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise StatementError("not an amount: {value}", value=str(value))
    if isinstance(value, float):  # an XLSX number: repr() is the shortest exact decimal
        if not math.isfinite(value) or abs(value) > maximum:
            raise StatementError("not an amount, or above the limit of {maximum}: {value}", maximum=maximum,
                                 value=repr(value))
        exact = Decimal(repr(value))
        cents = money(exact)
        if abs(exact - cents) > _FLOAT_NOISE:  # 0.1 + 0.2 is 0.30, but 100.129 is three decimals
            raise StatementError("amount {value} has more than 2 decimals", value=repr(value))
        text = str(cents)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text or text in {"-", "--"}:
        return None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    if text.endswith("-"):
        negative, text = True, text[:-1].strip()
    elif text.startswith("-"):
        negative, text = True, text[1:].strip()
    try:
        amount = parsing.amount(text, maximum=maximum, allow_zero=True)
    except parsing.InputRefused as e:
        raise StatementError(e.message) from None
    return -amount if negative else amount


_FLOAT_NOISE = Decimal("0.000001")
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\s*\d{2}:?\d{2}(?::?\d{2})?)?$")


def parse_date(value: object) -> date | None:
    """Year-first dates only (2024-03-05, 2024/3/5, 2024.03.05, 2024年3月5日, 20240305, with an optional
    time); day/month order is never guessed. Returns None when it is not such a date; raises StatementError with
    the reason for a real date outside the years domain.parsing accepts (0001-01-01 is no bank line)."""
    if isinstance(value, datetime):
        return _bounded_date(value.date())
    if isinstance(value, date):
        return _bounded_date(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 20000 < value < 80000:  # an Excel serial date in a cell without date format
            return _bounded_date(date(1899, 12, 30) + timedelta(days=int(value)))
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if len(text) > 40:
        return None
    m = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if not m:
        return None
    try:
        found = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
    return _bounded_date(found)


def _bounded_date(found: date) -> date:
    try:
        return parsing.calendar_date(found.isoformat(), today=found)
    except parsing.InputRefused as e:
        raise StatementError(e.message) from None


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


# --------------------------------------------------------------------------- reading files


def _decode(data: bytes, filename: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030 ⊇ GBK ⊇ GB2312
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise StatementError("bank statement {filename}: cannot decode the file as UTF-8 or GBK text", filename=filename)


def _csv_rows(data: bytes, filename: str) -> list[list[str]]:
    text = _decode(data, filename)
    sample = "\n".join(text.splitlines()[:_HEADER_SCAN_ROWS])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # Some banks pad numbers as ="000123" or wrap everything in tabs.
    return [[cell.strip().removeprefix("=").strip('"').strip() for cell in row] for row in reader]


def _xlsx_rows(data: bytes, filename: str) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise StatementError("bank statement {filename}: not a readable .xlsx file ({error})", filename=filename,
                             error=str(exc)) from None
    try:
        for ws in wb.worksheets:  # the first sheet with a recognisable header wins
            rows = [list(r) for r in ws.iter_rows(values_only=True)]
            if _header_index(rows)[0] is not None:
                return rows
        return [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)] if wb.worksheets else []
    finally:
        wb.close()


def _header_index(rows: Sequence[Sequence[object]]) -> tuple[int | None, _Columns | None, list[Message]]:
    best_missing: list[Message] | None = None
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        if not any(_text(v) for v in row):
            continue
        cols, missing = _columns(row)
        if cols is not None:
            return i, cols, []
        if best_missing is None or len(missing) < len(best_missing):
            best_missing = missing
    return None, None, best_missing or [Message("a header row (the file has no rows)")]


def _cell(row: Sequence[object], index: int | None) -> object:
    if index is None or index >= len(row):
        return None
    return row[index]


def _direction(value: object) -> str | None:
    word = _norm_header(value)
    if word in _CREDIT_WORDS:
        return "credit"
    if word in _DEBIT_WORDS:
        return "debit"
    return None


_AT_ROW = N_("bank statement {filename}, row {row}: {reason}")


def parse_bank_statement(data: bytes, filename: str, max_amount: Decimal = parsing.AMOUNT_MAX) -> list[BankLine]:
    """Read the incoming payments of a bank statement export (.csv/.txt or .xlsx/.xlsm).

    Columns are found by header name (Chinese or English); CSV may be UTF-8 (with or without BOM) or
    GBK. Debit (outgoing) lines, blank rows and 合计/total rows are skipped. Raises StatementError with
    what is missing or wrong (and the row number) for a file that cannot be read."""
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".csv", ".txt", ".tsv"):
        rows: list[list[object]] = [list(r) for r in _csv_rows(data, filename)]
    elif suffix in (".xlsx", ".xlsm"):
        rows = _xlsx_rows(data, filename)
    elif suffix == ".xls":
        raise StatementError("bank statement {filename}: old .xls files are not supported; save it as .xlsx or .csv "
                             "and upload again", filename=filename)
    else:
        raise StatementError("bank statement {filename}: unsupported file type; upload a .csv or .xlsx export",
                             filename=filename)

    head, cols, missing = _header_index(rows)
    if head is None or cols is None:
        raise StatementError("bank statement {filename}: no header row found; missing columns: {missing}",
                             filename=filename, missing=missing)

    lines: list[BankLine] = []
    for offset, row in enumerate(rows[head + 1:], start=head + 2):
        if not any(_text(v) for v in row):
            continue
        raw_date = _cell(row, cols.date)
        try:
            txn_date = parse_date(raw_date)
        except StatementError as exc:
            raise StatementError(_AT_ROW, filename=filename, row=offset, reason=exc.message) from None
        if txn_date is None:
            joined = " ".join(_text(v) for v in row).lower()
            if any(word in joined for word in _SUMMARY_WORDS) or not _text(raw_date):
                continue  # 合计 / total rows, notes under the table
            raise StatementError(_AT_ROW, filename=filename, row=offset, reason=Message(
                "cannot read the date {value} (expected year first, e.g. 2024-03-05)", {"value": repr(raw_date)}))
        try:
            amount = _incoming_amount(row, cols, max_amount)
        except StatementError as exc:
            raise StatementError(_AT_ROW, filename=filename, row=offset, reason=exc.message) from None
        if amount is None or amount <= 0:
            continue  # a debit (outgoing) line, or nothing received
        memo = " ".join(t for t in (_text(_cell(row, i)) for i in cols.memo) if t)
        lines.append(BankLine(row=offset, txn_date=txn_date, amount=money(amount),
                              payer=_text(_cell(row, cols.payer)), memo=memo))
    return lines


def _incoming_amount(row: Sequence[object], cols: _Columns, maximum: Decimal) -> Decimal | None:
    """The amount received on this row; None or ≤ 0 for an outgoing or empty row."""
    if cols.credit is not None:  # separate 贷方/收入 column: only it counts
        return parse_amount(_cell(row, cols.credit), maximum)
    amount = parse_amount(_cell(row, cols.amount), maximum)
    if amount is None:
        return None
    if cols.direction is not None:
        direction = _direction(_cell(row, cols.direction))
        if direction == "debit":
            return None
        if direction == "credit":
            return abs(amount)
    if cols.debit is not None and parse_amount(_cell(row, cols.debit), maximum):
        return None
    return amount  # a signed amount: negative is outgoing


# --------------------------------------------------------------------------- matching


def _norm_text(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).lower()


def _order_pattern(order_number: str) -> re.Pattern[str]:
    """SO-20240301-0001 also found as 'so20240301-0001', 'SO 20240301 0001', 'SO20240301_0001'."""
    chunks = re.findall(r"[A-Za-z0-9]+", order_number)
    body = r"[\s\-_/]*".join(re.escape(c) for c in chunks)
    return re.compile(rf"(?<![A-Za-z0-9]){body}(?![0-9])", re.IGNORECASE)


def _code_pattern(code: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(code)}(?![A-Za-z0-9])", re.IGNORECASE)


def match_payments(lines: Sequence[BankLine], open_items: Sequence[OpenItem | tuple],
                   order_prefix: str = "SO") -> MatchResult:
    """Match incoming bank lines to open orders, in line order, without guessing.

    1. The memo names open order(s): one order → matched, partial if less than its open amount; more
       than open → OVERPAYMENT problem. Several orders named → matched only when the amount equals
       exactly the sum of their open amounts, otherwise AMBIGUOUS.
    2. Otherwise the payer/memo names customers (by name or code): exactly one of their open items
       with exactly the line's amount → matched; several → AMBIGUOUS; none → NO_MATCH.
    Open amounts go down as lines are matched, so two lines cannot both settle the same order.
    `open_items` may be OpenItem or (order_number, customer_name, customer_code, open_amount) tuples."""
    items = [i if isinstance(i, OpenItem) else OpenItem(*i) for i in open_items]
    remaining: dict[str, Decimal] = {}
    by_number: dict[str, OpenItem] = {}
    for item in items:
        remaining[item.order_number] = remaining.get(item.order_number, Decimal(0)) + item.open_amount
        by_number.setdefault(item.order_number, item)
    patterns = {number: _order_pattern(number) for number in by_number}
    name_keys = {number: _norm_text(item.customer_name) for number, item in by_number.items()}
    code_patterns = {number: _code_pattern(item.customer_code) for number, item in by_number.items()
                     if item.customer_code.strip()}
    prefix_re = (
        re.compile(rf"(?<![A-Za-z0-9]){re.escape(order_prefix)}[\s\-_]*\d{{6,}}(?:[\s\-_]*\d+)*", re.IGNORECASE)
        if order_prefix else None
    )

    matched: list[Match] = []
    unmatched: list[Unmatched] = []

    def add_match(line: BankLine, number: str, amount: Decimal, method: MatchMethod) -> None:
        before = remaining[number]
        remaining[number] = before - amount
        matched.append(Match(line=line, order_number=number, amount=amount, method=method,
                             open_before=before, partial=amount < before))

    for line in lines:
        if line.amount <= 0:
            unmatched.append(Unmatched(line, UnmatchedReason.NO_MATCH, "not an incoming amount"))
            continue
        memo = line.memo or ""
        named = [n for n, p in patterns.items() if p.search(memo)]
        if len(named) == 1:
            number = named[0]
            if line.amount > remaining[number]:
                unmatched.append(Unmatched(
                    line, UnmatchedReason.OVERPAYMENT,
                    f"{format_money(line.amount)} is more than the {format_money(max(remaining[number], Decimal(0)))} "
                    f"still open on {number}", (number,)))
            else:
                add_match(line, number, line.amount, MatchMethod.ORDER_NUMBER)
            continue
        if len(named) > 1:
            still_open = [n for n in named if remaining[n] > 0]
            total = sum((remaining[n] for n in still_open), Decimal(0))
            if still_open and line.amount == total:
                for number in still_open:
                    add_match(line, number, remaining[number], MatchMethod.ORDER_NUMBER)
            else:
                unmatched.append(Unmatched(
                    line, UnmatchedReason.AMBIGUOUS,
                    f"the memo names {len(named)} orders whose open total {format_money(total)} "
                    f"differs from {format_money(line.amount)}", tuple(named)))
            continue
        mentioned = sorted({m.group(0) for m in prefix_re.finditer(memo)}) if prefix_re else []
        if mentioned:  # names an order we do not know as open: a person must look, never re-route it
            unmatched.append(Unmatched(
                line, UnmatchedReason.NO_MATCH,
                f"the memo names {', '.join(mentioned)}, which is not an open order"))
            continue

        # No open order named: look for the customer.
        haystack = _norm_text(f"{line.payer} {memo}")
        raw = f"{line.payer} {memo}"
        customer_orders = [
            n for n in by_number
            if remaining[n] > 0 and ((name_keys[n] and name_keys[n] in haystack)
                                     or (n in code_patterns and code_patterns[n].search(raw)))
        ]
        candidates = [n for n in customer_orders if remaining[n] == line.amount]
        if len(candidates) == 1:
            add_match(line, candidates[0], line.amount, MatchMethod.CUSTOMER_AMOUNT)
            continue
        if len(candidates) > 1:
            unmatched.append(Unmatched(
                line, UnmatchedReason.AMBIGUOUS,
                f"{len(candidates)} open orders of this customer are open for exactly "
                f"{format_money(line.amount)}", tuple(candidates)))
            continue
        if customer_orders:
            detail = (f"customer found but none of its {len(customer_orders)} open orders is open for exactly "
                      f"{format_money(line.amount)}")
        else:
            detail = "no open order number in the memo and no known customer in payer/memo"
        unmatched.append(Unmatched(line, UnmatchedReason.NO_MATCH, detail, tuple(customer_orders)))

    return MatchResult(matched=tuple(matched), unmatched=tuple(unmatched))
