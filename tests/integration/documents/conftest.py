from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal as D

import pytest

from bot.documents.model import (
    Customer,
    DeliveryLine,
    DeliveryNote,
    OpenReceivable,
    Statement,
    StatementEntry,
)


def pdf_text(data: bytes) -> str:
    """Text of a PDF, read back by a parser independent of fpdf2 (pypdf, else poppler's pdftotext)."""
    try:
        from pypdf import PdfReader
    except ImportError:
        PdfReader = None  # noqa: N806
    if PdfReader is not None:
        import io

        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True)
        return out.stdout.decode("utf-8")
    pytest.skip("no PDF text extractor: pip install pypdf (or apt-get install poppler-utils)")


def squash(text: str) -> str:
    """Extractors differ in spacing; compare without whitespace."""
    return "".join(text.split())


@pytest.fixture
def customer() -> Customer:
    return Customer(
        name="上海华东贸易有限公司",
        code="C0012",
        address="上海市浦东新区张江路 88 号 3 栋 1201 室",
        contact="王经理",
        phone="138-0013-8000",
    )


@pytest.fixture
def delivery_note(customer: Customer) -> DeliveryNote:
    return DeliveryNote(
        company_name="杭州小溪商贸有限公司",
        note_number="DN-20240315-0007",
        order_number="SO-20240312-0042",
        customer=customer,
        warehouse="杭州一号仓",
        ship_date=date(2024, 3, 15),
        carrier="顺丰",
        tracking_number="SF1234567890123",
        lines=(
            DeliveryLine("A-1001", "不锈钢保温杯", "500ml 银色", "个", D("120")),
            DeliveryLine("B-2002", "竹纤维毛巾（加厚款）", "70×140cm 灰色", "条", D("36")),
            DeliveryLine("C-3003", "Ceramic mug", "350 ml white", "个", D("2.5")),
        ),
        remarks="易碎品，轻拿轻放。",
    )


@pytest.fixture
def statement(customer: Customer) -> Statement:
    return Statement(
        company_name="杭州小溪商贸有限公司",
        customer=customer,
        period_start=date(2024, 3, 1),
        period_end=date(2024, 3, 31),
        opening_balance=D("2000"),
        entries=(
            # out of date order on purpose: the statement sorts them
            StatementEntry(date(2024, 3, 20), "order", "SO-20240320-0007", debit=D("3456.78")),
            StatementEntry(date(2024, 3, 2), "shipment", "SO-20240301-0001", debit=D("12800")),
            StatementEntry(date(2024, 3, 10), "payment", "BANK-0310", credit=D("5000.50"), memo="部分回款"),
        ),
        open_items=(
            OpenReceivable("SO-20231201-0003", date(2023, 12, 15), D("2000")),
            OpenReceivable("SO-20240301-0001", date(2024, 3, 31), D("7799.50")),
            OpenReceivable("SO-20240320-0007", date(2024, 4, 19), D("3456.78")),
        ),
    )
