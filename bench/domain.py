"""Domain throughput and hot-SKU contention, on SQLite and PostgreSQL (issue 2).

    .venv/bin/python -m bench.domain [--orders 300] [--threads-sqlite 16] [--threads-pg 64] [--units 100]
        [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-pg]

1. Orders created + submitted + approved per second through the real services (create_order, decide), next to a
   raw-SQL baseline writing the same rows (order, lines, conditional stock updates, reservations, approval step and
   assignment, audit rows, status change, shipping task) on the same connection pool, in the same two transactions
   per order. Printed as a ratio.
2. Hot SKU: N threads order 1–5 units at a time of one product that has M units left, until it is gone; throughput
   and the oversell count (must be 0), read back from the database (units held by reservations ≤ M, the stock row's
   reserved count matches, and a sampler on its own connection never sees available < 0), next to the same orders
   written in raw SQL (conditional UPDATE, rolled back when short).

Each run gets its own SQLite file / PostgreSQL database, dropped afterwards. Results go to bench/results/domain.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from bot.settings import DEFAULT_RULES
from domain import approvals
from domain.audit import Actor
from domain.db import make_engine, make_session_factory
from domain.errors import InsufficientStock
from domain.migrate import upgrade
from domain.models import ApprovalStep, Customer, Product, Role, Stock, User, Warehouse
from domain.orders import LineRequest, OrderRequest, Policy, create_order
from domain.rules import load_rules
from domain.uow import UnitOfWork

RESULTS = Path(__file__).parent / "results"
TODAY = date(2026, 11, 23)


# ------------------------------------------------------------------ databases
@contextmanager
def sqlite_db() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as d:
        yield f"sqlite:///{d}/bench.db"


@contextmanager
def pg_db(admin_url: str) -> Iterator[str]:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"ordertalk_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def world(sessions: sessionmaker[Session], products: int, on_hand: int) -> dict[str, Any]:
    with sessions() as s:
        wh = Warehouse(code="WH-SH", name="上海仓", region="上海,江苏,浙江")
        s.add(wh)
        s.flush()
        boss = User(username="wang", display_name="王经理", locale="zh-CN")
        boss.roles = {Role.SALES_MANAGER}
        sales = User(username="li", display_name="李四", locale="zh-CN", manager=boss)
        sales.roles = {Role.SALES}
        s.add_all([boss, sales])
        s.flush()
        c = Customer(code="C001", name="杭州华兴电子有限公司", province="浙江", city="杭州", tier="A",
                     credit_limit=Decimal("100000000"), payment_terms_days=30, sales_user_id=sales.id)
        s.add(c)
        # two more products for the hot-SKU runs (services, raw SQL), untouched by the throughput runs
        ps = [Product(sku=f"SKU-{i:03d}", name=f"商品 {i}", list_price=Decimal("12.50"), safety_stock=0)
              for i in range(products + 2)]
        s.add_all(ps)
        s.flush()
        s.add_all([Stock(warehouse_id=wh.id, product_id=p.id, on_hand=on_hand) for p in ps])
        s.commit()
        return {"wh": wh.id, "boss": boss.id, "sales": sales.id, "customer": c.id,
                "products": [p.id for p in ps[:products]], "hot": [p.id for p in ps[products:]]}


def policy() -> Policy:
    return Policy(rules=load_rules(DEFAULT_RULES), order_prefix="SO", local_today=TODAY)


def clock() -> datetime:
    return datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


# ------------------------------------------------------------------ 1. throughput
def services_run(sessions: sessionmaker[Session], w: dict[str, Any], n: int) -> float:
    pol, rng = policy(), random.Random(1)
    started = time.perf_counter()
    for _ in range(n):
        uow = UnitOfWork(sessions, clock)
        with uow:
            sales = uow.session.get(User, w["sales"])
            assert sales is not None
            lines = [LineRequest(pid, rng.randint(1, 5)) for pid in rng.sample(w["products"], 2)]
            order = create_order(uow, sales, OrderRequest(w["customer"], lines), pol, Actor(sales.id, "bench"))
            uow.commit()
            order_id = order.id
        uow = UnitOfWork(sessions, clock)
        with uow:
            boss = uow.session.get(User, w["boss"])
            assert boss is not None
            step = uow.session.scalars(select(ApprovalStep).where(ApprovalStep.order_id == order_id)).one()
            approvals.decide(uow, step.id, boss, True, Actor(boss.id, "bench"))
            uow.commit()
    return time.perf_counter() - started


AUDIT = text("INSERT INTO audit_log (order_id, actor_id, platform, at, action, from_status, to_status, details) "
             "VALUES (:o, :a, 'bench', :at, :act, :f, :t, CAST(:d AS JSON))")


def cents(amount: Decimal) -> int:
    """Money columns hold integer cents (domain.types.Money); raw SQL binds what that type would."""
    return int(amount * 100)


class Refused(Exception):
    """Raw SQL's "not enough stock": rolls the order's transaction back, as InsufficientStock does."""


def raw_create(c: Connection, w: dict[str, Any], lines: list[tuple[int, int]]) -> tuple[int, int]:
    """Order + lines + conditional stock updates + reservations + step + assignment + 3 audit rows (as create_order
    writes them): the same rows by hand, no ORM, no rules, no events — what the database alone costs."""
    now = clock()
    key = f"RAW-{TODAY:%Y%m%d}"
    c.execute(text("INSERT INTO order_sequences (key, last) VALUES (:k, 0) ON CONFLICT DO NOTHING"), {"k": key})
    seq = c.execute(text("UPDATE order_sequences SET last = last + 1 WHERE key = :k RETURNING last"), {"k": key}).scalar_one()
    oid = c.execute(text(
        "INSERT INTO orders (number, customer_id, sales_user_id, status, notes, channel, total, version, created_at, updated_at) "
        "VALUES (:n, :c, :s, 'pending_approval', '', 'chat', 0, 1, :now, :now) RETURNING id"),
        {"n": f"{key}-{seq:04d}", "c": w["customer"], "s": w["sales"], "now": now}).scalar_one()
    total = Decimal("0.00")
    for line_no, (pid, qty) in enumerate(lines, start=1):
        amount = Decimal("12.50") * qty
        total += amount
        lid = c.execute(text(
            "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, list_price, discount_pct, amount, shipped_qty) "
            "VALUES (:o, :l, :p, :q, :price, :price, 0, :amt, 0) RETURNING id"),
            {"o": oid, "l": line_no, "p": pid, "q": qty, "price": cents(Decimal("12.50")), "amt": cents(amount)}).scalar_one()
        got = c.execute(text("UPDATE stock SET reserved = reserved + :q WHERE warehouse_id = :w AND product_id = :p "
                             "AND on_hand - reserved >= :q"), {"q": qty, "w": w["wh"], "p": pid}).rowcount
        if got != 1:
            raise Refused
        c.execute(text("INSERT INTO reservations (order_id, order_line_id, warehouse_id, product_id, quantity, shipped) "
                       "VALUES (:o, :l, :w, :p, :q, 0)"), {"o": oid, "l": lid, "w": w["wh"], "p": pid, "q": qty})
    c.execute(text("UPDATE orders SET total = :t WHERE id = :o"), {"t": cents(total), "o": oid})
    sid = c.execute(text("INSERT INTO approval_steps (order_id, seq, name, reasons, mode, status, opened_at) "
                         "VALUES (:o, 1, 'manager', 'r', 'any', 'pending', :now) RETURNING id"),
                    {"o": oid, "now": now}).scalar_one()
    c.execute(text("INSERT INTO approval_assignments (step_id, user_id, status) VALUES (:s, :u, 'pending')"),
              {"s": sid, "u": w["boss"]})
    for act, f, t in (("created", None, "draft"), ("submitted", "draft", "pending_approval"), ("approval_requested", None, None)):
        c.execute(AUDIT, {"o": oid, "a": w["sales"], "at": now, "act": act, "f": f, "t": t, "d": "{}"})
    return oid, sid


def raw_approve(c: Connection, w: dict[str, Any], oid: int, sid: int) -> None:
    """Lock the order, decide assignment and step, order approved, shipping task, 3 audit rows (as decide writes)."""
    now = clock()
    c.execute(text("SELECT id FROM orders WHERE id = :o" + (" FOR UPDATE" if c.dialect.name == "postgresql" else "")),
              {"o": oid})
    c.execute(text("UPDATE approval_assignments SET status = 'approved', decided_at = :now WHERE step_id = :s"),
              {"s": sid, "now": now})
    c.execute(text("UPDATE approval_steps SET status = 'approved', decided_at = :now, decided_by_id = :u WHERE id = :s"),
              {"s": sid, "u": w["boss"], "now": now})
    c.execute(text("UPDATE orders SET status = 'approved', version = version + 2, updated_at = :now WHERE id = :o"),
              {"o": oid, "now": now})
    c.execute(text("INSERT INTO shipping_tasks (order_id, warehouse_id, status, created_at) VALUES (:o, :w, 'open', :now)"),
              {"o": oid, "w": w["wh"], "now": now})
    for act, f, t in (("approve", None, None), ("approved", "pending_approval", "approved"), ("task_created", None, None)):
        c.execute(AUDIT, {"o": oid, "a": w["boss"], "at": now, "act": act, "f": f, "t": t, "d": "{}"})


def raw_run(engine: Engine, w: dict[str, Any], n: int) -> float:
    rng = random.Random(1)
    started = time.perf_counter()
    for _ in range(n):
        with engine.begin() as c:
            oid, sid = raw_create(c, w, [(pid, rng.randint(1, 5)) for pid in rng.sample(w["products"], 2)])
        with engine.begin() as c:
            raw_approve(c, w, oid, sid)
    return time.perf_counter() - started


# ------------------------------------------------------------------ 2. hot SKU
def threads(n: int, fn: Callable[[int], None]) -> float:
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        barrier.wait()
        fn(i)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    started = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - started


def _why(e: BaseException) -> str:
    """An error's kind for the table: its type and the first line of its message (pool wait, deadlock, …)."""
    first = str(e).strip().splitlines()[0][:90] if str(e).strip() else ""
    return f"{type(e).__name__}: {first}"


