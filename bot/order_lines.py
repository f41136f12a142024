"""Order lines as people type them, read into (product, quantity, unit) — pure, no database.

`SKU-001 x10`, `SKU-001 10`, `SKU-001 10箱`, `10 SKU-001`, `5 pcs SKU-003`, `螺丝10个`, `SKU-007*5`, several lines
separated by spaces, commas, `;` or `、`. A quantity may stand after its product (the usual way) or before it;
a bare number right before another quantity is part of the name (`iPhone 15 x2`, `轴承 6204 10`). Numbers are
read by domain.parsing.quantity (its refusals propagate as InputRefused). What cannot be completed raises
`MissingPart`, which says what was read so far, so the caller can answer with what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from domain import parsing

# A count word: the product's own unit, whatever that is ("10个" of a product sold by the 桶 is 10 桶).
GENERIC_UNITS = ("件", "个", "pcs", "pc", "pieces", "piece", "units", "unit", "ea")
# Units people type; the products' own units are added by the caller (Product.unit).
COMMON_UNITS = ("箱", "盒", "包", "袋", "桶", "条", "台", "根", "卷", "瓶", "套", "支", "只", "张", "片", "双", "米",
                "kg", "box", "boxes", "set", "sets", "roll", "rolls", "carton", "cartons", "bottle", "bottles")
_NUM = r"[-+]?\d[\d.,]*"


@dataclass(frozen=True, slots=True)
class TypedLine:
    query: str
    quantity: int
    unit: str  # "" when none was typed or it was a count word (件, 个, pcs)


class MissingPart(Exception):
    """A line could not be completed. `what` is "product", "quantity" or "lines"; `near` is the text concerned."""

    def __init__(self, what: str, near: str, read: list[TypedLine]) -> None:
        super().__init__(what)
        self.what, self.near, self.read = what, near, read


@dataclass(frozen=True)
class _Grammar:
    kinds: tuple[tuple[str, re.Pattern[str]], ...]
    join_unit: re.Pattern[str]


@lru_cache(maxsize=32)
def _grammar(extra_units: tuple[str, ...]) -> _Grammar:
    units = sorted({u for u in GENERIC_UNITS + COMMON_UNITS + extra_units if u and not any(c.isdigit() for c in u)},
                   key=len, reverse=True)
    alts = "|".join(re.escape(u) for u in units)
    unit = f"(?P<u>{alts})"
    return _Grammar(
        kinds=(
            ("post", re.compile(rf"[x×*](?P<q>{_NUM})", re.I)),  # x10 ×10 *10
            ("unit", re.compile(rf"(?P<q>{_NUM}){unit}", re.I)),  # 10箱 10pcs
            ("glued", re.compile(rf"(?P<p>.+?)(?:\*|×|(?<=[\d\u3400-\u9fff])x)(?P<q>{_NUM})", re.I)),  # SKU-007*5 螺丝x10
            ("glued", re.compile(rf"(?P<p>.*[^\x00-\x7f])(?P<q>\d[\d.,]*){unit}", re.I)),  # 螺丝10个
            ("bare", re.compile(rf"(?P<q>{_NUM})")),  # 10
            ("post", re.compile(r"[x×*](?P<q>[一二三四五六七八九十百千万两零〇]+)")),  # x十: a quantity, refused as such
        ),
        join_unit=re.compile(rf"(\d)\s+({alts})(?![a-z])", re.I),  # "10 件" -> "10件"
    )


def unit_words(units: Iterable[str]) -> tuple[str, ...]:
    """The products' units and their English names as English readers see them on cards (盒 → box, boxes), so
    `SKU-001 10 boxes` reads as typed. One-letter names (m, t, L) are left out: they are too often part of a spec."""
    from bot.i18n.labels import UNITS_EN

    out = set(units)
    for u in list(out) + list(COMMON_UNITS):
        out.update(form for form in UNITS_EN.get(u, ()) if len(form) > 1)
    return tuple(sorted(out))


def same_unit(typed: str, unit: str) -> bool:
    """Whether a typed unit is the product's own (盒, or box / boxes for an English reader)."""
    from bot.i18n.labels import UNITS_EN

    return typed.casefold() in {unit.casefold(), *(f.casefold() for f in UNITS_EN.get(unit, ()))}


def _unit(raw: str | None) -> str:
    if not raw:
        return ""
    return "" if raw.lower() in GENERIC_UNITS else raw


def read_lines(text: str, units: Iterable[str] = (), maximum: int = parsing.QUANTITY_MAX) -> list[TypedLine]:
    g = _grammar(tuple(sorted(set(units))))
    text = re.sub(r"(?<!\S)([x×*])\s+", r"\1", text, flags=re.I)  # "x 10" -> "x10"
    text = g.join_unit.sub(r"\1\2", text)
    lines: list[TypedLine] = []
    for segment in re.split(r"[;、]|,(?!\d{3}(?!\d))", text):
        tokens = segment.split()
        kinds = [next(((k, m) for k, rx in g.kinds if (m := rx.fullmatch(t))), ("word", None)) for t in tokens]
        words: list[str] = []
        pending: tuple[int, str, str] | None = None  # a quantity typed before its product: (quantity, unit, token)
        for i, (token, (kind, m)) in enumerate(zip(tokens, kinds, strict=True)):
            if m is None:
                words.append(token)
                continue
            nxt = kinds[i + 1][0] if i + 1 < len(kinds) else None
            if kind == "bare" and words and nxt in ("post", "unit", "bare"):
                words.append(token)  # a number inside a name: "iPhone 15 x2", "轴承 6204 10"
                continue
            quantity, unit = parsing.quantity(m["q"], maximum=maximum), _unit(m.groupdict().get("u"))
            if kind == "glued":
                if pending is not None:
                    raise MissingPart("product", pending[2], lines)
                words.append(m["p"])
            if words:
                if pending is None:
                    lines.append(TypedLine(" ".join(words), quantity, unit))
                    words = []
                    continue
                lines.append(TypedLine(" ".join(words), pending[0], pending[1]))
                words = []
                if kind == "post":  # "x5" after a complete line: a quantity without its product
                    raise MissingPart("product", token, lines)
            elif pending is not None:
                raise MissingPart("product", pending[2], lines)
            pending = (quantity, unit, token)
        if pending is not None:
            if not words:
                raise MissingPart("product", pending[2], lines)
            lines.append(TypedLine(" ".join(words), pending[0], pending[1]))
        elif words:
            raise MissingPart("quantity", " ".join(words), lines)
    if not lines:
        raise MissingPart("lines", "", lines)
    return lines


def line_text(line: TypedLine) -> str:
    """The line as a command would write it again: `SKU-001 x10`, `SKU-001 10箱`."""
    return f"{line.query} {line.quantity}{line.unit}" if line.unit else f"{line.query} x{line.quantity}"
