"""The Stream path end to end through the official SDK, against a fake gateway + WebSocket server (§8.3)."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import dingtalk_stream

from adapters.dingtalk.stream import CARD_TOPIC, ROBOT_TOPIC, CardCallbackHandler, build_stream_client
from bot.tokens import ActionToken, TokenSigner

from .conftest import APPROVE_TOKEN, SIGNER, RecordingCore, adapter_settings
from .fake_dingtalk import FakeDingTalk
from .fake_stream import FakeStreamServer, SdkRunner, frame
from .payloads import card_click, robot_message


def _serve(fake_dt: FakeDingTalk, frames: list[str], core: RecordingCore, signer: TokenSigner) -> FakeStreamServer:
    """Push `frames` to a Stream client built as the CLI builds it (with `signer`) until each is acked."""
    ws = FakeStreamServer(fake_dt, frames).start()
    fake_dt.state.ws_endpoint = f"ws://127.0.0.1:{ws.port}/connect"
    client = build_stream_client(core, signer, adapter_settings(dingtalk_api_url=fake_dt.url))
    assert client.OPEN_CONNECTION_API == fake_dt.url + "/v1.0/gateway/connections/open"
    runner = SdkRunner(client)
    runner.thread.start()
    try:
        assert ws.done.wait(10), f"acks so far: {ws.acks}, gateway: {fake_dt.state.gateway_requests}"
    finally:
        runner.stop()
        ws.stop()
    return ws


def test_stream_end_to_end_with_sdk(fake_dt: FakeDingTalk, core: RecordingCore, restore_gateway_url: None) -> None:
    frames = [
        frame("p-1", "ping", {"opaque": "op-1"}, kind="SYSTEM"),
        frame("m-1", ROBOT_TOPIC, robot_message()),
        frame("m-2", CARD_TOPIC, card_click(APPROVE_TOKEN, extra_params={"reason": "价格太低"})),
        frame("m-3", ROBOT_TOPIC, robot_message()),  # DingTalk re-pushing the same chat message
    ]
    ws = _serve(fake_dt, frames, core, SIGNER)

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
    assert [(a.token, a.inputs) for a in core.actions] == [(APPROVE_TOKEN, {"reason": "价格太低"})]
    assert "sdk-loop" not in core.threads  # the core never ran on the SDK's event loop


def callback(data: dict[str, Any]) -> dingtalk_stream.CallbackMessage:
    return dingtalk_stream.CallbackMessage.from_dict(json.loads(frame("m-9", CARD_TOPIC, data)))


def test_slow_card_action_is_answered_processing_in_time() -> None:
    release = threading.Event()
    core = RecordingCore(hold=release)  # still deciding until the answer is back: no clock to race
    handler = CardCallbackHandler(core, SIGNER, click_budget=0.1)
    decided_meanwhile: list[object] = []

    async def click() -> tuple[int, dict[str, Any]]:
        try:  # waiting for the core would take its 10 s, past wait_for's 5
            return await asyncio.wait_for(handler.process(callback(card_click(APPROVE_TOKEN))), 5)
        finally:
            decided_meanwhile.extend(core.actions)
            release.set()  # before asyncio.run joins the executor thread the core runs on

    code, answer = asyncio.run(click())
    assert code == 200 and answer["cardData"]["cardParamMap"] == {"processing": "true"}
    assert decided_meanwhile == []  # answered while the core was still held
    assert core.called.wait(5)


def test_card_errors_map_to_ack_codes() -> None:
    assert asyncio.run(CardCallbackHandler(RecordingCore(), SIGNER).process(callback({"userId": "u"})))[0] == 400
    assert asyncio.run(CardCallbackHandler(RecordingCore(), SIGNER).process(callback(card_click("forged"))))[0] == 400
    failing = CardCallbackHandler(RecordingCore(fail=True), SIGNER)
    assert asyncio.run(failing.process(callback(card_click(APPROVE_TOKEN))))[0] == 500


def test_stream_card_clicks_are_checked_with_the_signer_handed_in(fake_dt: FakeDingTalk,
                                                                   restore_gateway_url: None) -> None:
    """Stream mode gets the root's signer too (the CLI passes ot.ctx.signer): a click signed by it reaches the core,
    one signed by any other key is refused before the core hears of it."""
    theirs = TokenSigner(b"root-signer-for-this-test-0123456789abcdef")
    ours = theirs.sign(ActionToken("approve", 7))
    core = RecordingCore()
    frames = [frame("m-1", CARD_TOPIC, card_click(APPROVE_TOKEN)), frame("m-2", CARD_TOPIC, card_click(ours))]
    _serve(fake_dt, frames, core, theirs)
    assert [a.token for a in core.actions] == [ours]
