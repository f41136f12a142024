"""DingTalk's part of the fault suite, against the real app on the test database: repeated deliveries, broken and
hostile bodies, forged action tokens, random input (hypothesis), and a forwarded approval card."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dingtalk_stream
import pytest
import requests
from dingtalk_stream import AckMessage
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.dingtalk.stream import CardCallbackHandler, RobotMessageHandler
from bot.tokens import TokenSigner

from .harness import CARD_PATH, ROBOT_PATH, STAFF, DingTalkDriver, SentCard, card_headers, robot_headers
from .payloads import card_click, robot_message

SignedHeaders = Callable[[], dict[str, str]]


def only_order(dt: DingTalkDriver) -> str:
    orders = dt.snapshot().orders
    assert len(orders) == 1, orders
    return orders[0][0]


def submitted(dt: DingTalkDriver) -> tuple[str, SentCard]:
    """An order waiting for approval, its cards delivered; returns its number and wang's card."""
    dt.say("li", "下单 华兴 SKU-002 x1")
    dt.drain()
    return only_order(dt), dt.cards("approval_request", to="wang")[0]


def three_times(dt: DingTalkDriver, path: str, body: dict[str, Any], sign: SignedHeaders) -> list[requests.Response]:
    """The same callback three times at once, as retries overlapping a slow answer would arrive."""
    with ThreadPoolExecutor(3) as pool:
        return list(pool.map(lambda _: dt.post(path, body, sign()), range(3)))


def test_robot_message_delivered_three_times_has_one_effect(dt: DingTalkDriver) -> None:
    body = dt.message_body("li", "下单 华兴 SKU-002 x1")
    responses = three_times(dt, ROBOT_PATH, body, robot_headers)
    assert [r.status_code for r in responses] == [200, 200, 200]
    once = dt.snapshot()
    assert len(once.orders) == 1 and once.inbound == 1
    assert dt.post(ROBOT_PATH, body, robot_headers()).status_code == 200  # and a late fourth one
    assert dt.snapshot() == once
    dt.drain()
    assert sum("已提交审批" in t for t in dt.texts_to("li")) == 1  # answered once


def test_card_click_delivered_three_times_has_one_effect(dt: DingTalkDriver) -> None:
    number, card = submitted(dt)
    before = dt.snapshot()
    body = dt.click_body("wang", card, card.token("approve"))
    responses = three_times(dt, CARD_PATH, body, card_headers)
    assert [r.status_code for r in responses] == [200, 200, 200]
    once = dt.snapshot()
    assert once.inbound == before.inbound + 1 and dt.order(number).status == "approved"
    assert len(dt.audit("approve")) == 1
    assert dt.post(CARD_PATH, body, card_headers()).status_code == 200
    assert dt.snapshot() == once
    dt.drain()
    # one answer, and no "already approved by …" error for the repeats
    [answer] = dt.texts_to("wang")
    assert "已同意订单" in answer


# ---------------------------------------------------------------- broken and hostile bodies

def truncated(body: dict[str, Any]) -> bytes:
    raw = json.dumps(body, ensure_ascii=False).encode()
    return raw[: len(raw) // 2]


def huge(body: dict[str, Any]) -> bytes:
    return json.dumps({**body, "padding": "x" * (1024 * 1024 + 1)}).encode()


BAD_BODIES: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "truncated JSON": truncated,
    "not JSON": lambda body: b"msgtype=text&content=hello",
    "binary": lambda body: bytes(range(256)),
    "empty": lambda body: b"",
    "JSON array": lambda body: json.dumps([body]).encode(),
    "JSON string": lambda body: json.dumps(json.dumps(body)).encode(),
    "invalid UTF-8": lambda body: json.dumps(body).encode()[:-2] + b"\xff\xfe}",
    "over 1 MiB": huge,
}


@pytest.mark.parametrize("endpoint", ["robot", "card"])
def test_broken_bodies_get_a_clear_4xx_and_change_nothing(dt: DingTalkDriver, endpoint: str) -> None:
    _, card = submitted(dt)
    if endpoint == "robot":
        path, good, sign = ROBOT_PATH, dt.message_body("li", "下单 华兴 SKU-001 x1"), robot_headers
    else:
        path, good, sign = CARD_PATH, dt.click_body("wang", card, card.token("approve")), card_headers
    before = dt.snapshot()
    for name, make in BAD_BODIES.items():
        for headers in (sign(), {}):  # signed (reaches the parser) and unsigned (stopped at the signature)
            resp = dt.post(path, make(good), headers)
            assert 400 <= resp.status_code < 500, (name, resp.status_code, resp.text[:200])
            assert resp.json()["error"] and len(resp.content) < 300, name  # short, readable, no echo of the body
            assert dt.snapshot() == before, name


