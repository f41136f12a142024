"""A customers file sent to the bot in chat, checked, and imported with the card's Import button (issue 17, in chat).

    .venv/bin/python -m bench.chat_import [--rows 1000,10000] [--pg postgresql+psycopg://…] [--no-pg]

Through the real core on a migrated database: the message turn (what the platform's callback waits for: admin
check, size check, "checking…" queued), then the check off that thread (the file handed over by an in-process file
source, stored under its hash, its kind told from the headers, the dry run, the card queued); then the Import click
turn and the import itself. Wall-clock seconds of each; results go to bench/results/chat_import.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


class Source:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def fetch(self, file: Any, max_bytes: int) -> bytes:
        return self.files[file.ref["id"]]


def workbook(n: int) -> bytes:
    import openpyxl

    from bot.documents.imports import template_for

    wb = openpyxl.load_workbook(io.BytesIO(template_for("customers", "zh")))
    ws = wb.worksheets[0]
    for i in range(n):
        ws.append([f"K{i:07d}", f"测试客户 {i} 有限公司", "", "浙江", "杭州", f"工业园区 {i} 号", "陈先生", f"138{i:08d}",
                   f"buyer{i}@example.com", "采购", "ABC"[i % 3], 100000, 30, "li", "", ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def run(url: str, n: int, data_dir: Path) -> dict[str, float]:
    from sqlalchemy import select

    from bot.bootstrap import build
    from bot.ports import InboundAction, InboundFile, InboundMessage, ReplyTarget
    from bot.records import ImportCheck
    from bot.settings import Settings
    from bot.tokens import ActionToken
    from domain.migrate import upgrade
    from domain.models import Role, User

    upgrade(url)
    ot = build(Settings(_env_file=None, database_url=url, sandbox=True, run_dispatcher=False, run_scheduler=False,
                        secret_key="bench-chat-import-secret-0123456789abcdef", data_dir=data_dir,
                        chat_import_max_bytes=50_000_000))
    with ot.sessions() as s:
        boss = User(username="admin", display_name="管理员", locale="zh-CN")
        boss.roles = {Role.ADMIN}
        owner = User(username="li", display_name="李四", locale="zh-CN")  # the customers' sales owner
        owner.roles = {Role.SALES}
        s.add_all([boss, owner])
        s.commit()
        admin = str(boss.id)
    source = Source()
    ot.ctx.file_sources["console"] = source
    data = workbook(n)
    source.files["f1"] = data
    t0 = time.perf_counter()
    ot.core.handle_message(InboundMessage(platform="console", external_user_id=admin, text="", event_id="bench-file",
                                          reply_to=ReplyTarget(recipient=admin),
                                          file=InboundFile(name="customers.xlsx", size=len(data), ref={"id": "f1"})))
    turn = time.perf_counter() - t0
    ot.core.imports.wait()
    checked = time.perf_counter() - t0
    with ot.sessions() as s:
        check = s.scalars(select(ImportCheck)).one()
        assert check.status == "checked", check.summary
        token = ot.ctx.signer.sign(ActionToken("import_apply", check.id))
    t1 = time.perf_counter()
    ot.core.handle_action(InboundAction(platform="console", external_user_id=admin, token=token, event_id="bench-click"))
    click = time.perf_counter() - t1
    ot.core.imports.wait()
    imported = time.perf_counter() - t1
    with ot.sessions() as s:
        assert s.scalars(select(ImportCheck)).one().status == "applied"
    ot.engine.dispose()
    return {"rows": n, "mb": round(len(data) / 1e6, 2), "message_turn_s": round(turn, 3), "checked_s": round(checked, 2),
            "click_turn_s": round(click, 3), "imported_s": round(imported, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="1000,10000")
    ap.add_argument("--pg", default=os.environ.get("ORDERTALK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    sizes = [int(x) for x in args.rows.split(",")]
    out: list[dict[str, Any]] = []
    load = os.getloadavg()
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            out.append({"db": "sqlite", **run(f"sqlite:///{tmp}/bench.db", n, Path(tmp))})
        if not args.no_pg:
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            name = f"ordertalk_bench_{uuid.uuid4().hex[:10]}"
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                with tempfile.TemporaryDirectory() as tmp:
                    url = make_url(args.pg).set(database=name).render_as_string(hide_password=False)
                    out.append({"db": "postgresql", **run(url, n, Path(tmp))})
            finally:
                with admin.connect() as c:
                    c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print(f"load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, {os.cpu_count()} CPUs")
    print(f"{'db':<11}{'rows':>7}{'MB':>6}{'message':>10}{'checked':>10}{'click':>8}{'imported':>10}")
    for r in out:
        print(f"{r['db']:<11}{r['rows']:>7}{r['mb']:>6}{r['message_turn_s']:>9.3f}s{r['checked_s']:>9.2f}s"
              f"{r['click_turn_s']:>7.3f}s{r['imported_s']:>9.2f}s")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "chat_import.json").write_text(json.dumps({"load_average": load, "cpus": os.cpu_count(), "runs": out},
                                                         indent=2) + "\n")


if __name__ == "__main__":
    main()
