"""Report charts as PNG: one house style, sized and lettered to be read on a phone.

A `Chart` is plain data — already translated labels and `Decimal` / int values with the text printed beside each bar
(formatted from the Decimal by the caller, so every number a person reads is exact). Only the bar geometry is a
float, inside the renderer. matplotlib (Agg, no display) with the CJK font the PDFs use (bot.documents.fonts).

House style: 1200 × 900 px (4:3, 6 × 4.5 in at 200 dpi); title, a subtitle line, at most three panels side by side
or stacked; bars in one blue, the previous period in light grey, collections in green, ageing from green to red;
value labels at the bar ends, light grid on the value axis only, no frame.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from bot.documents.fonts import CjkFontNotFoundError, find_cjk_font

STYLE_VERSION = "1"  # part of every chart's cache key: a new style draws every chart anew
WIDTH_IN, HEIGHT_IN, DPI = 6.0, 4.5, 200
SIZE = (int(WIDTH_IN * DPI), int(HEIGHT_IN * DPI))
BLUE, GREY, GREEN, INK, MUTED, GRID = "#2563EB", "#CBD5E1", "#16A34A", "#111827", "#6B7280", "#E5E7EB"
AGEING = ("#22C55E", "#FACC15", "#F97316", "#DC2626")
COLOURS = {"primary": BLUE, "previous": GREY, "collected": GREEN,
           "age0": AGEING[0], "age1": AGEING[1], "age2": AGEING[2], "age3": AGEING[3]}
LABEL_WIDTH = 14  # a category label's line width (a Chinese character counts 2); two lines at most, then "…"

Number = Decimal | int


@dataclass(frozen=True)
class Series:
    name: str  # legend text
    values: tuple[Number, ...]
    colour: str = "primary"  # a COLOURS key
    labels: tuple[str, ...] = ()  # the text at each bar's end (exact, formatted by the caller); none = no labels
    line: bool = False  # drawn as a line with points (the previous period over this period's bars)


@dataclass(frozen=True)
class Panel:
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    title: str = ""
    horizontal: bool = True  # ranked lists: horizontal bars, the first category at the top
    stacked: bool = False
    axis: Literal["money", "count", "quantity", "hours", "days"] = "money"


@dataclass(frozen=True)
class Chart:
    title: str
    subtitle: str
    panels: tuple[Panel, ...]
    locale: str = "zh_CN"  # axis numbers in the reader's format
    currency: str = "CNY"
    empty: str = ""  # shown instead of bars when there is nothing to draw
    footnote: str = ""
    legend: bool = field(default=False)


_lock = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe


@lru_cache(maxsize=1)
def _setup() -> Any:
    """Import matplotlib once (it takes ~1 s) and register the CJK font as its default family."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, rcParams

    spec = find_cjk_font()
    font_manager.fontManager.addfont(str(spec.path))
    name = font_manager.FontProperties(fname=str(spec.path)).get_name()
    rcParams.update({
        "font.family": "sans-serif", "font.sans-serif": [name, "DejaVu Sans"], "font.size": 12,
        "axes.unicode_minus": False, "axes.edgecolor": GRID, "axes.labelcolor": MUTED,
        "xtick.color": MUTED, "ytick.color": INK, "svg.fonttype": "none",
    })
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    return Figure, FigureCanvasAgg, Image


def warm() -> None:
    """Import matplotlib and register the font before the first report is asked for (the server starts this in the
    background, as it warms the PDF font): the first chart then takes as long as the later ones."""
    try:
        with _lock:
            _setup()
    except (CjkFontNotFoundError, OSError):
        pass  # the first chart says what to install


def _width(ch: str) -> int:
    return 2 if ord(ch) > 0x2E7F else 1


def wrap(label: str, width: int = LABEL_WIDTH, lines: int = 2) -> str:
    """A long name on two lines, at a space where there is one, cut with "…" beyond that: '杭州华兴电子\n有限公司'."""
    out: list[str] = []
    rest = label.strip()
    while rest and len(out) < lines:
        used, cut = 0, len(rest)
        for i, ch in enumerate(rest):
            used += _width(ch)
            if used > width:
                cut = i
                break
        if cut < len(rest) and " " in rest[:cut]:
            cut = rest[:cut].rindex(" ") + 1
        out.append(rest[:cut].strip())
        rest = rest[cut:].strip()
    if rest:
        out[-1] = out[-1][:-1] + "…"
    return "\n".join(out)


def _ticks(axis: str, locale: str, currency: str) -> Callable[[float, Any], str]:
    from babel.numbers import format_compact_currency, format_compact_decimal

    def fmt(value: float, _pos: Any) -> str:
        d = Decimal(str(round(value, 6))).normalize()
        if axis == "money":
            return format_compact_currency(d, currency, locale=locale, fraction_digits=1)
        return format_compact_decimal(d, locale=locale, fraction_digits=1)

    return fmt


