"""A small FPDF subclass shared by the PDF documents: CJK font, page footer, fake bold, helpers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fpdf import FPDF
from fpdf.enums import TextMode
from fpdf.fonts import FontFace

from bot.documents.fonts import find_cjk_font, shared_font

FONT = "cjk"
GREY = (235, 235, 235)
HEADINGS = FontFace(family=FONT, emphasis="", fill_color=GREY, size_pt=9)


class DocumentPDF(FPDF):
    """A4 portrait, 12 mm margins, everything set in the CJK font (it covers Latin too)."""

    def __init__(self, *, title: str, footer_template: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        # The .ttc has no bold face; "bold" text is drawn with fill+stroke (see `bold`).
        shared_font(self, FONT, find_cjk_font())
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(auto=True, margin=16)
        self.set_title(title)
        self.set_creator("OrderTalk")
        self.set_font(FONT, size=10)
        self._footer_template = footer_template  # "第 {page}/{pages} 页"
        self.alias_nb_pages()

    running_header = ""  # shown at the top of every page after the first, e.g. "发货单 DN-…"

    def header(self) -> None:
        if self.page_no() > 1 and self.running_header:
            self.set_font(FONT, size=8)
            self.set_text_color(110)
            self.cell(0, 5, self.running_header, align="R", new_x="LMARGIN", new_y="NEXT")
            self.set_text_color(0)
            self.ln(1)
            self.set_font(FONT, size=9)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.set_text_color(110)
        text = self._footer_template.format(page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(0, 5, text, align="C")
        self.set_text_color(0)
        self.set_font(FONT, size=10)

    @contextmanager
    def bold(self, stroke: float = 0.18) -> Iterator[None]:
        """Faux bold: fill and stroke the glyph outlines (the CJK font has no bold face)."""
        with self.local_context(text_mode=TextMode.FILL_STROKE, line_width=stroke):
            yield

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def heading(self, text: str, size: float = 11) -> None:
        self.set_font(FONT, size=size)
        with self.bold(0.12):
            self.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, size=10)

    def ensure_space(self, height: float) -> None:
        """Start a new page unless `height` mm still fit above the bottom margin."""
        if self.will_page_break(height):
            self.add_page()