def encoded(value: Any) -> bytes:
    # ensure_ascii: lone surrogates travel as \\udxxx escapes, which json.loads on the other side turns back into them
    return json.dumps(value, ensure_ascii=True).encode()


def test_characters_no_database_stores_are_refused_in_ids_and_dropped_from_text(dt: DingTalkDriver) -> None:
    """NUL (PostgreSQL refuses it) and lone surrogates (not UTF-8) are valid JSON; they must not become a 5xx."""
    before = dt.snapshot()
    for field, value in [("msgId", "msg\ud800=="), ("senderStaffId", "sales\x000107"), ("conversationId", "cid" + "x" * 200)]:
        body = {**dt.message_body("li", "下单 华兴 SKU-002 x1", group=True), field: value}
        resp = dt.post(ROBOT_PATH, encoded(body), robot_headers())
        assert resp.status_code == 400 and field in resp.json()["error"], (field, resp.text)
    assert dt.snapshot() == before

    assert dt.post(ROBOT_PATH, encoded(dt.message_body("li", "下单 华\x00兴 SKU-002 x1")), robot_headers()).ok
    number = only_order(dt)
    assert dt.order(number).customer.code == "C001"  # the NUL was dropped, the order went through
    dt.drain()
    assert dt.post(ROBOT_PATH, encoded(dt.message_body("li", f"订单 {number}\ud800")), robot_headers()).ok

    card = dt.cards("approval_request", to="wang")[0]
    click = dt.click_body("wang", card, card.token("reject"), {"reason": "价格\x00太低\udc00"})
    assert dt.post(CARD_PATH, encoded(click), card_headers()).ok
    order = dt.order(number)
    assert order.status == "rejected" and order.steps[0].reason == "价格太低\ufffd"


def forged_tokens(card: SentCard) -> dict[str, str]:
    real = card.token("approve")
    action, target, version, arg, sig = real.split("@")
    return {
        "another target": "@".join([action, str(int(target) + 1), version, arg, sig]),
        "another action": "@".join(["reject", target, version, arg, sig]),
        "signature of another token": "@".join([action, target, version, arg, card.token("reject").split("@")[-1]]),
        "never issued": "approve@1@0@@AAAAAAAAAAAAAAAA",
        "not a token": "同意",
        "overlong": real + "A" * 300,
    }


def test_unknown_or_tampered_action_tokens_get_a_4xx_and_change_nothing(dt: DingTalkDriver) -> None:
    number, card = submitted(dt)
    before = dt.snapshot()
    for name, token in forged_tokens(card).items():
        resp = dt.post(CARD_PATH, dt.click_body("wang", card, token), card_headers())
        assert 400 <= resp.status_code < 500, (name, resp.status_code, resp.text[:200])
        assert "token" in resp.json()["error"], name
        assert dt.snapshot() == before, name
    assert dt.order(number).status == "pending_approval"


# ---------------------------------------------------------------- a forwarded card

def test_non_approver_clicking_a_forwarded_card_is_refused_and_audited(dt: DingTalkDriver) -> None:
    number, wang_card = submitted(dt)
    version = dt.order(number).version
    resp = dt.click("qian", wang_card, "approve")  # finance is not an approver of the sales-manager step
    assert resp.status_code == 200  # a genuine click, answered; the refusal is the bot's answer, not an HTTP error

    order = dt.order(number)
    assert order.status == "pending_approval" and order.version == version
    assert order.steps[0].status == "pending" and dt.audit("approve") == []
    [refused] = dt.audit("refused")
    assert refused.actor_id == dt.world["fin"] and refused.platform == "dingtalk" and refused.order_id == order.id
    assert refused.details["why"] == "not an approver of this step"

    dt.drain()
    [told] = dt.texts_to("qian")
    assert "不是" in told and "审批人" in told
    assert dt.fake.state.card_updates == []  # the real approvers' cards still wait for them
    assert STAFF["qian"] not in {c.space.split(".", 1)[1] for c in dt.cards("approval_request")}


# ---------------------------------------------------------------- random input

# Strings that have broken chat bots before: NUL and lone surrogates (databases refuse them), overlong ids, markup.
HOSTILE = ["", "\x00", "\ud800", "a\udfffb", "x" * 400, "0" * 40, "<script>", "%s%n", "../../etc/passwd",
           "订单 SO-20261123-0001", "下单 华兴 SKU-001 x1", "同意 SO-20261123-0001", "驳回 SO-20261123-0001 \x00",
           "下单 华\x00兴 SKU-001 x1", "客户 \x00", "库存 \ud800", "where is SO-\x00"]