def set_left(engine: Engine, pid: int, units: int) -> int:
    """Leave exactly `units` available of product `pid`; returns what was reserved before."""
    with engine.begin() as c:
        before = c.execute(text("SELECT reserved FROM stock WHERE product_id = :p"), {"p": pid}).scalar_one()
        c.execute(text("UPDATE stock SET on_hand = reserved + :u WHERE product_id = :p"), {"u": units, "p": pid})
    return int(before)


class StockWatch:
    """Samples the hot stock row from its own connection while the clients run: the lowest available seen."""

    def __init__(self, url: str, pid: int) -> None:
        # a plain engine: the app's SQLite engine opens every transaction with BEGIN IMMEDIATE, a reader must not
        self.engine = create_engine(url, poolclass=NullPool)
        self.pid = pid
        self.lowest: int | None = None
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self.engine.connect() as c:
            while not self._stop.is_set():
                left = c.execute(text("SELECT on_hand - reserved FROM stock WHERE product_id = :p"), {"p": self.pid}).scalar_one()
                c.rollback()
                self.lowest = left if self.lowest is None else min(self.lowest, left)
                self.samples += 1
                self._stop.wait(0.005)

    def __enter__(self) -> StockWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.engine.dispose()


def verify(engine: Engine, pid: int, units: int, reserved_before: int, watch: StockWatch) -> dict[str, Any]:
    """What the database says after the run: units held or shipped for the product's new orders vs what was left."""
    with engine.connect() as c:
        held = c.execute(text("SELECT count(DISTINCT order_id), coalesce(sum(quantity + shipped), 0) FROM reservations "
                              "WHERE product_id = :p"), {"p": pid}).one()
        on_hand, reserved = c.execute(text("SELECT on_hand, reserved FROM stock WHERE product_id = :p"), {"p": pid}).one()
    taken = int(held[1])
    return {"db_orders": int(held[0]), "db_units": taken, "oversell": max(0, taken - units),
            "reserved_matches": reserved - reserved_before == taken, "final_available": on_hand - reserved,
            "lowest_available_seen": watch.lowest, "samples": watch.samples,
            "stock_negative": (on_hand - reserved) < 0 or (watch.lowest is not None and watch.lowest < 0)}


