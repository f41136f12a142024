"""A file sent to the bot survives a crash: the check is an inbox job stored with the message, not a thread.

A signed Slack file_share DM goes to a real web process, which stores it and acknowledges; the process that works the
inbox (an `ordertalk worker`, or `ordertalk serve` doing both) takes the message and starts the check; while it is
downloading the file from the fake file host, it is killed with -9. After a restart exactly one dry-run card arrives,
its Import button (pressed twice) imports the rows exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote

import pytest
from sqlalchemy import func, select

from bench.interactive import SLACK_SECRET, env_for
from bot.inbox import InboxEvent
from bot.records import ImportCheck
from domain.db import inbox_url, make_engine, make_session_factory
from domain.models import AuditEntry, Customer, PlatformIdentity, User
from tests.e2e.harness import WebProcess
from tests.integration.documents.test_imports import CUSTOMERS, sheet
from tests.world import build_world

ADMIN, DM = "U0ADMIN", "D0ADMIN"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class FakeSlack:
    """Slack's Web API and its file host on loopback. The first download of a file is held (never answered while the
    process that asked lives); chat.postMessage calls are kept with their blocks."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.posts: list[dict[str, Any]] = []
        self.downloads = 0
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, body: bytes, mime: str = "application/json") -> None:
                self.send_response(200)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # the file host: /files-pri/T0-<id>/<name>
                fid = self.path.split("/")[2].split("-", 1)[1]
                with outer.lock:
                    outer.downloads += 1
                    first = outer.downloads == 1
                if first:
                    outer.arrived.set()
                    outer.release.wait(60)  # the downloading process is killed meanwhile
                    return
                self._send(outer.files[fid], XLSX)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                args = json.loads(raw) if self.headers.get("Content-Type", "").startswith("application/json") \
                    else {k: v[0] for k, v in parse_qs(raw).items()}
                method = self.path.rsplit("/", 1)[-1]
                reply: dict[str, Any] = {"ok": True}
                if method == "auth.test":
                    reply.update(user_id="UBOT", bot_id="BBOT", team_id="T0", team="t", user="bot")
                elif method == "conversations.open":
                    reply["channel"] = {"id": DM}
                elif method in ("chat.postMessage", "chat.update"):
                    with outer.lock:
                        outer.posts.append({"method": method, **args})
                        n = len(outer.posts)
                    reply.update(channel=args.get("channel"), ts=args.get("ts") or f"1795000000.{n:06d}")
                self._send(json.dumps(reply).encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def check_cards(self) -> list[str]:
        """The Import buttons' tokens of the dry-run cards posted so far."""
        with self.lock:
            posts = list(self.posts)
        found = []
        for post in posts:
            if post["method"] != "chat.postMessage":
                continue
            blocks = post.get("blocks") or []
            blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
            for block in blocks:
                for el in block.get("elements", []) if isinstance(block.get("elements"), list) else []:
                    if str(el.get("action_id", "")).startswith("ot_import_apply"):
                        found.append(str(el["value"]))
        return found


@contextmanager
def fake_slack(files: dict[str, bytes]) -> Iterator[FakeSlack]:
    fake = FakeSlack(files)
    try:
        yield fake
    finally:
        fake.stop()


def signed(body: str, content_type: str) -> dict[str, Any]:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SLACK_SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"method": "POST", "path": "/slack/events", "body": body,
            "headers": {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}}


def file_event(url: str, fid: str, name: str, size: int) -> dict[str, Any]:
    link = f"{url}/files-pri/T0-{fid}/{quote(name)}"
    event = {"type": "message", "subtype": "file_share", "channel_type": "im", "channel": DM, "user": ADMIN,
             "text": "", "ts": "1795000000.000100", "event_ts": "1795000000.000100", "upload": True,
             "files": [{"id": fid, "name": name, "title": name, "mimetype": XLSX, "filetype": "xlsx", "size": size,
                        "url_private": link, "url_private_download": link + "?download=1"}]}
    body = {"token": "t", "team_id": "T0", "api_app_id": "A0", "type": "event_callback", "event_id": "EvFILE0001",
            "event_time": 1795000000, "event": event}
    return signed(json.dumps(body), "application/json")


def click(token: str, n: int) -> dict[str, Any]:
    payload = {"type": "block_actions", "team": {"id": "T0"}, "api_app_id": "A0", "user": {"id": ADMIN},
               "trigger_id": f"trig{n}", "container": {"type": "message", "message_ts": "1795000000.000001",
                                                        "channel_id": DM},
               "channel": {"id": DM}, "message": {"ts": "1795000000.000001", "text": "card", "blocks": []},
               "actions": [{"type": "button", "action_id": "ot_import_apply_0", "block_id": "b", "value": token,
                            "text": {"type": "plain_text", "text": "导入"}, "action_ts": f"1795000001.{n:06d}"}]}
    return signed("payload=" + quote(json.dumps(payload)), "application/x-www-form-urlencoded")


