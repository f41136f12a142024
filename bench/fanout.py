"""Fan-out (issue 8 #3, issue 16): the outbox dispatchers deliver through the real Slack deliverer to a fake Slack on
localhost that enforces a rate limit (chat.postMessage above R per second answers 429 with Retry-After). Three cases
per backend:

- digest: 10,000 overdue receivables across 200 sales people; the overdue-digest job queues its cards (211);
- queue: 10,000 messages queued to 2,000 people through the outbox, delivered at 170/s (bound ~60 s);
- claim: 50,000 pending rows beside 50,000 delivered ones, drained against a Slack without a limit.

Prints each delivery's time against the rate-limit bound (messages ÷ R), duplicates and losses (both must be 0).

    .venv/bin/python -m bench.fanout [--receivables 10000] [--sales 200] [--rate 20] [--workers 2]
        [--messages 10000] [--people 2000] [--queue-rate 170] [--pending 50000] [--no-pg] [--no-sqlite]

Data is bulk-inserted (users, customers, orders, tasks, shipments, receivables) on a fresh database per backend.
Results: bench/results/fanout.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, Protocol

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from bench.domain import RESULTS, pg_db, sqlite_db
from bot.bootstrap import build
from bot.ratelimit import MARGIN
from bot.records import OutboxMessage, SentReminder
from bot.settings import Settings
from domain.migrate import upgrade
from domain.models import (
    Customer,
    Order,
    PlatformIdentity,
    Receivable,
    Shipment,
    ShippingTask,
    User,
    Warehouse,
)

NOW = datetime(2026, 12, 28, 1, 30, tzinfo=UTC)  # Monday 09:30 in Shanghai
TODAY = date(2026, 12, 28)


class RateLimitedSlack:
    """chat.postMessage at most `rate` per second (a sliding one-second window), else 429 + Retry-After: 1."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.window: list[float] = []
        self.delivered: Counter[str] = Counter()  # message key (channel) → deliveries
        self.arrived: dict[str, list[str]] = defaultdict(list)  # channel → its messages' texts, in arrival order
        self.limited = 0
        self.sent_at: list[float] = []  # wall-clock time of each accepted chat.postMessage (shared with the workers)
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                method = self.path.rsplit("/", 1)[-1]
                status, body, headers = outer.answer(method, raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.api_url = f"http://127.0.0.1:{self.server.server_port}/api/"

    def answer(self, method: str, raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        if method == "conversations.open":
            from urllib.parse import parse_qs

            users = parse_qs(raw.decode()).get("users", [""])[0]
            return 200, {"ok": True, "channel": {"id": "D" + users[1:]}}, {}
        if method != "chat.postMessage":
            return 200, {"ok": True}, {}
        args = json.loads(raw)
        now = time.monotonic()
        with self.lock:
            self.window = [t for t in self.window if now - t < 1.0]
            if len(self.window) >= self.rate:
                self.limited += 1
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}
            self.window.append(now)
            self.sent_at.append(time.time())
            # one digest per person per day: the title names who it is for
            self.delivered[f"{args['channel']}|{args.get('text', '')[:40]}"] += 1
            self.arrived[args["channel"]].append(str(args.get("text", "")))
        return 200, {"ok": True, "channel": args["channel"], "ts": f"{now:.6f}"}, {}

    def close(self) -> None:
        self.server.shutdown()


def load(url: str, n_receivables: int, n_sales: int) -> dict[str, int]:
    upgrade(url)
    from domain.db import make_engine

    engine = make_engine(url)
    per = n_receivables // n_sales
    with engine.begin() as c:
        c.execute(insert(Warehouse), [{"id": 1, "code": "WH-SH", "name": "上海仓", "region": "上海"}])
        # executemany takes its columns from the first row: every row names the same keys
        users = [{"id": 1, "username": "admin", "display_name": "管理员", "roles": "admin", "locale": "zh-CN",
                  "manager_id": None}]
        managers = n_sales // 20
        users += [{"id": 10 + m, "username": f"mgr{m}", "display_name": f"经理{m}", "roles": "sales_manager",
                   "locale": "zh-CN", "manager_id": 1} for m in range(managers)]
        users += [{"id": 1000 + i, "username": f"sales{i}", "display_name": f"销售{i}", "roles": "sales",
                   "locale": "zh-CN" if i % 2 else "en", "manager_id": 10 + i % managers} for i in range(n_sales)]
        c.execute(insert(User), users)
        c.execute(insert(PlatformIdentity), [{"platform": "slack", "external_id": f"U{u['id']:05d}", "user_id": u["id"]}
                                             for u in users])
        c.execute(insert(Customer), [{"id": 1 + i, "code": f"C{i:04d}", "name": f"客户{i}有限公司", "payment_terms_days": 30,
                                      "credit_limit": Decimal("1000000"), "sales_user_id": 1000 + i} for i in range(n_sales)])
        orders, tasks, shipments, receivables = [], [], [], []
        for k in range(n_receivables):
            i = k % n_sales
            oid = k + 1
            days_overdue = 1 + (k * 7) % 45  # 1..45 days: some escalate past 7 and 30
            due = TODAY - timedelta(days=days_overdue)
            shipped = datetime.combine(due - timedelta(days=30), datetime.min.time(), UTC)
            orders.append({"id": oid, "number": f"SO-20261001-{oid:05d}", "customer_id": 1 + i, "sales_user_id": 1000 + i,
                           "status": "shipped", "total": Decimal("1000.00"), "created_at": shipped, "updated_at": shipped})
            tasks.append({"id": oid, "order_id": oid, "warehouse_id": 1, "status": "shipped", "created_at": shipped})
            shipments.append({"id": oid, "task_id": oid, "order_id": oid, "warehouse_id": 1, "carrier": "顺丰",
                              "tracking_no": f"SF{oid}", "amount": Decimal("1000.00"), "shipped_at": shipped, "shipped_by_id": 1})
            receivables.append({"order_id": oid, "shipment_id": oid, "customer_id": 1 + i, "amount": Decimal("1000.00"),
                                "paid": Decimal("0"), "due_date": due, "settled": False, "created_at": shipped})
        for table, rows in ((Order, orders), (ShippingTask, tasks), (Shipment, shipments), (Receivable, receivables)):
            for start in range(0, len(rows), 2000):
                c.execute(insert(table), rows[start:start + 2000])
    engine.dispose()
    return {"receivables": n_receivables, "per_sales": per, "sales": n_sales, "managers": n_sales // 20}


class Loops(Protocol):
    def start_background(self) -> None: ...

    def stop_background(self) -> Any: ...


class Drained(NamedTuple):
    seconds: float  # from starting the loops until no row was pending
    started: float  # wall clock (time.time()) when the loops were started
    probes: list[dict[str, Any]]  # each worker process's Probe report


def drain(workers: Sequence[Loops], sessions: sessionmaker[Session], timeout: float, poll: float = 0.05) -> Drained:
    """Start the real dispatcher loops (poll + wake; scheduler and inbox off) of every worker; seconds until no
    outbox row is pending (or `timeout`); then stop them. The fonts and charts each start warms in a thread are warmed
    first (once per process): matplotlib's import is not a delivery's cost."""
    from bot.documents import charts, fonts

    fonts.warm()
    charts.warm()
    started = time.time()
    t = time.perf_counter()
    for w in workers:
        w.start_background()
    probes: list[dict[str, Any]] = []
    try:
        while time.perf_counter() < t + timeout:
            with sessions() as s:
                if not s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")):
                    break
            time.sleep(poll)
        return Drained(time.perf_counter() - t, started, probes)
    finally:
        for w in workers:
            if report := w.stop_background():
                probes.append(report)


def timeline(sent_at: list[float], started: float, rate: float, margin: float) -> dict[str, Any]:
    """What the fake saw, against the token bucket (`rate` × `margin`, one token every 1 ÷ that): the delay from
    starting the loops to the first send, the sends in each whole second after it, and the gaps — time between two
    sends beyond one token's interval, when a token was there and no send used it."""
    if not sent_at:
        return {}
    times = sorted(sent_at)
    tick = 1 / (rate * margin)
    per_second = Counter(int(t - times[0]) for t in times)
    full = [per_second.get(k, 0) for k in range(int(times[-1] - times[0]))]  # the last, partial second left out
    ordered = sorted(full)
    gaps = [b - a - tick for a, b in zip(times, times[1:], strict=False) if b - a > tick]
    return {"first_send_s": times[0] - started, "last_send_s": times[-1] - started, "tick_ms": tick * 1000,
            "per_second_min": ordered[0] if ordered else 0, "per_second_p10": ordered[len(ordered) // 10] if ordered else 0,
            "per_second_p50": ordered[len(ordered) // 2] if ordered else 0,
            "per_second_max": ordered[-1] if ordered else 0,
            "seconds_under_90pct": sum(1 for n in full if n < 0.9 * rate * margin),
            "gaps_s": sum(gaps), "gaps_over_50ms": sum(1 for g in gaps if g > 0.05)}


def probe_totals(probes: list[dict[str, Any]]) -> dict[str, Any]:
    """The workers' Probe reports summed (times, counts) or their worst (percentiles)."""
    if not probes:
        return {}
    out: dict[str, Any] = {}
    for key in probes[0]:
        values = [p[key] for p in probes]
        out[key] = max(values) if key.endswith("_ms") else sum(values)
    return out


def worker_settings(url: str, fake: RateLimitedSlack) -> dict[str, Any]:
    """Production settings (backoff, attempts, poll interval, the Slack client with its one in-client 429 retry, the
    client-side token bucket): only the URL, token and the process roles (dispatcher only) differ."""
    return {"_env_file": None, "database_url": url, "run_dispatcher": True, "run_scheduler": False, "run_inbox": False,
            "secret_key": "fanout-bench-secret-key-0123456789abcdef", "slack_bot_token": "xoxb-fanout",
            "slack_signing_secret": "s", "slack_api_url": fake.api_url}


class Probe:
    """Where a dispatcher's time goes, measured inside its process by wrapping its own methods (nothing of the
    product changes): wall time in claim, in building deliveries and reserving tokens, and per send how late it
    started against its token's time and how long the call and its bookkeeping took."""

    def __init__(self, dispatcher: Any) -> None:
        self.claim_s: list[float] = []
        self.reserve_s: list[float] = []
        self.late_s: list[float] = []  # per send: start minus its token's time (negative: waited for it)
        self.deliver_s: list[float] = []  # per send: the platform call plus the row's commit
        self.rereserved = 0  # sends whose token had lapsed (every send thread busy): took a new one
        d = dispatcher
        claim, deliver, send_at = d.claim, d._deliver, d._send_at

        def timed_claim() -> Any:
            t = time.perf_counter()
            try:
                return claim()
            finally:
                self.claim_s.append(time.perf_counter() - t)

        def timed_send_at(at: float, row: Any, delivery: Any) -> None:
            late = time.monotonic() - at
            self.late_s.append(late)
            if late > d.late_after:
                self.rereserved += 1
            send_at(at, row, delivery)

        def timed_deliver(row: Any, delivery: Any) -> None:
            t = time.perf_counter()
            try:
                deliver(row, delivery)
            finally:
                self.deliver_s.append(time.perf_counter() - t)

        d.claim, d._deliver, d._send_at = timed_claim, timed_deliver, timed_send_at
        if d.limiter is not None:
            reserve = d.limiter.reserve_many

            def timed_reserve(*a: Any, **k: Any) -> Any:
                t = time.perf_counter()
                try:
                    return reserve(*a, **k)
                finally:
                    self.reserve_s.append(time.perf_counter() - t)

            d.limiter.reserve_many = timed_reserve

    def report(self) -> dict[str, Any]:
        return {"claims": len(self.claim_s), "claim_s": sum(self.claim_s), "claim_p50_ms": pct(self.claim_s, 0.5),
                "claim_p99_ms": pct(self.claim_s, 0.99), "reserves": len(self.reserve_s),
                "reserve_s": sum(self.reserve_s), "sends": len(self.deliver_s), "deliver_s": sum(self.deliver_s),
                "deliver_p50_ms": pct(self.deliver_s, 0.5), "deliver_p99_ms": pct(self.deliver_s, 0.99),
                "late_p50_ms": pct(self.late_s, 0.5), "late_p99_ms": pct(self.late_s, 0.99),
                "late_over_5ms": sum(1 for x in self.late_s if x > 0.005), "rereserved": self.rereserved}


def pct(xs: Sequence[float], p: float) -> float:
    """The p-quantile of xs, in milliseconds (nan when empty)."""
    return sorted(xs)[min(len(xs) - 1, int(len(xs) * p))] * 1000 if xs else float("nan")


def _worker_main(settings: dict[str, Any], shift: float, ready: Any, go: Any, stop: Any) -> None:
    logging.getLogger().setLevel(logging.ERROR)
    from bot.documents import charts, fonts

    ot = build(Settings(**settings), clock=lambda: datetime.now(UTC) + timedelta(seconds=shift))
    probe = Probe(ot.dispatcher)
    fonts.warm()
    charts.warm()
    ready.put(os.getpid())
    go.wait()
    ot.start_background()
    stop.wait()
    ot.stop_background()
    ot.engine.dispose()
    ready.put(probe.report())


class WorkerProcess:
    """An `ordertalk worker` of its own: a process (spawned, so nothing is shared but the database) that builds the
    app, warms up, and runs the dispatcher loop from `start_background` to `stop_background`; its clock is the wall
    clock moved by `shift` seconds. In one process, every send thread, the fake and the bookkeeping would share one
    interpreter lock, and the rate measured would be that process's, not the dispatchers'."""

    def __init__(self, settings: dict[str, Any], shift: float = 0.0) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._ready, self._go, self._stop = ctx.Queue(), ctx.Event(), ctx.Event()
        self.process = ctx.Process(target=_worker_main, args=(settings, shift, self._ready, self._go, self._stop),
                                   daemon=True)
        self.process.start()

    def wait_ready(self, timeout: float = 120) -> None:
        self._ready.get(timeout=timeout)

    def start_background(self) -> None:
        self._go.set()

    def stop_background(self) -> dict[str, Any]:
        """Stop the loop; what its Probe measured ({} when it did not answer in time)."""
        if self._stop.is_set():
            return {}
        self._stop.set()
        try:
            report: dict[str, Any] = self._ready.get(timeout=30)
        except Exception:
            report = {}
        self.process.join(30)
        if self.process.is_alive():
            self.process.kill()
        return report


def run_backend(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    print(f"[{name}] loading {args.receivables} receivables…", flush=True)
    t = time.perf_counter()
    shape = load(url, args.receivables, args.sales)
    load_s = time.perf_counter() - t
    fake = RateLimitedSlack(args.rate)
    # The client-side token bucket is set to the rate the workspace allows (what an operator configures).
    settings = {**worker_settings(url, fake), "rate_limits": args.rate_limits, "slack_post_per_second": args.rate}
    # The digest must run on a Monday 09:30; the clock then moves in real time, so backoffs and Retry-After elapse.
    t0 = time.monotonic()
    shift = (NOW - datetime.now(UTC)).total_seconds()  # the workers' clocks: the same, from their wall clock

    def clock() -> datetime:
        return NOW + timedelta(seconds=time.monotonic() - t0)

    ot = build(Settings(**settings), clock=clock)  # runs the job; its own dispatcher is not started
    workers = [WorkerProcess(settings, shift) for _ in range(args.workers)]
    try:
        for w in workers:
            w.wait_ready()
        t = time.perf_counter()
        sent = ot.jobs.overdue_digest()
        job_s = time.perf_counter() - t
        with ot.sessions() as s:
            queued = int(s.scalar(select(func.count()).select_from(OutboxMessage)) or 0)
        deliver_s = drain(workers, ot.sessions, args.timeout).seconds
        again = ot.jobs.overdue_digest()  # the same day again: nothing new
        with ot.sessions() as s:
            statuses = Counter(s.scalars(select(OutboxMessage.status)))
            # what the job sent, by its once-per-day keys: digest:<user>:<day> and digest-escalated:<user>:<day>
            kinds = Counter(k.split(":", 1)[0] for k in s.scalars(select(SentReminder.key)))
            attempts = Counter(s.scalars(select(OutboxMessage.attempts)))
    finally:
        fake.close()
        for w in workers:
            w.stop_background()
        ot.engine.dispose()
    delivered = sum(fake.delivered.values())
    duplicates = sum(n - 1 for n in fake.delivered.values() if n > 1)
    losses = queued - len(fake.delivered)
    bound = queued / args.rate
    return {"backend": name, **shape, "load_s": load_s, "digests_sent": sent, "messages": queued, "job_s": job_s,
            "deliver_s": deliver_s, "bound_s": bound, "ratio_to_bound": deliver_s / bound, "delivered": delivered,
            "duplicates": duplicates, "losses": losses, "rate_limited_answers": fake.limited, "second_run_sent": again,
            "outbox": dict(statuses), "attempts_histogram": {str(k): v for k, v in sorted(attempts.items())},
            "sent_by_kind": dict(kinds),
            "load_1m": os.getloadavg()[0]}


def queue_case(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """`--messages` text messages to `--people` people (in turn, so each conversation holds several, numbered),
    queued as production queues them: `Outbox.add` in one transaction, the conversation heads kept by the database's
    triggers. Then delivered by the real dispatcher loops through the client-side token bucket at `--queue-rate`
    to a fake Slack allowing exactly that rate (429 + Retry-After above it). Bound = messages ÷ rate."""
    print(f"[{name}] queue: {args.messages} messages to {args.people} people at {args.queue_rate}/s…", flush=True)
    upgrade(url)
    from bot.outbox import Outbox
    from domain.db import make_engine, make_session_factory

    engine = make_engine(url)
    t = time.perf_counter()
    with make_session_factory(engine)() as s:
        outbox = Outbox(lambda: ["slack"])
        for k in range(args.messages):
            person = f"U{k % args.people:06d}"
            outbox.add(s, "slack", person, text=f"queued {person} {k // args.people}")
        s.commit()
    queue_s = time.perf_counter() - t
    fake = RateLimitedSlack(args.queue_rate)
    workers = [WorkerProcess({**worker_settings(url, fake), "slack_post_per_second": args.queue_rate})
               for _ in range(args.workers)]
    engine = make_engine(url)
    try:
        for w in workers:
            w.wait_ready()
        drained = drain(workers, make_session_factory(engine), args.timeout)
        deliver_s = drained.seconds
        with make_session_factory(engine)() as s:
            statuses = Counter(s.scalars(select(OutboxMessage.status)))
            attempts = Counter(s.scalars(select(OutboxMessage.attempts)))
    finally:
        fake.close()
        for w in workers:
            w.stop_background()
        engine.dispose()
    seen = {text for texts in fake.arrived.values() for text in texts}
    numbers = {channel: [int(text.rsplit(" ", 1)[1]) for text in texts] for channel, texts in fake.arrived.items()}
    bound = args.messages / args.queue_rate
    return {"backend": name, "messages": args.messages, "people": args.people, "rate": args.queue_rate,
            "queue_s": queue_s, "deliver_s": deliver_s, "bound_s": bound, "ratio_to_bound": deliver_s / bound,
            "delivered": sum(fake.delivered.values()),
            "duplicates": sum(n - 1 for n in fake.delivered.values() if n > 1),
            "lost": args.messages - len(seen), "out_of_order": sum(1 for ns in numbers.values() if ns != sorted(ns)),
            "rate_limited_answers": fake.limited, "outbox": dict(statuses),
            "attempts_histogram": {str(k): v for k, v in sorted(attempts.items())},
            "floor_ratio": 1 / MARGIN, "timeline": timeline(fake.sent_at, drained.started, args.queue_rate, MARGIN),
            "dispatchers": probe_totals(drained.probes), "load_1m": os.getloadavg()[0]}


def claim_case(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """`pending` rows already in the outbox (10 per recipient, beside as many delivered ones), then drained by the
    real dispatcher loops against a Slack without a limit: how long each claim takes while the backlog shrinks
    from `pending` to 0, and messages delivered per second."""
    print(f"[{name}] claim: {args.pending} pending outbox rows…", flush=True)
    upgrade(url)
    from domain.db import make_engine

    engine = make_engine(url)
    now = datetime.now(UTC)
    recipients = max(1, args.pending // 10)
    with engine.begin() as c:
        for status in ("delivered", "pending"):
            rows = [{"platform": "slack", "recipient": f"U{k % recipients:06d}", "conversation":
                     f"slack:user:U{k % recipients:06d}", "op": "send", "card_key": None,
                     "payload": {"recipient_kind": "user", "user_id": None, "text": f"{status} {k}", "thread": None,
                                 "ephemeral_user": None, "extra": {}, "alert": False, "card": None, "cards": []},
                     "status": status, "attempts": 1 if status == "delivered" else 0, "next_attempt_at": now,
                     "created_at": now, "delivered_at": now if status == "delivered" else None}
                    for k in range(args.pending)]
            for start in range(0, len(rows), 2000):
                c.execute(insert(OutboxMessage), rows[start:start + 2000])
    engine.dispose()
    fake = RateLimitedSlack(10**9)
    settings = Settings(_env_file=None, database_url=url, run_dispatcher=True, run_scheduler=False, run_inbox=False,
                        secret_key="fanout-bench-secret-key-0123456789abcdef", slack_bot_token="xoxb-fanout",
                        slack_signing_secret="s", slack_api_url=fake.api_url, rate_limits=False, outbox_poll_seconds=0.05)
    workers = [build(settings) for _ in range(args.workers)]
    timings: list[tuple[float, int]] = []  # (seconds, rows claimed)
    lock = threading.Lock()
    for w in workers:
        real = w.dispatcher.claim

        def timed(real=real):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            rows = real()
            with lock:
                timings.append((time.perf_counter() - t, len(rows)))
            return rows

        w.dispatcher.claim = timed  # type: ignore[method-assign]
    try:
        ot = workers[0]
        drain_s = drain(workers, ot.sessions, args.timeout, poll=0.1).seconds
        with ot.sessions() as s:
            statuses = Counter(s.scalars(select(OutboxMessage.status)))
    finally:
        fake.close()
        for w in workers:
            w.engine.dispose()
    busy = sorted(t for t, n in timings if n)
    first, last = [t for t, n in timings if n][:50], [t for t, n in timings if n][-50:]

    delivered = sum(fake.delivered.values())
    return {"backend": name, "pending": args.pending, "delivered_rows_beside": args.pending, "claims": len(busy),
            "claim_p50_ms": pct(busy, 0.5), "claim_p99_ms": pct(busy, 0.99), "first50_p50_ms": pct(first, 0.5),
            "last50_p50_ms": pct(last, 0.5), "drain_s": drain_s, "per_s": delivered / drain_s if drain_s else 0,
            "delivered": delivered, "duplicates": sum(n - 1 for n in fake.delivered.values() if n > 1),
            "losses": args.pending - len(fake.delivered), "outbox": dict(statuses), "load_1m": os.getloadavg()[0]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--receivables", type=int, default=10_000, help="digest case: receivables (0: skip the case)")
    ap.add_argument("--sales", type=int, default=200)
    ap.add_argument("--rate", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2, help="dispatcher processes to imitate (one build() each)")
    ap.add_argument("--timeout", type=float, default=600, help="give up waiting for the outbox after this many seconds")
    ap.add_argument("--pg", default=os.environ.get("ORDERTALK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--pending", type=int, default=50_000, help="claim case: pending rows (0: skip the case)")
    ap.add_argument("--messages", type=int, default=10_000, help="queue case: messages queued (0: skip the case)")
    ap.add_argument("--people", type=int, default=2_000, help="queue case: conversations they go to")
    ap.add_argument("--queue-rate", type=int, default=170,
                    help="queue case: chat.postMessage per second, the fake's limit and the token bucket's (bound ~60 s)")
    ap.add_argument("--no-rate-limits", dest="rate_limits", action="store_false",
                    help="digest case without the client-side token bucket (as before it existed)")
    args = ap.parse_args()
    # every 429 would log a warning line; they are counted in the table instead
    logging.getLogger().setLevel(logging.ERROR)
    load_start = os.getloadavg()
    rows: list[dict[str, Any]] = []
    queues: list[dict[str, Any]] = []
    claims: list[dict[str, Any]] = []
    backends = [("sqlite", sqlite_db)] if not args.no_sqlite else []
    backends += [("postgresql", lambda: pg_db(args.pg))] if not args.no_pg else []
    for name, database in backends:
        if args.receivables:
            with database() as url:
                rows.append(run_backend(name, url, args))
        if args.messages:
            with database() as url:
                queues.append(queue_case(name, url, args))
        if args.pending:
            with database() as url:
                claims.append(claim_case(name, url, args))
    print(f"\nFan-out: {args.receivables} overdue receivables, {args.sales} sales people, limit {args.rate} msg/s, "
          f"{args.workers} dispatcher workers (production settings); load {load_start[0]:.2f} at start, "
          f"{os.getloadavg()[0]:.2f} now; {os.cpu_count()} CPUs")
    print(f"{'backend':<11}{'messages':>9}{'job s':>7}{'deliver s':>10}{'bound s':>9}{'÷bound':>8}{'429s':>6}"
          f"{'dups':>6}{'losses':>7}{'rerun':>6}")
    for r in rows:
        print(f"{r['backend']:<11}{r['messages']:>9}{r['job_s']:>7.2f}{r['deliver_s']:>10.2f}{r['bound_s']:>9.2f}"
              f"{r['ratio_to_bound']:>8.2f}{r['rate_limited_answers']:>6}{r['duplicates']:>6}{r['losses']:>7}{r['second_run_sent']:>6}")
    for r in rows:
        kinds = r["sent_by_kind"]
        print(f"{r['backend']}: {r['digests_sent']} cards = {kinds.get('digest', 0)} own digests (one per sales person with "
              f"overdue items) + {kinds.get('digest-escalated', 0)} team digests ({r['managers']} managers: items > 7 days; "
              f"admin: items > 30 days); outbox {r['outbox']}; tries per message {r['attempts_histogram']}")
    if queues:
        print(f"\nQueued messages: {args.messages} texts to {args.people} people (Outbox.add), limit {args.queue_rate} "
              f"msg/s (bucket and fake), {args.workers} dispatcher workers; load {os.getloadavg()[0]:.2f}")
        print(f"{'backend':<11}{'messages':>9}{'queue s':>8}{'deliver s':>10}{'bound s':>9}{'÷bound':>8}{'429s':>6}"
              f"{'dups':>6}{'lost':>6}{'order':>6}{'load':>6}")
        for q in queues:
            print(f"{q['backend']:<11}{q['messages']:>9}{q['queue_s']:>8.1f}{q['deliver_s']:>10.2f}{q['bound_s']:>9.2f}"
                  f"{q['ratio_to_bound']:>8.3f}{q['rate_limited_answers']:>6}{q['duplicates']:>6}{q['lost']:>6}"
                  f"{q['out_of_order']:>6}{q['load_1m']:>6.1f}")
        print("(order: conversations whose numbered messages arrived out of order; load: 1-minute average at the end)")
        print(f"Where the time goes (floor: the token bucket at {MARGIN:g} of the rate = {1 / MARGIN:.3f}× the bound)")
        print(f"{'backend':<11}{'1st s':>6}{'last s':>7}{'/s p10':>7}{'p50':>5}{'min':>5}{'<90%':>5}{'gaps s':>7}"
              f"{'>50ms':>6}{'claim s':>8}{'p50':>6}{'p99':>6}{'resrv s':>8}{'send s':>7}{'send p50':>9}{'p99':>6}{'late>5':>7}"
              f"{'late p99':>9}{'renew':>6}")
        for q in queues:
            t, d = q["timeline"], q["dispatchers"]
            print(f"{q['backend']:<11}{t.get('first_send_s', 0):>6.2f}{t.get('last_send_s', 0):>7.1f}"
                  f"{t.get('per_second_p10', 0):>7}{t.get('per_second_p50', 0):>5}{t.get('per_second_min', 0):>5}"
                  f"{t.get('seconds_under_90pct', 0):>5}{t.get('gaps_s', 0):>7.2f}{t.get('gaps_over_50ms', 0):>6}"
                  f"{d.get('claim_s', 0):>8.2f}{d.get('claim_p50_ms', 0):>6.1f}{d.get('claim_p99_ms', 0):>6.0f}"
                  f"{d.get('reserve_s', 0):>8.2f}{d.get('deliver_s', 0):>7.1f}"
                  f"{d.get('deliver_p50_ms', 0):>9.1f}{d.get('deliver_p99_ms', 0):>6.0f}{d.get('late_over_5ms', 0):>7}"
                  f"{d.get('late_p99_ms', 0):>9.1f}{d.get('rereserved', 0):>6}")
        print("(1st / last s: first and last send after the loops started; /s: sends in each whole second; <90%: "
              "seconds under 90% of the bucket's rate; gaps: time between sends beyond one token's interval, and how "
              "many over 50 ms; claim / resrv / send s: wall time all workers spent claiming (and a claim's p50 / p99 ms), reserving tokens, and "
              "in sends with their commit (side by side, so it exceeds the run); late: sends started > 5 ms after "
              "their token's time, p99 lateness; renew: tokens lapsed and taken again)")
    if claims:
        print(f"\nClaim under a backlog: {args.pending} pending rows (10 per recipient) beside {args.pending} delivered "
              f"ones, {args.workers} dispatcher loops, Slack without a limit; load {os.getloadavg()[0]:.2f}")
        print(f"{'backend':<11}{'claims':>7}{'p50 ms':>8}{'p99 ms':>8}{'first50':>8}{'last50':>8}{'drain s':>9}"
              f"{'msg/s':>8}{'dups':>6}{'losses':>7}")
        for c in claims:
            print(f"{c['backend']:<11}{c['claims']:>7}{c['claim_p50_ms']:>8.1f}{c['claim_p99_ms']:>8.1f}"
                  f"{c['first50_p50_ms']:>8.1f}{c['last50_p50_ms']:>8.1f}{c['drain_s']:>9.1f}{c['per_s']:>8.1f}"
                  f"{c['duplicates']:>6}{c['losses']:>7}")
        print("(first50 / last50: median claim while the backlog is full / nearly empty)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "fanout.json").write_text(json.dumps({"at": datetime.now(UTC).isoformat(), "cpus": os.cpu_count(),
                                                     "load_at_start": load_start, "load_at_end": os.getloadavg(), "args": vars(args), "rows": rows,
                                                     "queues": queues, "claims": claims}, indent=2, default=str))


if __name__ == "__main__":
    main()
