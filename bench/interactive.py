"""Interactive path (issue 8 #1): signed approval clicks over HTTP to the app under gunicorn (2 workers), from a
separate load process, on SQLite and PostgreSQL, at 1 / 16 / 64 concurrent clients; beside it the baseline stack
(bench/baseline_app.py: same gunicorn, Flask and database, verifies the same signature and commits one row).

    .venv/bin/python -m bench.interactive [--requests 60,200,400] [--no-pg] [--platforms slack,dingtalk,wecom]

Every click is a real decision on its own pending order (orders are prepared through the domain services first).
The web workers store each click in the durable inbox and acknowledge it; one `ordertalk worker` process decides
(issue 16), so besides HTTP latency the table shows decisions/s: clicks until the last decision is in the database.
Nobody runs the outbox dispatcher (production layout: `ordertalk worker` does), so deliveries are not part of these
figures. Results: bench/results/interactive.json.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import func, select

from adapters.dingtalk.signature import card_sign
from adapters.wecom.crypto import WeComCrypto
from bench.domain import RESULTS, clock, pg_db, policy, sqlite_db, world
from bench.load import run as _unused  # noqa: F401 — the load module must import cleanly before we spawn it
from bot.tokens import ActionToken, TokenSigner
from domain.audit import Actor
from domain.db import make_engine, make_session_factory
from domain.directory import link
from domain.migrate import upgrade
from domain.models import ApprovalStep, User
from domain.orders import LineRequest, OrderRequest, create_order
from domain.uow import UnitOfWork

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SECRET = "bench-secret-key-0123456789abcdef-0123"  # Settings demands >= 32 bytes
SLACK_SECRET = "bench-slack-signing"
DT_KEY, DT_SECRET = "dingbench", "bench-dingtalk-secret"
WC_CORP, WC_TOKEN, WC_AES = "ww1436e0e65a779aee", "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo", "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
APPROVER = {"slack": "U0WANG", "dingtalk": "mgr0003", "wecom": "wangwu"}
PATHS = {"slack": "/slack/events", "dingtalk": "/dingtalk/card-callback", "wecom": "/wecom/callback"}


class _FakeApis(BaseHTTPRequestHandler):
    """Every platform API answers "ok" at once (the web workers barely call them: Bolt's auth.test at start)."""

    def log_message(self, *args: Any) -> None:
        pass

    def _ok(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        data = json.dumps({"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0", "team": "t", "user": "bot",
                           "errcode": 0, "errmsg": "ok", "access_token": "tok", "expires_in": 7200,
                           "accessToken": "tok", "expireIn": 7200}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _ok


def free_port() -> int:
    """A free port on loopback: from ORDERTALK_BENCH_PORTS ("9400-9499", engineers sharing a machine each keep to a
    range of their own) when it is set, else any the kernel gives."""
    import socket

    low, _, high = os.environ.get("ORDERTALK_BENCH_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high or low) + 1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError(f"no free port in ORDERTALK_BENCH_PORTS={os.environ['ORDERTALK_BENCH_PORTS']}")


@contextmanager
def fake_apis():  # type: ignore[no-untyped-def]
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _FakeApis)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def env_for(url: str, api: str, data_dir: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "ORDERTALK_DATABASE_URL": url, "ORDERTALK_SECRET_KEY": SECRET,
            "ORDERTALK_DATA_DIR": data_dir, "ORDERTALK_RUN_DISPATCHER": "0", "ORDERTALK_RUN_SCHEDULER": "0",
            "ORDERTALK_SLACK_BOT_TOKEN": "xoxb-bench", "ORDERTALK_SLACK_SIGNING_SECRET": SLACK_SECRET,
            "ORDERTALK_SLACK_API_URL": api + "/api/",
            "ORDERTALK_DINGTALK_APP_KEY": DT_KEY, "ORDERTALK_DINGTALK_APP_SECRET": DT_SECRET, "ORDERTALK_DINGTALK_MODE": "http",
            "ORDERTALK_DINGTALK_API_URL": api, "ORDERTALK_DINGTALK_OAPI_URL": api,
            "ORDERTALK_WECOM_CORP_ID": WC_CORP, "ORDERTALK_WECOM_AGENT_ID": "1000002", "ORDERTALK_WECOM_SECRET": "s",
            "ORDERTALK_WECOM_TOKEN": WC_TOKEN, "ORDERTALK_WECOM_AES_KEY": WC_AES, "ORDERTALK_WECOM_API_URL": api}


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its live children (gunicorn master + workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile
        if stat.parent.name == str(pid) or fields[1] == str(pid):  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def db_server_cpu(url: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend serving the bench's own database (pg_db makes one per run,
    so no other process's work is in it), by pid; {} on SQLite or when the server's processes are not visible here."""
    if not url.startswith("postgresql"):
        return {}
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        with engine.connect() as c:
            pids = [int(p) for p in c.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                                   " AND pid <> pg_backend_pid()"))]
    finally:
        engine.dispose()
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited meanwhile, or another machine's server
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def db_cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the database's backends used between two `db_server_cpu` readings (a backend that ended in between
    is missed: the pools keep theirs open)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


@contextmanager
def gunicorn(app: str, env: dict[str, str]):  # type: ignore[no-untyped-def]
    port = free_port()
    proc = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-k", "gthread", "--threads", "8", "-b", f"127.0.0.1:{port}",
                             "--log-level", "warning", app], cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 180  # two workers importing everything take over a minute at load 10 on 2 cores
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app} did not come up")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError as e:
                if getattr(e, "code", None) == 404:  # the baseline app has no /healthz: it is up
                    break
                time.sleep(0.2)
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(60)


def prepare(url: str, n: int) -> list[int]:
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    w = world(sessions, products=20, on_hand=10_000_000)
    with sessions() as s:
        for platform, ext in APPROVER.items():
            link(s, "wang", platform, ext, linkable=[platform])
        s.commit()
    steps = []
    pol = policy()
    for i in range(n):
        uow = UnitOfWork(sessions, clock)
        with uow:
            sales = uow.session.get(User, w["sales"])
            assert sales is not None
            order = create_order(uow, sales, OrderRequest(w["customer"], [LineRequest(w["products"][i % 20], 1)]), pol,
                                 Actor(sales.id, "bench"))
            uow.commit()
            steps.append(uow.session.scalars(select(ApprovalStep.id).where(ApprovalStep.order_id == order.id)).one())
    engine.dispose()
    return steps


def click_request(platform: str, step_id: int, n: int) -> dict[str, Any]:
    token = TokenSigner(SECRET.encode()).sign(ActionToken("approve", step_id))
    if platform == "slack":
        payload = {"type": "block_actions", "team": {"id": "T0"}, "api_app_id": "A0", "user": {"id": APPROVER["slack"]},
                   "trigger_id": f"trig{n}", "container": {"type": "message", "message_ts": f"1700000000.{n:06d}",
                                                            "channel_id": "D0WANG"},
                   "channel": {"id": "D0WANG"}, "message": {"ts": f"1700000000.{n:06d}", "text": "card", "blocks": []},
                   "actions": [{"type": "button", "action_id": "ot_approve_0", "block_id": "b", "value": token,
                                "text": {"type": "plain_text", "text": "同意"}, "action_ts": f"1700000001.{n:06d}"}]}
        body = "payload=" + quote(json.dumps(payload))
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SLACK_SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        return {"method": "POST", "path": PATHS[platform], "body": body,
                "headers": {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                            "X-Slack-Signature": sig}}
    if platform == "dingtalk":
        content = json.dumps({"cardPrivateData": {"actionIds": ["approve"], "params": {"token": token}}})
        body = json.dumps({"type": "actionCallback", "outTrackId": f"ot-{step_id}-{n}", "corpId": "dingcorp", "userId":
                           APPROVER["dingtalk"], "userIdType": 1, "spaceType": "im", "spaceId": "cid", "content": content,
                           "value": content})
        ts = str(int(time.time() * 1000))
        return {"method": "POST", "path": PATHS[platform], "body": body,
                "headers": {"Content-Type": "application/json", "x-ddpaas-signature-timestamp": ts,
                            "x-ddpaas-signature": card_sign(ts, DT_SECRET)}}
    crypto = WeComCrypto(WC_TOKEN, WC_AES, WC_CORP)
    xml = (f"<xml><ToUserName><![CDATA[{WC_CORP}]]></ToUserName><FromUserName><![CDATA[{APPROVER['wecom']}]]></FromUserName>"
           f"<CreateTime>{1716000000 + n}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
           "<Event><![CDATA[template_card_event]]></Event>"
           f"<EventKey><![CDATA[{token}]]></EventKey><TaskId><![CDATA[ot-{step_id}]]></TaskId>"
           "<CardType><![CDATA[button_interaction]]></CardType><ResponseCode><![CDATA[rc]]></ResponseCode>"
           "<AgentID>1000002</AgentID></xml>")
    encrypt = crypto.encrypt(xml)
    ts, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    query = urlencode({"msg_signature": crypto.sign(ts, nonce, encrypt), "timestamp": ts, "nonce": nonce})
    body = (f"<xml><ToUserName><![CDATA[{WC_CORP}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            "<AgentID><![CDATA[1000002]]></AgentID></xml>")
    return {"method": "POST", "path": f"{PATHS[platform]}?{query}", "body": body, "headers": {"Content-Type": "text/xml"}}


def load(port: int, concurrency: int, requests: list[dict[str, Any]]) -> dict[str, Any]:
    lines = "\n".join(json.dumps(r) for r in requests)
    out = subprocess.run([sys.executable, "-m", "bench.load", "127.0.0.1", str(port), str(concurrency)], input=lines,
                         capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)
    return json.loads(out.stdout)


def decided(url: str, steps: list[int]) -> int:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            return int(s.scalar(select(func.count()).select_from(ApprovalStep)
                                .where(ApprovalStep.id.in_(steps), ApprovalStep.status == "approved")) or 0)
    finally:
        engine.dispose()


@contextmanager
def inbox_workers(app: str, env: dict[str, str], n: int):  # type: ignore[no-untyped-def]
    """Our app runs as in production: gunicorn web workers store and acknowledge, `n` `ordertalk worker` processes
    process the inbox (and would deliver the outbox: off here, as before). The baseline has no worker."""
    if app != "bot.wsgi:app":
        yield []
        return
    procs = [subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT,
                              env={**env, "ORDERTALK_RUN_INBOX": "1", "ORDERTALK_RUN_DISPATCHER": "0",
                                   "ORDERTALK_INBOX_POLL_SECONDS": "0.05"},
                              stdout=subprocess.DEVNULL) for _ in range(n)]
    try:
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(20)


def settled(pids: list[int], quiet: float = 0.05, timeout: float = 90.0) -> None:
    """Wait until the web workers and every inbox worker have finished starting: imports, and the PDF and chart
    fonts warmed on a background thread (several CPU seconds each here). One inbox worker may decide all the warm-up
    clicks while the other still starts, and that start, measured, was counted as the cost of deciding (up to stop
    25: ~5 s of CPU in a window of ~13 s), as the web workers' warm-up was in the acknowledgements. Settled: less
    than `quiet` CPU seconds in half a second (an idle process polling an empty inbox uses ~0.01)."""
    deadline = time.monotonic() + timeout
    for p in pids:
        before = tree_cpu(p)
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = tree_cpu(p)
            if now - before < quiet:
                break
            before = now


def measured(app: str, env: dict[str, str], conc: int, warm: list[dict[str, Any]],
             reqs: list[dict[str, Any]], until_done: Callable[[], int] | None = None,
             warm_done: Callable[[], int] | None = None, workers: int = 1, url: str = "") -> dict[str, Any]:
    """Start the app under gunicorn (and our inbox worker), warm both workers up (imports, first connections,
    Bolt's auth.test), then send `reqs` at `conc` clients; server CPU is the gunicorn master + workers over the
    measured part, worker CPU the inbox worker's."""
    with gunicorn(app, env) as (port, pid), inbox_workers(app, env, workers) as wpids:
        warmed = load(port, 2, warm)
        deadline = time.monotonic() + 120
        while warm_done is not None and warm_done() < len(warm):  # the worker is up and has decided the warm-up
            if time.monotonic() > deadline:  # instead of waiting forever for a click that was never stored
                raise RuntimeError(f"the warm-up clicks were not decided within 120 s (answers: {warmed['statuses']})")
            time.sleep(0.1)
        settled([pid, *wpids])  # gunicorn's workers warm the same fonts: their tree counts as one
        cpu0, started = tree_cpu(pid), time.perf_counter()
        wcpu0 = sum(tree_cpu(w) for w in wpids)
        db0 = db_server_cpu(url)
        out = load(port, conc, reqs)
        if until_done is not None:  # the acknowledgement comes first: wait for the decisions as well
            while until_done() < len(reqs) and time.perf_counter() - started < 180:
                time.sleep(0.05)
            out["effects"] = until_done()
            out["effects_s"] = time.perf_counter() - started
        out["server_cpu_ms_per_req"] = (tree_cpu(pid) - cpu0) * 1000 / len(reqs)
        out["worker_cpu_ms_per_req"] = (sum(tree_cpu(w) for w in wpids) - wcpu0) * 1000 / len(reqs) if wpids else 0.0
        out["db_cpu_ms_per_req"] = db_cpu_between(db0, db_server_cpu(url)) * 1000 / len(reqs)
    return out


def bench_backend(name: str, url: str, levels: list[int], counts: list[int], platforms: list[str],
                  warmup: int, workers: int = 1) -> list[dict[str, Any]]:
    runs = len(levels) * len(platforms)
    total = (sum(counts) * len(platforms)) + warmup * runs
    print(f"[{name}] preparing {total} pending orders…", flush=True)
    steps = iter(prepare(url, total))
    rows = []
    with fake_apis() as api, tempfile.TemporaryDirectory() as data_dir:
        env = env_for(url, api, data_dir)
        for platform in platforms:
            for conc, count in zip(levels, counts, strict=True):
                warm_steps = [next(steps) for _ in range(warmup)]
                batch = [next(steps) for _ in range(count)]
                # the step id doubles as the event id: unique across batches (a repeat would be a redelivery)
                warm = [click_request(platform, sid, sid) for sid in warm_steps]
                reqs = [click_request(platform, sid, sid) for sid in batch]
                ours = measured("bot.wsgi:app", env, conc, warm, reqs, lambda b=batch: decided(url, b),
                                lambda w=warm_steps: decided(url, w), workers, url)
                # the baseline gets the same bodies, signed anew (timestamps), and only stores a digest of each
                base = measured("bench.baseline_app:app", env, conc, [click_request(platform, sid, sid) for sid in warm_steps],
                                [click_request(platform, sid, sid) for sid in batch], url=url)
                row = {"backend": name, "platform": platform, "clients": conc, "requests": count, "ours": ours,
                       "inbox_workers": workers,
                       "decided": ours["effects"], "decisions_per_s": ours["effects"] / ours["effects_s"], "baseline": base,
                       "ratio": ours["rps"] / base["rps"], "load_1m": os.getloadavg()[0]}
                rows.append(row)
                print(f"[{name}] {platform:<8} c={conc:<3} ours {ours['rps']:7.1f} req/s p50 {ours['p50_ms']:6.1f} p99 "
                      f"{ours['p99_ms']:7.1f} ms, decided {row['decided']}/{count} ({row['decisions_per_s']:.1f}/s), "
                      f"{ours['server_cpu_ms_per_req']:.1f} ms CPU/req (+{ours['worker_cpu_ms_per_req']:.1f} worker, "
                      f"+{ours['db_cpu_ms_per_req']:.1f} db) | baseline {base['rps']:7.1f} req/s p50 "
                      f"{base['p50_ms']:5.1f} p99 {base['p99_ms']:6.1f}, {base['server_cpu_ms_per_req']:.1f} ms CPU/req "
                      f"| ratio {row['ratio']:.2f} | load {row['load_1m']:.2f}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", default="1,16,64")
    ap.add_argument("--requests", default="60,200,400")
    ap.add_argument("--platforms", default="slack,dingtalk,wecom")
    ap.add_argument("--warmup", type=int, default=6, help="unmeasured clicks after each server start")
    ap.add_argument("--pg", default=os.environ.get("ORDERTALK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--inbox-workers", type=int, default=1,
                    help="`ordertalk worker` processes processing the inbox (one per core is the 2-core layout)")
    args = ap.parse_args()
    levels = [int(x) for x in args.clients.split(",")]
    counts = [int(x) for x in args.requests.split(",")]
    platforms = args.platforms.split(",")
    rows: list[dict[str, Any]] = []
    load_start = os.getloadavg()
    if not args.no_sqlite:
        with sqlite_db() as url:
            rows += bench_backend("sqlite", url, levels, counts, platforms, args.warmup, args.inbox_workers)
    if not args.no_pg:
        with pg_db(args.pg) as url:
            rows += bench_backend("postgresql", url, levels, counts, platforms, args.warmup, args.inbox_workers)
    print(f"\nSigned approval clicks over HTTP, gunicorn 2 workers × 8 threads (gthread), dispatcher off in the web workers, "
          f"{args.inbox_workers} inbox worker process(es); "
          f"load {load_start[0]:.2f} at start, {os.getloadavg()[0]:.2f} now; {os.cpu_count()} CPUs")
    print(f"{'backend':<11}{'platform':<9}{'clients':>7}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'decided/s':>10}{'CPU ms':>7}"
          f"{'wrk ms':>7}{'db ms':>6}"
          f"{'base req/s':>11}{'base p50':>9}{'base p99':>9}{'base CPU':>9}{'ratio':>7}{'non-2xx':>8}")
    for r in rows:
        o, b = r["ours"], r["baseline"]
        bad = sum(n for s, n in o["statuses"].items() if not str(s).startswith("2"))
        bad += sum(n for s, n in b["statuses"].items() if not str(s).startswith("2"))
        print(f"{r['backend']:<11}{r['platform']:<9}{r['clients']:>7}{o['rps']:>8.1f}{o['p50_ms']:>8.1f}{o['p99_ms']:>8.1f}"
              f"{r['decisions_per_s']:>10.1f}{o['server_cpu_ms_per_req']:>7.1f}{o.get('worker_cpu_ms_per_req', 0):>7.1f}"
              f"{o.get('db_cpu_ms_per_req', 0):>6.1f}"
              f"{b['rps']:>11.1f}{b['p50_ms']:>9.1f}"
              f"{b['p99_ms']:>9.1f}{b['server_cpu_ms_per_req']:>9.1f}{r['ratio']:>7.2f}{bad:>8}")
    print("(CPU ms = gunicorn master + workers per request; wrk ms = the inbox worker process (`ordertalk worker`) per "
          "decision; db ms = the PostgreSQL backends serving the bench's database, storing and deciding, per request)")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "interactive.json").write_text(json.dumps({
        "at": datetime.now(UTC).isoformat(), "cpus": os.cpu_count(), "load_at_start": load_start,
        "load_at_end": os.getloadavg(), "server": f"gunicorn -w 2 -k gthread --threads 8 bot.wsgi:app + {args.inbox_workers} × ordertalk worker",
        "dispatcher_in_web_workers": False, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
