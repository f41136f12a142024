"""Platform outage (issue 16): Slack down for 10 minutes with 5,000 messages queued and approval clicks arriving,
then back. Time to drain, and every message delivered once, in order per conversation.

    .venv/bin/python -m bench.outage [--queued 5000] [--clicks 60] [--down-minutes 10] [--speed 20] [--rate 50]

Time is compressed: the app's clock (backoff, Retry-After, the dispatcher's probes, leases) runs `speed` times faster
than the wall clock, so 10 minutes down take 10 × 60 / speed seconds; the token bucket and the fake's rate limit run
on the wall clock, so the drain after the outage is real time at the real rate, and leases are stretched by `speed` so they last as long
in real time as in production. The queued messages are text
messages to 10 per person (500 people), numbered within each conversation; the clicks are signed Slack block_actions
(bench.interactive) on real pending orders, through the durable inbox, whose decisions queue their own answers and
card updates behind the outage. The fake Slack answers 503 while down and 429 above `rate` per second; it records
every delivery, so losses, duplicates and the order within each conversation are counted where a person would see
them. Results: bench/results/outage.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select

from bench.domain import RESULTS, pg_db, sqlite_db
from bench.fanout import RateLimitedSlack
from bench.interactive import SECRET, SLACK_SECRET, click_request, prepare
from bot.bootstrap import build
from bot.inbox import InboxEvent
from bot.records import OutboxMessage
from bot.settings import Settings
from domain.models import ApprovalStep

SEQ = re.compile(r"^outage (U\d+) (\d+)$")


class OutageSlack(RateLimitedSlack):
    """RateLimitedSlack that can be down (503 to everything) and keeps each channel's messages in arrival order."""

    def __init__(self, rate: int) -> None:
        super().__init__(rate)
        self.down = False
        self.refused = 0
        self.order: dict[str, list[int]] = defaultdict(list)

    def answer(self, method: str, raw: bytes) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.down:
            with self.lock:
                self.refused += 1
            return 503, {"ok": False, "error": "service_unavailable"}, {}
        status, body, headers = super().answer(method, raw)
        if method == "chat.postMessage" and status == 200:
            text = str(json.loads(raw).get("text", ""))
            m = SEQ.match(text)
            if m:
                with self.lock:
                    self.order[m.group(1)].append(int(m.group(2)))
        return status, body, headers


