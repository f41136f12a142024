"""Property: no body, however broken, makes any inbound endpoint of the whole app answer 5xx.

The app has every platform and the sandbox on. Bodies are random bytes, random JSON, random forms, and
correctly signed Slack requests around random payloads (signed garbage must also be handled, not crash).
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

from bot.bootstrap import build
from bot.settings import Settings
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
