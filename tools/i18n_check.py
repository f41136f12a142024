"""Static checks of the texts in the code, used by tests/test_i18n_catalog.py (and runnable by hand):

    .venv/bin/python -m tools.i18n_check      # lists pair-style texts, dynamic msgids and untranslated msgids

- msgids: every literal first argument of `X.t / X.text / X.error / X.tn`, a DomainError subclass, `_Bad`, `N_`
  or `Message` in bot/, domain/ and adapters/;
- pair-style texts: a (Chinese, English) pair of string arguments, `"中文" if zh else "English"`, a table of
  (Chinese, English) tuples, `locale.startswith("zh")` outside bot/i18n — the ways the choice was written before
  the catalogue;
- dynamic msgids: an f-string or `+` as a msgid (it cannot be in the catalogue).
"""

from __future__ import annotations

import ast
import re
import string
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = ("bot", "domain", "adapters")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
METHODS = {"t", "text", "error", "tn"}
MARKERS = {"N_", "Message"}
ERRORS = {"DomainError", "NotFound", "PermissionDenied", "IllegalTransition", "InsufficientStock", "AlreadyDecided",
          "ValidationFailed", "StaleVersion", "InputRefused", "_Bad", "SheetError", "StatementError"}


@dataclass(frozen=True)
class Site:
    path: str
    line: int
    what: str
    text: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} {self.text}".rstrip()


def files(paths: tuple[str, ...] = PATHS) -> Iterator[Path]:
    for p in paths:
        yield from sorted((ROOT / p).rglob("*.py"))


def _str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _stringish(node: ast.AST) -> bool:
    return _str(node) is not None or isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and (_stringish(node.left) or _stringish(node.right)))


def _cjk(node: ast.AST) -> bool:
    return any(CJK.search(n.value) for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def _texty_pair(a: ast.AST, b: ast.AST) -> bool:
    """A Chinese text followed by an English one (not a regex, not a code)."""
    if not (_stringish(a) and _stringish(b)) or not _cjk(a) or _cjk(b):
        return False
    en = ast.unparse(b)
    return "\\" not in en and "\\" not in ast.unparse(a) and bool(re.search(r"[A-Za-z]{2,}", en))


def _callee(call: ast.Call) -> tuple[str | None, bool]:
    f = call.func
    if isinstance(f, ast.Attribute):
        return f.attr, True
    if isinstance(f, ast.Name):
        return f.id, False
    return None, False


def _is_text_call(call: ast.Call) -> bool:
    name, method = _callee(call)
    if method and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) \
            and call.func.value.id in ("log", "logger", "logging", "_log"):
        return False  # log.error(...): a log line, not a text a person reads
    return (method and name in METHODS) or name in ERRORS or name in MARKERS


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def scan(path: Path) -> tuple[list[tuple[str, str | None, int]], list[Site], list[Site]]:
    """(msgids as (msgid, plural or None, line), pair-style sites, dynamic msgids) of one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = _rel(path)
    ids: list[tuple[str, str | None, int]] = []
    pairs: list[Site] = []
    dynamic: list[Site] = []
    in_i18n = rel.startswith("bot/i18n/")
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            pos = [a for a in node.args if not isinstance(a, ast.Starred)]
            name, method = _callee(node)
            if _is_text_call(node) and pos:
                first = pos[0]
                if name == "tn":
                    if len(pos) >= 2 and _str(pos[0]) is not None and _str(pos[1]) is not None:
                        ids.append((_str(pos[0]), _str(pos[1]), node.lineno))  # type: ignore[arg-type]
                elif _str(first) is not None:
                    ids.append((_str(first), None, node.lineno))  # type: ignore[arg-type]
                elif isinstance(first, ast.JoinedStr | ast.BinOp) and _stringish(first):
                    dynamic.append(Site(rel, node.lineno, "a msgid built at run time:", ast.unparse(first)[:80]))
                if name != "tn" and len(pos) >= 2 and _stringish(pos[0]) and _stringish(pos[1]):
                    pairs.append(Site(rel, node.lineno, "two texts where the catalogue takes one msgid:",
                                      ast.unparse(node)[:100]))
            elif len(pos) >= 2 and _texty_pair(pos[0], pos[1]):
                pairs.append(Site(rel, node.lineno, "a (Chinese, English) pair of arguments:", ast.unparse(node)[:100]))
            if (not in_i18n and isinstance(node.func, ast.Attribute) and node.func.attr == "startswith"
                    and pos and _str(pos[0]) == "zh"):
                pairs.append(Site(rel, node.lineno, "a language test outside bot/i18n:", ast.unparse(node)[:100]))
        elif isinstance(node, ast.IfExp) and not in_i18n:
            if _stringish(node.body) and _stringish(node.orelse) and _cjk(node.body) != _cjk(node.orelse):
                pairs.append(Site(rel, node.lineno, "a conditional pair:", ast.unparse(node)[:100]))
        elif isinstance(node, ast.Tuple) and len(node.elts) <= 3:  # (zh, en) or (code, zh, en); longer ones are data
            elts = node.elts
            if any(_texty_pair(a, b) for a, b in zip(elts, elts[1:], strict=False)):
                pairs.append(Site(rel, node.lineno, "a (Chinese, English) tuple:", ast.unparse(node)[:100]))
    return ids, pairs, dynamic


def placeholders(text: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}
    except ValueError:
        return {"<unbalanced braces>"}


def msgids() -> dict[str, tuple[str | None, str]]:
    """msgid → (plural, first place it is used)."""
    found: dict[str, tuple[str | None, str]] = {}
    for f in files():
        ids, _, _ = scan(f)
        for msgid, plural, line in ids:
            found.setdefault(msgid, (plural, f"{_rel(f)}:{line}"))
    return found


def pair_sites() -> list[Site]:
    return [s for f in files() for s in scan(f)[1]]


def dynamic_sites() -> list[Site]:
    return [s for f in files() for s in scan(f)[2]]


def untranslated() -> list[Site]:
    from bot.i18n import ZH, catalog

    cat = catalog(ZH)
    out = []
    for msgid, (plural, where) in msgids().items():
        path, line = where.rsplit(":", 1)
        got = cat.get(msgid)
        if got is None:
            out.append(Site(path, int(line), "no zh_CN translation for", repr(msgid)))
            continue
        forms = [got] if isinstance(got, str) else list(got)
        for form in forms:
            want = placeholders(msgid) | (placeholders(plural) if plural else set())
            if placeholders(form) - want or (placeholders(msgid) - {"n"}) - placeholders(form):
                out.append(Site(path, int(line), "placeholders differ between msgid and translation",
                                f"{msgid!r} / {form!r}"))
    return out


def main() -> int:
    problems = pair_sites() + dynamic_sites() + untranslated()
    for p in problems:
        print(p)
    print(f"{len(msgids())} msgids, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
