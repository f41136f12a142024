"""Property: no body, however broken, makes any inbound endpoint of the whole app answer 5xx, or answer slowly.

The app has every platform and the sandbox on. Bodies are random bytes, random JSON, random forms, and
correctly signed Slack requests around random payloads (signed garbage must also be handled, not crash). Then
hostile values — exponents, NaN, infinities, huge numbers, deep JSON, long strings — in every form field, every
command, and every field of signed DingTalk, encrypted WeCom and signed Slack callbacks and signed document links,
on SQLite and PostgreSQL; any request using over 1 s of CPU (or 15 s in all) fails.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.bootstrap import build
from bot.field_pairs import CUSTOMER_FIELDS, PRODUCT_FIELDS
from bot.settings import Settings
from bot.tokens import ActionToken
from tests.bounded import within
from tests.world import build_world

SLACK_SECRET = "fuzz-signing-secret"
ENDPOINTS = ["/slack/events", "/wecom/callback", "/dingtalk/callback", "/dingtalk/card-callback",
             "/sandbox/api/messages", "/sandbox/api/actions"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@pytest.fixture
def client(sqlite_engine, sqlite_url, clock, tmp_path):  # type: ignore[no-untyped-def]
    settings_ = Settings(_env_file=None, database_url=sqlite_url, sandbox=True, run_dispatcher=False, run_scheduler=False,
                         secret_key="fuzz-secret-key-0123456789abcdef-0123", data_dir=tmp_path, slack_bot_token="xoxb-fuzz", slack_signing_secret=SLACK_SECRET,
                         slack_api_url="http://127.0.0.1:9/api/", dingtalk_app_key="dingfuzz", dingtalk_app_secret="fuzz",
                         dingtalk_mode="http", dingtalk_api_url="http://127.0.0.1:9", dingtalk_oapi_url="http://127.0.0.1:9",
                         wecom_corp_id="ww1436e0e65a779aee", wecom_agent_id=1000002, wecom_secret="s",
                         wecom_token="hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo",
                         wecom_aes_key="6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", wecom_api_url="http://127.0.0.1:9")
    ot = build(settings_, clock=clock, engine=sqlite_engine)
    assert {"slack", "dingtalk", "wecom", "console"} <= set(ot.deliverers)
    build_world(ot.sessions)
    return ot.flask.test_client()


def _slack_headers(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    sig = hmac.new(SLACK_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + sig}


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(path=st.sampled_from(ENDPOINTS), body=st.binary(max_size=300),
       ctype=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/xml", "text/plain"]))
def test_random_bytes_never_5xx(client, path, body, ctype):
    r = client.post(path, data=body, headers={"Content-Type": ctype})
    assert r.status_code < 500, (path, body, r.get_data(as_text=True)[:200])


@FUZZ
@given(path=st.sampled_from(ENDPOINTS), value=json_values)
def test_random_json_never_5xx(client, path, value):
    r = client.post(path, data=json.dumps(value), headers={"Content-Type": "application/json"})
    assert r.status_code < 500, (path, value, r.get_data(as_text=True)[:200])


@FUZZ
@given(payload=json_values, as_form=st.booleans())
def test_signed_random_slack_payloads_never_5xx(client, payload, as_form):
    body = ("payload=" + quote(json.dumps(payload))) if as_form else json.dumps(payload)
    ctype = "application/x-www-form-urlencoded" if as_form else "application/json"
    r = client.post("/slack/events", data=body, headers={"Content-Type": ctype, **_slack_headers(body.encode())})
    assert r.status_code < 500, (payload, r.get_data(as_text=True)[:200])


@FUZZ
@given(user=json_values, text=json_values, token=json_values, inputs=json_values)
def test_sandbox_api_with_random_fields_never_5xx(client, user, text, token, inputs):
    r1 = client.post("/sandbox/api/messages", json={"user": user, "text": text})
    r2 = client.post("/sandbox/api/actions", json={"user": user, "token": token, "inputs": inputs})
    assert r1.status_code < 500 and r2.status_code < 500, (r1.get_data(as_text=True)[:200], r2.get_data(as_text=True)[:200])


def test_huge_bodies_are_refused_early(client):
    for path in ENDPOINTS:
        r = client.post(path, data=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, path  # refused (signature or size) before anything is parsed or stored


# ---------------------------------------------------------------- hostile values, every endpoint and form field
# The inputs of the attack report, generalised: exponents, NaN and infinities, numbers no column holds, JSON nested
# thousands deep, long strings, odd digits and dates. Every request is timed: one over 1 s of CPU fails like a 5xx.

SLOW = 1.0  # s of CPU; the worst request here takes ~0.2 s (a 4,000-character customer name)
SPECIAL = st.sampled_from([
    "NaN", "nan", "sNaN", "-NaN", "Infinity", "-Infinity", "inf", "+inf", "1e400", "-1e400", "-0", "0", "-1", "0.5",
    "1.9", "12.000,50", "12,5", "100.129", "1e10", "99999999999", "0x10", "1_000", "١٢٣", "²", "½", "", " ", "\x00",
    "]]>", "<![CDATA[", "0001-01-01", "9999-12-31", "2026-02-30", "昨天", "明天", "SO-20261123-0001", "T-1", "%", "_",
    "理由：", "确认", "取消", "'; DROP TABLE orders; --", "\u202e", "\ufeff", "1" * 32, "1.2万", "¥-5",
])
EXPONENTS = st.builds(lambda m, e: f"{m}e{e}", st.sampled_from(["1", "9", "-1", "0.5", "1.9", "1,000"]),
                      st.integers(-700_000, 700_000))
HUGE = st.integers(min_value=10**12, max_value=10**400).map(str)
LONG = st.one_of(st.text(min_size=200, max_size=3000), st.integers(300, 6000).map(lambda n: "9" * n),
                 st.integers(100, 3000).map(lambda n: "顺丰" * n))
DEEP = st.integers(500, 20_000).map(lambda n: "[" * n + "]" * n)
HOSTILE = st.one_of(SPECIAL, EXPONENTS, HUGE, LONG, DEEP, st.text(max_size=30))
HOSTILE_JSON = st.one_of(HOSTILE, st.integers(min_value=-(10**400), max_value=10**400), st.floats(),
                         st.booleans(), st.none(), st.lists(HOSTILE, max_size=3))
FUZZ_HOSTILE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                                 HealthCheck.too_slow,
                                                                                 HealthCheck.data_too_large])
DINGTALK_SECRET = "fuzz"  # the fixture's dingtalk_app_secret


@pytest.fixture
def hostile(engine, db_url, clock, tmp_path):  # type: ignore[no-untyped-def]
    """Every platform and the sandbox on the test database (SQLite, and PostgreSQL when enabled), with an order
    approved and partly shipped, so every form has something real behind it."""
    from tests.e2e.slack.fake_slack import FakeSlack
    from tests.e2e.wecom.conftest import AES_KEY, TOKEN
    from tests.sandbox import Chat, button

    slack = FakeSlack()  # Bolt asks auth.test on the first request: Slack's API must answer (only that is faked)
    settings_ = Settings(_env_file=None, database_url=db_url, sandbox=True, run_dispatcher=False, run_scheduler=False,
                         secret_key="fuzz-secret-key-0123456789abcdef-0123", data_dir=tmp_path,
                         slack_bot_token="xoxb-fuzz", slack_signing_secret=SLACK_SECRET,
                         slack_api_url=slack.api_url, dingtalk_app_key="dingfuzz",
                         dingtalk_app_secret=DINGTALK_SECRET, dingtalk_mode="http",
                         dingtalk_api_url="http://127.0.0.1:9", dingtalk_oapi_url="http://127.0.0.1:9",
                         wecom_corp_id="ww1436e0e65a779aee", wecom_agent_id=1000002, wecom_secret="s",
                         wecom_token=TOKEN, wecom_aes_key=AES_KEY, wecom_api_url="http://127.0.0.1:9")
    ot = build(settings_, clock=clock, engine=engine)
    w = build_world(ot.sessions)
    chat = Chat(ot)
    chat.say("li", "下单 华兴 SKU-001 x10 SKU-002 x5")
    chat.click("wang", button(chat.cards("wang", "approval_request")[0], "approve")["token"])
    ship = button(chat.cards("sun", "shipping_task")[0], "ship")
    qty = [i["name"] for i in ship["inputs"] if i["name"].startswith("qty_")]
    chat.click("sun", ship["token"], {"carrier": "顺丰", "tracking": "SF1", qty[0]: "1", qty[1]: "0"})
    chat.say("li", "下单 华兴 SKU-001 x1")  # a second order, waiting for approval
    from domain.models import ApprovalStep, Order, Receivable, ShippingTask

    with ot.sessions() as s:
        first = s.scalars(select(Order).order_by(Order.id)).first()
        ids = {"order": first.id, "task": s.scalars(select(ShippingTask.id)).first(),
               "receivable": s.scalars(select(Receivable.id)).first(), "li": w["sales"],
               "step": s.scalars(select(ApprovalStep.id).where(ApprovalStep.status == "pending")).first(),
               "customer": w["c1"], "product": w["p1"]}
    yield ot, chat, ids, qty
    time.sleep(0.05)  # listeners still running on Bolt's threads
    slack.close()


def _timed_ok(r_call):  # type: ignore[no-untyped-def]
    r = within(r_call, cpu=SLOW)
    assert r.status_code < 500, (r.status_code, r.get_data(as_text=True)[:300])
    return r


CUSTOMER_INPUTS = [f.name for f in CUSTOMER_FIELDS]
PRODUCT_INPUTS = [f.name for f in PRODUCT_FIELDS]
# who presses which button, which form fields it has, and what its token points at
FORMS = {
    "submit_order": ("li", "li", ["customer", *(f"product_{i}" for i in range(1, 6)), *(f"qty_{i}" for i in range(1, 6)),
                                  "requested_date", "notes"]),
    "ship": ("sun", "task", ["carrier", "tracking", "QTY"]),
    "pay": ("qian", "order", ["amount", "method", "date"]),
    "promise": ("li", "receivable", ["date"]),
    "snooze": ("li", "receivable", []),
    "reject": ("wang", "step", ["reason"]),
    "approve": ("zhao", "step", []),
    "cancel": ("li", "order", ["reason"]),
    "claim": ("sun", "task", []),
    "confirm_reject": ("wang", "step", []),
    "cancel_prompt": ("wang", "step", []),
    "choose": ("li", "li", []),
    "open_form": ("li", "li", []),
    "save_customer": ("wang", "customer", [*CUSTOMER_INPUTS]),
    "edit_customer": ("li", "customer", []),
    "save_product": ("admin", "product", [*PRODUCT_INPUTS]),
    "edit_product": ("admin", "product", []),
}


@FUZZ_HOSTILE
@given(action=st.sampled_from(sorted(FORMS)), data=st.data())
def test_every_form_field_takes_hostile_values(hostile, action, data):
    ot, chat, ids, qty = hostile
    who, target, fields = FORMS[action]
    names = [n for f in fields for n in (qty if f == "QTY" else [f])]
    inputs = {name: data.draw(HOSTILE, label=name) for name in names if data.draw(st.booleans())}
    token = ot.ctx.signer.sign(ActionToken(action, ids[target]))
    _timed_ok(lambda: chat.client.post("/sandbox/api/actions", json={"user": chat.users[who], "token": token,
                                                                       "inputs": inputs}))


COMMANDS = ["新建客户 名称={x}", "修改客户 C001 信用额度={x} 账期={x}", "修改客户 {x}", "new product SKU={x} name=x list price={x}",
            "修改商品 SKU-001 单价={x} 安全库存={x}", "收款 SO-20261123-0001 {x}", "paid SO-20261123-0001 1 {x}", "收款 SO-20261123-0001 {x} 昨天 转账",
            "发货 T-1 顺丰 {x}", "发货 T-1 {x} SF1", "发货 T-1 顺丰 SF1 SKU-001={x}", "下单 华兴 SKU-001 x{x}",
            "下单 {x} SKU-001 x1", "下单 华兴 {x}", "对账单 华兴 {x}", "对账单 华兴 2026-11-01 {x}", "外出 至 {x}",
            "外出 至 12-01 转交 {x}", "客户 {x}", "库存 {x}", "驳回 SO-20261123-0002 {x}", "取消 SO-20261123-0002 {x}",
            "{x}", "订单 {x}", "领取 {x}", "报表 {x}"]


@FUZZ_HOSTILE
@given(template=st.sampled_from(COMMANDS), x=HOSTILE, who=st.sampled_from(["li", "qian", "sun", "wang"]))
def test_every_command_takes_hostile_arguments(hostile, template, x, who):
    ot, chat, ids, _ = hostile
    _timed_ok(lambda: chat.client.post("/sandbox/api/messages", json={"user": chat.users[who],
                                                                        "text": template.replace("{x}", x)}))


def _dingtalk_headers() -> dict[str, str]:
    from adapters.dingtalk.signature import card_sign, robot_sign

    stamp = str(int(time.time() * 1000))
    return {"timestamp": stamp, "sign": robot_sign(stamp, DINGTALK_SECRET), "x-ddpaas-signature-timestamp": stamp,
            "x-ddpaas-signature": card_sign(stamp, DINGTALK_SECRET)}


@FUZZ_HOSTILE
@given(text=HOSTILE, msg_id=HOSTILE, user=HOSTILE_JSON, inputs=st.dictionaries(HOSTILE, HOSTILE, max_size=4),
       use_real_token=st.booleans(), token=HOSTILE)
def test_signed_dingtalk_callbacks_with_hostile_fields(hostile, text, msg_id, user, inputs, use_real_token, token):
    from tests.e2e.dingtalk.payloads import card_click, robot_message

    ot, chat, ids, qty = hostile
    client = ot.flask.test_client()
    body = robot_message(text, msg_id=msg_id or "m", staff_id=user if isinstance(user, str) else "sales0107")
    _timed_ok(lambda: client.post("/dingtalk/callback", data=json.dumps(body), content_type="application/json",
                                  headers=_dingtalk_headers()))
    real = ot.ctx.signer.sign(ActionToken("ship", ids["task"]))
    click = card_click(real if use_real_token else token, user_id="wh0006", extra_params={**inputs, qty[0]: text})
    _timed_ok(lambda: client.post("/dingtalk/card-callback", data=json.dumps(click), content_type="application/json",
                                  headers=_dingtalk_headers()))


@FUZZ_HOSTILE
@given(content=HOSTILE, user=HOSTILE, key=HOSTILE, task=HOSTILE, msg_id=HOSTILE)
def test_encrypted_wecom_callbacks_with_hostile_fields(hostile, content, user, key, task, msg_id):
    from adapters.wecom.crypto import WeComCrypto
    from tests.e2e.wecom.conftest import AES_KEY, TOKEN, card_event_xml, text_xml

    ot, *_ = hostile
    client = ot.flask.test_client()
    crypto = WeComCrypto(TOKEN, AES_KEY, "ww1436e0e65a779aee")
    for xml in (text_xml(content=content, msg_id=msg_id, user=user or "lisi"),
                card_event_xml(key=key, user=user or "lisi", task_id=task)):
        encrypt = crypto.encrypt(xml)
        query = (f"msg_signature={crypto.sign('1795000000', 'n1', encrypt)}&timestamp=1795000000&nonce=n1")
        envelope = (f"<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><Encrypt><![CDATA[{encrypt}]]>"
                    "</Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>")
        _timed_ok(lambda: client.post(f"/wecom/callback?{query.replace('+', '%2B')}", data=envelope,  # noqa: B023
                                      content_type="text/xml"))


@FUZZ_HOSTILE
@given(text=HOSTILE, value=HOSTILE, field=HOSTILE,
       ts=st.one_of(st.none(), EXPONENTS, HUGE, st.sampled_from(["abc", "", "NaN", "-1", "1e400", "9" * 400]),
                    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)))  # what a header can carry
def test_signed_slack_requests_with_hostile_fields(hostile, text, value, field, ts):
    ot, *_ = hostile
    client = ot.flask.test_client()
    event = {"type": "event_callback", "event_id": f"Ev{abs(hash(text))}", "team_id": "T1",
             "event": {"type": "message", "channel_type": "im", "channel": "D0LI", "user": "U_LI", "text": text,
                       "ts": "1795000000.000100"}}
    actions = {"type": "block_actions", "user": {"id": "U_LI"}, "team": {"id": "T1"}, "trigger_id": "t1",
               "actions": [{"action_id": "ot_0", "block_id": "b", "value": value}]}
    view = {"type": "view_submission", "user": {"id": "U_LI"}, "team": {"id": "T1"},
            "view": {"type": "modal", "callback_id": "ot_form", "private_metadata": value,
                     "state": {"values": {"b": {field: {"type": "plain_text_input", "value": text}}}}}}
    bodies = [(json.dumps(event), "application/json"),
              ("payload=" + quote(json.dumps(actions)), "application/x-www-form-urlencoded"),
              ("payload=" + quote(json.dumps(view)), "application/x-www-form-urlencoded"),
              (f"command=/order&text={quote(text)}&user_id=U_LI&response_url=http://127.0.0.1:9/r&trigger_id=t",
               "application/x-www-form-urlencoded")]
    for body, ctype in bodies:
        headers = _slack_headers(body.encode())
        if ts is not None:
            headers["X-Slack-Request-Timestamp"] = ts
        _timed_ok(lambda: client.post("/slack/events", data=body, content_type=ctype, headers=headers))  # noqa: B023


@FUZZ_HOSTILE
@given(start=HOSTILE, end=HOSTILE, code=st.one_of(st.just("C001"), HOSTILE), lang=HOSTILE)
def test_signed_document_links_with_hostile_parameters(hostile, start, end, code, lang):
    from urllib.parse import quote as q

    ot, *_ = hostile
    client = ot.flask.test_client()
    path = f"/documents/statement/{code}"
    url = ot.ctx.links.url(path, start=start, end=end, lang=lang)  # signed: only the values are hostile
    tail = url.split(path, 1)[1]
    _timed_ok(lambda: client.get(f"/documents/statement/{q(code, safe='')}.pdf{tail}"))
    _timed_ok(lambda: client.get(f"/documents/delivery-note/{q(code, safe='')}.pdf?sig=x&start={q(start)}"))


@FUZZ_HOSTILE
@given(path=st.sampled_from(ENDPOINTS), body=DEEP)
def test_deep_json_on_every_endpoint(hostile, path, body):
    ot, *_ = hostile
    client = ot.flask.test_client()
    headers = {**_slack_headers(body.encode()), **_dingtalk_headers()}
    _timed_ok(lambda: client.post(path, data=body, content_type="application/json", headers=headers))
