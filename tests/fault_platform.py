"""A minimal Slack-compatible Web API on a fixed localhost port that can be switched off and on, answer 500s,
hang, or hold one request forever — for the delivery fault tests. Messages are counted by their text."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SwitchablePlatform:
    def __init__(self, port: int) -> None:
        self.port = port
        self.mode = "ok"  # ok | error500 | hang
        self.hang_seconds = 5.0
        self.posted: list[str] = []  # texts of chat.postMessage calls that were answered ok
        self.attempts = 0
        self.hold_first = False  # the first postMessage never gets an answer (the client dies waiting)
        self.arrived = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def up(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                args = json.loads(raw) if self.headers.get("Content-Type", "").startswith("application/json") \
                    else {k: v[0] for k, v in parse_qs(raw).items()}
                method = self.path.rsplit("/", 1)[-1]
                body = outer._answer(method, args)
                if body is None:
                    return
                data = json.dumps(body).encode()
                status = 500 if outer.mode == "error500" else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            self.attempts += 1
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": "D" + str(args.get("users", ""))[1:]}}
        with self._lock:
            hold = self.hold_first
            self.hold_first = False
        if hold:
            self.arrived.set()
            time.sleep(30)  # never answered in time: the worker is killed while waiting
            return None
        if self.mode == "hang":
            time.sleep(self.hang_seconds)
            return None
        if self.mode == "error500":
            return {"ok": False, "error": "internal_error"}
        with self._lock:
            self.posted.append(str(args.get("text", "")))
            n = len(self.posted)
        return {"ok": True, "channel": args.get("channel"), "ts": f"1700000000.{n:06d}"}

    def counts(self) -> Counter[str]:
        with self._lock:
            return Counter(self.posted)
