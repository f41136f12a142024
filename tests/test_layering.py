"""bot/ is conversation: intent → domain command → card. The handlers, the jobs, the notifications and the
paper-work around the conversation (files sent in, bank statements, documents, strangers) write nothing through the
session and write no query of their own (reads are named domain queries, writes are domain commands or the bot's own
conversation state in bot/state.py and bot/import_checks.py); only the units of work commit (bot/core.py for a turn,
bot/unit.py for jobs, digests and inbox jobs). Not scanned: the bot's own queues and stores (inbox, outbox,
dispatcher, rate limits, records, files, receivers), the health probe (app.py) and the command line (cli.py, demo.py:
each command is its own unit of work)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = sorted([*(ROOT / "bot" / "handlers").glob("*.py"), ROOT / "bot" / "jobs.py", ROOT / "bot" / "digests.py",
                  *(ROOT / "bot").glob("notifications*.py"), ROOT / "bot" / "unknown_people.py",
                  ROOT / "bot" / "bank_import.py", ROOT / "bot" / "document_sources.py",
                  ROOT / "bot" / "documents_web.py", ROOT / "bot" / "chat_imports.py"])
# Session methods that write, commit or run a query (`get` by primary key is a lookup, not a query).
SESSION_CALLS = {"add", "add_all", "commit", "flush", "execute", "scalars", "scalar", "delete", "merge", "refresh",
                 "query", "rollback", "begin", "begin_nested", "bulk_save_objects", "connection"}
QUERY_BUILDERS = {"select", "insert", "update", "delete", "text", "exists", "union", "func"}
UNITS_OF_WORK: set[tuple[str, str]] = set()  # jobs and digests run through bot/unit.py, which is not scanned


def _receiver(node: ast.expr) -> str:
    """`turn.uow.session` → "turn.uow.session"; anything else → its last name, or ""."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_receiver(node.value)}.{node.attr}"
    return ""


def _offences(path: Path, rel: str | None = None) -> list[str]:
    rel = rel or path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
    found: list[str] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.ImportFrom) and (child.module or "").split(".")[0] == "sqlalchemy":
                banned = sorted(a.name for a in child.names if a.name in QUERY_BUILDERS)
                if banned:
                    found.append(f"{rel}:{child.lineno} imports {', '.join(banned)} from {child.module}")
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute):
                who, what = _receiver(child.func.value), child.func.attr
                last = who.rsplit(".", 1)[-1]
                session_like = last in ("s", "session", "sess") or last.endswith("session")
                if session_like and what in SESSION_CALLS and (rel, name) not in UNITS_OF_WORK:
                    found.append(f"{rel}:{child.lineno} {who}.{what}() in {name}")
                if last == "uow" and what in ("commit", "rollback") and (rel, name) not in UNITS_OF_WORK:
                    found.append(f"{rel}:{child.lineno} {who}.{what}() in {name}")
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Name) and child.func.id in QUERY_BUILDERS:
                found.append(f"{rel}:{child.lineno} {child.func.id}() in {name}")
            visit(child, name)

    visit(tree, "<module>")
    return found


def test_the_scan_sees_the_files_and_catches_what_it_should(tmp_path: Path) -> None:
    assert len(SCANNED) >= 10 and all(p.exists() for p in SCANNED)
    sample = tmp_path / "sample.py"
    sample.write_text("from sqlalchemy import select\n\ndef f(turn, s):\n    turn.uow.session.add(1)\n"
                      "    s.execute(select(1))\n    turn.uow.commit()\n    s.get(int, 1)\n", encoding="utf-8")
    got = _offences(sample, "bot/handlers/sample.py")
    assert [g.split(" ", 1)[1] for g in got] == [
        "imports select from sqlalchemy", "turn.uow.session.add() in f", "s.execute() in f", "select() in f",
        "turn.uow.commit() in f"]


def test_handlers_jobs_and_notifications_neither_write_nor_query_through_the_session() -> None:
    offences = [o for p in SCANNED for o in _offences(p)]
    assert offences == [], "\n".join(offences)
