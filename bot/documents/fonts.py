"""Find a CJK font for the PDFs at run time.

fpdf2 only has Latin-1 core fonts; Chinese product and customer names need a TrueType/OpenType font
with CJK glyphs embedded in the PDF. The project's choice is WenQuanYi Micro Hei from the Debian
package ``fonts-wqy-microhei`` (1.6 MB download, no dependencies, TrueType outlines in a .ttc
collection that fpdf2 reads with ``collection_font_number``; it also covers Latin, digits, ¥ and –).

Lookup order: the ``ORDERTALK_CJK_FONT`` environment variable (a file path, optionally ``path#N`` to
pick face N of a .ttc/.otc collection), then the known install paths below. If nothing usable is
found we raise :class:`CjkFontNotFoundError` — never render tofu boxes silently.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fontTools import subset, ttLib  # fpdf2 depends on fontTools
from fpdf.fonts import SubsetMap, TTFFont

if TYPE_CHECKING:
    from fpdf import FPDF

ENV_VAR = "ORDERTALK_CJK_FONT"
INSTALL_HINT = (
    "install the Debian package 'fonts-wqy-microhei' (apt-get install -y fonts-wqy-microhei), "
    f"or set {ENV_VAR} to a .ttf/.otf/.ttc font file with Chinese glyphs (append #N to pick face N of a .ttc)"
)
# Characters every document prints; a font lacking any of them is not usable.
_PROBE = "发货单对账客户合计¥"


@dataclass(frozen=True, slots=True)
class FontSpec:
    path: Path
    collection_index: int = 0
    package: str = ""  # the Debian package that installs it, for messages


# (path, face index, Debian package). Faces known to work with fpdf2 2.8; first hit wins.
KNOWN_FONTS: tuple[FontSpec, ...] = (
    FontSpec(Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"), 0, "fonts-wqy-microhei"),
    FontSpec(Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"), 0, "fonts-wqy-zenhei"),
)


class CjkFontNotFoundError(RuntimeError):
    """No font with Chinese glyphs could be found; the message says what to install."""


def _parse_env(value: str) -> FontSpec:
    path, sep, index = value.rpartition("#")
    if sep and index.isdigit():
        return FontSpec(Path(path).expanduser(), int(index), "")
    return FontSpec(Path(value).expanduser(), 0, "")


@lru_cache(maxsize=8)
def _covers_cjk(path: Path, index: int, mtime: float) -> bool:
    try:
        font = ttLib.TTFont(str(path), fontNumber=index, lazy=True)
        cmap = font.getBestCmap() or {}
    except Exception:  # noqa: BLE001 - any parse failure means "not usable"
        return False
    return all(ord(ch) in cmap for ch in _PROBE)


def _usable(spec: FontSpec) -> bool:
    try:
        mtime = spec.path.stat().st_mtime
    except OSError:
        return False
    return spec.path.is_file() and _covers_cjk(spec.path, spec.collection_index, mtime)


def find_cjk_font(known: tuple[FontSpec, ...] | None = None) -> FontSpec:
    """Return the CJK font to embed, or raise CjkFontNotFoundError naming the package to install."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        spec = _parse_env(override)
        if not spec.path.is_file():
            raise CjkFontNotFoundError(f"{ENV_VAR}={override!r}: no such font file; {INSTALL_HINT}")
        if not _usable(spec):
            raise CjkFontNotFoundError(
                f"{ENV_VAR}={override!r}: the font (face {spec.collection_index}) cannot be read or has no "
                f"Chinese glyphs; {INSTALL_HINT}"
            )
        return spec
    candidates = KNOWN_FONTS if known is None else known
    for spec in candidates:
        if _usable(spec):
            return spec
    looked = ", ".join(str(s.path) for s in candidates) or "(no known paths)"
    raise CjkFontNotFoundError(f"No CJK font found for PDF documents (looked in: {looked}); {INSTALL_HINT}")


# ---------------------------------------------------------------- loaded and subset once per process
# fpdf2's add_font parses the whole 5 MB font for every document, and writing the PDF subsets that full font again
# (fontTools reads all 49,000 glyphs to keep the 60 a document uses). Here the font's metrics are parsed once and
# shared, and the font is subset once to a base of the characters business documents use (GB2312's 6,763 hanzi,
# Latin, punctuation, full-width forms; cached on disk); a document's own subset is then cut from that small base.
# A document with a character outside the base (a rare name) is cut from the full font, as before.


