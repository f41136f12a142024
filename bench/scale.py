"""Scale (issue 8 #4): with 1,000,000 orders in PostgreSQL, the time to answer an order-status query, a "my pending
approvals" query, "my orders" and the overdue scan through the real code paths, next to the bare SQL on the same
indexes; plus the memory (RSS) of the process that built the app and answered them.

    .venv/bin/python -m bench.scale [--orders 1000000] [--repeat 30] [--keep-going]

Each query is timed three ways (median of --repeat runs after one warm-up):
  bot turn  BotCore.handle_message with the text a person sends ("订单 SO-…", "待审批", "我的订单"): dedupe row,
            identify, parse, permission check, the domain query, the card, the reply row in the outbox — one commit;
  domain    the domain function the handler calls (view_order + timeline, pending_for, orders_of,
            overdue_receivables);
  bare SQL  the same rows fetched with hand-written SQL on the same indexes (no ORM).

Data is generated inside PostgreSQL (INSERT … SELECT over generate_series, seeded random()): 2 years of orders,
growing towards today, over 5,000 customers (a few large accounts order most) owned by 200 sales people under 20
managers; 1–3 lines each; statuses by age (recent: pending / approved / shipped; older: mostly completed, some
rejected, cancelled or shipped and unpaid); an approval step + assignment for every submitted order (pending for the
pending ones); shipping task, shipment and receivable for shipped and completed orders (completed: settled);
3 audit rows per order. Results: bench/results/scale.json.
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
from bot.ports import InboundMessage, ReplyTarget
from bot.settings import Settings
from domain import approvals, fulfilment
from domain.audit import timeline
from domain.migrate import upgrade
from domain.models import User
from domain.orders import orders_of, view_order

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
DAYS = 730
SALES, MANAGERS, CUSTOMERS, PRODUCTS = 200, 20, 5000, 500

# Users: 1 admin, 2..21 managers, 100..299 sales (manager 2 + i % 20). Customers belong to one sales person each.
GENERATE: list[tuple[str, str]] = [
    ("seed", "SELECT setseed(0.42)"),
    ("master data", "INSERT INTO warehouses (id, code, name, region) VALUES (1, 'WH-SH', '上海仓', '上海,江苏,浙江'), "
                    "(2, 'WH-GZ', '广州仓', '广东,广西,福建')"),
    ("users", """INSERT INTO users (id, username, display_name, roles, locale, active, manager_id, created_at)
       SELECT 1, 'admin', '管理员', 'admin', 'zh-CN', true, NULL, now()
       UNION ALL SELECT 1 + m, 'mgr' || m, '经理' || m, 'sales_manager', 'zh-CN', true, 1, now()
                 FROM generate_series(1, :managers) m
       UNION ALL SELECT 100 + i, 'sales' || i, '销售' || i, 'sales', CASE WHEN i % 4 = 0 THEN 'en' ELSE 'zh-CN' END,
                        true, 2 + i % :managers, now() FROM generate_series(0, :sales - 1) i"""),
    ("identities", """INSERT INTO platform_identities (platform, external_id, user_id)
       SELECT 'slack', 'U' || lpad(id::text, 6, '0'), id FROM users"""),
    ("customers", """INSERT INTO customers (id, code, name, province, city, address, tier,
                              credit_limit, payment_terms_days, sales_user_id, tax_title, tax_id)
       SELECT i, 'C' || lpad(i::text, 5, '0'), '客户' || i || '有限公司', CASE WHEN i % 3 = 0 THEN '广东' ELSE '浙江' END,
              '杭州', '', CASE WHEN i <= 100 THEN 'A' ELSE 'B' END, 100000000, 30, 100 + i % :sales, '', ''
       FROM generate_series(1, :customers) i"""),
    ("products", """INSERT INTO products (id, sku, name, spec, unit, list_price, safety_stock, active)
       SELECT i, 'SKU-' || lpad(i::text, 4, '0'), '商品' || i, '', '个', 1000 * (1 + i % 50), 0, true
       FROM generate_series(1, :products) i"""),
    # One row per order with everything the other tables derive from it. Age: density falls linearly from today
    # to two years ago (the business grew). Customer: squared uniform, so low ids (big accounts) order most.
    ("plan", """CREATE TEMP TABLE gen AS
       SELECT i AS id, floor(:days * (1 - sqrt(random())))::int AS age, 1 + floor(:customers * random() ^ 2)::int AS cust,
              1 + floor(random() * 3)::int AS nlines, random() AS r, 1 + floor(random() * :products)::int AS p0
       FROM generate_series(1, :n) i"""),
    ("plan status", """ALTER TABLE gen ADD COLUMN status text, ADD COLUMN seq int, ADD COLUMN at timestamptz"""),
    ("plan status", """UPDATE gen SET status = CASE
         WHEN age <= 1 THEN CASE WHEN r < 0.25 THEN 'pending_approval' WHEN r < 0.55 THEN 'approved'
                                 WHEN r < 0.60 THEN 'rejected' WHEN r < 0.65 THEN 'cancelled' ELSE 'shipped' END
         WHEN age <= 14 THEN CASE WHEN r < 0.02 THEN 'pending_approval' WHEN r < 0.10 THEN 'approved'
                                  WHEN r < 0.14 THEN 'rejected' WHEN r < 0.18 THEN 'cancelled' WHEN r < 0.70 THEN 'shipped'
                                  ELSE 'completed' END
         ELSE CASE WHEN r < 0.03 THEN 'rejected' WHEN r < 0.06 THEN 'cancelled' WHEN r < 0.07 THEN 'shipped'
                   ELSE 'completed' END END,
       at = timestamptz '2026-11-23 02:00+00' - age * interval '1 day' + (id % 28800) * interval '1 second'"""),
    ("plan numbers", """UPDATE gen g SET seq = x.seq FROM (
         SELECT id, row_number() OVER (PARTITION BY age ORDER BY id) AS seq FROM gen) x WHERE x.id = g.id"""),
    ("orders", """INSERT INTO orders (id, number, customer_id, sales_user_id, status, notes, channel, total, version,
                           created_at, updated_at)
       SELECT g.id, 'SO-' || to_char(g.at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-' || lpad(g.seq::text, 4, '0'),
              g.cust, c.sales_user_id, g.status, '', 'chat',
              (SELECT sum((1 + (g.id + k * 7) % 20) * 1000 * (1 + ((g.p0 + k - 1) % :products + 1) % 50))
                 FROM generate_series(1, g.nlines) k),
              3, g.at, g.at
       FROM gen g JOIN customers c ON c.id = g.cust"""),
    ("order lines", """INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, list_price, discount_pct,
                                amount, shipped_qty)
       SELECT g.id, k, (g.p0 + k - 1) % :products + 1, 1 + (g.id + k * 7) % 20,
              1000 * (1 + ((g.p0 + k - 1) % :products + 1) % 50), 1000 * (1 + ((g.p0 + k - 1) % :products + 1) % 50), 0,
              (1 + (g.id + k * 7) % 20) * 1000 * (1 + ((g.p0 + k - 1) % :products + 1) % 50),
              CASE WHEN g.status IN ('shipped', 'completed') THEN 1 + (g.id + k * 7) % 20 ELSE 0 END
       FROM gen g CROSS JOIN LATERAL generate_series(1, g.nlines) k"""),
    ("approval steps", """INSERT INTO approval_steps (id, order_id, seq, name, reasons, mode, status, opened_at, decided_at,
                                   decided_by_id, reason)
       SELECT g.id, g.id, 1, '销售经理审批 / Sales manager', 'sales_manager_review', 'any',
              CASE g.status WHEN 'pending_approval' THEN 'pending' WHEN 'rejected' THEN 'rejected'
                            WHEN 'cancelled' THEN 'cancelled' ELSE 'approved' END,
              g.at, CASE WHEN g.status = 'pending_approval' THEN NULL ELSE g.at + interval '2 hours' END,
              CASE WHEN g.status IN ('pending_approval', 'cancelled') THEN NULL ELSE u.manager_id END,
              CASE WHEN g.status = 'rejected' THEN '价格过低' END
       FROM gen g JOIN customers c ON c.id = g.cust JOIN users u ON u.id = c.sales_user_id"""),
    ("approval assignments", """INSERT INTO approval_assignments (step_id, user_id, status, decided_at)
       SELECT s.id, u.manager_id, s.status, s.decided_at
       FROM approval_steps s JOIN orders o ON o.id = s.order_id JOIN users u ON u.id = o.sales_user_id"""),
    ("audit", """INSERT INTO audit_log (order_id, actor_id, platform, at, action, from_status, to_status, details)
       SELECT g.id, c.sales_user_id, 'slack', g.at, a.action, a.f, a.t, '{}'::json
       FROM gen g JOIN customers c ON c.id = g.cust
       CROSS JOIN (VALUES ('created', NULL, 'draft'), ('submitted', 'draft', 'pending_approval')) a(action, f, t)
       UNION ALL
       SELECT g.id, NULL, 'slack', g.at + interval '2 hours', g.status, 'pending_approval', g.status, '{}'::json
       FROM gen g WHERE g.status <> 'pending_approval'"""),
    ("shipping tasks", """INSERT INTO shipping_tasks (id, order_id, warehouse_id, status, created_at, last_shipped_at)
       SELECT g.id, g.id, 1 + (g.cust % 3 = 0)::int,
              CASE WHEN g.status IN ('shipped', 'completed') THEN 'shipped' ELSE 'open' END, g.at + interval '2 hours',
              CASE WHEN g.status IN ('shipped', 'completed') THEN g.at + interval '1 day' END
       FROM gen g WHERE g.status IN ('approved', 'shipped', 'completed')"""),
    ("shipments", """INSERT INTO shipments (id, task_id, order_id, warehouse_id, carrier, tracking_no, amount, shipped_at,
                              shipped_by_id)
       SELECT o.id, o.id, o.id, t.warehouse_id, '顺丰', 'SF' || o.id, o.total, o.created_at + interval '1 day', 1
       FROM orders o JOIN shipping_tasks t ON t.id = o.id WHERE o.status IN ('shipped', 'completed')"""),
    ("receivables", """INSERT INTO receivables (order_id, shipment_id, customer_id, amount, paid, due_date, settled, created_at)
       SELECT o.id, o.id, o.customer_id, o.total, CASE WHEN o.status = 'completed' THEN o.total ELSE 0 END,
              (o.created_at AT TIME ZONE 'Asia/Shanghai')::date + 31, o.status = 'completed', o.created_at + interval '1 day'
       FROM orders o WHERE o.status IN ('shipped', 'completed')"""),
    ("sequences", """SELECT setval(pg_get_serial_sequence(t, 'id'), (SELECT coalesce(max(id), 1) FROM orders))
       FROM unnest(ARRAY['orders', 'approval_steps', 'shipping_tasks', 'shipments']) t"""),
    ("drop plan", "DROP TABLE gen"),
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
    load_start = os.getloadavg()
    with pg_db(args.pg) as url:
        upgrade(url)
        ot = build(Settings(_env_file=None, database_url=url, run_dispatcher=False, run_scheduler=False, secret_key="scale-bench-secret-key-0123456789abcdef",
                            data_dir=tempfile.mkdtemp(), slack_bot_token="xoxb-scale", slack_signing_secret="s",
                            slack_api_url="http://127.0.0.1:9/api/"), clock=lambda: NOW)
        params = {"n": args.orders, "days": DAYS, "sales": SALES, "managers": MANAGERS, "customers": CUSTOMERS,
                  "products": PRODUCTS}
        t = time.perf_counter()
        steps: dict[str, float] = {}
        with ot.engine.begin() as c:
            for label, sql in GENERATE:
                t1 = time.perf_counter()
                c.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
                steps[label] = steps.get(label, 0) + time.perf_counter() - t1
        with ot.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
        load_s = time.perf_counter() - t
        print(f"generated in {load_s:.0f} s: " + ", ".join(f"{k} {v:.0f}s" for k, v in steps.items()), flush=True)
        with ot.engine.connect() as c:
            counts = {tbl: c.execute(text(f"SELECT count(*) FROM {tbl}")).scalar_one()
                      for tbl in ("orders", "order_lines", "audit_log", "approval_steps", "approval_assignments",
                                  "shipments", "receivables")}
            by_status = dict(c.execute(text("SELECT status, count(*) FROM orders GROUP BY status ORDER BY 2 DESC")).all())
            # the busiest manager and sales person: the slowest "my …" answers
            manager_id = c.execute(text("SELECT user_id FROM approval_assignments WHERE status = 'pending' "
                                        "GROUP BY user_id ORDER BY count(*) DESC LIMIT 1")).scalar_one()
            sales_id = c.execute(text("SELECT sales_user_id FROM orders GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar_one()
            number, owner = c.execute(text("SELECT number, sales_user_id FROM orders WHERE id = :i"),
                                      {"i": args.orders // 2 + 7}).one()
            overdue_open = c.execute(text("SELECT count(*) FROM receivables WHERE NOT settled AND due_date < :d"),
                                     {"d": TODAY}).scalar_one()
        print(f"{counts}\nstatus {by_status}; overdue {overdue_open}", flush=True)
        ext = {uid: f"U{uid:06d}" for uid in (manager_id, sales_id, owner)}
        seq = iter(range(10**9))

        def turn(uid: int, said: str) -> Any:
            n = next(seq)
            replies = ot.core.handle_message(InboundMessage(
                platform="slack", external_user_id=ext[uid], text=said, event_id=f"scale-{n}",
                reply_to=ReplyTarget(recipient=f"D{uid:06d}")))
            card = replies[0].card if replies and replies[0].card else None
            return f"{len(replies)} replies, first: {card.title if card else replies[0].text if replies else '-'}"[:70]

        s = ot.sessions()

        def domain_status() -> Any:
            s.expunge_all()
            user = s.get(User, owner)
            order = view_order(s, user, number)  # type: ignore[arg-type]
            return order.number, len(order.lines), len(timeline(s, order.id))

        def bare_status() -> Any:
            with ot.engine.connect() as c:
                o = c.execute(text("SELECT * FROM orders WHERE number = :n"), {"n": number}).one()
                c.execute(text("SELECT * FROM customers WHERE id = :c"), {"c": o.customer_id}).one()
                lines = c.execute(text("SELECT l.*, p.sku, p.name FROM order_lines l JOIN products p ON p.id = l.product_id "
                                       "WHERE l.order_id = :o ORDER BY l.line_no"), {"o": o.id}).all()
                audit = c.execute(text("SELECT * FROM audit_log WHERE order_id = :o ORDER BY id"), {"o": o.id}).all()
                return o.number, len(lines), len(audit)

        def domain_pending() -> Any:
            s.expunge_all()
            return len(approvals.pending_for(s, manager_id))

        def bare_pending() -> Any:
            with ot.engine.connect() as c:
                rows = c.execute(text(
                    "SELECT s.*, o.* FROM approval_assignments a JOIN approval_steps s ON s.id = a.step_id "
                    "JOIN orders o ON o.id = s.order_id WHERE a.user_id = :u AND a.status = 'pending' ORDER BY s.opened_at"),
                    {"u": manager_id}).all()
                c.execute(text("SELECT * FROM order_lines WHERE order_id = ANY(:ids)"), {"ids": [r.order_id for r in rows]}).all()
                return len(rows)

        def domain_mine() -> Any:
            s.expunge_all()
            user = s.get(User, sales_id)
            return len(orders_of(s, user))  # type: ignore[arg-type]

        def bare_mine() -> Any:
            with ot.engine.connect() as c:
                return len(c.execute(text("SELECT * FROM orders WHERE sales_user_id = :u ORDER BY created_at DESC, id DESC "
                                          "LIMIT 10"), {"u": sales_id}).all())

        def domain_overdue() -> Any:
            s.expunge_all()
            return len(fulfilment.overdue_receivables(s, TODAY))

        def bare_overdue() -> Any:
            with ot.engine.connect() as c:
                return len(c.execute(text(
                    "SELECT r.id, r.order_id, o.number, c.name, o.sales_user_id, u.manager_id, r.amount, r.paid, r.due_date, "
                    "r.promised_date, r.snoozed_until FROM receivables r JOIN orders o ON o.id = r.order_id "
                    "JOIN customers c ON c.id = r.customer_id JOIN users u ON u.id = o.sales_user_id "
                    "WHERE NOT r.settled AND r.due_date < :d ORDER BY r.due_date, r.id"), {"d": TODAY}).all())

        queries: list[tuple[str, Callable[[], Any] | None, Callable[[], Any], Callable[[], Any]]] = [
            (f"order status ({number}, its sales person)", lambda: turn(owner, f"订单 {number}"), domain_status, bare_status),
            (f"my pending approvals (manager {manager_id})", lambda: turn(manager_id, "待审批"), domain_pending, bare_pending),
            (f"my orders (sales {sales_id}, latest 10)", lambda: turn(sales_id, "我的订单"), domain_mine, bare_mine),
            ("overdue scan (every open, past-due receivable)", None, domain_overdue, bare_overdue),
        ]
        rows: list[dict[str, Any]] = []
        for name, bot_fn, dom_fn, bare_fn in queries:
            bot_ms, bot_out = p50(bot_fn, args.repeat) if bot_fn else (None, None)
            d_ms, d_out = p50(dom_fn, args.repeat)
            b_ms, b_out = p50(bare_fn, args.repeat)
            rows.append({"query": name, "bot_ms": bot_ms, "domain_ms": d_ms, "bare_ms": b_ms, "bot": bot_out,
                         "domain": str(d_out), "bare": str(b_out)})
            print(f"  {name}: bot {bot_ms if bot_ms is None else round(bot_ms, 2)} ms, domain {d_ms:.2f} ms, "
                  f"bare {b_ms:.2f} ms", flush=True)
        with ot.engine.connect() as c:
            plans = {q: "\n".join(r[0] for r in c.execute(text("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + q), p))
                     for q, p in (
                         ("SELECT * FROM orders WHERE number = :n", {"n": number}),
                         ("SELECT * FROM approval_assignments WHERE user_id = :u AND status = 'pending'", {"u": manager_id}),
                         ("SELECT * FROM orders WHERE sales_user_id = :u ORDER BY created_at DESC, id DESC LIMIT 10",
                          {"u": sales_id}),
                         ("SELECT * FROM receivables WHERE settled = false AND due_date < :d", {"d": TODAY}))}
            db_mb = c.execute(text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20
        s.close()
        now_mb, peak_mb = rss_mb()
        ot.engine.dispose()

    load_end = os.getloadavg()
    print(f"\nScale: {counts['orders']:,} orders on PostgreSQL ({db_mb:,.0f} MB); median of {args.repeat} after a warm-up; "
          f"load {load_start[0]:.2f} at start, {load_end[0]:.2f} now; {os.cpu_count()} CPUs")
    print(f"{'query':<52}{'bot turn':>9}{'domain':>9}{'bare SQL':>9}{'dom÷bare':>9}  rows (domain / bare)")
    for r in rows:
        bot = f"{r['bot_ms']:.2f}" if r["bot_ms"] is not None else "—"
        print(f"{r['query']:<52}{bot:>9}{r['domain_ms']:>9.2f}{r['bare_ms']:>9.2f}{r['domain_ms'] / r['bare_ms']:>9.1f}  "
              f"{r['domain']} / {r['bare']}")
    print("(ms; bot turn = BotCore.handle_message including its commit and reply row)")
    print(f"process RSS {now_mb:.0f} MB (peak {peak_mb:.0f} MB) after building the app and answering all of the above")
    for q, plan in plans.items():
        print(f"\n{q}\n  " + plan.replace("\n", "\n  "))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps({
        "at": datetime.now(UTC).isoformat(), "cpus": os.cpu_count(), "load_at_start": load_start, "load_at_end": load_end,
        "counts": counts, "orders_by_status": by_status, "overdue_open": overdue_open, "db_mb": db_mb, "load_s": load_s,
        "load_steps_s": steps, "rows": rows, "rss_mb": now_mb, "peak_rss_mb": peak_mb, "plans": plans}, indent=2))


if __name__ == "__main__":
    main()
