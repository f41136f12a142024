"""The inbox worker's path for approval clicks, alone: CPU per decision, and where it goes (pyinstrument).

    .venv/bin/python -m bench.worker_profile [--clicks 300] [--platforms slack,dingtalk,wecom] [--profile]

bench.interactive measures the whole stack under load; this isolates the part that decides (issue 16: decisions/s).
Real signed clicks are sent to the app under gunicorn (as in bench.interactive, with no inbox worker running), so the
inbox holds exactly the rows the web workers store; then this process builds the worker (`bot.bootstrap.build`, the
settings `ordertalk worker` gets) and drains the inbox on one thread: a few clicks unmeasured (imports, first
connections, Bolt's auth.test), then the rest with the CPU time of this process per decision (`time.process_time`),
the CPU of the PostgreSQL backends serving it (from /proc: the server runs on this machine) and the wall time.
`--profile wall` prints pyinstrument's tree of the measured part (pip install pyinstrument), `--profile cpu`
cProfile's tables on CPU time (the profiler's own overhead inflates the figures; compare them with each other). PostgreSQL (`--pg`, as bench.interactive) or `--sqlite`; nothing is written to bench/results.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from bench.domain import pg_db, sqlite_db
from bench.interactive import (
    click_request,
    db_cpu_between,
    db_server_cpu,
    decided,
    env_for,
    fake_apis,
    gunicorn,
    load,
    prepare,
)

WARM = 8


def run(url: str, platform: str, clicks: int, profile: str | None) -> dict[str, Any]:
    import tempfile

    steps = prepare(url, WARM + clicks)
    with fake_apis() as api, tempfile.TemporaryDirectory() as data_dir:
        env = env_for(url, api, data_dir)
        with gunicorn("bot.wsgi:app", env) as (port, _pid):
            load(port, 16, [click_request(platform, sid, sid) for sid in steps])
        os.environ.update({k: v for k, v in env.items() if k.startswith("ORDERTALK_")})
        os.environ.update({"ORDERTALK_RUN_INBOX": "0", "ORDERTALK_RUN_DISPATCHER": "0"})
        from bot.bootstrap import build
        from bot.settings import Settings

        ot = build(Settings())
        try:
            while decided(url, steps[:WARM]) < WARM:  # the rows are claimed in id order, 16 at a time
                ot.inbox.run_once()
            profiler: Any = None
            if profile == "wall":
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                profiler.start()
            elif profile == "cpu":
                import cProfile

                profiler = cProfile.Profile(time.process_time)
                profiler.enable()
            db0 = db_server_cpu(url)
            cpu0, t0 = time.process_time(), time.perf_counter()
            ot.inbox.drain()
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
            db = db_cpu_between(db0, db_server_cpu(url))
            if profile == "wall":
                profiler.stop()
                print(profiler.output_text(unicode=True, color=False, show_all=False))
            elif profile == "cpu":
                import pstats

                profiler.disable()
                stats = pstats.Stats(profiler).sort_stats("cumulative")
                stats.print_stats(60)
                stats.sort_stats("tottime").print_stats(30)
            done = decided(url, steps)
        finally:
            ot.stop_background()
            ot.engine.dispose()
    n = done - WARM
    return {"platform": platform, "decided": done, "measured": n, "cpu_ms": cpu * 1000 / max(n, 1),
            "wall_ms": wall * 1000 / max(n, 1), "db_ms": db * 1000 / max(n, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clicks", type=int, default=300)
    ap.add_argument("--platforms", default="slack,dingtalk,wecom")
    ap.add_argument("--pg", default=os.environ.get("ORDERTALK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--sqlite", action="store_true", help="on SQLite (its inbox file beside the main one) instead")
    ap.add_argument("--profile", choices=["wall", "cpu"], default=None,
                    help="wall: pyinstrument's tree (pip install pyinstrument); cpu: cProfile on CPU time")
    args = ap.parse_args()
    rows = []
    for platform in args.platforms.split(","):
        with (sqlite_db() if args.sqlite else pg_db(args.pg)) as url:
            rows.append(run(url, platform, args.clicks, args.profile))
        r = rows[-1]
        print(f"{platform:<9} decided {r['decided']:>4} ({r['measured']} measured): {r['cpu_ms']:6.2f} ms CPU, "
              f"{r['db_ms']:6.2f} ms database server CPU, {r['wall_ms']:6.2f} ms wall per decision | load {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