def state(url: str) -> tuple[int, int, list[str], dict[str, int]]:
    """Read straight from the database: (customers, import audit entries, check statuses, inbox rows by status)."""
    engine, own = make_engine(url), make_engine(inbox_url(url) or url)  # the inbox's own file on SQLite
    try:
        with make_session_factory(engine)() as s:
            customers = s.scalar(select(func.count()).select_from(Customer)) or 0
            imported = s.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "imported")) or 0
            checks = list(s.scalars(select(ImportCheck.status)))
        with make_session_factory(own)() as s:
            inbox = dict(s.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status)).all())
        return int(customers), int(imported), checks, {str(k): int(v) for k, v in inbox.items()}
    finally:
        engine.dispose()
        own.dispose()


def until(process: WebProcess, done: Callable[[], bool], seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        process.check_alive()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def pending_jobs(url: str) -> int:
    engine = make_engine(inbox_url(url) or url)
    try:
        with make_session_factory(engine)() as s:
            return int(s.scalar(select(func.count()).select_from(InboxEvent).where(
                InboxEvent.kind == "import", InboxEvent.status == "pending")) or 0)
    finally:
        engine.dispose()


@pytest.fixture
def world_url(db_url: str) -> str:
    from tests.conftest import _engine_for, _wipe

    engine = _engine_for(db_url)
    _wipe(engine)
    sessions = make_session_factory(engine)
    build_world(sessions)
    with sessions() as s:
        admin = s.scalars(select(User).where(User.username == "admin")).one()
        s.add(PlatformIdentity(platform="slack", external_id=ADMIN, user_id=admin.id))
        s.commit()
    return db_url


@pytest.mark.parametrize("layout", ["worker", "serve"])
def test_kill_9_during_the_check_then_one_card_and_one_import(world_url: str, tmp_path: Any, layout: str) -> None:
    url = world_url
    data = sheet(CUSTOMERS, template="customers")
    before = state(url)[0]
    with fake_slack({"F0CUST": data}) as api:
        env = {**env_for(url, api.url, str(tmp_path)), "ORDERTALK_INBOX_LEASE_SECONDS": "2",
               "ORDERTALK_RUN_SCHEDULER": "0"}
        store_only = env | {"ORDERTALK_INBOX_INLINE": "0", "ORDERTALK_RUN_INBOX": "0", "ORDERTALK_RUN_DISPATCHER": "0"}
        works = env | {"ORDERTALK_RUN_INBOX": "1", "ORDERTALK_RUN_DISPATCHER": "1"}
        if layout == "worker":  # the production layout: the web process stores, a worker checks
            web = WebProcess.serve(store_only)
            victim = WebProcess.worker(works)
        else:  # `ordertalk serve` storing and processing in one process
            web = victim = WebProcess.serve(works | {"ORDERTALK_INBOX_INLINE": "1"})
        try:
            assert web.send(file_event(api.url, "F0CUST", "客户.xlsx", len(data))) == 200  # acknowledged
            assert api.arrived.wait(90), "the check never started downloading"
        finally:
            victim.kill9()  # mid-download: the message is processed, its check is not
        if web is victim:
            web = WebProcess.serve(store_only)
        customers, _, checks, inbox = state(url)
        assert api.check_cards() == [] and checks == [] and customers == before
        assert pending_jobs(url) == 1  # the check's own job, left by the dead process (the message may be left
        # pending too when it died between the message's commit and marking its row done: run again, it does nothing)

        worker = WebProcess.worker(works)  # the restart
        try:
            until(worker, lambda: len(api.check_cards()) >= 1)
            time.sleep(3)  # where a second card, if there were one, would arrive
            [token] = api.check_cards()  # exactly one dry-run card
            assert state(url)[2] == ["checked"] and state(url)[0] == before  # a check writes nothing
            assert web.send(click(token, 1)) == 200
            assert web.send(click(token, 2)) == 200  # pressed again
            worker.stop_when(lambda: state(url)[2] == ["applied"] and not state(url)[3].get("pending"), grace=2.0)
        finally:
            worker.stop()
            web.stop()
    customers, imported, checks, inbox = state(url)
    assert customers == before + 2 and imported == 1 and checks == ["applied"]
    assert list(inbox) == ["done"]
    assert len(api.check_cards()) == 1  # no second card after the restart, nor after the press
