"""The loopback Stream side (dingtalk.md §8.1 item 3, §8.3): a WebSocket server that checks the gateway's
ticket, pushes frames and records acks, and a runner for the official SDK client in its own thread."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dingtalk_stream
from websockets.asyncio.server import ServerConnection, serve

from .fake_dingtalk import FakeDingTalk


def stop_loop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    """Cancel everything on a loop running in another thread, then stop and close it.

    SDK 0.24.3's start() swallows the first CancelledError (and then sleeps), so cancel in rounds.
    """

    async def cancel_all() -> None:
        for _ in range(5):
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            if not tasks:
                return
            for t in tasks:
                t.cancel()
            await asyncio.wait(tasks, timeout=0.2)

    asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def frame(message_id: str, topic: str, data: dict[str, Any], kind: str = "CALLBACK") -> str:
    return json.dumps({"specVersion": "1.0", "type": kind, "data": json.dumps(data),
                       "headers": {"appId": "app-1", "connectionId": "conn-1", "contentType": "application/json",
                                   "messageId": message_id, "time": "1690362102194", "topic": topic}})


class FakeStreamServer:
    """WebSocket side of the gateway: checks the ticket, pushes frames (at connect, and later with `push`), records
    the acks. `done` is set once every frame pushed so far has been acked."""

    def __init__(self, fake: FakeDingTalk, frames: list[str] | None = None) -> None:
        self.fake = fake
        self.frames = list(frames or [])
        self.acks: list[dict[str, Any]] = []
        self.done = threading.Event()
        self.connected = threading.Event()
        self.rejected_tickets: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ws: ServerConnection | None = None
        self._acked = threading.Condition()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-ws", daemon=True)

    async def _handler(self, ws: ServerConnection) -> None:
        ticket = parse_qs(urlsplit(ws.request.path).query).get("ticket", [""])[0]
        if ticket not in self.fake.state.tickets:
            self.rejected_tickets.append(ticket)
            await ws.close(code=4001, reason="bad ticket")
            return
        self.fake.state.tickets.discard(ticket)  # single use, like the real gateway
        self._ws = ws
        for f in list(self.frames):
            await ws.send(f)
        self.connected.set()
        async for raw in ws:  # acks, until the client goes away
            with self._acked:
                self.acks.append(json.loads(raw))
                if len(self.acks) >= len(self.frames):
                    self.done.set()
                self._acked.notify_all()

    def push(self, *frames: str) -> None:
        """Send more frames on the open connection (from the test thread)."""
        assert self.connected.wait(10), "the SDK never connected"
        ws = self._ws
        assert ws is not None
        with self._acked:
            self.frames.extend(frames)
            self.done.clear()

        async def send() -> None:
            for f in frames:
                await ws.send(f)

        asyncio.run_coroutine_threadsafe(send(), self.loop).result(5)

    def wait_acks(self, count: int, timeout: float = 10) -> list[dict[str, Any]]:
        with self._acked:
            assert self._acked.wait_for(lambda: len(self.acks) >= count, timeout), f"acks so far: {self.acks}"
            return list(self.acks)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)

        async def main() -> None:
            server = await serve(self._handler, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            await server.serve_forever()

        self.loop.create_task(main())
        self.loop.run_forever()

    def start(self) -> FakeStreamServer:
        self._thread.start()
        assert self._ready.wait(5)
        return self

    def stop(self) -> None:
        stop_loop(self.loop, self._thread)


class SdkRunner:
    """Runs the SDK client on its own loop in a daemon thread (0.24.3's start() ignores cancel)."""

    def __init__(self, client: dingtalk_stream.DingTalkStreamClient) -> None:
        self.loop = asyncio.new_event_loop()
        self._client = client
        self.thread = threading.Thread(target=self._run, name="sdk-loop", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.create_task(self._client.start())
        self.loop.run_forever()

    def stop(self) -> None:
        stop_loop(self.loop, self.thread)
