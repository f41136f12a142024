"""bot/ and domain/ name no platform: what differs between platforms is declared by each adapter's descriptor
(adapters/platform.py) and reaches the core through bot/platforms.py, the one list of installed platforms. A string
literal naming one (docstrings and comments aside) is a check of a platform's name the descriptor should answer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = re.compile(r"\b(slack|dingtalk|wecom|console)\b")  # lower case: ids; "Slack ID" in a text is a label
ALLOWED = {
    # the one list of installed platforms
    "bot/platforms.py": "names the installed adapter packages",
    # Log scrubbing starts before any settings are read (`ordertalk -v` logs from the first line), so the header
    # names and token shapes the platforms' libraries log are known here, not loaded from the adapters.
    "bot/redaction.py": "header names and token shapes scrubbed before settings exist",
}


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _offences(path: Path, rel: str) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    docs = _docstrings(tree)
    return [f"{rel}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
            and NAMES.search(node.value)]


def test_bot_and_domain_name_no_platform() -> None:
    offences = []
    for top in ("bot", "domain"):
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in ALLOWED:
                offences += _offences(path, rel)
    assert offences == []


def test_the_scan_catches_a_name_check(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Talks to Slack and the console."""\n\ndef f(p):\n    """console"""\n'
                      '    return p == "console" or f"x-{p}" == "x-slack"  # dingtalk\n', encoding="utf-8")
    assert [o.split(" ", 1)[1] for o in _offences(sample, "sample.py")] == ["'console'", "'x-slack'"]
    assert all((ROOT / rel).exists() for rel in ALLOWED)