def hot_services(url: str, engine: Engine, sessions: sessionmaker[Session], w: dict[str, Any], n_threads: int,
                 units: int) -> dict[str, Any]:
    pid = w["hot"][0]
    before = set_left(engine, pid, units)
    pol = policy()
    lock = threading.Lock()
    tally = {"orders": 0, "units": 0, "refused": 0, "errors": 0}
    why: Counter[str] = Counter()

    def client(i: int) -> None:
        rng = random.Random(i)
        misses = 0
        while misses < 3:  # a few refusals in a row: the product is gone for this client's sizes
            qty = rng.randint(1, 5)
            uow = UnitOfWork(sessions, clock)
            try:
                with uow:
                    sales = uow.session.get(User, w["sales"])
                    assert sales is not None
                    create_order(uow, sales, OrderRequest(w["customer"], [LineRequest(pid, qty)]), pol, Actor(sales.id, "bench"))
                    uow.commit()
                with lock:
                    tally["orders"] += 1
                    tally["units"] += qty
                misses = 0
            except InsufficientStock:
                misses += 1
                with lock:
                    tally["refused"] += 1
            except Exception as e:  # a lost race that the domain did not turn into a clean refusal: counted, shown
                with lock:
                    tally["errors"] += 1
                    why[_why(e)] += 1
                misses += 1

    with StockWatch(url, pid) as watch:
        elapsed = threads(n_threads, client)
    attempts = tally["orders"] + tally["refused"] + tally["errors"]
    return {**tally, "error_kinds": dict(why.most_common()), "seconds": elapsed, "attempts_per_s": attempts / elapsed, "orders_per_s": tally["orders"] / elapsed,
            **verify(engine, pid, units, before, watch)}


