"""Scale (issue 8 #4): with 1,000,000 orders in PostgreSQL, the time to answer an order-status query, a "my pending
approvals" query and the overdue scan through the real code paths, next to the bare SQL on the same indexes; plus
the memory (RSS) of the process that built the app and answered them.

    .venv/bin/python -m bench.scale [--orders 1000000] [--repeat 30]

Data is generated inside PostgreSQL (INSERT … SELECT generate_series): 1M orders with a line each and two audit
rows each, 0.1 % pending approval (1,000 steps over 10 managers), 20 % shipped with a task, a shipment and a
receivable (2 % of those unpaid, spread from 60 days overdue to 30 days ahead). Results: bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from bench.domain import RESULTS, pg_db
from bot.bootstrap import build
from bot.settings import Settings
from domain import approvals, fulfilment
from domain.audit import timeline
from domain.migrate import upgrade
from domain.models import User
from domain.orders import view_order

TODAY = date(2026, 11, 23)

GENERATE = [
    "INSERT INTO warehouses (id, code, name, region) VALUES (1, 'WH-SH', '上海仓', '上海')",
    "INSERT INTO users (id, username, display_name, roles, locale, active, created_at) "
    "VALUES (1, 'admin', '管理员', 'admin', 'zh-CN', true, now())",
    """INSERT INTO users (id, username, display_name, roles, locale, active, manager_id, created_at)
       SELECT 1 + m, 'mgr' || m, '经理' || m, 'sales_manager', 'zh-CN', true, 1, now() FROM generate_series(1, 10) m""",
    """INSERT INTO users (id, username, display_name, roles, locale, active, manager_id, created_at)
       SELECT 100 + i, 'sales' || i, '销售' || i, 'sales', 'zh-CN', true, 2 + i % 10, now() FROM generate_series(0, 199) i""",
    """INSERT INTO customers (id, code, name, province, city, address, contact_name, contact_phone, tier, credit_limit,
                              payment_terms_days, sales_user_id)
       SELECT i, 'C' || lpad(i::text, 5, '0'), '客户' || i || '有限公司', '浙江', '杭州', '', '', '', 'B', 10000000, 30,
              100 + i % 200 FROM generate_series(1, 2000) i""",
    """INSERT INTO products (id, sku, name, spec, unit, list_price, safety_stock)
       SELECT i, 'SKU-' || lpad(i::text, 3, '0'), '商品' || i, '', '个', 12000, 0 FROM generate_series(1, 100) i""",
    """INSERT INTO orders (id, number, customer_id, sales_user_id, status, notes, channel, total, version, created_at, updated_at)
       SELECT i, 'SO-' || to_char(date '2026-11-23' - (i % 90), 'YYYYMMDD') || '-' || lpad((i / 90 + 1)::text, 5, '0'),
              1 + i % 2000, 100 + (i % 2000) % 200,
              CASE WHEN i % 1000 = 0 THEN 'pending_approval' WHEN i % 100 < 20 THEN 'shipped' WHEN i % 100 < 75 THEN 'completed'
                   WHEN i % 100 < 88 THEN 'approved' WHEN i % 100 < 94 THEN 'rejected' ELSE 'cancelled' END,
              '', 'chat', 120000, 2, timestamptz '2026-11-23 02:00+00' - (i % 90) * interval '1 day',
              timestamptz '2026-11-23 02:00+00' - (i % 90) * interval '1 day'
       FROM generate_series(1, :n) i""",
    """INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, list_price, discount_pct, amount, shipped_qty)
       SELECT i, 1, 1 + i % 100, 10, 12000, 12000, 0, 120000, 0 FROM generate_series(1, :n) i""",
    """INSERT INTO audit_log (order_id, actor_id, platform, at, action, from_status, to_status, details)
       SELECT i, 100 + (i % 2000) % 200, 'slack', o.created_at, a.action, a.f, a.t, '{}'::json
       FROM generate_series(1, :n) i JOIN orders o ON o.id = i
       CROSS JOIN (VALUES ('created', NULL, 'draft'), ('submitted', 'draft', 'pending_approval')) a(action, f, t)""",
    """INSERT INTO approval_steps (id, order_id, seq, name, reasons, mode, status, opened_at)
       SELECT i / 1000, i, 1, '销售经理审批 / Sales manager', 'sales_manager_review', 'any', 'pending',
              timestamptz '2026-11-23 02:00+00' - (i % 90) * interval '1 day'
       FROM generate_series(1000, :n, 1000) i""",
    """INSERT INTO approval_assignments (step_id, user_id, status) SELECT i / 1000, 2 + (i / 1000) % 10, 'pending'
       FROM generate_series(1000, :n, 1000) i""",
    """INSERT INTO shipping_tasks (id, order_id, warehouse_id, status, created_at)
       SELECT id, id, 1, 'shipped', created_at FROM orders WHERE status = 'shipped'""",
    """INSERT INTO shipments (id, task_id, order_id, warehouse_id, carrier, tracking_no, amount, shipped_at, shipped_by_id)
       SELECT id, id, id, 1, '顺丰', 'SF' || id, 120000, created_at, 1 FROM orders WHERE status = 'shipped'""",
    """INSERT INTO receivables (order_id, shipment_id, customer_id, amount, paid, due_date, settled, created_at)
       SELECT id, id, customer_id, 120000, CASE WHEN id % 50 = 0 THEN 0 ELSE 120000 END,
              date '2026-11-23' - 60 + (id % 91), id % 50 <> 0, created_at FROM orders WHERE status = 'shipped'""",
    "SELECT setval(pg_get_serial_sequence('approval_steps', 'id'), (SELECT max(id) FROM approval_steps))",
    "ANALYZE",
]


def p50(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    fn()  # warm: plans, caches, imports
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def rss_mb() -> tuple[float, float]:
    with open("/proc/self/status") as f:
        now = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024
    return now, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--pg", default=os.environ.get("ORDERTALK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    with pg_db(args.pg) as url:
        upgrade(url)
        ot = build(Settings(_env_file=None, database_url=url, run_dispatcher=False, run_scheduler=False, secret_key="scale",
                            data_dir=tempfile.mkdtemp()))
        t = time.perf_counter()
        with ot.engine.begin() as c:
            for sql in GENERATE:
                c.execute(text(sql), {"n": args.orders} if ":n" in sql else {})
        load_s = time.perf_counter() - t
        with ot.engine.connect() as c:
            counts = {tbl: c.execute(text(f"SELECT count(*) FROM {tbl}")).scalar_one()
                      for tbl in ("orders", "order_lines", "audit_log", "approval_steps", "receivables")}
            number = c.execute(text("SELECT number FROM orders WHERE id = :i"), {"i": args.orders // 2 + 7}).scalar_one()
        print(f"loaded in {load_s:.0f} s: {counts}", flush=True)

        s = ot.sessions()
        manager = s.get(User, 3)
        assert manager is not None
        rows: list[dict[str, Any]] = []

        def ours_status() -> Any:
            s.expunge_all()
            m = s.get(User, 3)
            order = view_order(s, m, number)  # type: ignore[arg-type]
            return order.number, len(order.lines), len(timeline(s, order.id))

        def bare_status() -> Any:
            with ot.engine.connect() as c:
                o = c.execute(text("SELECT * FROM orders WHERE number = :n"), {"n": number}).one()
                lines = c.execute(text("SELECT * FROM order_lines WHERE order_id = :o"), {"o": o.id}).all()
                audit = c.execute(text("SELECT * FROM audit_log WHERE order_id = :o ORDER BY id"), {"o": o.id}).all()
                return o.number, len(lines), len(audit)

        def ours_pending() -> Any:
            s.expunge_all()
            return len(approvals.pending_for(s, 3))

        def bare_pending() -> Any:
            with ot.engine.connect() as c:
                return len(c.execute(text(
                    "SELECT s.*, o.* FROM approval_assignments a JOIN approval_steps s ON s.id = a.step_id "
                    "JOIN orders o ON o.id = s.order_id WHERE a.user_id = 3 AND a.status = 'pending' ORDER BY s.opened_at")).all())

        def ours_overdue() -> Any:
            s.expunge_all()
            return len(fulfilment.overdue_receivables(s, TODAY))

        def bare_overdue() -> Any:
            with ot.engine.connect() as c:
                return len(c.execute(text("SELECT * FROM receivables WHERE settled = false AND due_date < :d ORDER BY due_date, id"),
                                     {"d": TODAY}).all())

        for name, ours, bare in (("order status (SO-… with lines and timeline)", ours_status, bare_status),
                                 ("my pending approvals (a manager)", ours_pending, bare_pending),
                                 ("overdue scan (all open, past due)", ours_overdue, bare_overdue)):
            o_ms, o_out = p50(ours, args.repeat)
            b_ms, b_out = p50(bare, args.repeat)
            rows.append({"query": name, "ours_ms": o_ms, "bare_ms": b_ms, "ratio": o_ms / b_ms, "ours": str(o_out), "bare": str(b_out)})
        with ot.engine.connect() as c:
            plans = {q: "\n".join(r[0] for r in c.execute(text("EXPLAIN " + q), p)) for q, p in (
                ("SELECT * FROM orders WHERE number = :n", {"n": number}),
                ("SELECT * FROM approval_assignments WHERE user_id = 3 AND status = 'pending'", {}),
                ("SELECT * FROM receivables WHERE settled = false AND due_date < :d", {"d": TODAY}))}
        s.close()
        now_mb, peak_mb = rss_mb()
        ot.engine.dispose()

    print(f"\nScale: {counts['orders']:,} orders on PostgreSQL; median of {args.repeat}; load {os.getloadavg()[0]:.2f}")
    print(f"{'query':<46}{'ours ms':>9}{'bare SQL ms':>12}{'ratio':>7}  rows")
    for r in rows:
        print(f"{r['query']:<46}{r['ours_ms']:>9.2f}{r['bare_ms']:>12.2f}{r['ratio']:>7.1f}  {r['ours']} / {r['bare']}")
    print(f"process RSS {now_mb:.0f} MB (peak {peak_mb:.0f} MB)")
    for q, plan in plans.items():
        print(f"\n{q}\n  " + plan.replace("\n", "\n  "))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps({"at": datetime.now(UTC).isoformat(), "counts": counts, "load_s": load_s,
                                                    "rows": rows, "rss_mb": now_mb, "peak_rss_mb": peak_mb, "plans": plans},
                                                   indent=2))


if __name__ == "__main__":
    main()
