from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable

import pytest
from flask import Flask

from adapters.dingtalk import install
from adapters.dingtalk.http_callbacks import MAX_BODY_BYTES, create_blueprint
from adapters.dingtalk.inbound import card_event_id
from adapters.dingtalk.signature import card_sign, robot_sign
from bot.tokens import ActionToken, TokenSigner

from .conftest import APPROVE_TOKEN, SIGNER, RecordingCore, adapter_settings
from .fake_dingtalk import APP_SECRET
from .payloads import card_click, robot_message


def make_app(core: RecordingCore, click_budget: float = 1.5) -> Flask:
    app = Flask("t")
    app.register_blueprint(create_blueprint(core, adapter_settings(), SIGNER, click_budget=click_budget))
    return app


def robot_headers(ts: int | None = None, secret: str = APP_SECRET) -> dict[str, str]:
    stamp = str(ts if ts is not None else int(time.time() * 1000))
    return {"timestamp": stamp, "sign": robot_sign(stamp, secret)}


def card_headers(ts: int | None = None, secret: str = APP_SECRET) -> dict[str, str]:
    stamp = str(ts if ts is not None else int(time.time() * 1000))
    return {"x-ddpaas-signature-timestamp": stamp, "x-ddpaas-signature": card_sign(stamp, secret)}


def test_valid_message_reaches_core(core: RecordingCore) -> None:
    resp = make_app(core).test_client().post("/dingtalk/callback", json=robot_message(), headers=robot_headers())
    assert resp.status_code == 200
    assert resp.get_json() == {"msgtype": "empty"}
    assert [m.text for m in core.messages] == ["查订单 SO-20261122-0007"]


def test_redelivered_message_same_event_id(core: RecordingCore) -> None:
    client = make_app(core).test_client()
    for _ in range(2):
        assert client.post("/dingtalk/callback", json=robot_message(), headers=robot_headers()).status_code == 200
    assert core.messages[0].event_id == core.messages[1].event_id == "dingtalk:msg:msgQk3r9bT1xHn2Yd0aLq=="


# Built when the test runs, not at collection: on a loaded machine a full run reaches this test minutes after
# collecting it, and a timestamp one hour and 100 s ahead is then inside the window.
@pytest.mark.parametrize("headers", [
    lambda: {},  # missing
    lambda: {"timestamp": str(int(time.time() * 1000))},  # sign missing
    lambda: robot_headers(secret="wrong-secret"),  # tampered / forged
    lambda: robot_headers(ts=int(time.time() * 1000) - 3_700_000),  # outside the one-hour window
    lambda: robot_headers(ts=int(time.time() * 1000) + 3_700_000),
])
def test_bad_signature_401_core_not_called(core: RecordingCore, headers: Callable[[], dict[str, str]]) -> None:
    resp = make_app(core).test_client().post("/dingtalk/callback", json=robot_message(), headers=headers())
    assert resp.status_code == 401
    assert len(resp.data) < 100 and resp.get_json()["error"]
    assert core.messages == []


def test_tampered_sign_401(core: RecordingCore) -> None:
    headers = robot_headers()
    headers["sign"] = headers["sign"][:-4] + "AAA="
    resp = make_app(core).test_client().post("/dingtalk/callback", json=robot_message(), headers=headers)
    assert resp.status_code == 401 and core.messages == []


@pytest.mark.parametrize("data", [
    b"not json",
    b"[1, 2]",
    json.dumps({"msgtype": "text"}).encode(),
    json.dumps(robot_message(padding="x" * MAX_BODY_BYTES)).encode(),  # huge
])
def test_bad_bodies_400_core_not_called(core: RecordingCore, data: bytes) -> None:
    resp = make_app(core).test_client().post("/dingtalk/callback", data=data, headers=robot_headers(),
                                             content_type="application/json")
    assert resp.status_code == 400
    assert core.messages == []


def test_unsupported_kind_acknowledged_without_core(core: RecordingCore) -> None:
    body = robot_message(msgtype="picture", content={"downloadCode": "x"})
    resp = make_app(core).test_client().post("/dingtalk/callback", json=body, headers=robot_headers())
    assert resp.status_code == 200 and core.messages == []


def test_card_click_reaches_core_with_token(core: RecordingCore) -> None:
    resp = make_app(core).test_client().post("/dingtalk/card-callback", json=card_click(APPROVE_TOKEN), headers=card_headers())
    assert resp.status_code == 200
    assert [a.token for a in core.actions] == [APPROVE_TOKEN]
    assert core.actions[0].event_id == card_event_id("ot-7-abc", core.actions[0].external_user_id, APPROVE_TOKEN, {})
    answer = resp.get_json()
    assert answer["cardUpdateOptions"]["updateCardDataByKey"] is True
    assert answer["cardData"]["cardParamMap"] == {}  # the decided card comes through the outbox


def test_slow_core_answers_processing_within_budget() -> None:
    release = threading.Event()
    core = RecordingCore(hold=release)  # still deciding until the answer is back
    resp = make_app(core, click_budget=0.1).test_client().post("/dingtalk/card-callback", json=card_click(APPROVE_TOKEN),
                                                                headers=card_headers())
    assert resp.get_json()["cardData"]["cardParamMap"] == {"processing": "true"}
    assert core.actions == []  # answered while the core was held (waiting for it would take 10 s and answer "ok")
    release.set()
    assert core.called.wait(5) and core.actions[0].token == APPROVE_TOKEN


def test_card_click_bad_signature_and_body(core: RecordingCore) -> None:
    client = make_app(core).test_client()
    assert client.post("/dingtalk/card-callback", json=card_click(APPROVE_TOKEN)).status_code == 401
    assert client.post("/dingtalk/card-callback", json=card_click(APPROVE_TOKEN),
                       headers=card_headers(secret="nope")).status_code == 401
    assert client.post("/dingtalk/card-callback", data=b"{", headers=card_headers(),
                       content_type="application/json").status_code == 400
    bad = card_click(APPROVE_TOKEN)
    bad["content"] = bad["value"] = json.dumps({"cardPrivateData": {"params": {"x": "1"}}})
    assert client.post("/dingtalk/card-callback", json=bad, headers=card_headers()).status_code == 400
    forged = client.post("/dingtalk/card-callback", json=card_click("tok-approve-0007"), headers=card_headers())
    assert forged.status_code == 400 and forged.get_json() == {"error": "unknown or tampered action token"}
    assert core.actions == []


def test_card_clicks_are_checked_with_the_signer_the_root_hands_in(core: RecordingCore) -> None:
    # The adapter's settings carry no signing key (make_settings' secret_key never reaches it): a token from the
    # signer passed to install() is a click, one from that secret key — any other signer — is refused unseen.
    theirs = TokenSigner(b"root-signer-for-this-test-0123456789abcdef")
    app = Flask("t")
    assert install(app, core, theirs, adapter_settings()) is not None
    http = app.test_client()
    ours = theirs.sign(ActionToken("approve", 7))
    refused = http.post("/dingtalk/card-callback", json=card_click(APPROVE_TOKEN), headers=card_headers())
    assert refused.status_code == 400 and core.actions == []
    accepted = http.post("/dingtalk/card-callback", json=card_click(ours), headers=card_headers())
    assert accepted.status_code == 200 and [a.token for a in core.actions] == [ours]
