"""Rewrite zh/en pair-style texts into the gettext catalogue form, and fill the zh_CN .po.

    .venv/bin/python -m tools.i18n_convert [PATH ...]     # default: bot domain adapters bench
    .venv/bin/python -m tools.i18n_convert --check ...    # only list what would change (exit 1 if anything)

What it rewrites (libcst, so the rest of each file keeps its layout):

    turn.t("订单 {order.number} 已创建", f"Order {order.number} created")   # any X.t / X.text / X.error / X.tn
    NotFound(f"找不到订单 {number}", f"No order {number}", number=number)   # DomainError subclasses, _Bad
→   turn.t("Order {number} created", number=order.number)
    NotFound("No order {number}", number=number)

f-string expressions become named placeholders (named after the English side's expression: `order.number` →
`number`, `v.money(order.total)` → `total`, clashes get a longer name); the Chinese side must use the same
expressions. A third positional argument of `error(...)` becomes `field=`. Each new msgid is added to
bot/locale/zh_CN/LC_MESSAGES/messages.po with the Chinese as its translation.

What it cannot rewrite (a text glued with `+` to a non-literal, a Chinese side with an expression the English side
lacks, conditional pairs `"中" if zh else "en"`, tables of pairs) is listed with file and line, to do by hand;
tests/test_i18n_catalog.py fails on any pair left.
"""

from __future__ import annotations

import argparse
import ast
import keyword
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "bot" / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
DEFAULT_PATHS = ["bot", "domain", "adapters", "bench"]

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
METHODS = {"t", "text", "error", "tn"}  # Turn / Viewer / Texts methods taking (zh, en) before the catalogue
ERRORS = {"DomainError", "NotFound", "PermissionDenied", "IllegalTransition", "InsufficientStock", "AlreadyDecided",
          "ValidationFailed", "StaleVersion", "InputRefused", "_Bad"}
RESERVED = {"field", "self", "msgid"} | set(keyword.kwlist)
FORMAT_CALLS = {"money", "fmt_money", "date", "fmt_date", "datetime", "fmt_time", "time", "fmt_clock", "str", "name",
                "percent", "fmt_pct", "number", "join"}


class Unconvertible(Exception):
    pass


@dataclass
class Piece:
    """A string's content in msgid form: literal text (braces doubled) and placeholders keyed by expression code."""

    parts: list[tuple[str, str | tuple[str, str]]] = field(default_factory=list)  # ("text", s) | ("expr", (code, spec))


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _literal_text(raw: str, prefix: str, quote: str) -> str:
    prefix = prefix.lower().replace("f", "")
    return ast.literal_eval(f"{prefix}{quote}{raw}{quote}")


def read_string(node: cst.BaseExpression) -> tuple[Piece, dict[str, cst.BaseExpression]]:
    """(content, expression code → node) of a literal, f-string or implicit concatenation; else Unconvertible."""
    exprs: dict[str, cst.BaseExpression] = {}
    piece = Piece()
    _read_into(node, piece, exprs)
    return piece, exprs


def _read_into(node: cst.BaseExpression, piece: Piece, exprs: dict[str, cst.BaseExpression]) -> None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        if isinstance(value, bytes):
            raise Unconvertible("bytes literal")
        piece.parts.append(("text", value.replace("{", "{{").replace("}", "}}")))
    elif isinstance(node, cst.ConcatenatedString):
        _read_into(node.left, piece, exprs)
        _read_into(node.right, piece, exprs)
    elif isinstance(node, cst.FormattedString):
        quote = node.end
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                text = _literal_text(part.value.replace("{{", "\0o").replace("}}", "\0c"), node.prefix, quote)
                piece.parts.append(("text", text.replace("\0o", "{{").replace("\0c", "}}")))
            else:
                assert isinstance(part, cst.FormattedStringExpression)
                if part.conversion:
                    raise Unconvertible(f"conversion !{part.conversion}")
                spec = ""
                if part.format_spec:
                    if any(not isinstance(p, cst.FormattedStringText) for p in part.format_spec):
                        raise Unconvertible("nested format spec")
                    spec = "".join(p.value for p in part.format_spec if isinstance(p, cst.FormattedStringText))
                code = _code(part.expression)
                exprs[code] = part.expression
                piece.parts.append(("expr", (code, spec)))
    elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        _read_into(node.left, piece, exprs)
        _read_into(node.right, piece, exprs)
    else:
        raise Unconvertible(f"not a string literal: {_code(node)[:60]}")


def is_stringish(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.SimpleString | cst.FormattedString | cst.ConcatenatedString)


def has_cjk(node: cst.BaseExpression) -> bool:
    return bool(CJK.search(_code(node)))