def _draw_panel(ax: Any, panel: Panel, chart: Chart) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    n = len(panel.categories)
    bars = [s for s in panel.series if not s.line]
    lines = [s for s in panel.series if s.line]
    positions = list(range(n))
    width = 0.75 if (panel.stacked or len(bars) <= 1) else 0.8 / len(bars)
    base = [0.0] * n
    peak = 0.0
    for i, s in enumerate(bars):
        values = [float(v) for v in s.values]
        offset = 0.0 if (panel.stacked or len(bars) == 1) else (i - (len(bars) - 1) / 2) * width
        at = [p + offset for p in positions]
        colour = COLOURS.get(s.colour, s.colour)
        if panel.horizontal:
            drawn = ax.barh(at, values, height=width, left=base if panel.stacked else None, color=colour, label=s.name)
        else:
            drawn = ax.bar(at, values, width=width, bottom=base if panel.stacked else None, color=colour, label=s.name)
        if panel.stacked:
            base = [b + v for b, v in zip(base, values, strict=True)]
            peak = max([peak, *base])
        else:
            peak = max([peak, *values])
        if s.labels and not panel.stacked:  # nothing printed on an empty bar
            texts = [text if v else "" for text, v in zip(s.labels, s.values, strict=True)]
            ax.bar_label(drawn, labels=texts, padding=3, fontsize=9 if n > 12 else 10, color=INK)
    if panel.stacked and bars and bars[-1].labels:  # one total per stacked bar, at its end
        for p, total, text in zip(positions, base, bars[-1].labels, strict=True):
            if panel.horizontal:
                ax.text(total, p, " " + text, va="center", fontsize=10, color=INK)
            else:
                ax.text(p, total, text, ha="center", va="bottom", fontsize=10, color=INK)
    for s in lines:
        values = [float(v) for v in s.values]
        peak = max([peak, *values])
        colour = COLOURS.get(s.colour, s.colour)
        if panel.horizontal:
            ax.plot(values, positions, color=colour, marker="o", linewidth=2, label=s.name)
        else:
            ax.plot(positions, values, color="#94A3B8" if s.colour == "previous" else colour, marker="o", markersize=3,
                    linewidth=2, label=s.name)
    labels = [wrap(c) for c in panel.categories]
    value_axis = ax.xaxis if panel.horizontal else ax.yaxis
    value_axis.set_major_formatter(FuncFormatter(_ticks(panel.axis, chart.locale, chart.currency)))
    value_axis.set_major_locator(MaxNLocator(nbins=4, integer=panel.axis in ("count", "quantity")))
    room = peak * 1.22 if peak > 0 else 1.0  # space for the value labels at the bar ends
    if panel.horizontal:
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()
        ax.set_xlim(0, room)
        ax.grid(axis="x", color=GRID, linewidth=0.8)
        if len(chart.panels) > 1:  # small multiples: the bars carry their figures, the axis would crowd the next panel
            ax.tick_params(axis="x", labelbottom=False)
    else:
        step = max(1, -(-n // 7))  # at most 7 category labels under a vertical chart
        ax.set_xticks(positions[::step], labels[::step])
        ax.set_ylim(0, room)
        ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right", "left" if panel.horizontal else "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(length=0)
    if panel.title:
        ax.set_title(panel.title, loc="left", fontsize=12, color=INK)


def render_png(chart: Chart) -> tuple[bytes, int, int]:
    """The chart as PNG bytes with its pixel size."""
    figure_cls, canvas_cls, image_cls = _setup()
    with _lock:
        fig = figure_cls(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor="white")
        fig.text(0.04, 0.955, chart.title, fontsize=16, color=INK, va="top")
        fig.text(0.04, 0.885, chart.subtitle, fontsize=11, color=MUTED, va="top")
        if chart.footnote:
            fig.text(0.04, 0.02, chart.footnote, fontsize=9, color=MUTED, va="bottom")
        drawable = [p for p in chart.panels if p.categories]
        top, bottom = (0.74 if chart.legend else 0.80), (0.10 if chart.footnote else 0.07)
        if not drawable:
            fig.text(0.5, 0.45, chart.empty, fontsize=14, color=MUTED, ha="center", va="center")
        else:
            axes = _layout(fig, drawable, top, bottom)
            for ax, panel in zip(axes, drawable, strict=True):
                _draw_panel(ax, panel, chart)
            if chart.legend:  # under the subtitle, in the order of the series
                handles, names = axes[0].get_legend_handles_labels()
                order = [s.name for s in drawable[0].series]
                pairs = sorted(zip(handles, names, strict=True), key=lambda hn: order.index(hn[1]))
                fig.legend([h for h, _ in pairs], [n for _, n in pairs], loc="upper left", bbox_to_anchor=(0.03, 0.845),
                           frameon=False, fontsize=10, ncol=min(4, len(pairs)), handlelength=1.2, columnspacing=1.2)
        canvas = canvas_cls(fig)  # drawn once on Agg directly: savefig would switch canvases to get here
        canvas.draw()
        rgba = image_cls.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    # White and opaque: RGB at zlib level 1 encodes in half the time of matplotlib's RGBA at level 6, ~10 % smaller
    buf = io.BytesIO()
    rgba.convert("RGB").save(buf, format="png", compress_level=1)
    return buf.getvalue(), SIZE[0], SIZE[1]


def _layout(fig: Any, panels: Sequence[Panel], top: float, bottom: float) -> list[Any]:
    """One panel fills the figure; two or three share it in rows (ranked lists) or columns (small multiples)."""
    left = 0.27 if panels[0].horizontal else 0.10
    count = len(panels)
    axes = []
    if count == 1:
        axes.append(fig.add_axes((left, bottom, 0.95 - left, top - bottom)))
        return axes
    gap = 0.06
    each = (top - bottom - gap * (count - 1)) / count
    for i in range(count):
        y = top - (i + 1) * each - i * gap
        axes.append(fig.add_axes((left, y, 0.95 - left, each)))
    return axes