def hot_raw(url: str, engine: Engine, w: dict[str, Any], n_threads: int, units: int) -> dict[str, Any]:
    """The same contention with the same rows written by raw SQL (raw_create: conditional UPDATE, rollback if short)."""
    pid = w["hot"][1]
    before = set_left(engine, pid, units)
    lock = threading.Lock()
    tally = {"orders": 0, "units": 0, "refused": 0, "errors": 0}
    why: Counter[str] = Counter()

    def client(i: int) -> None:
        rng = random.Random(i)
        misses = 0
        while misses < 3:
            qty = rng.randint(1, 5)
            try:
                with engine.begin() as c:
                    raw_create(c, w, [(pid, qty)])
                with lock:
                    tally["orders"] += 1
                    tally["units"] += qty
                misses = 0
            except Refused:
                misses += 1
                with lock:
                    tally["refused"] += 1
            except Exception as e:  # e.g. a deadlock or serialisation failure: counted, shown
                with lock:
                    tally["errors"] += 1
                    why[_why(e)] += 1
                misses += 1

    with StockWatch(url, pid) as watch:
        elapsed = threads(n_threads, client)
    attempts = tally["orders"] + tally["refused"] + tally["errors"]
    return {**tally, "error_kinds": dict(why.most_common()), "seconds": elapsed, "attempts_per_s": attempts / elapsed, "orders_per_s": tally["orders"] / elapsed,
            **verify(engine, pid, units, before, watch)}


