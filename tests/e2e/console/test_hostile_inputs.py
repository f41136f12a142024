"""The inputs that answered 5xx in the attack report, each on every backend: now a 4xx or a clear chat answer, and
nothing changed. (The property-based sweep over every endpoint and field is tests/integration/test_fuzz_endpoints.py.)"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from adapters.dingtalk.signature import card_sign, robot_sign
from bot.bootstrap import build
from bot.records import InboundEvent
from bot.settings import Settings
from bot.tokens import ActionToken
from domain.models import Payment, Shipment, ShippingTask
from domain.orders import get_order
from tests.sandbox import Chat, button, text_of
from tests.world import build_world

SLACK_SECRET = "hostile-signing-secret"
DINGTALK_SECRET = "hostile-dingtalk-secret"
NUMBER = "SO-20261123-0001"
DEEP = "[" * 20000 + "]" * 20000


@pytest.fixture
def app(engine, db_url, clock, tmp_path):  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, database_url=db_url, sandbox=True, run_dispatcher=False, run_scheduler=False,
                        secret_key="hostile-secret-key-0123456789abcdef", data_dir=tmp_path,
                        slack_bot_token="xoxb-hostile", slack_signing_secret=SLACK_SECRET,
                        slack_api_url="http://127.0.0.1:9/api/", dingtalk_app_key="dinghostile",
                        dingtalk_app_secret=DINGTALK_SECRET, dingtalk_mode="http",
                        dingtalk_api_url="http://127.0.0.1:9", dingtalk_oapi_url="http://127.0.0.1:9")
    ot = build(settings, clock=clock, engine=engine)
    build_world(ot.sessions)
    return ot


def _slack(body: bytes, ts: str | None = None) -> dict[str, str]:
    ts = ts or str(int(time.time()))
    sig = hmac.new(SLACK_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + sig}


def _ms() -> str:
    return str(int(time.time() * 1000))


def _count(ot, model) -> int:  # type: ignore[no-untyped-def]
    with ot.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _shipped(chat: Chat) -> None:
    chat.say("li", "下单 华兴 SKU-001 x10")
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "approve")["token"])
    chat.click("sun", button(chat.cards("sun", "shipping_task")[0], "ship")["token"], {"carrier": "顺丰", "tracking": "SF1"})


def _is_refusal(replies: list[dict[str, Any]], *words: str) -> str:
    text = text_of(replies)
    assert replies and replies[0]["card"] and replies[0]["card"]["kind"] == "error", text
    assert all(w in text for w in words), text
    return text


def test_free_text_longer_than_its_column_is_refused_before_the_database(app):
    chat = Chat(app)
    chat.say("li", "下单 华兴 SKU-001 x10")
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "approve")["token"])
    ship = button(chat.cards("sun", "shipping_task")[0], "ship")
    _is_refusal(chat.click("sun", ship["token"], {"carrier": "顺" * 51, "tracking": "SF1"}), "50")
    _is_refusal(chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "S" * 65}), "64")
    with app.sessions() as s:
        ref = s.scalars(select(ShippingTask)).one().ref
    _is_refusal(chat.say("sun", f"发货 {ref} 顺丰 SF" + "1" * 70), "64")
    assert _count(app, Shipment) == 0
    chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "SF1"})
    _is_refusal(chat.say("qian", f"收款 {NUMBER} 10 " + "转" * 41), "40")
    with app.sessions() as s:
        token = app.ctx.signer.sign(ActionToken("pay", get_order(s, NUMBER).id))
    _is_refusal(chat.click("qian", token, {"amount": "10", "method": "m" * 41}), "40")
    assert _count(app, Payment) == 0
    assert "已登记收款" in text_of(chat.say("qian", f"收款 {NUMBER} 10 " + "转" * 40))  # exactly the limit fits


def test_statement_links_with_absurd_dates_are_a_4xx(app):
    client = app.flask.test_client()
    for start, end in ((date(1, 1, 1), date(9999, 12, 31)), (date(2026, 11, 30), date(2026, 11, 1)),
                       (date(1999, 1, 1), date(1999, 1, 31))):
        pdf, xlsx = app.ctx.statement_urls("C001", start, end, "zh-CN")
        for url in (pdf, xlsx):
            r = client.get(url.removeprefix(app.settings.link_base()))
            assert 400 <= r.status_code < 500, (start, end, r.status_code)


def test_deep_json_is_a_4xx_everywhere(app):
    client = app.flask.test_client()
    body = DEEP.encode()
    ms = _ms()  # one timestamp for the header and the signature (two calls may fall in different milliseconds)
    r = client.post("/dingtalk/callback", data=body, content_type="application/json",
                    headers={"timestamp": ms, "sign": robot_sign(ms, DINGTALK_SECRET)})
    assert r.status_code == 400, r.data
    r = client.post("/dingtalk/card-callback", data=body, content_type="application/json",
                    headers={"x-ddpaas-signature-timestamp": ms, "x-ddpaas-signature": card_sign(ms, DINGTALK_SECRET)})
    assert r.status_code == 400, r.data
    r = client.post("/slack/events", data=body, content_type="application/json", headers=_slack(body))
    assert r.status_code == 400, r.data
    form = b"payload=" + DEEP.replace("[", "%5B").replace("]", "%5D").encode()
    r = client.post("/slack/events", data=form, content_type="application/x-www-form-urlencoded", headers=_slack(form))
    assert r.status_code == 400, r.data
    for path in ("/sandbox/api/messages", "/sandbox/api/actions"):
        r = client.post(path, data=body, content_type="application/json")
        assert r.status_code == 400, (path, r.data)
    deep_value = json.dumps({"user": 1, "text": "hi", "token": "x", "inputs": {"a": 1}})[:-1] + ', "x": ' + DEEP + "}"
    r = client.post("/sandbox/api/messages", data=deep_value, content_type="application/json")
    assert r.status_code == 400


def test_odd_slack_requests_are_a_4xx(app):
    client = app.flask.test_client()
    body = json.dumps({"type": "event_callback", "event": None, "event_id": "Ev1", "team_id": "T1"}).encode()
    assert client.post("/slack/events", data=body, content_type="application/json", headers=_slack(body)).status_code == 400
    latin = "command=/order&text=caf\xe9&user_id=U1&response_url=x&trigger_id=t".encode("latin-1")
    r = client.post("/slack/events", data=latin, content_type="application/x-www-form-urlencoded", headers=_slack(latin))
    assert 400 <= r.status_code < 500
    for ts in ("abc", "", "1e400", "９９", "-1", str(10**400)):
        r = client.post("/slack/events", data=b"{}", content_type="application/json",
                        headers={"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=00"})
        assert r.status_code == 401, (ts, r.status_code)
        r = client.post("/slack/events", data=b"{}", content_type="application/json",
                        headers={"X-Slack-Request-Timestamp": ts})
        assert r.status_code == 401, (ts, r.status_code)


@pytest.mark.parametrize("user", [1e400, "1e400", 10**400, -1, True, "NaN", 0.5, [], {}, "²", "9" * 50])
def test_sandbox_user_ids_that_are_no_user_are_a_4xx(app, user):
    client = app.flask.test_client()
    for r in (client.post("/sandbox/api/messages", json={"user": user, "text": "帮助"}),
              client.post("/sandbox/api/actions", json={"user": user, "token": "x"}),
              client.get(f"/sandbox/api/inbox?user={user}"),
              client.get(f"/sandbox/api/suggest?user={user}&source=customers&q=a")):
        assert 400 <= r.status_code < 500, (user, r.status_code)
    # Python's json reads 1e400 as infinity; the raw body must not crash either
    r = client.post("/sandbox/api/messages", data='{"user": 1e400, "text": "x"}', content_type="application/json")
    assert 400 <= r.status_code < 500


def test_sandbox_fields_of_the_wrong_kind_are_a_4xx(app):
    client = app.flask.test_client()
    uid = Chat(app).users["li"]
    cases = [{"user": uid, "text": None}, {"user": uid, "text": 5}, {"user": uid, "text": "x", "event_id": {"a": 1}},
             {"user": uid, "text": "x", "event_id": "e" * 5000}]
    for body in cases:
        assert client.post("/sandbox/api/messages", json=body).status_code < 500, body
    for inputs in ({"k" * 5000: "v"}, {str(i): "v" for i in range(500)}, {"a": "v" * 100_000}, [1, 2], "x"):
        r = client.post("/sandbox/api/actions", json={"user": uid, "token": "x", "inputs": inputs})
        assert 400 <= r.status_code < 500, (str(inputs)[:40], r.status_code)
    assert _count(app, InboundEvent) == 2  # only the two readable messages (odd event ids, stored as keys)


def test_a_huge_chat_message_is_answered_not_stored_whole(app):
    chat = Chat(app)
    replies = chat.say("li", "x" * 3999 + " 帮助")
    assert replies  # every message gets an answer
    with app.sessions() as s:
        assert len(s.scalars(select(InboundEvent.key)).one()) <= 300
