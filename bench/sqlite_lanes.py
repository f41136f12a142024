"""SQLite's writer lanes (domain.db._WriterQueue): acknowledgements queued beside long transactions on one file.

    .venv/bin/python -m bench.sqlite_lanes [--seconds 8] [--hold-ms 15] [--ack-threads 8] [--decision-threads 8]

Every SQLite transaction holds the one writer lock from BEGIN to COMMIT. Two "web" processes (N threads each) store
one row per acknowledgement, 5 ms apart, while two "worker" processes (M threads each) run transactions that hold
the lock `--hold-ms` (a decision's). Run twice in the same run: with the stores marked urgent (what bot.inbox
does) and without (one lane for all, the baseline), and a third time with the stores in a file of their own (what
bot.inbox does on SQLite since issue 16: the inbox's own file), where they never meet the decisions' lock. The
lock's time is shared in the first two, so the work done in the run differs; what the lanes change is how long an
acknowledgement waits. Results: bench/results/sqlite_lanes.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

RESULTS = Path(__file__).parent / "results"


def _process(path: str, acks: int, decisions: int, seconds: float, hold: float, urgent: bool, out: Any,
             acks_path: str | None = None) -> None:
    from domain.db import URGENT, make_engine

    engine = make_engine(f"sqlite:///{path}")
    own = make_engine(f"sqlite:///{acks_path}") if acks_path else engine
    stores = own.execution_options(**{URGENT: True}) if urgent else own
    stop = time.monotonic() + seconds
    waits: list[float] = []
    done = [0]

    def ack() -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            with stores.begin() as c:
                c.execute(text("INSERT INTO acks VALUES (1)"))
            waits.append(time.perf_counter() - started)
            time.sleep(0.005)

    def decide() -> None:
        while time.monotonic() < stop:
            with engine.begin() as c:
                c.execute(text("INSERT INTO decisions VALUES (1)"))
                time.sleep(hold)
            done[0] += 1

    threads = [threading.Thread(target=ack) for _ in range(acks)] + [threading.Thread(target=decide)
                                                                       for _ in range(decisions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put((waits, done[0]))


def _run(args: argparse.Namespace, urgent: bool, own_file: bool = False) -> dict[str, Any]:
    from domain.db import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "lanes.db")
        acks_path = str(Path(tmp) / "lanes-inbox.db") if own_file else None
        for db in {path, acks_path or path}:
            engine = make_engine(f"sqlite:///{db}")
            with engine.begin() as c:
                c.execute(text("CREATE TABLE IF NOT EXISTS acks (x INTEGER)"))
                c.execute(text("CREATE TABLE IF NOT EXISTS decisions (x INTEGER)"))
            engine.dispose()
        out: Any = mp.Queue()
        procs = [mp.Process(target=_process, args=(path, args.ack_threads, 0, args.seconds, args.hold_ms / 1000,
                                                   urgent, out, acks_path)) for _ in range(2)]
        procs += [mp.Process(target=_process, args=(path, 0, args.decision_threads, args.seconds, args.hold_ms / 1000,
                                                    urgent, out)) for _ in range(2)]
        for p in procs:
            p.start()
        got = [out.get() for _ in procs]
        for p in procs:
            p.join()
    waits = sorted(w for ws, _ in got for w in ws)
    decided = sum(n for _, n in got)

    def pct(q: float) -> float:
        return round(waits[min(len(waits) - 1, int(len(waits) * q))] * 1000, 1)

    return {"lanes": "own file" if own_file else "urgent stores" if urgent else "one lane", "acks": len(waits), "ack_p50_ms": pct(0.5),
            "ack_p99_ms": pct(0.99), "ack_max_ms": round(waits[-1] * 1000, 1), "decisions": decided,
            "decisions_per_s": round(decided / args.seconds, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--hold-ms", type=float, default=15.0)
    ap.add_argument("--ack-threads", type=int, default=8)
    ap.add_argument("--decision-threads", type=int, default=8)
    args = ap.parse_args()
    load = os.getloadavg()
    rows = [_run(args, urgent=False), _run(args, urgent=True), _run(args, urgent=True, own_file=True)]
    print(f"\nSQLite writer lanes: 2 processes × {args.ack_threads} storing threads, 2 × {args.decision_threads} "
          f"threads holding the lock {args.hold_ms:g} ms, {args.seconds:g} s each; load {load[0]:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} now; {os.cpu_count()} CPUs")
    print(f"{'lanes':<14} {'acks':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'decisions/s':>12}")
    for r in rows:
        print(f"{r['lanes']:<14} {r['acks']:>6} {r['ack_p50_ms']:>7} {r['ack_p99_ms']:>7} {r['ack_max_ms']:>7} "
              f"{r['decisions_per_s']:>12}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sqlite_lanes.json").write_text(json.dumps(
        {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_before": load,
                     "load_after": os.getloadavg()}, "args": vars(args), "rows": rows}, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
