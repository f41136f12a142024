"""The Stream path end to end through the official SDK, against a fake gateway + WebSocket server (§8.3)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import dingtalk_stream
import pytest
from websockets.asyncio.server import ServerConnection, serve

from adapters.dingtalk.stream import CARD_TOPIC, ROBOT_TOPIC, CardCallbackHandler, build_stream_client

from .conftest import RecordingCore, make_settings
from .fake_dingtalk import FakeDingTalk
from .payloads import card_click, robot_message


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
    """WebSocket side of the gateway: checks the ticket, pushes frames, records the acks."""

    def __init__(self, fake: FakeDingTalk, frames: list[str]) -> None:
        self.fake = fake
        self.frames = frames
        self.acks: list[dict[str, Any]] = []
        self.done = threading.Event()
        self.rejected_tickets: list[str] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-ws", daemon=True)

    async def _handler(self, ws: ServerConnection) -> None:
        ticket = parse_qs(urlsplit(ws.request.path).query).get("ticket", [""])[0]
        if ticket not in self.fake.state.tickets:
            self.rejected_tickets.append(ticket)
            await ws.close(code=4001, reason="bad ticket")
            return
        self.fake.state.tickets.discard(ticket)  # single use, like the real gateway
        for f in self.frames:
            await ws.send(f)
        while len(self.acks) < len(self.frames):
            self.acks.append(json.loads(await ws.recv()))
        self.done.set()
        await ws.wait_closed()

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


@pytest.fixture
def restore_gateway_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # build_stream_client sets this process-wide class attribute; put the original back afterwards.
    monkeypatch.setattr(dingtalk_stream.DingTalkStreamClient, "OPEN_CONNECTION_API",
                        dingtalk_stream.DingTalkStreamClient.OPEN_CONNECTION_API)
    yield


def test_stream_end_to_end_with_sdk(fake_dt: FakeDingTalk, core: RecordingCore, restore_gateway_url: None) -> None:
    frames = [
        frame("p-1", "ping", {"opaque": "op-1"}, kind="SYSTEM"),
        frame("m-1", ROBOT_TOPIC, robot_message()),
        frame("m-2", CARD_TOPIC, card_click(extra_params={"reason": "价格太低"})),
        frame("m-3", ROBOT_TOPIC, robot_message()),  # DingTalk re-pushing the same chat message
    ]
    ws = FakeStreamServer(fake_dt, frames).start()
    fake_dt.state.ws_endpoint = f"ws://127.0.0.1:{ws.port}/connect"
    client = build_stream_client(core, make_settings(dingtalk_api_url=fake_dt.url))
    assert client.OPEN_CONNECTION_API == fake_dt.url + "/v1.0/gateway/connections/open"
    runner = SdkRunner(client)
    runner.thread.start()
    try:
        assert ws.done.wait(10), f"acks so far: {ws.acks}, gateway: {fake_dt.state.gateway_requests}"
    finally:
        runner.stop()
        ws.stop()

    gateway = fake_dt.state.gateway_requests[0]
    assert gateway["accept"] == "application/json"
    assert {s["topic"] for s in gateway["body"]["subscriptions"]} == {ROBOT_TOPIC, CARD_TOPIC}
    assert ws.rejected_tickets == []

    acks = {a["headers"]["messageId"]: a for a in ws.acks}
    assert json.loads(acks["p-1"]["data"]) == {"opaque": "op-1"}
    assert acks["m-1"]["code"] == 200 and json.loads(acks["m-1"]["data"]) == {"response": "OK"}
    card_ack = json.loads(acks["m-2"]["data"])["response"]
    assert acks["m-2"]["code"] == 200 and card_ack["cardUpdateOptions"]["updateCardDataByKey"] is True

    assert acks["m-3"]["code"] == 200
    assert [m.event_id for m in core.messages] == ["dingtalk:msg:msgQk3r9bT1xHn2Yd0aLq=="] * 2  # core dedups
    assert core.messages[0].text == "查订单 SO-20261122-0007"
    assert [(a.token, a.inputs) for a in core.actions] == [("tok-approve-0007", {"reason": "价格太低"})]
    assert "sdk-loop" not in core.threads  # the core never ran on the SDK's event loop


def callback(data: dict[str, Any]) -> dingtalk_stream.CallbackMessage:
    return dingtalk_stream.CallbackMessage.from_dict(json.loads(frame("m-9", CARD_TOPIC, data)))


def test_slow_card_action_is_answered_processing_in_time() -> None:
    core = RecordingCore(delay=0.5)
    handler = CardCallbackHandler(core, click_budget=0.1)
    code, answer = asyncio.run(asyncio.wait_for(handler.process(callback(card_click())), 0.4))
    assert code == 200 and answer["cardData"]["cardParamMap"] == {"processing": "true"}
    assert core.called.wait(2)


def test_card_errors_map_to_ack_codes() -> None:
    assert asyncio.run(CardCallbackHandler(RecordingCore()).process(callback({"userId": "u"})))[0] == 400
    assert asyncio.run(CardCallbackHandler(RecordingCore(fail=True)).process(callback(card_click())))[0] == 500
