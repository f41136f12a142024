"""Slack's part of the fault suite, against the whole app on the test database: every inbound kind delivered three
times as Slack retries; forged, stale, broken and oversized requests; tampered and unknown button values; a
forwarded approval card clicked by someone who is not its approver; random bodies (hypothesis); and, as for DingTalk
and WeCom (tests/integration/test_inbox_faults.py), the web process killed with -9 right after it acked signed clicks,
a DM and a slash command (each takes effect once after the restart), the database refusing (5xx + Retry-After,
nothing stored), and Slack down while delivering and while a request arrives, then back (everything arrives once)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from adapters.slack.buttons import pack_button_value, unpack_button_value
from bot.cards.model import Button
from bot.tokens import ActionToken, TokenSigner
from tests.e2e.harness import Snapshot
from tests.e2e.slack.conftest import SIGNING_SECRET, SlackPoster
from tests.e2e.slack.harness import (
    PEOPLE,
    WAREHOUSE_CHANNEL,
    Posted,
    SlackDriver,
    dm_of,
    envelope,
    form_payload,
    running,
)
from tests.world import Clock

NUMBER = "SO-20261123-0001"
RETRY = [{}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
         {"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_timeout"}]


@pytest.fixture
def sl(engine: Engine, db_url: str, clock: Clock, tmp_path: Path) -> Iterator[SlackDriver]:
    with running(engine, db_url, clock, tmp_path, slack_warehouse_channel=WAREHOUSE_CHANNEL) as driver:
        yield driver


def submitted(sl: SlackDriver) -> tuple[Posted, Posted]:
    """An order waiting for approval, its cards delivered; returns wang's and zhao's copies."""
    sl.say("li", "下单 华兴 SKU-001 x10")
    return sl.card_to("wang", NUMBER, "approve"), sl.card_to("zhao", NUMBER, "approve")


def three_times(sl: SlackDriver, body: str, content_type: str) -> list[int]:
    """The same body three times at once, as Slack's retries overlap a listener still at work; each delivery is
    signed when sent (Slack signs every attempt) and the retries carry X-Slack-Retry-Num / -Reason."""
    def deliver(headers: dict[str, str]) -> int:
        poster = SlackPoster(sl.ot.flask.test_client())  # one client per thread
        return int(poster.post(body, content_type, headers).status_code)

    n = sl.calls.finished
    with ThreadPoolExecutor(3) as pool:
        codes = list(pool.map(deliver, RETRY))
    # The inbox keeps the first of them and acknowledges the others without a second row (a modal submission,
    # answered in the request, reaches the core three times and the core's dedup keeps one)…
    sl.calls.wait(n + 1)
    time.sleep(0.1)  # …and a listener that (wrongly) posted after the core had its chance to show it
    sl.drain()
    return codes


def settled(sl: SlackDriver) -> Snapshot:
    """The state once nothing is running: a short grace for a listener that (wrongly) still heads for the core."""
    time.sleep(0.05)
    sl.calls.wait(0)
    sl.drain()
    return sl.snapshot()


# ---------------------------------------------------------------- the same delivery three times


def test_dm_delivered_three_times_creates_one_order_and_one_answer(sl: SlackDriver) -> None:
    body = envelope(sl.dm_event("li", "下单 华兴 SKU-001 x10"), "Ev0RETRY01")
    assert three_times(sl, body, "application/json") == [200, 200, 200]
    snap = sl.snapshot()
    assert [o[0] for o in snap.orders] == [NUMBER] and snap.inbound == 1
    assert len(sl.posts_to("li", NUMBER)) == 1  # answered once
    assert len(sl.posts_to("wang", NUMBER)) == 1 and len(sl.posts_to("zhao", NUMBER)) == 1
    # a late fourth delivery, signed afresh
    assert sl.poster.post(body, "application/json", {"X-Slack-Retry-Num": "3",
                                                      "X-Slack-Retry-Reason": "http_error"}).status_code == 200
    assert settled(sl) == snap


def test_click_delivered_three_times_makes_one_decision(sl: SlackDriver) -> None:
    wang, zhao = submitted(sl)
    body = form_payload(sl.click_payload("wang", wang, wang.button("approve")))
    assert three_times(sl, body, "application/x-www-form-urlencoded") == [200, 200, 200]
    assert sl.order(NUMBER).status == "approved"
    assert len(sl.audit("approve")) == 1 and len(sl.audit("approved")) == 1
    assert len([p for p in sl.ephemerals("wang") if "已同意订单" in p.content]) == 1  # one answer, no "already"
    assert sorted((u.channel, u.ts) for u in sl.updates()) == sorted([(wang.channel, wang.ts), (zhao.channel, zhao.ts)])
    assert len(sl.posts_to("sun", NUMBER)) == 1 and len(sl.posts(WAREHOUSE_CHANNEL)) == 1  # one shipping task


def test_modal_submission_delivered_three_times_rejects_once(sl: SlackDriver) -> None:
    wang, zhao = submitted(sl)
    view = sl.open_modal("wang", wang, "reject")
    body = form_payload(sl.submission("wang", view, {"reason": "客户要求取消"}))
    assert three_times(sl, body, "application/x-www-form-urlencoded") == [200, 200, 200]
    assert sl.order(NUMBER).status == "rejected" and len(sl.audit("reject")) == 1
    assert len([p for p in sl.ephemerals("wang") if "已驳回订单" in p.content]) == 1
    assert len([p for p in sl.posts_to("li", NUMBER) if "客户要求取消" in p.content]) == 1
    assert len(sl.updates()) == 2


def test_slash_command_delivered_three_times_answers_once(sl: SlackDriver) -> None:
    submitted(sl)
    body, path = sl.command_body("wang", f"同意 {NUMBER}")  # approving by command: an effect that could double
    assert three_times(sl, body, "application/x-www-form-urlencoded") == [200, 200, 200]
    assert sl.order(NUMBER).status == "approved" and len(sl.audit("approve")) == 1
    [answer] = sl.fake.wait_for(path)
    time.sleep(0.1)
    assert len(sl.fake.of(path)) == 1 and f"已同意订单 {NUMBER}" in json.dumps(answer.args, ensure_ascii=False)
    assert len(sl.updates()) == 2


# ---------------------------------------------------------------- forged, stale, broken, oversized

Request = tuple[str, str, dict[str, str]]  # (body, content type, headers)


def _signed(body: str, ctype: str, **sign: Any) -> Request:
    return body, ctype, SlackPoster.sign(body, **sign)


def attacks(good: Request) -> dict[str, Request]:
    """Ways a genuine request (`good`, correctly signed) can arrive broken or forged."""
    body, ctype, _ = good
    now = int(time.time())
    cut = body[: len(body) // 2]
    other = body.replace("U0WANG", "U0QIAN").replace("U_LI", "U0AMY")
    assert other != body
    return {
        "forged signature": _signed(body, ctype, secret="not-our-secret"),
        "no signature": (body, ctype, {}),
        "signature of another body": (other, ctype, SlackPoster.sign(body)),
        # Slack's window is five minutes either way; a margin, as these are sent a few seconds after `now`
        "stale timestamp": _signed(body, ctype, timestamp=now - 330),
        "timestamp from the future": _signed(body, ctype, timestamp=now + 330),
        "truncated in transit": (cut, ctype, SlackPoster.sign(body)),
        "truncated, signed as received": _signed(cut, ctype),
        "signed non-JSON payload": _signed("payload=" + quote("{not json"), "application/x-www-form-urlencoded"),
        "signed non-JSON body": _signed("{not json", "application/json"),
        "signed JSON that is not an object": _signed(json.dumps([body]), "application/json"),
        "signed payload without a user": _signed(form_payload({"type": "block_actions", "actions": []}),
                                                 "application/x-www-form-urlencoded"),
        "signed, nested 100k deep": _signed("[" * 100_000 + "]" * 100_000, "application/json")
        if ctype == "application/json" else _signed("payload=" + quote("[" * 100_000 + "]" * 100_000), ctype),
        "huge, signed": _signed(body + " " * (1024 * 1024), ctype),
        "huge, unsigned": (body + " " * (1024 * 1024), ctype, {}),
    }


def test_forged_stale_broken_and_huge_requests_are_4xx_and_change_nothing(sl: SlackDriver) -> None:
    wang, _ = submitted(sl)
    view = sl.open_modal("wang", wang, "reject")
    form = "application/x-www-form-urlencoded"
    genuine: dict[str, Request] = {
        "message": _signed(envelope(sl.dm_event("li", "下单 华兴 SKU-002 x1"), "Ev0ATTACK1"), "application/json"),
        "click": _signed(form_payload(sl.click_payload("wang", wang, wang.button("approve"))), form),
        "submission": _signed(form_payload(sl.submission("wang", view, {"reason": "不合格"})), form),
        "command": _signed(sl.command_body("wang", f"同意 {NUMBER}")[0], form),
    }
    before, calls, api_calls = settled(sl), sl.calls.started, len(sl.fake.calls)
    for kind, good in genuine.items():
        for case, (body, ctype, headers) in attacks(good).items():
            resp = sl.ot.flask.test_client().post("/slack/events", data=body,
                                                  headers={"Content-Type": ctype, **headers})
            assert 400 <= resp.status_code < 500, (kind, case, resp.status_code)
            assert len(resp.get_data()) < 300 and b"Traceback" not in resp.get_data(), (kind, case)
    assert settled(sl) == before  # no order, decision, audit entry, outbox row or inbound key
    assert sl.calls.started == calls and len(sl.fake.calls) == api_calls  # the core and Slack never heard of them
    # the genuine requests, unchanged, do work: the attacks failed for what was wrong with them, not by accident
    for kind in ("message", "click"):
        body, ctype, _ = genuine[kind]
        assert sl.poster.post(body, ctype).status_code == 200
    sl.calls.wait(calls + 2)
    assert [status for _, status, _ in sl.snapshot().orders] == ["approved", "pending_approval"]


# ---------------------------------------------------------------- tampered and unknown button values


def _click_value(sl: SlackDriver, who: str, on: Posted, action: str, value: str) -> Any:
    payload = sl.click_payload(who, on, {**on.button(action), "value": value})
    return sl.interactive(payload), payload


def test_tampered_action_tokens_are_refused_audited_and_change_nothing(sl: SlackDriver) -> None:
    wang, _ = submitted(sl)
    token = wang.button("approve")["value"]
    action, target, version, arg, sig = token.split("@")
    tampered = {
        "signature changed": f"{action}@{target}@{version}@{arg}@{'A' * len(sig)}",
        "other step, same signature": f"{action}@{int(target) + 1}@{version}@{arg}@{sig}",
        "signed with another key": TokenSigner(b"someone else").sign(ActionToken("approve", int(target))),
        "not a token at all": "approve-please",
    }
    after = settled(sl)
    for n, (case, value) in enumerate(tampered.items(), start=1):
        before, calls = after, sl.calls.finished
        resp, _ = _click_value(sl, "wang", wang, "approve", value)
        assert resp.status_code == 200, case  # Slack needs the ack; the person is told in the conversation
        sl.calls.wait(calls + 1)
        sl.drain()
        after = sl.snapshot()
        assert after.orders == before.orders, case
        assert after.audit == before.audit + 1 and after.outbox == before.outbox + 1, case  # refusal + its answer
        refusals = sl.audit("refused")
        assert len(refusals) == n and refusals[-1].actor_id == sl.user_id("wang"), case
        assert refusals[-1].platform == "slack" and "tampered" in refusals[-1].details["why"], case
        assert sum("按钮无效" in p.content for p in sl.ephemerals("wang")) == n, case

    # the token a modal carries back in private_metadata, turned from a rejection into an approval
    view = sl.open_modal("wang", wang, "reject")
    meta = json.loads(view["private_metadata"])
    meta["t"] = meta["t"].replace("reject@", "approve@")
    resp = sl.submit("wang", {**view, "private_metadata": json.dumps(meta)}, {"reason": "x"})
    assert resp.status_code == 200 and resp.get_data() == b""  # the modal closes; the answer is a message
    final = settled(sl)
    assert final.orders == after.orders and final.audit == after.audit + 1
    assert len(sl.audit("refused")) == len(tampered) + 1
    assert sum("按钮无效" in p.content for p in sl.ephemerals("wang")) == len(tampered) + 1
    assert sl.audit("approve") == [] and sl.updates() == []


def test_a_modal_opening_button_whose_token_we_did_not_sign_opens_no_modal_and_is_refused(sl: SlackDriver) -> None:
    """The adapter checks the token a packed (modal-opening) value carries with the root's signer: a reason typed
    into a modal for a forged token would be refused anyway, so the click goes to the core as a click instead."""
    wang, _ = submitted(sl)
    spec = unpack_button_value(wang.button("reject")["value"])
    assert spec is not None and sl.ot.ctx.signer.verify(spec.token).action == "reject"  # the genuine one is signed
    forged = TokenSigner(b"someone else").sign(ActionToken("reject", sl.ot.ctx.signer.verify(spec.token).target))
    before, calls = settled(sl), sl.calls.finished
    value = pack_button_value(Button(action="reject", label=spec.submit, token=forged), spec.inputs,
                              title=spec.title, locale=spec.locale)
    assert value.startswith("otm1.")
    resp, _ = _click_value(sl, "wang", wang, "reject", value)
    assert resp.status_code == 200
    sl.calls.wait(calls + 1)
    after = settled(sl)
    assert sl.fake.of("views.open") == []  # no modal for it
    assert after.orders == before.orders and after.audit == before.audit + 1
    [refusal] = sl.audit("refused")
    assert refusal.actor_id == sl.user_id("wang") and "tampered" in refusal.details["why"]
    assert sum("按钮无效" in p.content for p in sl.ephemerals("wang")) == 1
    # the genuine button still opens its modal
    view = sl.open_modal("wang", wang, "reject")
    assert json.loads(view["private_metadata"])["t"] == spec.token


def test_undecodable_and_unknown_buttons_tell_the_user_and_never_reach_the_core(sl: SlackDriver) -> None:
    wang, _ = submitted(sl)
    packed = wang.button("reject")["value"]
    assert packed.startswith("otm1.")
    before, calls = settled(sl), sl.calls.started
    for case, value in {"packed spec tampered": packed[:-6] + "AAAAAA", "packed spec garbage": "otm1.%%%%",
                        "packed non-JSON": "otm1.eJzLSM3JyQcABiwCFQ",  # zlib("hello")
                        "unknown registered spec": "otk1.deadbeef"}.items():
        resp, payload = _click_value(sl, "wang", wang, "reject", value)
        assert resp.status_code == 200, case
        path = "/webhook/" + payload["response_url"].split("/webhook/", 1)[1]
        [sorry] = sl.fake.wait_for(path)  # told, only them, via the click's response_url
        assert sorry.args["response_type"] == "ephemeral" and sorry.args.get("replace_original") is False, case
    assert sl.fake.of("views.open") == []  # no modal for a value we cannot read
    # an action id we never rendered (an old app version's card, or made up) has no listener: Bolt's 404
    payload = sl.click_payload("wang", wang, {**wang.button("approve"), "action_id": "legacy_approve"})
    assert sl.interactive(payload).status_code == 404
    assert settled(sl) == before and sl.calls.started == calls


def test_modal_with_unreadable_metadata_keeps_the_modal_open_with_an_error(sl: SlackDriver) -> None:
    wang, _ = submitted(sl)
    view = sl.open_modal("wang", wang, "reject")
    before, calls = settled(sl), sl.calls.started
    for case, meta in {"not JSON": "{not json", "no token": "{}", "a list": "[1, 2]", "missing": None}.items():
        broken = {**view, "private_metadata": meta} if meta is not None else {
            k: v for k, v in view.items() if k != "private_metadata"}
        resp = sl.interactive(sl.submission("wang", broken, {"reason": "x"}))
        assert resp.status_code == 200, (case, resp.status_code)
        answer = json.loads(resp.get_data())
        assert answer["response_action"] == "errors" and answer["errors"]["reason"], case
    assert settled(sl) == before and sl.calls.started == calls


# ---------------------------------------------------------------- a forwarded card


def test_forwarded_card_clicked_by_a_non_approver_is_refused_and_audited(sl: SlackDriver) -> None:
    wang, _ = submitted(sl)
    # qian (finance) is not an approver of the sales-manager step; wang forwarded his card to her DM
    forwarded = Posted(wang.method, dm_of("qian"), "1795000500.000001", wang.text, wang.blocks)
    before = settled(sl)
    sl.click("qian", forwarded, "approve")
    view = sl.open_modal("qian", forwarded, "reject")
    sl.submit("qian", view, {"reason": "我来驳回"})
    after = settled(sl)
    assert after.orders == before.orders  # same status and version: nothing decided
    assert sl.audit("approve") == [] and sl.audit("reject") == [] and sl.updates() == []
    refusals = sl.audit("refused")
    assert [r.details["action_tried"] for r in refusals] == ["approve", "reject"]
    for r in refusals:
        assert (r.actor_id, r.platform, r.details["why"]) == (sl.user_id("qian"), "slack", "not an approver of this step")
    told = [p for p in sl.ephemerals("qian") if "不是「销售经理审批" in p.content]  # and she is told why, each time
    assert len(told) == 2 and all(p.channel == dm_of("qian") for p in told)


# ---------------------------------------------------------------- random bodies

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
user_ids = st.sampled_from([*PEOPLE.values(), "U0NOBODY"]) | st.text(max_size=12)  # mostly people we know
texts = st.sampled_from(["帮助", f"订单 {NUMBER}", f"同意 {NUMBER}", "下单 华兴 SKU-002 x1", "tasks"]) | st.text(max_size=40)


@dataclass(frozen=True)
class Known:
    """Real values from the running app, so random requests also reach deep into the listeners and the core."""

    button_values: list[str]
    private_metadata: list[str]
    webhook: str


def interactive_payloads(k: Known) -> st.SearchStrategy[dict[str, Any]]:
    """Slack-shaped interactivity payloads with random parts, and shapeless ones."""
    action = st.fixed_dictionaries(
        {"action_id": st.sampled_from(["ot_approve_0", "ot_reject_1", "ot_claim_0", "otl_link_0"]) | st.text(max_size=8),
         "value": st.sampled_from(k.button_values) | st.text(max_size=20)},
        optional={"action_ts": st.text(max_size=12), "block_id": st.text(max_size=4), "type": st.just("button")})
    view = st.fixed_dictionaries(
        {"callback_id": st.just("ot_modal") | st.text(max_size=8), "id": st.text(max_size=8),
         "type": st.just("modal") | json_values},
        optional={"private_metadata": st.sampled_from(k.private_metadata) | st.text(max_size=30),
                  "state": st.fixed_dictionaries({"values": st.dictionaries(
                      st.sampled_from(["reason", "carrier", "tracking"]) | st.text(max_size=6),
                      st.dictionaries(st.just("value"), st.fixed_dictionaries(
                          {"type": st.sampled_from(["plain_text_input", "static_select"]),
                           "value": st.none() | st.text(max_size=20)}) | json_values, max_size=1),
                      max_size=3)}) | json_values,
                  "blocks": st.lists(st.fixed_dictionaries({"type": st.just("input"), "block_id": st.text(max_size=6)})
                                     | json_values, max_size=3)})
    who = {"user": st.fixed_dictionaries({"id": user_ids}), "trigger_id": st.text(min_size=1, max_size=10)}
    where = {"container": st.fixed_dictionaries({"type": st.just("message"), "message_ts": st.text(max_size=10),
                                                 "channel_id": st.text(max_size=10)}),
             "channel": st.fixed_dictionaries({"id": st.text(max_size=10)}),
             "message": st.fixed_dictionaries({"ts": st.text(max_size=10)}, optional={"thread_ts": json_values}),
             "response_url": st.sampled_from([k.webhook, "", "not a url"])}
    clicks = st.fixed_dictionaries({"type": st.just("block_actions"), "actions": st.lists(action, min_size=1, max_size=2),
                                    **who}, optional=where)
    submissions = st.fixed_dictionaries({"type": st.sampled_from(["view_submission", "view_closed"]), "view": view,
                                         **who}, optional=where)
    suggestions = st.fixed_dictionaries({"type": st.just("block_suggestion"), **who,
                                         "action_id": st.just("sugg_customers") | st.text(max_size=8),
                                         "value": st.text(max_size=10)})
    shapeless = st.fixed_dictionaries({"type": st.text(max_size=10) | json_values},
                                      optional={"user": json_values, "actions": json_values, "view": json_values,
                                                "team": json_values, "channel": json_values, "message": json_values,
                                                "container": json_values, "callback_id": json_values})
    return clicks | submissions | suggestions | shapeless


def event_envelopes() -> st.SearchStrategy[dict[str, Any]]:
    event = st.fixed_dictionaries(
        {"type": st.sampled_from(["message", "app_mention", "app_home_opened"]) | st.text(max_size=10),
         "user": user_ids},
        optional={"channel": st.text(max_size=10) | json_values, "channel_type": st.just("im") | json_values,
                  "tab": st.just("home") | json_values, "text": texts | json_values, "ts": st.text(max_size=12),
                  "subtype": json_values, "bot_id": json_values, "thread_ts": json_values, "message": json_values})
    return st.fixed_dictionaries(
        {"type": st.sampled_from(["event_callback", "url_verification"]) | st.text(max_size=8)},
        optional={"event_id": st.text(max_size=12) | json_values, "event": event | json_values,
                  "challenge": json_values, "team_id": json_values,
                  "authorizations": st.lists(st.fixed_dictionaries({"user_id": st.text(max_size=8)}), max_size=1)
                  | json_values})


def command_forms(k: Known) -> st.SearchStrategy[str]:
    known = st.fixed_dictionaries({"command": st.just("/order"), "text": texts,
                                   "user_id": st.sampled_from(list(PEOPLE.values())) | st.text(max_size=8),
                                   "trigger_id": st.text(min_size=1, max_size=8), "response_url": st.just(k.webhook)},
                                  optional={"channel_id": st.text(max_size=8)})
    extra = st.dictionaries(st.text(max_size=6), st.text(max_size=20), max_size=3)
    random_form = st.dictionaries(st.sampled_from(["command", "user_id", "text", "trigger_id", "response_url",
                                                   "ssl_check", "payload"]) | st.text(max_size=6),
                                  st.text(max_size=20), max_size=6)
    return st.tuples(known, extra).map(lambda kv: urlencode({**kv[1], **kv[0]})) | random_form.map(urlencode)


def bodies(k: Known) -> st.SearchStrategy[tuple[bytes, str]]:
    form, js = "application/x-www-form-urlencoded", "application/json"
    garbage = st.one_of(
        st.tuples(st.binary(max_size=300), st.sampled_from([form, js, "text/plain", ""])),
        st.tuples(json_values.map(lambda v: json.dumps(v).encode()), st.just(js)),
        st.tuples(json_values.map(lambda p: ("payload=" + quote(json.dumps(p))).encode()), st.just(form)),
    )
    events = st.tuples(event_envelopes().map(lambda e: json.dumps(e).encode()), st.just(js))
    interactive = st.tuples(interactive_payloads(k).map(lambda p: form_payload(p).encode()), st.just(form))
    commands = st.tuples(command_forms(k).map(str.encode), st.just(form))
    # Slack-shaped bodies drawn more often than garbage: those are the ones that get past the parsers.
    return st.one_of(garbage, events, interactive, interactive, commands)


def _sign_bytes(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": "v0=" + digest}


SIGNINGS: dict[str, Callable[[bytes], dict[str, str]]] = {
    "signed": lambda b: _sign_bytes(b, SIGNING_SECRET, int(time.time())),
    "unsigned": lambda b: {},
    "wrong secret": lambda b: _sign_bytes(b, "guess", int(time.time())),
    "stale": lambda b: _sign_bytes(b, SIGNING_SECRET, int(time.time()) - 600),
    "timestamp not a number": lambda b: {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"},
}


def test_random_bodies_never_get_a_5xx_and_unsigned_ones_never_reach_the_core(sl: SlackDriver) -> None:
    wang, _ = submitted(sl)
    view = sl.open_modal("wang", wang, "reject")
    known = Known(button_values=[b.get("value", "") for b in wang.buttons()] + ["otk1.deadbeef", "otm1.AAAA"],
                  private_metadata=[view["private_metadata"], "{}", "[]"], webhook=sl.fake.url + "/webhook/fuzz")
    client = sl.ot.flask.test_client()

    @settings(max_examples=100, deadline=None, database=None)
    @given(body=bodies(known), how=st.sampled_from(["signed"] * 4 + [h for h in SIGNINGS if h != "signed"]))
    def post_random(body: tuple[bytes, str], how: str) -> None:
        data, ctype = body
        calls = sl.calls.started
        resp = client.post("/slack/events", data=data, headers={"Content-Type": ctype, **SIGNINGS[how](data)})
        assert resp.status_code < 500, (how, data[:300], resp.status_code, resp.get_data()[:200])
        if how != "signed":
            assert resp.status_code == 401 and sl.calls.started == calls, (how, data[:300])

    post_random()
    settled(sl)
    # and the app still answers a genuine request afterwards
    sl.say("li", f"订单 {NUMBER}")
    assert any(NUMBER in p.content and "进度" in p.content for p in sl.posts_to("li"))


# ---------------------------------------------------------------- the process dies, the database refuses, Slack is down
# The requests below are signed as Slack signs them (v0 HMAC of timestamp and body with the app's signing secret) and
# shaped as Bolt receives them: Events API JSON, interactivity form posts with a `payload`, slash-command forms.


def _raw_signed(body: str, content_type: str, secret: str) -> dict[str, Any]:
    return {"method": "POST", "path": "/slack/events", "body": body,
            "headers": {"Content-Type": content_type, **SlackPoster.sign(body, secret=secret)}}


def _slack_requests(steps: list[int], api: str) -> list[dict[str, Any]]:
    """An approval click per step, a DM and a slash command, all from wang (U0WANG, linked by bench's world)."""
    from bench.interactive import SLACK_SECRET, click_request

    dm = {"type": "message", "channel_type": "im", "channel": "D0WANG", "user": "U0WANG", "text": "我的审批",
          "ts": "1795000000.000101", "event_ts": "1795000000.000101"}
    command = urlencode({"team_id": "T0ORDERS", "channel_id": "C0SALES", "user_id": "U0WANG", "user_name": "wang",
                         "command": "/order", "text": "我的审批", "response_url": f"{api}/webhook/cmd1",
                         "trigger_id": "7001.8002.cmd", "api_app_id": "A0BOT"})
    return [*(click_request("slack", sid, sid) for sid in steps),
            _raw_signed(envelope(dm, "Ev0CRASH01"), "application/json", SLACK_SECRET),
            _raw_signed(command, "application/x-www-form-urlencoded", SLACK_SECRET)]


@pytest.fixture
def fresh_url(db_url: str) -> str:
    from tests.conftest import _engine_for, _wipe

    _wipe(_engine_for(db_url))
    return db_url


def test_kill_9_right_after_slack_acks_then_every_request_takes_effect_once(fresh_url: str, tmp_path: Path) -> None:
    from bench.interactive import env_for, fake_apis, prepare
    from tests.e2e.harness import WebProcess, process_effects

    steps = prepare(fresh_url, 3)
    with fake_apis() as api:
        env = {**env_for(fresh_url, api, str(tmp_path)), "ORDERTALK_INBOX_INLINE": "0", "ORDERTALK_RUN_INBOX": "0",
               "ORDERTALK_INBOX_LEASE_SECONDS": "2"}  # the production layout: the web process only stores
        requests = _slack_requests(steps, api)
        web = WebProcess.serve(env)
        try:
            codes = [web.send(r) for r in requests]
        finally:
            web.kill9()  # right after the last ack
        assert codes == [200] * len(requests)
        approved, _, _, inbox = process_effects(fresh_url, steps)
        assert approved == 0 and inbox == {"pending": len(requests)}  # each stored before its ack, none processed

        worker = WebProcess.worker(env | {"ORDERTALK_RUN_INBOX": "1"})  # the restart
        worker.stop_when(lambda: process_effects(fresh_url, steps)[3] == {"done": len(requests)})
    approved, per_order, keys, inbox = process_effects(fresh_url, steps)
    assert approved == len(steps) and sorted(per_order.values()) == [1] * len(steps)  # one decision per click
    assert keys == len(requests) and inbox == {"done": len(requests)}


@pytest.mark.pg
def test_database_refusing_slack_requests_get_a_5xx_with_retry_after_and_nothing_is_stored(pg_url: str,
                                                                                           tmp_path: Path) -> None:
    from bench.interactive import env_for, fake_apis, prepare
    from tests.conftest import _engine_for, _wipe
    from tests.e2e.harness import process_effects, refusing_database

    _wipe(_engine_for(pg_url))
    steps = prepare(pg_url, 1)
    with fake_apis() as api, refusing_database(pg_url, str(tmp_path), env_for(pg_url, api, str(tmp_path))) as (ot, proxy):
        client = ot.flask.test_client()
        proxy.refuse()
        for req in _slack_requests(steps, api):
            resp = client.open(req["path"], method="POST", data=req["body"].encode(), headers=req["headers"])
            assert resp.status_code >= 500, (req["headers"]["Content-Type"], resp.status_code, resp.get_data()[:300])
            assert resp.headers.get("Retry-After"), req["headers"]["Content-Type"]
    assert process_effects(pg_url, steps)[2:] == (0, {})  # nothing stored (read past the proxy): nothing acknowledged


def test_slack_down_when_delivering_then_back_every_message_arrives_once(sl: SlackDriver, clock: Clock) -> None:
    n = sl.calls.finished
    assert sl.event(sl.dm_event("li", "下单 华兴 SKU-001 x10")).status_code == 200
    sl.calls.wait(n + 1)  # handled while Slack was up; its answers are queued
    sl.fake.down = True
    sl.drain()  # every delivery meets a 503
    assert sl.posts() == [] and sl.snapshot().orders[0][:2] == (NUMBER, "pending_approval")
    waiting = sl.outbox("pending")
    assert waiting and max(r.attempts for r in waiting) >= 1 and all(r.last_error for r in waiting if r.attempts)
    assert sl.drain() == 0  # backing off: no hammering a platform that is down

    sl.fake.down = False
    for _ in range(10):  # the backoff grows with each try; move time past it until nothing is left
        clock.advance(seconds=700)
        sl.drain()
        if not sl.outbox("pending"):
            break
    rows = sl.outbox()
    assert rows and {r.status for r in rows} == {"delivered"}
    # delivered exactly once each: one answer to li, one approval card to each manager, no post twice
    assert len(sl.posts_to("li", NUMBER)) == 1
    sl.card_to("wang", NUMBER, "approve")  # exactly one each (card_to asserts it)
    sl.card_to("zhao", NUMBER, "approve")
    contents = [(p.channel, p.content) for p in sl.posts()]
    assert len(contents) == len(set(contents))


def test_slack_down_when_a_dm_arrives_it_is_acked_kept_and_handled_once_slack_is_back(sl: SlackDriver,
                                                                                       clock: Clock) -> None:
    sl.fake.down = True  # Bolt cannot even authorize (auth.test answers 503)
    body = envelope(sl.dm_event("li", "下单 华兴 SKU-001 x10"), "Ev0DOWN001")
    assert sl.poster.post(body, "application/json").status_code == 200  # acked: Slack will not resend it
    assert sl.poster.post(body, "application/json", RETRY[1]).status_code == 200  # a retry meanwhile: same key
    snap = sl.snapshot()
    assert snap.orders == () and snap.inbound == 0 and sl.calls.finished == 0  # not handled yet…
    assert _inbox(sl) == {"pending": 1}  # …but kept, once

    sl.fake.down = False
    clock.advance(seconds=60)  # past the inbox's retry delay
    sl.ot.inbox.drain()
    sl.calls.wait(1)
    sl.drain()
    snap = sl.snapshot()
    assert [o[0] for o in snap.orders] == [NUMBER] and snap.inbound == 1
    assert len(sl.posts_to("li", NUMBER)) == 1
    sl.card_to("wang", NUMBER, "approve")  # exactly one each (card_to asserts it)
    sl.card_to("zhao", NUMBER, "approve")
    assert settled(sl) == snap and _inbox(sl) == {"done": 1}  # nothing left to run a second time


def _inbox(sl: SlackDriver) -> dict[str, int]:
    from sqlalchemy import func, select

    from bot.inbox import InboxEvent

    with sl.ot.inbox.sessions() as s:
        return {k: int(v) for k, v in s.execute(select(InboxEvent.status, func.count()).group_by(InboxEvent.status))}