def _base_name(expr: cst.BaseExpression) -> list[str]:
    """Candidate placeholder names for an expression, shortest first."""
    if isinstance(expr, cst.Name):
        return [expr.value]
    if isinstance(expr, cst.Attribute):
        chain = []
        node: cst.BaseExpression = expr
        while isinstance(node, cst.Attribute):
            chain.append(node.attr.value)
            node = node.value
        if isinstance(node, cst.Name):
            chain.append(node.value)
        chain.reverse()  # a.b.c
        return ["_".join(chain[-k:]) for k in range(1, len(chain) + 1)]
    if isinstance(expr, cst.Call):
        fn = expr.func
        fname = fn.attr.value if isinstance(fn, cst.Attribute) else (fn.value if isinstance(fn, cst.Name) else "")
        if fname == "len" and expr.args:
            return ["count"] + [f"{n}_count" for n in _base_name(expr.args[0].value)]
        if fname in FORMAT_CALLS and expr.args:
            return _base_name(expr.args[0].value)
        return [fname or "value"]
    if isinstance(expr, cst.Subscript):
        sl = expr.slice[0].slice if expr.slice else None
        if isinstance(sl, cst.Index) and isinstance(sl.value, cst.SimpleString):
            key = sl.value.evaluated_value
            if isinstance(key, str) and key.isidentifier():
                return [key]
        return _base_name(expr.value)
    return ["value"]


def _valid(name: str) -> str:
    name = re.sub(r"\W", "_", name).strip("_") or "value"
    if name[0].isdigit():
        name = "v_" + name
    return name


def name_placeholders(exprs: dict[str, cst.BaseExpression], taken: set[str]) -> dict[str, str]:
    names: dict[str, str] = {}
    used = set(taken)
    for code, expr in exprs.items():
        candidates = [_valid(c) for c in _base_name(expr)]
        chosen = next((c for c in candidates if c not in used and c not in RESERVED), None)
        if chosen is None:
            base = candidates[0] if candidates[0] not in RESERVED else candidates[0] + "_value"
            chosen, i = base, 2
            while chosen in used or chosen in RESERVED:
                chosen, i = f"{base}_{i}", i + 1
        names[code] = chosen
        used.add(chosen)
    return names


def render(piece: Piece, names: dict[str, str]) -> str:
    out = []
    for kind, value in piece.parts:
        if kind == "text":
            out.append(value)  # type: ignore[arg-type]
        else:
            code, spec = value  # type: ignore[misc]
            out.append("{" + names[code] + (":" + spec if spec else "") + "}")
    return "".join(out)


def _unescape_plain(s: str) -> str:
    return s.replace("{{", "{").replace("}}", "}")


@dataclass
class Converted:
    msgid: str
    msgstr: str
    line: int


@dataclass
class Problem:
    path: str
    line: int
    why: str
    code: str


class PairRewriter(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (cst.metadata.PositionProvider,)

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.converted: list[Converted] = []
        self.problems: list[Problem] = []

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(cst.metadata.PositionProvider, node).start.line

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        fn = updated.func
        name = fn.attr.value if isinstance(fn, cst.Attribute) else (fn.value if isinstance(fn, cst.Name) else None)
        is_method = isinstance(fn, cst.Attribute) and name in METHODS
        if not (is_method or name in ERRORS):
            return updated
        positional = [a for a in updated.args if a.keyword is None and not a.star]
        if len(positional) < 2 or not (is_stringish(positional[0].value) or isinstance(positional[0].value, cst.BinaryOperation)):
            return updated
        zh_node, en_node = positional[0].value, positional[1].value
        if not has_cjk(zh_node) or has_cjk(en_node):
            return updated
        try:
            return self._rewrite(original, updated, name or "", positional, zh_node, en_node)
        except Unconvertible as e:
            self.problems.append(Problem(self.path, self._line(original), str(e), _code(original)[:160]))
            return updated

    def _rewrite(self, original: cst.Call, updated: cst.Call, name: str, positional: list[cst.Arg],
                 zh_node: cst.BaseExpression, en_node: cst.BaseExpression) -> cst.Call:
        en, en_exprs = read_string(en_node)
        zh, zh_exprs = read_string(zh_node)
        missing = [c for c in zh_exprs if c not in en_exprs]
        if missing:
            raise Unconvertible(f"the Chinese side uses {missing} which the English side does not")
        kept_kw = [a for a in updated.args if a.keyword is not None or a.star]
        taken = {a.keyword.value for a in kept_kw if a.keyword is not None}
        rest = positional[2:]
        extra_kw: list[cst.Arg] = []
        if name == "error" and rest:
            extra_kw.append(cst.Arg(keyword=cst.Name("field"), value=rest[0].value,
                                    equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                                          whitespace_after=cst.SimpleWhitespace(""))))
            taken.add("field")
            rest = rest[1:]
        if rest:
            raise Unconvertible("positional arguments after the pair")
        # A keyword argument already passing the same expression (`number=number`) names its placeholder.
        reuse = {_code(a.value): a.keyword.value for a in kept_kw if a.keyword is not None}
        names = {c: reuse[c] for c in en_exprs if c in reuse}
        names |= name_placeholders({c: e for c, e in en_exprs.items() if c not in names},
                                   taken | ({"n"} if name == "tn" else set()))
        msgid, msgstr = render(en, names), render(zh, names)
        if not en_exprs:
            msgid, msgstr = _unescape_plain(msgid), _unescape_plain(msgstr)
        eq = cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace(""))
        params = [cst.Arg(keyword=cst.Name(names[c]), value=expr, equal=eq) for c, expr in en_exprs.items()
                  if c not in reuse]
        first = positional[0].with_changes(value=cst.SimpleString(_py_literal(msgid, _quote_of(zh_node))))
        args = [first, *extra_kw, *params, *kept_kw]
        args = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in args]
        self.converted.append(Converted(msgid, msgstr, self._line(original)))
        return updated.with_changes(args=args)


