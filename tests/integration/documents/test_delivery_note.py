from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from bot.documents import fonts
from bot.documents.delivery_note import quantity_totals, render_delivery_note_pdf
from bot.documents.fonts import CjkFontNotFoundError, FontSpec, find_cjk_font
from bot.documents.model import DeliveryLine, DeliveryNote

from .conftest import pdf_text, squash


def test_zh_delivery_note_has_chinese_text_numbers_and_no_prices(delivery_note: DeliveryNote) -> None:
    data = render_delivery_note_pdf(delivery_note, "zh-CN")
    assert data.startswith(b"%PDF-")
    text = squash(pdf_text(data))
    for expected in (
        "发货单",
        "杭州小溪商贸有限公司",
        "上海华东贸易有限公司",
        "C0012",
        "王经理",
        "138-0013-8000",
        "杭州一号仓",
        "顺丰",
        "SF1234567890123",
        "DN-20240315-0007",
        "SO-20240312-0042",
        "2024-03-15",
        "不锈钢保温杯",
        "竹纤维毛巾",
        "70×140cm灰色",
        "易碎品，轻拿轻放。",
        "发货人签字",
        "收货人签字",
        "物流单号",
        "共3项",
        "122.5个",
        "36条",
    ):
        assert expected in text, expected
    # a delivery note travels with the goods: no prices, no money at all
    for forbidden in ("¥", "单价", "金额", "小计", "price", "Price"):
        assert forbidden not in text, forbidden


def test_en_delivery_note_labels(delivery_note: DeliveryNote) -> None:
    text = squash(pdf_text(render_delivery_note_pdf(delivery_note, "en")))
    for expected in ("Deliverynote", "Trackingno.", "Receivedby", "Shippedby", "上海华东贸易有限公司",
                     "SF1234567890123", "SO-20240312-0042", "3item(s)"):
        assert expected in text, expected
    assert "发货单" not in text


def test_cjk_font_is_embedded_not_a_core_font(delivery_note: DeliveryNote) -> None:
    data = render_delivery_note_pdf(delivery_note, "zh-CN")
    assert b"/FontFile2" in data  # an embedded TrueType font
    assert b"/ToUnicode" in data
    assert b"/Helvetica" not in data


def test_many_lines_break_pages_and_number_them(delivery_note: DeliveryNote) -> None:
    lines = tuple(DeliveryLine(f"SKU-{i:04d}", f"商品{i}", "规格", "件", D(i)) for i in range(1, 81))
    data = render_delivery_note_pdf(replace(delivery_note, lines=lines), "zh-CN")
    text = squash(pdf_text(data))
    assert "第1/" in text and "SKU-0080" in text and "共80项" in text
    assert "3,240件" in text and "第3/3页" in text  # 1 + 2 + … + 80 = 3,240


def test_quantity_totals_per_unit(delivery_note: DeliveryNote) -> None:
    assert quantity_totals(delivery_note) == [("个", D("122.5")), ("条", D("36"))]


def test_locale_validation(delivery_note: DeliveryNote) -> None:
    assert render_delivery_note_pdf(delivery_note, "zh_CN").startswith(b"%PDF")
    with pytest.raises(ValueError, match="unsupported locale"):
        render_delivery_note_pdf(delivery_note, "fr")


def test_model_refuses_float_and_empty_notes(delivery_note: DeliveryNote) -> None:
    with pytest.raises(TypeError):
        DeliveryLine("X", "x", "", "个", 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        replace(delivery_note, lines=())
    assert DeliveryLine("X", "x", "", "个", 3).quantity == D(3)  # type: ignore[arg-type]


def test_missing_font_raises_naming_the_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                delivery_note: DeliveryNote) -> None:
    monkeypatch.delenv(fonts.ENV_VAR, raising=False)
    monkeypatch.setattr(fonts, "KNOWN_FONTS", (FontSpec(tmp_path / "nope.ttc", 0, "fonts-wqy-microhei"),))
    with pytest.raises(CjkFontNotFoundError, match="fonts-wqy-microhei"):
        render_delivery_note_pdf(delivery_note, "zh-CN")


def test_env_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = find_cjk_font()
    monkeypatch.setenv(fonts.ENV_VAR, f"{real.path}#{real.collection_index}")
    assert find_cjk_font(()).path == real.path
    monkeypatch.setenv(fonts.ENV_VAR, str(tmp_path / "missing.ttf"))
    with pytest.raises(CjkFontNotFoundError, match="no such font file"):
        find_cjk_font()
    latin_only = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if latin_only.exists():
        monkeypatch.setenv(fonts.ENV_VAR, str(latin_only))
        with pytest.raises(CjkFontNotFoundError, match="no Chinese glyphs"):
            find_cjk_font()


def test_ship_date_format(delivery_note: DeliveryNote) -> None:
    note = replace(delivery_note, ship_date=date(2024, 1, 5))
    assert "2024-01-05" in squash(pdf_text(render_delivery_note_pdf(note, "en")))


def test_the_font_is_parsed_once_and_each_document_embeds_only_its_own_glyphs(delivery_note: DeliveryNote) -> None:
    """The shared font must not leak one document's glyphs into the next, nor be spoilt by the in-place subset."""
    import io

    from pypdf import PdfReader

    def embedded_glyphs(data: bytes) -> int:  # the embedded font program's size grows with its glyphs
        reader = PdfReader(io.BytesIO(data))
        font = next(iter(reader.pages[0]["/Resources"]["/Font"].values())).get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        return len(descriptor["/FontFile2"].get_object().get_data())

    fonts._parsed.cache_clear()
    big = render_delivery_note_pdf(delivery_note, "zh-CN")
    small = render_delivery_note_pdf(replace(delivery_note, lines=delivery_note.lines[:1], remarks=""), "zh-CN")
    again = render_delivery_note_pdf(delivery_note, "zh-CN")
    assert fonts._parsed.cache_info().misses == 1 and fonts._parsed.cache_info().hits == 2
    assert embedded_glyphs(small) < embedded_glyphs(big) == embedded_glyphs(again)
    assert "竹纤维毛巾" not in squash(pdf_text(small)) and "竹纤维毛巾" in squash(pdf_text(again))
    assert len(big) == len(again)


def test_a_character_outside_the_base_subset_is_still_embedded(delivery_note: DeliveryNote, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """喆 and 堃 (names) are not in GB2312, the base the font is subset to once; such a document uses the full font."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # and the base is built and cached there
    fonts._base_font.cache_clear()
    rare = replace(delivery_note, customer=replace(delivery_note.customer, contact="王喆堃"))
    assert ord("喆") not in fonts._repertoire()
    assert "王喆堃" in squash(pdf_text(render_delivery_note_pdf(rare, "zh-CN")))
    assert not list(tmp_path.glob("ordertalk/*"))  # the full font was used; no base needed yet
    assert "王经理" in squash(pdf_text(render_delivery_note_pdf(delivery_note, "zh-CN")))
    assert len(list(tmp_path.glob("ordertalk/*-base.ttf"))) == 1


def test_the_server_start_warms_the_font_for_the_first_document(ot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fonts._parsed.cache_clear()
    fonts._base_font.cache_clear()
    ot.start_background()  # as `ordertalk serve` and the WSGI entry do
    for warmer in [t for t in threading.enumerate() if t.name == "ordertalk-fonts"]:
        warmer.join(timeout=120)
    assert fonts._parsed.cache_info().currsize == 1 and fonts._base_font.cache_info().currsize == 1
    assert len(list(tmp_path.glob("ordertalk/*-base.ttf"))) == 1
    ot.stop_background()
