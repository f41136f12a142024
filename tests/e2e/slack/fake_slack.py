"""A fake Slack Web API on 127.0.0.1 (free port), like Bolt's own tests' mock_web_api_server.

Records every call (method, parsed arguments, headers) and answers with canned Slack-shaped JSON. Tests can
queue a one-off answer for a method (`fail(...)`), e.g. HTTP 429 with Retry-After, or an `ok: false` error.

Not kinder than Slack: posting needs the bot to be in the conversation. The bot is in `member_of` (channels it was
invited to) and in its own DMs (opened by conversations.open, or where a person wrote to it); chat.postMessage and
chat.update also reach any public channel (C…, the manifest's chat:write.public); everything else answers
`not_in_channel` (public) or `channel_not_found` (private channels, DMs between people), as Slack does.

Files (files_upload_v2): files.getUploadURLExternal hands out an upload URL under /upload/ on the fake, which keeps
the raw bytes POSTed to it (`uploads`); files.completeUploadExternal shares uploaded files into a conversation the bot
may post in (`shared`: file id → channel, thread, title), and refuses unknown or never-uploaded file ids.

response_url: `issue_response_url(...)` hands out a URL under /webhook/ for one command or click, good for 5 posts
within 30 minutes (`expire()` ends it early); posts beyond answer 404 `used_url` / `expired_url`, and a URL that was
never issued answers 404, like hooks.slack.com.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

BOT_USER = "UBOTSELF"
BOT_ID = "BBOTSELF"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    reply: Any = field(default_factory=dict)  # what the fake answered (e.g. the ts of a posted message)


@dataclass
class ResponseUrl:
    """One issued response_url: for whom, where, and how much of it is left."""

    user: str
    channel: str | None
    issued_at: float
    uses: int = 0
    expired: bool = False


RESPONSE_URL_USES = 5
RESPONSE_URL_SECONDS = 30 * 60


@dataclass
class Upload:
    """One file of files_upload_v2: announced (getUploadURLExternal), its bytes, where it was shared."""

    filename: str
    length: int
    alt_txt: str | None
    data: bytes | None = None
    channel: str | None = None
    thread_ts: str | None = None
    title: str | None = None


@dataclass
class Canned:
    status: int = 200
    body: dict[str, Any] | str = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._queued: dict[str, list[Canned]] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(100)
        self.emails = {"li.na@example.com": "ULINA"}
        self.locales: dict[str, str] = {}  # people users.info knows (user id → their Slack language); others: not found
        self.member_of: set[str] = {"C0APPROVE", "C0WAREHOUSE"}  # channels the bot was invited to
        self.bot_dms: set[str] = set()  # the bot's own DM channels
        self.response_urls: dict[str, ResponseUrl] = {}  # path → state
        self.uploads: dict[str, Upload] = {}  # file id → what was announced and uploaded
        self.now = time.time
        self._urls = itertools.count(1)
        self.down = False  # Slack unavailable: every Web API call and response_url post answers 503
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                self._handle()

            def do_POST(self) -> None:
                self._handle()

            def _handle(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if url.path.startswith("/upload/"):  # files.slack.com: raw bytes, answered in plain text
                    status, answer = fake._upload(url.path, self.rfile.read(length))
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    return
                raw = self.rfile.read(length).decode() if length else ""
                args: dict[str, Any] = dict(parse_qsl(url.query))
                if raw:
                    if "json" in (self.headers.get("Content-Type") or ""):
                        args.update(json.loads(raw))
                    else:
                        args.update(dict(parse_qsl(raw)))
                for key in ("blocks", "view", "files"):  # form-encoded calls send these as JSON strings
                    if isinstance(args.get(key), str):
                        args[key] = json.loads(args[key])
                method = url.path.rsplit("/", 1)[-1] if url.path.startswith("/api/") else url.path
                canned = fake._answer(method, args, dict(self.headers))
                payload = (canned.body if isinstance(canned.body, str) else json.dumps(canned.body)).encode()
                self.send_response(canned.status)
                kind = "text/plain" if isinstance(canned.body, str) else "application/json"
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in canned.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = self.url + "/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- test controls --------------------------------------------------------------------------------

    def fail(self, method: str, error: str | None = None, *, status: int = 200, times: int = 1,
             headers: dict[str, str] | None = None) -> None:
        """Answer the next `times` calls of `method` with an error (Slack's shape: ok false + error)."""
        body = {"ok": False, "error": error or ("ratelimited" if status == 429 else "internal_error")}
        with self._lock:
            self._queued.setdefault(method, []).extend(
                Canned(status=status, body=body, headers=headers or {}) for _ in range(times)
            )

    def issue_response_url(self, user: str, channel: str | None, kind: str = "actions") -> str:
        """A fresh response_url for one command or click by `user` in `channel`."""
        with self._lock:
            path = f"/webhook/{kind}/{next(self._urls)}"
            self.response_urls[path] = ResponseUrl(user, channel, self.now())
            return self.url + path

    def expire(self, url: str) -> None:
        with self._lock:
            self.response_urls[url.removeprefix(self.url)].expired = True

    def dm_with(self, user: str) -> str:
        """The DM between the bot and `user` (exists once either side wrote in it)."""
        channel = "D" + user[1:]
        with self._lock:
            self.bot_dms.add(channel)
        return channel

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 3.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method)
            if len(found) >= count:
                return found
            time.sleep(0.01)
        raise AssertionError(f"expected {count} call(s) to {method}, got {len(self.of(method))}: {self.calls}")

    # -- canned answers -------------------------------------------------------------------------------

    def _answer(self, method: str, args: dict[str, Any], headers: dict[str, str]) -> Canned:
        # Recorded with its answer under the lock, so a test that sees a call also sees what it was told.
        with self._lock:
            queued = self._queued.get(method)
            if self.down:
                canned = Canned(status=503, body={"ok": False, "error": "service_unavailable"}, headers={})
            else:
                canned = queued.pop(0) if queued else self._canned(method, args)
            self.calls.append(Call(method, args, headers, canned.body))
            return canned

    def _reachable(self, channel: str, *, ephemeral: bool) -> str | None:
        """None when the bot may post into `channel`, else Slack's error for it."""
        if channel in self.member_of or channel in self.bot_dms:
            return None
        if channel.startswith("C"):
            return "not_in_channel" if ephemeral else None  # chat:write.public reaches public channels
        return "channel_not_found"

    def _webhook(self, path: str) -> Canned:
        hook = self.response_urls.get(path)
        if hook is None:
            return Canned(status=404, body="invalid_url")  # hooks.slack.com answers in plain text
        if hook.expired or self.now() - hook.issued_at > RESPONSE_URL_SECONDS:
            return Canned(status=404, body="expired_url")
        hook.uses += 1
        if hook.uses > RESPONSE_URL_USES:
            return Canned(status=404, body="used_url")
        return Canned(body="ok")

    def _upload(self, path: str, data: bytes) -> tuple[int, bytes]:
        with self._lock:
            upload = self.uploads.get(path.rsplit("/", 1)[-1])
            self.calls.append(Call("upload", {"path": path, "bytes": len(data)}, {}, None))
            if upload is None:
                return 404, b"not found"
            if len(data) != upload.length:
                return 400, b"length mismatch"
            upload.data = data
            return 200, f"OK - {len(data)}".encode()

    def shared(self, channel: str | None = None) -> list[Upload]:
        """Files shared into conversations (all, or `channel`'s), in the order they were completed."""
        with self._lock:
            return [u for u in self.uploads.values() if u.channel and (channel is None or u.channel == channel)]

    def _files(self, method: str, args: dict[str, Any]) -> Canned:
        if method == "files.getUploadURLExternal":
            filename, length = str(args.get("filename") or ""), int(args.get("length") or 0)
            if not filename or length <= 0:
                return Canned(body={"ok": False, "error": "invalid_arguments"})
            file_id = f"F0{len(self.uploads) + 1:06d}"
            self.uploads[file_id] = Upload(filename, length, args.get("alt_txt"))
            return Canned(body={"ok": True, "upload_url": f"{self.url}/upload/v1/{file_id}", "file_id": file_id})
        files = args.get("files") if isinstance(args.get("files"), list) else []
        found = [self.uploads.get(str(f.get("id"))) for f in files if isinstance(f, dict)]
        if not files or any(u is None or u.data is None for u in found):
            return Canned(body={"ok": False, "error": "file_not_found"})
        channel = args.get("channel_id")
        if channel:
            error = self._reachable(str(channel), ephemeral=False)
            if error:
                return Canned(body={"ok": False, "error": error})
        shared = []
        for f, upload in zip(files, found, strict=True):
            assert upload is not None
            upload.channel, upload.thread_ts, upload.title = channel, args.get("thread_ts"), f.get("title")
            shared.append({"id": f["id"], "name": upload.filename, "title": upload.title, "mimetype": "image/png"})
        return Canned(body={"ok": True, "files": shared})

    def _user_info(self, user: str, include_locale: bool) -> Canned:
        """users.info as Slack answers it: the user object, with `locale` only when include_locale was set."""
        if user not in self.locales:
            return Canned(body={"ok": False, "error": "user_not_found"})
        name = user.lower()
        body: dict[str, Any] = {
            "id": user, "team_id": "T0ORDERS", "name": name, "deleted": False, "color": "9f69e7", "real_name": name,
            "tz": "Asia/Shanghai", "tz_label": "China Standard Time", "tz_offset": 28800,
            "profile": {"avatar_hash": "ge3b51ca72de", "status_text": "", "status_emoji": "", "real_name": name,
                        "display_name": name, "real_name_normalized": name, "display_name_normalized": name,
                        "team": "T0ORDERS"},
            "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
            "is_ultra_restricted": False, "is_bot": False, "is_app_user": False, "updated": 1795000000,
            "is_email_confirmed": True, "who_can_share_contact_card": "EVERYONE"}
        if include_locale:
            body["locale"] = self.locales[user]
        return Canned(body={"ok": True, "user": body})

    def _canned(self, method: str, args: dict[str, Any]) -> Canned:
        ts = f"1712345678.{next(self._ts):06d}"
        if method.startswith("/webhook/"):
            return self._webhook(method)
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            error = self._reachable(str(args.get("channel", "")), ephemeral=method == "chat.postEphemeral")
            if error:
                return Canned(body={"ok": False, "error": error})
        if method in ("files.getUploadURLExternal", "files.completeUploadExternal"):
            return self._files(method, args)
        if method == "auth.test":
            return Canned(body={"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": "T0ORDERS",
                                "user": "ordertalk", "team": "orders"})
        if method == "conversations.open":
            channel = "D" + str(args.get("users", ""))[1:]
            self.bot_dms.add(channel)
            return Canned(body={"ok": True, "channel": {"id": channel}})
        if method == "chat.postMessage":
            return Canned(body={"ok": True, "channel": args.get("channel"), "ts": ts})
        if method == "chat.postEphemeral":
            return Canned(body={"ok": True, "message_ts": ts})
        if method == "chat.update":
            return Canned(body={"ok": True, "channel": args.get("channel"), "ts": args.get("ts")})
        if method in ("views.open", "views.publish"):
            # Each opened view has its own id, as on Slack (a submission's idempotency key includes it).
            return Canned(body={"ok": True, "view": {"id": f"V0FAKE{ts[-6:]}", "hash": "h1"}})
        if method == "users.info":
            return self._user_info(str(args.get("user", "")), str(args.get("include_locale", "")) in ("1", "true"))
        if method == "users.lookupByEmail":
            user = self.emails.get(str(args.get("email")))
            if user is None:
                return Canned(body={"ok": False, "error": "users_not_found"})
            return Canned(body={"ok": True, "user": {"id": user}})
        return Canned(body={"ok": True})