def _quote_of(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.SimpleString):
        return node.quote
    if isinstance(node, cst.FormattedString):
        return node.end
    if isinstance(node, cst.ConcatenatedString | cst.BinaryOperation):
        return _quote_of(node.left)
    return '"'


def _py_literal(s: str, quote: str = '"') -> str:
    """A literal with the original's quote character (a call inside an f-string must keep it, before 3.12)."""
    q = quote[0]
    body = repr(s)[1:-1]
    if repr(s)[0] == "'":
        body = body.replace("\\'", "'")
    else:
        body = body.replace('\\"', '"')
    return q + body.replace(q, "\\" + q) + q


def find_conditionals(module: cst.Module, wrapper: cst.metadata.MetadataWrapper, path: str) -> list[Problem]:
    """`"中文" if zh else "English"`: reported, rewritten by hand (the translator in scope differs per site)."""
    found: list[Problem] = []
    positions = wrapper.resolve(cst.metadata.PositionProvider)

    class V(cst.CSTVisitor):
        def visit_IfExp(self, node: cst.IfExp) -> None:
            a, b = node.body, node.orelse
            if is_stringish(a) and is_stringish(b) and has_cjk(a) != has_cjk(b):
                found.append(Problem(path, positions[node].start.line, "conditional pair", _code(node)[:160]))

    wrapper.visit(V())
    return found


def convert_file(path: Path, write: bool) -> tuple[list[Converted], list[Problem]]:
    source = path.read_text(encoding="utf-8")
    if not CJK.search(source):
        return [], []
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as e:
        return [], [Problem(str(path), 0, f"cannot parse: {e}", "")]
    wrapper = cst.metadata.MetadataWrapper(module)
    rel = str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
    rw = PairRewriter(rel)
    new = wrapper.visit(rw)
    problems = rw.problems
    if not rel.startswith("bot/i18n/"):  # the formatter itself chooses per locale on purpose
        problems += find_conditionals(module, cst.metadata.MetadataWrapper(module), rel)
    if write and rw.converted:
        path.write_text(new.code, encoding="utf-8")
    return rw.converted, problems


def load_po() -> Catalog:
    if PO.exists():
        with PO.open("rb") as f:
            return read_po(f, locale="zh_CN")
    cat = Catalog(locale="zh_CN", project="OrderTalk", domain="messages")
    return cat


def save_po(cat: Catalog) -> None:
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as f:
        write_po(f, cat, width=0, no_location=True, omit_header=False, sort_output=False, include_previous=False)


def add_to_po(cat: Catalog, items: list[Converted], where: str) -> list[Problem]:
    clashes = []
    for c in items:
        existing = cat.get(c.msgid)
        if existing is not None and existing.string and existing.string != c.msgstr:
            clashes.append(Problem(where, c.line, f"msgid already translated differently: {existing.string!r}",
                                   f"{c.msgid!r} -> {c.msgstr!r}"))
            continue
        if existing is None or not existing.string:
            cat.add(c.msgid, c.msgstr)
    return clashes


def iter_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = (ROOT / p) if not Path(p).is_absolute() else Path(p)
        if path.is_dir():
            files += sorted(f for f in path.rglob("*.py") if ".venv" not in f.parts)
        elif path.suffix == ".py":
            files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", default=DEFAULT_PATHS)
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 when a pair is left")
    args = ap.parse_args(argv)
    cat = load_po()
    problems: list[Problem] = []
    total = 0
    for f in iter_files(args.paths):
        converted, probs = convert_file(f, write=not args.check)
        problems += probs
        if converted:
            total += len(converted)
            rel = f.relative_to(ROOT) if f.is_relative_to(ROOT) else f
            print(f"{rel}: {len(converted)} text(s) {'to convert' if args.check else 'converted'}")
            if not args.check:
                problems += add_to_po(cat, converted, str(rel))
    if total and not args.check:
        save_po(cat)
    for p in problems:
        print(f"{p.path}:{p.line}: by hand: {p.why}\n    {p.code}", file=sys.stderr)
    print(f"{total} text(s), {len(problems)} left to do by hand")
    return 1 if (args.check and (total or problems)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
