"""Digests (issue 18) over bench.reports' data on PostgreSQL (1,000,000 orders by default, Monday 2026-11-23):

    .venv/bin/python -m bench.digests [--orders 1000000] [--repeat 9]

  figures   domain.reports.digest.daily for one reader: the admin (every order) and one manager's team (10 people);
  daily     Jobs.daily_digest for everyone who receives it (the admin and 20 managers: 21 cards, each in its own
            transaction with its once-a-day key), the keys deleted between runs;
  weekly    Jobs.weekly_digest, the same 21 people: trend and leaderboard cards, charts drawn the first time (21
            scopes: 21 trend and 21 leaderboard charts) and stored; later runs find them stored.

No target is set in the issue; the job runs once a morning in the background. Results: bench/results/digests.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

from sqlalchemy import create_engine, delete, text

from bench.domain import RESULTS, pg_db
from bench.reports import generate, timed
from bench.scale import CUSTOMERS, DAYS, MANAGERS, NOW, PRODUCTS, SALES, TODAY
from bot.bootstrap import build
from bot.records import SentReminder
from bot.settings import Settings
from domain.migrate import upgrade
from domain.models import User
from domain.reports import scope_for
from domain.reports.digest import covered_days, daily


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--pg", default=os.environ.get("ORDERTALK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    load_start = os.getloadavg()
    with pg_db(args.pg) as url:
        upgrade(url)
        ot = build(Settings(_env_file=None, database_url=url, run_dispatcher=False, run_scheduler=False,
                            secret_key="digests" * 6, data_dir=tempfile.mkdtemp(), slack_bot_token="xoxb-digests",
                            slack_signing_secret="s", slack_api_url="http://127.0.0.1:9/api/"), clock=lambda: NOW)
        params = {"n": args.orders, "days": DAYS, "sales": SALES, "managers": MANAGERS, "customers": CUSTOMERS,
                  "products": PRODUCTS}
        t0 = time.perf_counter()
        plain = create_engine(url)  # the app's engine has a 30 s statement timeout and pings in a transaction
        with plain.begin() as c:
            for _label, sql in generate():
                c.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
        with plain.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
        plain.dispose()
        print(f"generated in {time.perf_counter() - t0:.0f} s", flush=True)
        with ot.engine.connect() as c:
            counts = {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                      for t in ("orders", "approval_steps", "shipping_tasks", "receivables")}
        print(counts, flush=True)
        tz, cal = ot.settings.tz, ot.settings.calendar
        covered = covered_days(TODAY, cal.previous_work_day(TODAY))
        s = ot.sessions()
        admin, manager = s.get(User, 1), s.get(User, 2)
        assert admin is not None and manager is not None
        rows: list[dict[str, Any]] = []
        for name, reader in (("figures, admin (everyone)", admin), ("figures, a manager's team", manager)):
            scope = scope_for(s, reader)
            ms, figures = timed(lambda scope=scope, reader=reader: daily(s, scope, reader.id, covered, TODAY, tz),
                                args.repeat)
            rows.append({"case": name, "ms": ms, "orders": figures.orders, "approvals": figures.approvals,
                         "overdue": figures.overdue, "late_tasks": figures.late_tasks})
            print(f"  {name}: {ms:.1f} ms ({figures.orders} orders, {figures.approvals} waiting, "
                  f"{figures.overdue} overdue, {figures.late_tasks} late tasks)", flush=True)
        s.close()

        def run(job: str) -> int:
            with ot.engine.begin() as c:
                c.execute(delete(SentReminder).where(SentReminder.key.like(f"digest-{job}:%")))
            return int(getattr(ot.jobs, f"{job}_digest")())

        for job in ("daily", "weekly"):
            t = time.perf_counter()
            sent = run(job)
            first = (time.perf_counter() - t) * 1000
            ms, _ = timed(lambda job=job: run(job), max(2, args.repeat // 3))
            rows.append({"case": f"{job} job", "ms": ms, "first_ms": first, "people": sent})
            print(f"  {job} job: {sent} people, first {first:.0f} ms, then {ms:.0f} ms", flush=True)
        ot.engine.dispose()
    load_end = os.getloadavg()
    print(f"\nDigests: {counts['orders']:,} orders on PostgreSQL; median of {args.repeat} after a warm-up; load "
          f"{load_start[0]:.2f} at start, {load_end[0]:.2f} at end; {os.cpu_count()} CPUs")
    for r in rows:
        print(f"  {r['case']:<32}{r['ms']:>9.1f} ms" + (f"   (first {r['first_ms']:.0f} ms)" if "first_ms" in r else ""))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "digests.json").write_text(json.dumps(
        {"orders": counts["orders"], "counts": counts, "repeat": args.repeat, "load_start": load_start,
         "load_end": load_end, "cpus": os.cpu_count(), "rows": rows}, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