texts = st.text(alphabet=st.characters(exclude_categories=()), max_size=60) | st.sampled_from(HOSTILE)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=10,
)
# Mostly plausible ids (linked people, well-formed message ids) so that random bodies get past the parser into the
# core; pure noise stops at the parser and leaves the core untested.
staff_ids = st.one_of(st.sampled_from(sorted(STAFF.values())), st.sampled_from(sorted(STAFF.values())), texts)
msg_ids = st.one_of(st.from_regex(r"msg[A-Za-z0-9+/]{8,24}==", fullmatch=True), texts)


def mutated(draw: st.DrawFn, body: dict[str, Any]) -> dict[str, Any]:
    """A valid body with a few fields replaced by random JSON, so the parser and the core both get exercised."""
    for key in draw(st.lists(st.sampled_from(sorted(body)), max_size=3, unique=True)):
        body[key] = draw(json_values)
    return body


@st.composite
def robot_bodies(draw: st.DrawFn) -> dict[str, Any]:
    text = draw(st.one_of(st.sampled_from(HOSTILE), st.sampled_from(HOSTILE), texts))
    body = robot_message(text, group=draw(st.booleans()), msg_id=draw(msg_ids), staff_id=draw(staff_ids))
    return mutated(draw, body)


@st.composite
def card_bodies(draw: st.DrawFn, tokens: list[str]) -> dict[str, Any]:
    inputs = draw(st.dictionaries(st.sampled_from(["reason", "form_data", "qty_1"]) | texts,
                                  st.sampled_from(HOSTILE) | json_values, max_size=3))
    body = card_click(draw(st.sampled_from(tokens) | texts), out_track_id=draw(msg_ids), user_id=draw(staff_ids),
                      extra_params=inputs)
    return mutated(draw, body)


def bodies(shaped: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[bytes]:
    return st.one_of(st.binary(max_size=200), json_values.map(encoded), shaped.map(encoded), shaped.map(encoded))


def fuzz_tokens(dt: DingTalkDriver) -> list[str]:
    """The approval cards' real tokens: a click with a valid token must reach the core, with random everything else."""
    cards = dt.cards("approval_request")
    return [c.token(a) for c in cards for a in ("approve", "reject")]


# The app and its database are built once per test, not per example, so the fixture health check does not apply.
FUZZ = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize("endpoint", ["robot", "card"])
def test_random_bodies_to_http_endpoints_never_get_a_5xx(dt: DingTalkDriver, endpoint: str) -> None:
    submitted(dt)
    if endpoint == "robot":
        path, shaped, sign = ROBOT_PATH, robot_bodies(), robot_headers
    else:
        path, shaped, sign = CARD_PATH, card_bodies(fuzz_tokens(dt)), card_headers

    @FUZZ
    @given(body=bodies(shaped), signed=st.sampled_from([True, True, False]))
    def probe(body: bytes, signed: bool) -> None:
        resp = dt.post(path, body, sign() if signed else {})
        assert resp.status_code < 500, (resp.status_code, resp.text[:300])
        assert resp.headers["Content-Type"].startswith("application/json")

    before = dt.snapshot()
    probe()
    assert dt.snapshot().inbound > before.inbound  # some random bodies got through to the core


@pytest.mark.parametrize("topic", ["robot", "card"])
def test_random_stream_frames_never_get_a_500_ack(dt: DingTalkDriver, topic: str) -> None:
    submitted(dt)
    handler: dingtalk_stream.CallbackHandler
    signer = TokenSigner(dt.ot.settings.token_secret())
    if topic == "robot":
        handler, shaped = RobotMessageHandler(dt.ot.core, signer), robot_bodies()
    else:
        handler, shaped = CardCallbackHandler(dt.ot.core, signer), card_bodies(fuzz_tokens(dt))

    @settings(FUZZ, max_examples=50)  # same parsers and core as over HTTP; new here is only the ack mapping
    @given(data=st.one_of(json_values, shaped, shaped))
    def probe(data: Any) -> None:
        message = dingtalk_stream.CallbackMessage()
        message.data = json.loads(encoded(data))  # what the SDK hands over: the frame's decoded `data`
        code, _ = asyncio.run(handler.process(message))
        assert code in (AckMessage.STATUS_OK, AckMessage.STATUS_BAD_REQUEST), code

    before = dt.snapshot()
    probe()
    assert dt.snapshot().inbound > before.inbound  # some random frames got through to the core