@lru_cache(maxsize=1)
def _repertoire() -> frozenset[int]:
    chars: set[int] = {0}  # fpdf2's reserved .notdef
    for hi in range(0xA1, 0xF8):  # GB2312, row by row
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((hi, lo)).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    for a, b in ((0x20, 0x250), (0x2000, 0x2070), (0x20A0, 0x20C0), (0x2100, 0x2200), (0x2460, 0x2500),
                 (0x3000, 0x3040), (0xFF00, 0xFFF0)):
        chars.update(range(a, b))
    return frozenset(chars)


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ordertalk"


@lru_cache(maxsize=4)
def _base_font(path: Path, index: int, mtime: float, size: int) -> bytes:
    """The font subset to the base repertoire (same glyph names), built once and kept in the user's cache."""
    cached = _cache_dir() / f"{path.stem}-{index}-{int(mtime)}-{size}-base.ttf"
    if cached.is_file():
        return cached.read_bytes()
    font = ttLib.TTFont(str(path), fontNumber=index, lazy=True, recalcTimestamp=False)
    options = subset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True, layout_features=[])
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "FFTM"]  # fpdf2 drops them from every embedded font anyway
    cutter = subset.Subsetter(options)
    cutter.populate(unicodes=_repertoire())
    cutter.subset(font)
    out = io.BytesIO()
    font.save(out)
    data = out.getvalue()
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(cached)  # atomic: concurrent first documents never read half a file
    except OSError:
        pass  # no writable cache: rebuilt once per process
    return data


@lru_cache(maxsize=4)
def _parsed(path: Path, index: int, mtime: float) -> TTFFont:
    from fpdf import FPDF

    scratch = FPDF()
    scratch.add_font("cjk", "", str(path), collection_font_number=index)
    return scratch.fonts["cjk"]  # type: ignore[return-value]


class SharedFont(TTFFont):
    """A document's font: metrics shared with every other document; the font program opened when the PDF is written
    (fpdf2 only needs it then), from the small base when the document's characters are all in it."""

    __slots__ = ("_spec", "_program")
    _spec: Any
    _program: ttLib.TTFont | None

    @property
    def ttfont(self) -> ttLib.TTFont:
        if self._program is None:
            spec = self._spec
            used = {u for g, _ in self.subset.items() if g is not None and isinstance(g.unicode, tuple) for u in g.unicode}
            if used <= _repertoire():
                st = spec.path.stat()
                source: object = io.BytesIO(_base_font(spec.path, spec.collection_index, st.st_mtime, st.st_size))
                index = 0
            else:
                source, index = str(spec.path), spec.collection_index
            self._program = ttLib.TTFont(source, fontNumber=index, lazy=True, recalcTimestamp=False)
        return self._program

    @ttfont.setter
    def ttfont(self, value: ttLib.TTFont) -> None:
        self._program = value


def shared_font(pdf: FPDF, family: str, spec: FontSpec) -> None:
    """Make `family` available in `pdf` (as add_font would) from the font parsed once for the process."""
    template = _parsed(spec.path, spec.collection_index, spec.path.stat().st_mtime)
    font = SharedFont.__new__(SharedFont)
    for slot in TTFFont.__slots__:  # share the read-only tables: cmap, widths, glyph ids, descriptor
        if slot != "ttfont" and hasattr(template, slot):
            setattr(font, slot, getattr(template, slot))
    font._spec, font._program = spec, None
    font.i = len(pdf.fonts) + 1
    font.fontkey = family
    font.missing_glyphs = []
    font.biggest_size_pt = 0
    font._hbfont = None
    font.subset = SubsetMap(font)  # this document's glyphs
    pdf.fonts[family] = font


def warm() -> None:
    """Parse the CJK font and load (or build once per machine) its base subset before the first document is asked
    for, so the first click on a link is as fast as the later ones. Run in the background at server start."""
    try:
        spec = find_cjk_font()
        st = spec.path.stat()
        _parsed(spec.path, spec.collection_index, st.st_mtime)
        _base_font(spec.path, spec.collection_index, st.st_mtime, st.st_size)
    except (CjkFontNotFoundError, OSError):
        pass  # the first document says what to install