def run(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    print(f"[{name}] preparing {args.clicks} pending orders and {args.queued} queued messages…", flush=True)
    steps = prepare(url, args.clicks)
    people = max(1, args.queued // 10)
    fake = OutageSlack(args.rate)
    t0 = time.monotonic()
    start = datetime.now(UTC)

    def clock() -> datetime:
        return start + timedelta(seconds=(time.monotonic() - t0) * args.speed)

    from domain.db import make_engine

    engine = make_engine(url)
    now = clock()
    rows = [{"platform": "slack", "recipient": f"U{k % people:05d}", "conversation": f"slack:user:U{k % people:05d}",
             "op": "send", "card_key": None, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now,
             "payload": {"recipient_kind": "user", "user_id": None, "text": f"outage U{k % people:05d} {k // people}",
                         "thread": None, "ephemeral_user": None, "extra": {}, "alert": False, "card": None, "cards": []}}
            for k in range(args.queued)]
    with engine.begin() as c:
        for i in range(0, len(rows), 2000):
            c.execute(insert(OutboxMessage), rows[i:i + 2000])
    engine.dispose()

    data_dir = tempfile.mkdtemp(prefix="ordertalk-outage-")
    base = dict(_env_file=None, database_url=url, secret_key=SECRET, data_dir=data_dir, run_scheduler=False,
                slack_bot_token="xoxb-outage", slack_signing_secret=SLACK_SECRET, slack_api_url=fake.api_url,
                inbox_inline=False, slack_post_per_second=float(args.rate), outbox_poll_seconds=0.2,
                # leases are on the app's clock: 60 s and 30 s of real time, as in production
                outbox_lease_seconds=60 * args.speed, inbox_lease_seconds=30 * args.speed)
    fake.down = True
    # the web process with its inbox worker and a dispatcher, and a second `ordertalk worker` (dispatcher only)
    web = build(Settings(**base, run_inbox=True, run_dispatcher=True), clock=clock)
    worker = build(Settings(**base, run_inbox=False, run_dispatcher=True), clock=clock)
    for ot in (web, worker):
        ot.start_background()
    client = web.flask.test_client()
    down_s = args.down_minutes * 60 / args.speed
    codes: Counter[int] = Counter()
    try:
        for i, sid in enumerate(steps):  # clicks spread over the outage
            target = t0 + down_s * (i + 0.5) / len(steps)
            time.sleep(max(0.0, target - time.monotonic()))
            req = click_request("slack", sid, sid)
            resp = client.open(req["path"], method="POST", data=req["body"].encode(), headers=req["headers"])
            codes[resp.status_code] += 1
        time.sleep(max(0.0, t0 + down_s - time.monotonic()))
        fake.down = False
        back = time.monotonic()
        print(f"[{name}] platform back after {back - t0:.1f} s ({args.down_minutes} min on the app's clock); "
              f"{fake.refused} requests refused meanwhile", flush=True)
        deadline = back + args.timeout
        with web.sessions() as s:
            while time.monotonic() < deadline:
                pending = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending"))
                with web.inbox.sessions() as own:  # the inbox's own file on SQLite
                    inbox = own.scalar(select(func.count()).select_from(InboxEvent).where(InboxEvent.status == "pending"))
                s.rollback()
                if not pending and not inbox:
                    break
                time.sleep(0.2)
        drain_s = time.monotonic() - back
        for ot in (web, worker):
            ot.stop_background()
        with web.sessions() as s:
            statuses = Counter(s.scalars(select(OutboxMessage.status)))
            attempts = Counter(s.scalars(select(OutboxMessage.attempts)))
            decided = s.scalar(select(func.count()).select_from(ApprovalStep)
                               .where(ApprovalStep.id.in_(steps), ApprovalStep.status == "approved")) or 0
        with web.inbox.sessions() as s:
            inbox_status = Counter(s.scalars(select(InboxEvent.status)))
    finally:
        fake.close()
        for ot in (web, worker):
            ot.engine.dispose()
    seq_delivered = sum(len(v) for v in fake.order.values())
    out_of_order = sum(1 for v in fake.order.values() if v != sorted(v))
    duplicates = sum(n - 1 for n in fake.delivered.values() if n > 1)
    lost = args.queued - len({(u, n) for u, ns in fake.order.items() for n in ns})
    row = {"backend": name, "queued": args.queued, "clicks": args.clicks, "click_answers": dict(codes),
           "decided": int(decided), "down_s": down_s, "speed": args.speed, "refused_while_down": fake.refused,
           "drain_s": drain_s, "drain_msgs": statuses.get("delivered", 0), "bound_s": statuses.get("delivered", 0) / args.rate,
           "seq_delivered": seq_delivered, "lost": lost + statuses.get("failed", 0) + statuses.get("pending", 0),
           "duplicates": duplicates, "conversations_out_of_order": out_of_order, "rate_limited_answers": fake.limited,
           "outbox": dict(statuses), "inbox": dict(inbox_status),
           "attempts_histogram": {str(k): v for k, v in sorted(attempts.items())}, "load_1m": os.getloadavg()[0]}
    print(f"[{name}] drained in {drain_s:.1f} s; {row}", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queued", type=int, default=5000)
    ap.add_argument("--clicks", type=int, default=60)
    ap.add_argument("--down-minutes", type=float, default=10)
    ap.add_argument("--speed", type=float, default=20, help="the app's clock runs this many times faster")
    ap.add_argument("--rate", type=int, default=50, help="the fake's chat.postMessage limit per second")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--pg", default=os.environ.get("ORDERTALK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    import logging

    logging.getLogger().setLevel(logging.ERROR)
    load_start = os.getloadavg()
    rows = []
    if not args.no_sqlite:
        with sqlite_db() as url:
            rows.append(run("sqlite", url, args))
    if not args.no_pg:
        with pg_db(args.pg) as url:
            rows.append(run("postgresql", url, args))
    print(f"\nOutage: Slack down {args.down_minutes:g} min (app clock ×{args.speed:g}: {args.down_minutes * 60 / args.speed:.0f} s "
          f"real), {args.queued} messages queued, {args.clicks} approval clicks during it, fake limit {args.rate}/s; "
          f"load {load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} now; {os.cpu_count()} CPUs")
    print(f"{'backend':<11}{'drained':>8}{'drain s':>9}{'bound s':>9}{'÷bound':>8}{'clicks':>8}{'decided':>8}{'lost':>6}"
          f"{'dups':>6}{'order':>7}{'429s':>6}")
    for r in rows:
        print(f"{r['backend']:<11}{r['drain_msgs']:>8}{r['drain_s']:>9.1f}{r['bound_s']:>9.1f}"
              f"{r['drain_s'] / r['bound_s'] if r['bound_s'] else 0:>8.2f}{r['clicks']:>8}{r['decided']:>8}{r['lost']:>6}"
              f"{r['duplicates']:>6}{r['conversations_out_of_order']:>7}{r['rate_limited_answers']:>6}")
    print("(drain s: from the platform's return until no outbox row and no inbox event is pending; bound = "
          "delivered ÷ rate; order = conversations whose numbered messages arrived out of order)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "outage.json").write_text(json.dumps({"at": datetime.now(UTC).isoformat(), "cpus": os.cpu_count(),
                                                     "load_at_start": load_start, "load_at_end": os.getloadavg(),
                                                     "args": vars(args), "rows": rows}, indent=2, default=str))


if __name__ == "__main__":
    main()
