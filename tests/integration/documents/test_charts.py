"""Report charts: a PNG at the house size that decodes, drawn in the CJK font (not tofu), for every panel layout."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from PIL import Image

from bot.documents.charts import SIZE, Chart, Panel, Series, render_png, wrap


def _decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def _ink(im: Image.Image, box: tuple[int, int, int, int]) -> int:
    """How many dark pixels a region holds (text drawn there)."""
    return sum(im.convert("L").crop(box).histogram()[:128])


CHINESE = Chart(title="销售额趋势", subtitle="本月（2026年11月1日 – 23日）", panels=(
    Panel(categories=("杭州华兴电子有限公司", "ACME Trading Ltd", "广州粤海五金"), series=(
        Series("金额", (D("3700.00"), D("3400.00"), D("1775.00")), "primary", ("¥3,700.00", "¥3,400.00", "¥1,775.00")),)),))


def test_a_chart_is_a_png_of_the_house_size():
    data, width, height = render_png(CHINESE)
    im = _decode(data)
    assert im.format == "PNG" and im.size == (width, height) == SIZE
    assert _ink(im, (40, 20, 600, 110)) > 500  # the title is drawn


def test_chinese_text_is_drawn_in_the_cjk_font_not_as_missing_glyph_boxes():
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        render_png(CHINESE)
        assert not [w for w in seen if "missing from font" in str(w.message)]
        render_png(Chart(title="\u0378", subtitle="", panels=()))  # an unassigned code point: the check does see it
        assert [w for w in seen if "missing from font" in str(w.message)]


@pytest.mark.parametrize("chart", [
    Chart(title="Trend", subtitle="Nov", legend=True, panels=(Panel(horizontal=False, categories=tuple(f"Nov {i}" for i in range(1, 24)), series=(
        Series("This period", tuple(D(i * 100) for i in range(23)), "primary"),
        Series("Previous period", tuple(D(50) for _ in range(23)), "previous", line=True))),)),
    Chart(title="Ageing", subtitle="", legend=True, panels=(Panel(stacked=True, categories=("A", "B"), series=tuple(
        Series(f"b{i}", (D(100), D(0)), f"age{i}", ("¥400.00", "¥0.00") if i == 3 else ()) for i in range(4))),)),
    Chart(title="By unit", subtitle="", panels=tuple(
        Panel(title=f"Unit: {u}", axis="quantity", categories=("x", "y"), series=(Series("Qty", (5, 3)),)) for u in "ABC")),
    Chart(title="Nothing", subtitle="", panels=(Panel(categories=(), series=()),), empty="Nothing in this period"),
])
def test_every_layout_renders(chart):
    im = _decode(render_png(chart)[0])
    assert im.size == SIZE


def test_long_names_wrap_on_two_lines_and_are_cut_beyond():
    assert wrap("杭州华兴电子有限公司") == "杭州华兴电子有\n限公司"
    assert wrap("ACME Trading Ltd") == "ACME Trading\nLtd"
    assert wrap("上海恒通机械设备制造有限公司华东分公司") == "上海恒通机械设\n备制造有限公…"
    assert wrap("李四") == "李四"