# ------------------------------------------------------------------ driver
def bench_backend(name: str, url: str, orders: int, n_threads: int, units: int) -> dict[str, Any]:
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        w = world(sessions, products=20, on_hand=1_000_000)
        services_run(sessions, w, 10)  # warm-up: imports, caches, prepared plans
        ours = services_run(sessions, w, orders)
        base = raw_run(engine, w, orders)
        hot = hot_services(url, engine, sessions, w, n_threads, units)
        hot_base = hot_raw(url, engine, w, n_threads, units)
    finally:
        engine.dispose()
    return {
        "backend": name, "orders": orders,
        "ours_orders_per_s": orders / ours, "baseline_orders_per_s": orders / base, "ratio": (orders / ours) / (orders / base),
        "hot": {"threads": n_threads, "units": units, "ours": hot, "baseline": hot_base,
                "ratio": hot["attempts_per_s"] / hot_base["attempts_per_s"]},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--orders", type=int, default=300)
    ap.add_argument("--threads-sqlite", type=int, default=16)
    ap.add_argument("--threads-pg", type=int, default=64)
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--pg", default=os.environ.get("ORDERTALK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    load_start = os.getloadavg()

    runs = []
    with sqlite_db() as url:
        runs.append(bench_backend("sqlite", url, args.orders, args.threads_sqlite, args.units))
    if not args.no_pg:
        with pg_db(args.pg) as url:
            runs.append(bench_backend("postgresql", url, args.orders, args.threads_pg, args.units))

    load = os.getloadavg()
    print(f"\nOrders created + submitted + approved, one at a time ({args.orders} each; "
          f"load {load_start[0]:.2f} at start, {load[0]:.2f} now; {os.cpu_count()} CPUs)")
    print(f"{'backend':<11} {'services/s':>10} {'raw SQL/s':>10} {'ratio':>7}")
    for r in runs:
        print(f"{r['backend']:<11} {r['ours_orders_per_s']:>10.1f} {r['baseline_orders_per_s']:>10.1f} {r['ratio']:>7.2f}")
    print(f"\nHot SKU: {args.units} units left of one product; each client orders 1–5 until 3 refusals in a row "
          f"(oversell and stock read back from the database)")
    print(f"{'backend':<11} {'path':<9} {'threads':>7} {'orders':>7} {'units':>6} {'refused':>7} {'errors':>6} "
          f"{'attempts/s':>10} {'orders/s':>9} {'oversell':>8} {'min avail':>9} {'reserved ok':>11}")
    for r in runs:
        h = r["hot"]
        for path, o in (("services", h["ours"]), ("raw SQL", h["baseline"])):
            print(f"{r['backend']:<11} {path:<9} {h['threads']:>7} {o['db_orders']:>7} {o['db_units']:>6} {o['refused']:>7} "
                  f"{o['errors']:>6} {o['attempts_per_s']:>10.1f} {o['orders_per_s']:>9.1f} {o['oversell']:>8} "
                  f"{o['lowest_available_seen']!s:>9} {o['reserved_matches']!s:>11}")
        print(f"{'':<11} {'ratio':<9} {'':>7} {'':>7} {'':>6} {'':>7} {'':>6} {h['ratio']:>10.2f}")
        for path, o in (("services", h["ours"]), ("raw SQL", h["baseline"])):
            for kind, n in o["error_kinds"].items():
                print(f"{'':<11} {path:<9} error ×{n}: {kind}")
    RESULTS.mkdir(exist_ok=True)
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                       "load_at_start": load_start, "load_at_end": load}, "at": datetime.now(UTC).isoformat(),
           "runs": runs}
    (RESULTS / "domain.json").write_text(json.dumps(out, indent=2, default=str))
    print(f"\nwritten {RESULTS / 'domain.json'}")


if __name__ == "__main__":
    main()
