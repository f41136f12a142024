"""Printable documents (发货单 delivery note, 对账单 statement of account), bank-statement import, and moving in
from spreadsheets (``bot.documents.imports``: templates, checked all-or-nothing imports, exports; the sheet reader
in ``bot.documents.sheets``).

The renderers are pure functions over the typed input in ``bot.documents.model``; the importer calls the domain's
bulk commands.
"""

from bot.documents.bank_statement import match_payments, parse_bank_statement
from bot.documents.delivery_note import render_delivery_note_pdf
from bot.documents.fonts import CjkFontNotFoundError, find_cjk_font
from bot.documents.statement import ageing, render_statement_pdf, render_statement_xlsx

__all__ = [
    "CjkFontNotFoundError",
    "ageing",
    "find_cjk_font",
    "match_payments",
    "parse_bank_statement",
    "render_delivery_note_pdf",
    "render_statement_pdf",
    "render_statement_xlsx",
]
