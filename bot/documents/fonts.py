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

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

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
    from fontTools.ttLib import TTFont  # fpdf2 depends on fontTools

    try:
        font = TTFont(str(path), fontNumber=index, lazy=True)
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
