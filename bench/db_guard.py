"""What the database guard costs (domain.db_guard: a checkout ping under a time limit, and every statement armed
with the watchdog), on PostgreSQL, next to a plain SQLAlchemy engine with pool_pre_ping — what make_engine built
before — in the same run.

    .venv/bin/python -m bench.db_guard [--ops 3000] [--threads 8] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Two workloads, each single-threaded and with N threads: `checkout` (connect from the pool, SELECT 1, return:
ping + statement + reset) and `transaction` (BEGIN, five SELECTs, COMMIT). Results: bench/results/db_guard.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

from domain.db import make_engine
from domain.db_guard import interactive

RESULTS = Path(__file__).parent / "results"


def _checkout(engine: Engine) -> None:
    with engine.connect() as c:
        c.execute(text("SELECT 1"))


def _transaction(engine: Engine) -> None:
    with engine.begin() as c:
        for _ in range(5):
            c.execute(text("SELECT 1"))


def _run(engine: Engine, work: Any, ops: int, threads: int, limited: bool) -> float:
    """Operations per second."""
    per = ops // threads

    def worker() -> None:
        if limited:
            with interactive(1.2):  # as in a web request or a bot turn
                for _ in range(per):
                    work(engine)
        else:
            for _ in range(per):
                work(engine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    started = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return per * threads / (time.perf_counter() - started)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ops", type=int, default=3000)
    p.add_argument("--threads", type=int, default=8)
    p.add_argument("--pg", default=os.environ.get("ORDERTALK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = p.parse_args()
    load_start = os.getloadavg()
    plain = create_engine(args.pg, pool_size=10, max_overflow=20, pool_pre_ping=True)
    guarded = make_engine(args.pg)
    rows = []
    for name, work in (("checkout", _checkout), ("transaction", _transaction)):
        for threads in (1, args.threads):
            for e in (plain, guarded):  # warm both pools
                _run(e, work, 100, threads, False)
            base = _run(plain, work, args.ops, threads, False)
            guard = _run(guarded, work, args.ops, threads, False)
            limited = _run(guarded, work, args.ops, threads, True)
            rows.append({"workload": name, "threads": threads, "plain_ops_s": round(base), "guarded_ops_s": round(guard),
                         "guarded_interactive_ops_s": round(limited), "ratio": round(guard / base, 3),
                         "ratio_interactive": round(limited / base, 3)})
    plain.dispose()
    guarded.dispose()
    print(f"load average {load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} now; {os.cpu_count()} CPUs")
    print(f"{'workload':<12} {'threads':>7} {'plain/s':>9} {'guard/s':>9} {'ratio':>6} {'interactive/s':>14} {'ratio':>6}")
    for r in rows:
        print(f"{r['workload']:<12} {r['threads']:>7} {r['plain_ops_s']:>9} {r['guarded_ops_s']:>9} {r['ratio']:>6} "
              f"{r['guarded_interactive_ops_s']:>14} {r['ratio_interactive']:>6}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "db_guard.json").write_text(json.dumps({
        "machine": platform.platform(), "cpus": os.cpu_count(), "load_at_start": load_start,
        "load_at_end": os.getloadavg(), "args": vars(args), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
