"""发货单 / Delivery note PDF for one shipment. No prices: the note travels with the goods."""

from __future__ import annotations

from collections import OrderedDict
from decimal import Decimal

from fpdf.enums import Align, TableCellFillMode, WrapMode

from bot.documents.fmt import format_date, format_quantity, labels, normalize_locale
from bot.documents.model import DeliveryNote
from bot.documents.pdf import FONT, GREY, HEADINGS, DocumentPDF


def quantity_totals(note: DeliveryNote) -> list[tuple[str, Decimal]]:
    """Total quantity per unit, in first-seen order: adding 箱 to 件 would mean nothing."""
    totals: OrderedDict[str, Decimal] = OrderedDict()
    for line in note.lines:
        totals[line.unit] = totals.get(line.unit, Decimal(0)) + line.quantity
    return list(totals.items())


def render_delivery_note_pdf(note: DeliveryNote, locale: str) -> bytes:
    """Render the delivery note as PDF bytes, labels in `locale` ("zh-CN" or "en").

    Raises CjkFontNotFoundError when no CJK font is installed (see bot.documents.fonts)."""
    loc = normalize_locale(locale)
    t = labels(loc)
    pdf = DocumentPDF(title=f"{t['delivery_note']} {note.note_number}", footer_template=t["page"])
    pdf.running_header = f"{note.company_name}  {t['delivery_note']} {note.note_number}  {note.order_number}"
    pdf.add_page()
    width = pdf.content_width

    # --- title block
    pdf.set_font(FONT, size=15)
    with pdf.bold():
        pdf.multi_cell(0, 8, note.company_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=18)
    with pdf.bold(0.25):
        pdf.cell(0, 10, t["delivery_note"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(FONT, size=9)

    # --- shipment and customer facts: label/value pairs, three pairs a row
    label_style = HEADINGS
    c = note.customer
    with pdf.table(
        col_widths=(13, 20, 13, 20, 13, 21),
        first_row_as_headings=False,
        line_height=6,
        padding=(0.8, 1.5),
        text_align=Align.L,
        wrapmode=WrapMode.WORD,
    ) as table:
        for pairs in (
            (("note_number", note.note_number), ("order_number", note.order_number),
             ("ship_date", format_date(note.ship_date))),
            (("warehouse", note.warehouse), ("carrier", note.carrier),
             ("tracking_number", note.tracking_number)),
        ):
            row = table.row()
            for key, value in pairs:
                row.cell(t[key], style=label_style)
                row.cell(value)
        row = table.row()
        row.cell(t["customer"], style=label_style)
        row.cell(c.name, colspan=3)
        row.cell(t["customer_code"], style=label_style)
        row.cell(c.code)
        row = table.row()
        row.cell(t["contact"], style=label_style)
        row.cell(c.contact)
        row.cell(t["phone"], style=label_style)
        row.cell(c.phone, colspan=3)
        row = table.row()
        row.cell(t["address"], style=label_style)
        row.cell(c.address, colspan=5)
    pdf.ln(4)

    # --- lines: no prices
    with pdf.table(
        col_widths=(7, 18, 35, 22, 8, 12),
        headings_style=HEADINGS,
        line_height=6,
        padding=(0.8, 1.5),
        text_align=(Align.C, Align.L, Align.L, Align.L, Align.C, Align.R),
        wrapmode=WrapMode.WORD,
        cell_fill_mode=TableCellFillMode.NONE,
        width=width,
    ) as table:
        head = table.row()
        for key in ("no", "sku", "product", "spec", "unit", "quantity"):
            head.cell(t[key])
        for i, line in enumerate(note.lines, start=1):
            row = table.row()
            row.cell(str(i))
            row.cell(line.sku)
            row.cell(line.name)
            row.cell(line.spec)
            row.cell(line.unit)
            row.cell(format_quantity(line.quantity))
        totals = "  ".join(f"{format_quantity(q)} {unit}" for unit, q in quantity_totals(note))
        row = table.row()
        total_style = HEADINGS.replace(fill_color=GREY)
        row.cell(t["total"], style=total_style, colspan=2)
        row.cell(t["items"].format(n=len(note.lines)), style=total_style, colspan=2)
        row.cell(totals, style=total_style, colspan=2, align=Align.R)
    pdf.ln(4)

    # --- remarks
    pdf.set_font(FONT, size=9)
    remarks = note.remarks.strip()
    pdf.ensure_space(18)
    pdf.heading(t["remarks"], size=10)
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5.5, remarks or " ", border=1, new_x="LMARGIN", new_y="NEXT", padding=(1.5, 2))  # type: ignore[arg-type]  # fpdf2 takes mm as floats; its hint says int
    pdf.set_text_color(90)
    pdf.set_font(FONT, size=8)
    pdf.multi_cell(0, 5, t["receiver_note"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.ln(3)

    # --- signature boxes: 发货人签字 / 收货人签字
    box_h, gap = 28.0, 8.0
    box_w = (width - gap) / 2
    pdf.ensure_space(box_h + 2)
    y = pdf.get_y()
    pdf.set_font(FONT, size=9)
    for i, key in enumerate(("shipper_sign", "receiver_sign")):
        x = pdf.l_margin + i * (box_w + gap)
        pdf.rect(x, y, box_w, box_h)
        pdf.set_xy(x + 2, y + 2)
        pdf.cell(box_w - 4, 5, t[key] + ":")
        pdf.set_xy(x + 2, y + box_h - 7)
        pdf.cell(box_w - 4, 5, t["sign_date"] + ":")
    pdf.set_xy(pdf.l_margin, y + box_h + 2)

    return bytes(pdf.output())
