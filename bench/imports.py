"""Imports at scale: 100,000 product rows and 100,000 customer rows from XLSX, on SQLite and PostgreSQL (issue 17).

    .venv/bin/python -m bench.imports [--rows 100000] [--small 10000] [--kinds products,customers]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-pg] [--no-sqlite]

For each kind and database: the check (dry run) and the import of a file with N rows into an empty database, the
same file imported again (every row unchanged), and — the baseline — a bulk INSERT of the same rows (already in
memory, as tuples) on the same database through the same engine, in one transaction (customers: the customer rows
and their contact rows, as the import writes them). Rows/s of each, and import ÷ bulk insert (target ≥ 0.3), by
wall time and by the child process's CPU time: on a shared machine the wall time includes waiting for a CPU, the CPU
time does not — nor the PostgreSQL server's work, which a PG run's wall time includes.

Peak memory: every measurement runs in its own child process; the figure is its peak RSS less the RSS it had after
loading the code (so the file's rows are what is counted). Measured at --small rows and at --rows: flat means the
two are close (the sheet is streamed and checked in batches of 1,000). Results go to bench/results/imports.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
SALES = [f"s{i:02d}" for i in range(10)]


def rows(kind: str, n: int) -> Iterator[list[object]]:
    """The template's columns, as a company's sheet would have them (numbers as numbers, some text padded)."""
    if kind == "products":
        for i in range(n):
            price = Decimal(100 + i % 900) + Decimal(i % 100) / 100
            yield [f"P{i:07d}", f"商品 {i} 号", f"Product {i}", f"规格 {i % 50}", "个", price,
                   price - 1 if i % 3 == 0 else "", "", "", i % 30, "是"]
    else:
        provinces = ["浙江", "江苏", "上海", "广东", "福建", "山东"]
        for i in range(n):
            yield [f"C{i:07d}", f"测试客户 {i} 有限公司", f"Test Customer {i}", provinces[i % 6], "杭州", f"工业园区 {i} 号",
                   "陈先生", f"138{i:08d}", f"buyer{i}@example.com", "采购", "ABC"[i % 3], 100000 + (i % 50) * 1000,
                   30 + (i % 4) * 15, SALES[i % len(SALES)], f"测试客户 {i} 有限公司", f"91330100MA{i:08d}"]


def write_file(kind: str, n: int, path: Path) -> None:
    from bot.documents.imports.spec import KINDS
    from bot.documents.imports.workbook import export

    path.write_bytes(export(KINDS[kind], rows(kind, n), "zh"))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# ------------------------------------------------------------------ child: one measurement
def child(spec: dict[str, Any]) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    from sqlalchemy import delete, insert, select

    from bot.documents.imports import run_import
    from domain.audit import Actor
    from domain.db import make_engine, make_session_factory
    from domain.models import Contact, Customer, Product, Role, TierPrice, User

    engine = make_engine(spec["url"])
    sessions = make_session_factory(engine)
    if spec["mode"] == "setup":
        from domain.migrate import upgrade

        upgrade(spec["url"])
        with sessions() as s:
            for name in SALES:
                u = User(username=name, display_name=f"销售 {name}", locale="zh-CN")
                u.roles = {Role.SALES}
                s.add(u)
            s.commit()
        return {}
    base = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    out: dict[str, Any] = {}
    if spec["mode"] in ("dry", "apply", "again"):
        result = run_import(sessions, spec["kind"], Path(spec["file"]), Path(spec["file"]).name, user=None,
                            actor=Actor(None, "bench"), today=date(2026, 11, 23), tz=ZoneInfo("Asia/Shanghai"),
                            dry_run=spec["mode"] == "dry")
        out = {"rows": result.rows, "created": result.created, "updated": result.updated, "unchanged": result.unchanged,
               "problems": len(result.problems), "applied": result.applied}
        assert not result.problems, [p.reason("en") for p in result.problems[:3]]
    elif spec["mode"] == "bulk":
        # The same rows, already typed, straight into the tables the import writes; the imported ones removed first.
        with engine.begin() as c:
            if spec["kind"] == "products":
                c.execute(delete(TierPrice))
                c.execute(delete(Product))
            else:
                c.execute(delete(Contact))
                c.execute(delete(Customer))
        data = list(rows(spec["kind"], spec["n"]))
        with engine.connect() as c:
            users = dict(c.execute(User.__table__.select().with_only_columns(User.username, User.id)).tuples().all())
        started, cpu_started = time.perf_counter(), time.process_time()
        with engine.begin() as c:
            if spec["kind"] == "products":
                c.execute(insert(Product.__table__), [
                    {"sku": r[0], "name": r[1], "name_en": r[2], "spec": r[3], "unit": r[4], "list_price": r[5],
                     "safety_stock": r[9], "active": True} for r in data])
                ids = dict(c.execute(select(Product.sku, Product.id)).all())
                tiers = [{"product_id": ids[r[0]], "tier": "A", "price": r[6]} for r in data if r[6] != ""]
                if tiers:
                    c.execute(insert(TierPrice), tiers)
            else:
                c.execute(insert(Customer.__table__), [
                    {"code": r[0], "name": r[1], "name_en": r[2], "province": r[3], "city": r[4], "address": r[5],
                     "tier": r[10], "credit_limit": Decimal(r[11]), "payment_terms_days": r[12], "sales_user_id": users[r[13]],
                     "tax_title": r[14], "tax_id": r[15]} for r in data])
                ids = dict(c.execute(select(Customer.code, Customer.id)).all())
                c.execute(insert(Contact.__table__), [{"customer_id": ids[r[0]], "seq": 1, "name": r[6], "phone": r[7],
                                                       "email": r[8], "role": r[9]} for r in data])
        out = {"rows": len(data)}
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    engine.dispose()
    return {**out, "seconds": round(seconds, 3), "cpu_s": round(cpu, 3), "rows_per_s": round(out.get("rows", 0) / seconds) if seconds else None,
            "peak_mb_over_start": round(peak - base, 1)}


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "bench.imports", "--child", json.dumps(spec)], capture_output=True,
                          text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------ databases
def databases(args: argparse.Namespace, tmp: Path) -> Iterator[tuple[str, str]]:
    if not args.no_sqlite:
        yield "sqlite", f"sqlite:///{tmp}/bench-{uuid.uuid4().hex[:6]}.db"
    if not args.no_pg:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        name = f"ordertalk_bench_{uuid.uuid4().hex[:10]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield "postgresql", make_url(args.pg).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=10_000)
    ap.add_argument("--kinds", default="products,customers")
    ap.add_argument("--pg", default=os.environ.get("ORDERTALK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return
    out: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                       "load_before": os.getloadavg()}, "runs": []}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        files = {}
        for kind in args.kinds.split(","):
            for n in (args.small, args.rows):
                path = tmp / f"{kind}-{n}.xlsx"
                t = time.perf_counter()
                write_file(kind, n, path)
                files[(kind, n)] = path
                print(f"wrote {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - t:.0f} s", flush=True)
        print(f"\n{'db':<11}{'kind':<10}{'rows':>8}  {'step':<9}{'s':>8}{'cpu s':>8}{'rows/s':>10}{'peak MB':>9}"
              f"  {'vs bulk':>8}{'(cpu)':>7}  load")
        for db, url in databases(args, tmp):
            for kind in args.kinds.split(","):
                for n in (args.small, args.rows):
                    this_url = url if db == "sqlite" else url
                    if db == "sqlite":
                        this_url = url.replace(".db", f"-{kind}-{n}.db")
                    else:  # a clean schema per run: drop what the previous run imported
                        from sqlalchemy import create_engine, text

                        e = create_engine(url)
                        with e.begin() as c:
                            c.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
                        e.dispose()
                    run_child({"mode": "setup", "url": this_url})
                    steps = {}
                    for mode in ("dry", "apply", "again", "bulk"):
                        steps[mode] = run_child({"mode": mode, "url": this_url, "kind": kind, "file": str(files[(kind, n)]), "n": n})
                    bulk = steps["bulk"]["rows_per_s"] or 1
                    # Wall time on a shared machine includes waiting for a CPU; the child's own CPU time does not (nor
                    # the PostgreSQL server's, which the wall time of a PG run does include).
                    bulk_cpu = steps["bulk"]["cpu_s"] or 1e-9
                    load = os.getloadavg()
                    for mode, r in steps.items():
                        ratio, cpu_ratio = (f"{(r['rows_per_s'] or 0) / bulk:.2f}×", f"{bulk_cpu / (r['cpu_s'] or 1e-9):.2f}×") \
                            if mode != "bulk" else ("", "")
                        print(f"{db:<11}{kind:<10}{n:>8}  {mode:<9}{r['seconds']:>8.2f}{r['cpu_s']:>8.2f}{r['rows_per_s'] or 0:>10,}"
                              f"{r['peak_mb_over_start']:>9.1f}  {ratio:>8}{cpu_ratio:>7}  {load[0]:.1f}", flush=True)
                    out["runs"].append({"db": db, "kind": kind, "rows": n, "steps": steps,
                                        "import_vs_bulk": round((steps["apply"]["rows_per_s"] or 0) / bulk, 3),
                                        "check_vs_bulk": round((steps["dry"]["rows_per_s"] or 0) / bulk, 3),
                                        "import_vs_bulk_cpu": round(bulk_cpu / (steps["apply"]["cpu_s"] or 1e-9), 3),
                                        "check_vs_bulk_cpu": round(bulk_cpu / (steps["dry"]["cpu_s"] or 1e-9), 3),
                                        "load": load})
    out["machine"]["load_after"] = os.getloadavg()
    print(f"\nload average {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cpus")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "imports.json").write_text(json.dumps(out, indent=2, default=str))
    print(f"written {RESULTS / 'imports.json'}")


if __name__ == "__main__":
    main()
