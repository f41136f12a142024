"""对账单 / Statement of account for one customer and period: PDF and XLSX, plus 账龄 ageing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from io import BytesIO

from fpdf.enums import Align, WrapMode
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from bot.documents.fmt import format_amount, format_date, format_money, labels, money, normalize_locale
from bot.documents.model import OpenReceivable, Statement, StatementEntry
from bot.documents.pdf import FONT, GREY, HEADINGS, DocumentPDF
from domain.reports.receivables import (  # one definition of the buckets: the report's
    AGEING_BUCKETS,
    ageing_bucket,
)

MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
STATEMENT_SHEET = "对账单 Statement"
AGEING_SHEET = "账龄 Ageing"
# Excel keeps 15 significant digits; a statement amount beyond this is a data error, not money.
_MAX_XLSX_AMOUNT = Decimal("1e13")


# --------------------------------------------------------------------------- pure computations


def days_overdue(due_date: date, as_of: date) -> int:
    """as_of - due_date in days; negative while not yet due."""
    return (as_of - due_date).days


def ageing(receivables: Iterable[OpenReceivable], as_of: date) -> dict[str, Decimal]:
    """Sum the open receivables into the 账龄 buckets by days overdue at `as_of`.

    Returns all four buckets in order ("0-30", "31-60", "61-90", "90+"), empty ones as 0.00.
    Items not yet due count in 0-30."""
    buckets = {name: Decimal("0.00") for name in AGEING_BUCKETS}
    for item in receivables:
        buckets[ageing_bucket(days_overdue(item.due_date, as_of))] += item.amount
    return {name: money(value) for name, value in buckets.items()}


@dataclass(frozen=True, slots=True)
class StatementRow:
    entry: StatementEntry
    balance: Decimal  # running balance after this entry


@dataclass(frozen=True, slots=True)
class StatementTotals:
    opening_balance: Decimal
    total_debit: Decimal
    total_credit: Decimal
    closing_balance: Decimal
    ageing: dict[str, Decimal]
    ageing_total: Decimal


def statement_rows(stmt: Statement) -> list[StatementRow]:
    """Entries sorted by date (stable for same-day entries) with the running balance."""
    balance = stmt.opening_balance
    rows = []
    for entry in sorted(stmt.entries, key=lambda e: e.entry_date):
        balance = balance + entry.debit - entry.credit
        rows.append(StatementRow(entry, money(balance)))
    return rows


def statement_totals(stmt: Statement) -> StatementTotals:
    debit = sum((e.debit for e in stmt.entries), Decimal(0))
    credit = sum((e.credit for e in stmt.entries), Decimal(0))
    buckets = ageing(stmt.open_items, stmt.period_end)
    return StatementTotals(
        opening_balance=money(stmt.opening_balance),
        total_debit=money(debit),
        total_credit=money(credit),
        closing_balance=money(stmt.opening_balance + debit - credit),
        ageing=buckets,
        ageing_total=money(sum(buckets.values(), Decimal(0))),
    )


def _period(stmt: Statement) -> str:
    return f"{format_date(stmt.period_start)} ~ {format_date(stmt.period_end)}"


# --------------------------------------------------------------------------- PDF


def render_statement_pdf(stmt: Statement, locale: str) -> bytes:
    """Render the statement as PDF bytes, labels in `locale` ("zh-CN" or "en")."""
    loc = normalize_locale(locale)
    t = labels(loc)
    totals = statement_totals(stmt)
    sym = stmt.currency_symbol
    c = stmt.customer

    pdf = DocumentPDF(title=f"{t['statement']} {c.name} {_period(stmt)}", footer_template=t["page"])
    pdf.running_header = f"{stmt.company_name}  {t['statement']}  {c.name}  {_period(stmt)}"
    pdf.add_page()
    pdf.set_font(FONT, size=15)
    with pdf.bold():
        pdf.multi_cell(0, 8, stmt.company_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=18)
    with pdf.bold(0.25):
        pdf.cell(0, 10, t["statement"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    pdf.set_font(FONT, size=9)
    facts = (
        (("customer", c.name), ("customer_code", c.code)),
        (("contact", c.contact), ("phone", c.phone)),
        (("period", _period(stmt)), ("as_of", format_date(stmt.period_end))),
    )
    with pdf.table(
        col_widths=(14, 40, 14, 26),
        first_row_as_headings=False,
        line_height=6,
        padding=(0.8, 1.5),
        text_align=Align.L,
    ) as table:
        for pairs in facts:
            row = table.row()
            for key, value in pairs:
                row.cell(t[key], style=HEADINGS)
                row.cell(value)
        if c.address:
            row = table.row()
            row.cell(t["address"], style=HEADINGS)
            row.cell(c.address, colspan=3)
    pdf.ln(4)

    summary = HEADINGS.replace(fill_color=GREY)
    with pdf.table(
        col_widths=(17, 13, 30, 19, 19, 21),
        headings_style=HEADINGS,
        line_height=6,
        padding=(0.8, 1.5),
        text_align=(Align.L, Align.L, Align.L, Align.R, Align.R, Align.R),
        wrapmode=WrapMode.WORD,
        repeat_headings=1,
    ) as table:
        head = table.row()
        for key in ("date", "type", "reference", "debit", "credit", "balance"):
            head.cell(t[key])
        row = table.row()
        row.cell(format_date(stmt.period_start))
        row.cell(t["opening_balance"], colspan=4)
        row.cell(format_amount(totals.opening_balance))
        for r in statement_rows(stmt):
            e = r.entry
            row = table.row()
            row.cell(format_date(e.entry_date))
            row.cell(t[f"type.{e.type.value}"])
            row.cell(e.reference + (f"\n{e.memo}" if e.memo else ""))
            row.cell(format_amount(e.debit) if e.debit else "")
            row.cell(format_amount(e.credit) if e.credit else "")
            row.cell(format_amount(r.balance))
        row = table.row()
        row.cell(t["period_total"], colspan=3, style=summary)
        row.cell(format_amount(totals.total_debit), style=summary)
        row.cell(format_amount(totals.total_credit), style=summary)
        row.cell("", style=summary)
        row = table.row()
        row.cell(format_date(stmt.period_end), style=summary)
        row.cell(t["closing_balance"], colspan=4, style=summary)
        row.cell(format_money(totals.closing_balance, sym), style=summary)
    pdf.ln(5)

    # --- ageing
    pdf.ensure_space(30)
    pdf.heading(t["ageing_heading"].format(date=format_date(stmt.period_end)))
    pdf.set_font(FONT, size=9)
    with pdf.table(
        headings_style=HEADINGS,
        line_height=6,
        padding=(0.8, 1.5),
        text_align=Align.R,
    ) as table:
        head = table.row()
        for name in AGEING_BUCKETS:
            head.cell(t[f"bucket.{name}"])
        head.cell(t["total"])
        row = table.row()
        for name in AGEING_BUCKETS:
            row.cell(format_money(totals.ageing[name], sym))
        row.cell(format_money(totals.ageing_total, sym))
    pdf.ln(4)

    if stmt.open_items:
        pdf.ensure_space(20)
        pdf.heading(t["open_items"], size=10)
        pdf.set_font(FONT, size=9)
        with pdf.table(
            col_widths=(30, 20, 16, 18, 22),
            headings_style=HEADINGS,
            line_height=6,
            padding=(0.8, 1.5),
            text_align=(Align.L, Align.L, Align.R, Align.C, Align.R),
            repeat_headings=1,
        ) as table:
            head = table.row()
            for key in ("reference", "due_date", "days_overdue", "ageing_bucket", "amount"):
                head.cell(t[key])
            for item in sorted(stmt.open_items, key=lambda i: (i.due_date, i.reference)):
                days = days_overdue(item.due_date, stmt.period_end)
                row = table.row()
                row.cell(item.reference)
                row.cell(format_date(item.due_date))
                row.cell(str(max(days, 0)))
                row.cell(t[f"bucket.{ageing_bucket(days)}"])
                row.cell(format_amount(item.amount))
    pdf.ln(4)

    pdf.set_font(FONT, size=8)
    pdf.set_text_color(90)
    pdf.multi_cell(0, 5, t["confirm_note"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.ln(2)
    pdf.ensure_space(26)
    pdf.set_font(FONT, size=9)
    y = pdf.get_y()
    w = pdf.content_width / 2 - 4
    x = pdf.l_margin + pdf.content_width - w
    pdf.rect(x, y, w, 24)
    pdf.set_xy(x + 2, y + 2)
    pdf.cell(w - 4, 5, t["customer_confirm"] + ":")
    pdf.set_xy(x + 2, y + 17)
    pdf.cell(w - 4, 5, t["sign_date"] + ":")
    return bytes(pdf.output())


# --------------------------------------------------------------------------- XLSX

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_FILL = PatternFill("solid", fgColor="EBEBEB")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def _xlsx_money(value: Decimal) -> Decimal:
    """Cents as a Decimal: openpyxl writes it as a plain number ("12800.1"), no binary noise."""
    v = money(value)
    if abs(v) >= _MAX_XLSX_AMOUNT:
        raise ValueError(f"amount {v} is too large for a spreadsheet cell")
    return v


def _put(ws, row: int, col: int, value, *, fmt: str | None = None, bold: bool = False, fill: bool = False,
         box: bool = True, align: str | None = None):
    cell = ws.cell(row=row, column=col, value=value)
    if fmt:
        cell.number_format = fmt
    if bold:
        cell.font = _BOLD
    if fill:
        cell.fill = _FILL
    if box:
        cell.border = _BOX
    if align:
        cell.alignment = Alignment(horizontal=align, vertical="center", wrap_text=True)
    return cell


def render_statement_xlsx(stmt: Statement, locale: str) -> bytes:
    """Render the statement as an .xlsx workbook: sheet "对账单 Statement" (header block, entries with
    running balance, totals; header row frozen) and sheet "账龄 Ageing" (buckets and open items)."""
    t = labels(locale)
    totals = statement_totals(stmt)
    c = stmt.customer
    wb = Workbook()
    ws = wb.active
    ws.title = STATEMENT_SHEET

    # --- header block (rows 1-7)
    ws.cell(row=1, column=1, value=stmt.company_name).font = _TITLE
    ws.cell(row=2, column=1, value=t["statement"]).font = _TITLE
    header = (
        (t["customer"], c.name, t["customer_code"], c.code),
        (t["contact"], c.contact, t["phone"], c.phone),
        (t["address"], c.address, t["currency"], stmt.currency_symbol),
        (t["period"], _period(stmt), t["as_of"], stmt.period_end),
    )
    for i, (l1, v1, l2, v2) in enumerate(header, start=3):
        _put(ws, i, 1, l1, bold=True, box=False)
        _put(ws, i, 2, v1, box=False)
        _put(ws, i, 4, l2, bold=True, box=False)
        _put(ws, i, 5, v2, box=False, fmt=DATE_FORMAT if isinstance(v2, date) else None, align="left")

    # --- entries table
    head_row = 8
    columns = ("date", "type", "reference", "memo", "debit", "credit", "balance")
    for col, key in enumerate(columns, start=1):
        _put(ws, head_row, col, t[key], bold=True, fill=True, align="center")
    r = head_row + 1
    _put(ws, r, 1, stmt.period_start, fmt=DATE_FORMAT)
    _put(ws, r, 2, t["opening_balance"])
    for col in (3, 4, 5, 6):
        _put(ws, r, col, None)
    _put(ws, r, 7, _xlsx_money(totals.opening_balance), fmt=MONEY_FORMAT)
    for row in statement_rows(stmt):
        r += 1
        e = row.entry
        _put(ws, r, 1, e.entry_date, fmt=DATE_FORMAT)
        _put(ws, r, 2, t[f"type.{e.type.value}"])
        _put(ws, r, 3, e.reference)
        _put(ws, r, 4, e.memo or None)
        _put(ws, r, 5, _xlsx_money(e.debit) if e.debit else None, fmt=MONEY_FORMAT)
        _put(ws, r, 6, _xlsx_money(e.credit) if e.credit else None, fmt=MONEY_FORMAT)
        _put(ws, r, 7, _xlsx_money(row.balance), fmt=MONEY_FORMAT)
    r += 1
    _put(ws, r, 1, None, fill=True)
    _put(ws, r, 2, t["period_total"], bold=True, fill=True)
    _put(ws, r, 3, None, fill=True)
    _put(ws, r, 4, None, fill=True)
    _put(ws, r, 5, _xlsx_money(totals.total_debit), fmt=MONEY_FORMAT, bold=True, fill=True)
    _put(ws, r, 6, _xlsx_money(totals.total_credit), fmt=MONEY_FORMAT, bold=True, fill=True)
    _put(ws, r, 7, None, fill=True)
    r += 1
    _put(ws, r, 1, stmt.period_end, fmt=DATE_FORMAT, fill=True)
    _put(ws, r, 2, t["closing_balance"], bold=True, fill=True)
    for col in (3, 4, 5, 6):
        _put(ws, r, col, None, fill=True)
    _put(ws, r, 7, _xlsx_money(totals.closing_balance), fmt=MONEY_FORMAT, bold=True, fill=True)

    ws.freeze_panes = ws.cell(row=head_row + 1, column=1)  # header block + table header stay visible
    ws.auto_filter.ref = f"A{head_row}:G{r - 2}"
    for col, width in enumerate((12, 12, 22, 30, 15, 15, 16), start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.print_title_rows = f"{head_row}:{head_row}"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1

    # --- 账龄 Ageing sheet
    wa = wb.create_sheet(AGEING_SHEET)
    wa.cell(row=1, column=1, value=f"{t['ageing']} — {c.name}").font = _TITLE
    _put(wa, 2, 1, t["as_of"], bold=True, box=False)
    _put(wa, 2, 2, stmt.period_end, fmt=DATE_FORMAT, box=False, align="left")
    _put(wa, 4, 1, t["ageing_bucket"], bold=True, fill=True, align="center")
    _put(wa, 4, 2, t["amount"], bold=True, fill=True, align="center")
    r = 4
    for name in AGEING_BUCKETS:
        r += 1
        _put(wa, r, 1, t[f"bucket.{name}"])
        _put(wa, r, 2, _xlsx_money(totals.ageing[name]), fmt=MONEY_FORMAT)
    r += 1
    _put(wa, r, 1, t["total"], bold=True, fill=True)
    _put(wa, r, 2, _xlsx_money(totals.ageing_total), fmt=MONEY_FORMAT, bold=True, fill=True)

    r += 2
    items_head = r
    for col, key in enumerate(("reference", "due_date", "days_overdue", "ageing_bucket", "amount"), start=1):
        _put(wa, r, col, t[key], bold=True, fill=True, align="center")
    for item in sorted(stmt.open_items, key=lambda i: (i.due_date, i.reference)):
        r += 1
        days = days_overdue(item.due_date, stmt.period_end)
        _put(wa, r, 1, item.reference)
        _put(wa, r, 2, item.due_date, fmt=DATE_FORMAT)
        _put(wa, r, 3, max(days, 0), fmt="0")
        _put(wa, r, 4, t[f"bucket.{ageing_bucket(days)}"])
        _put(wa, r, 5, _xlsx_money(item.amount), fmt=MONEY_FORMAT)
    if r == items_head:
        _put(wa, r + 1, 1, t["no_open_items"], box=False)
    for col, width in enumerate((22, 16, 12, 14, 16), start=1):
        wa.column_dimensions[get_column_letter(col)].width = width

    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()
