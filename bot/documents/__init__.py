"""Printable documents (发货单 delivery note, 对账单 statement of account) and bank-statement import.

Pure functions over the typed input in ``bot.documents.model``; no database access.
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
