"""The /wecom/callback blueprint driven over HTTP (Flask test client) by a fake WeCom that really encrypts."""

from __future__ import annotations

import base64
import urllib.parse

import pytest
from flask import Flask

from adapters.wecom import install
from adapters.wecom.crypto import WeComCrypto
from adapters.wecom.render import DONE_KEY
from adapters.wecom.settings import WeComSettings
from bot.settings import Settings
from bot.tokens import ActionToken, TokenSigner
from tests.e2e.wecom.conftest import (
    AES_KEY,
    SIGNER,
    TOKEN,
    CallbackSender,
    RecordingCore,
    card_event_xml,
    text_xml,
)
from tests.e2e.wecom.fake_api import CORP_ID
from tests.e2e.wecom.test_crypto import A_ECHO, _independent_cbc


def test_url_verification(app: Flask) -> None:
    # vector A: echostr with '+', '/', '=' URL-encoded exactly as WeCom sends it
    q = urllib.parse.urlencode(
        {
            "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
            "timestamp": "1476416373",
            "nonce": "47744683",
            "echostr": A_ECHO,
        }
    )
    assert "%2B" in q and "%2F" in q
    resp = app.test_client().get(f"/wecom/callback?{q}")
    assert resp.status_code == 200
    assert resp.data == b"1288432023552776189"  # exactly the plaintext, no newline


def test_url_verification_bad_signature(app: Flask) -> None:
    q = urllib.parse.urlencode(
        {
            "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebec",
            "timestamp": "1476416373",
            "nonce": "47744683",
            "echostr": A_ECHO,
        }
    )
    resp = app.test_client().get(f"/wecom/callback?{q}")
    assert resp.status_code == 403
    assert b"1288432023552776189" not in resp.data


def test_url_verification_missing_params(app: Flask) -> None:
    assert app.test_client().get("/wecom/callback?timestamp=1").status_code == 400


def test_text_message_reaches_core_once(sender: CallbackSender, core: RecordingCore) -> None:
    resp = sender.post_xml(text_xml())
    assert resp.status_code == 200 and resp.data == b""
    assert len(core.messages) == 1
    msg, deliver = core.messages[0]
    assert deliver is True
    assert (msg.platform, msg.external_user_id, msg.text) == ("wecom", "lisi", "订单 SO-20240518-0042 状态？")
    assert msg.event_id == "wecom:msg:7368001234567890123"
    assert msg.reply_to is not None and (msg.reply_to.recipient, msg.reply_to.kind) == ("lisi", "user")


def test_redelivery_answers_200_with_same_event_id(sender: CallbackSender, core: RecordingCore) -> None:
    encrypt = sender.crypto.encrypt(text_xml())
    body = sender.envelope(encrypt)
    first = sender.post_raw(body, encrypt)
    again = sender.post_raw(body, encrypt)  # WeCom's retry: identical request
    assert first.status_code == again.status_code == 200
    # dedup is the core's job; the adapter must hand over the identical event_id
    assert [m.event_id for m, _ in core.messages] == ["wecom:msg:7368001234567890123"] * 2


def test_card_click_reaches_handle_action(sender: CallbackSender, core: RecordingCore) -> None:
    key = SIGNER.sign(ActionToken("reject", 7, 0, "price"))
    resp = sender.post_xml(card_event_xml(key=key))
    assert resp.status_code == 200 and resp.data == b""
    assert not core.messages
    action, deliver = core.actions[0]
    assert deliver is True
    assert (action.platform, action.external_user_id, action.token) == ("wecom", "zhangsan", key)
    assert action.inputs == {}


@pytest.mark.parametrize(
    "key",
    [
        "tok.reject.too-expensive",  # never issued
        SIGNER.sign(ActionToken("approve", 7))[:-1],  # signature cut short
        SIGNER.sign(ActionToken("approve", 7)).replace("approve@7", "approve@8"),  # another target
    ],
)
def test_click_with_a_key_we_did_not_sign_is_refused(sender: CallbackSender, core: RecordingCore, key: str) -> None:
    resp = sender.post_xml(card_event_xml(key=key))
    assert resp.status_code == 400 and resp.get_data(as_text=True) == "unknown or tampered action key"
    assert core.calls == 0


def test_click_on_the_greyed_label_of_a_decided_card_is_acknowledged(
    sender: CallbackSender, core: RecordingCore
) -> None:
    resp = sender.post_xml(card_event_xml(key=DONE_KEY))
    assert resp.status_code == 200 and core.calls == 0


def test_other_events_acknowledged_not_forwarded(sender: CallbackSender, core: RecordingCore) -> None:
    xml = (
        f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>lisi</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>event</MsgType><Event>enter_agent</Event><EventKey></EventKey><AgentID>1000002</AgentID></xml>"
    )
    assert sender.post_xml(xml).status_code == 200
    assert core.calls == 0


def test_other_agent_ignored(sender: CallbackSender, core: RecordingCore) -> None:
    resp = sender.post_xml(text_xml().replace("<AgentID>1000002</AgentID>", "<AgentID>1000099</AgentID>"))
    assert resp.status_code == 200 and core.calls == 0


# -- rejections: 4xx and the core never called ------------------------------------------------------------------


def test_bad_signature(sender: CallbackSender, core: RecordingCore) -> None:
    encrypt = sender.crypto.encrypt(text_xml())
    resp = sender.post_raw(sender.envelope(encrypt), encrypt, sig="0" * 40)
    assert resp.status_code == 403 and b"-40001" in resp.data
    assert core.calls == 0


def test_signature_over_other_nonce(sender: CallbackSender, core: RecordingCore) -> None:
    encrypt = sender.crypto.encrypt(text_xml())
    sig = sender.crypto.sign("1716000000", "1", encrypt)
    resp = sender.post_raw(sender.envelope(encrypt), encrypt, sig=sig, nonce="2")
    assert resp.status_code == 403 and core.calls == 0


def test_wrong_corp_id(app: Flask, core: RecordingCore) -> None:
    # right token and key, but the blob names another company: signature is fine, receive id is not
    stranger = CallbackSender(app.test_client(), WeComCrypto(TOKEN, AES_KEY, "ww9999999999999999"))
    resp = stranger.post_xml(text_xml())
    assert resp.status_code == 403 and b"-40005" in resp.data
    assert core.calls == 0


def test_broken_padding(sender: CallbackSender, core: RecordingCore) -> None:
    encrypt = base64.b64encode(_independent_cbc(AES_KEY, b"\x00" * 63 + b"\x40", encrypt=True)).decode()
    resp = sender.post_raw(sender.envelope(encrypt), encrypt)  # correctly signed, bad pad byte 64
    assert resp.status_code == 400 and b"-40008" in resp.data
    assert core.calls == 0


def test_bad_base64_in_encrypt(sender: CallbackSender, core: RecordingCore) -> None:
    encrypt = "%%%notbase64%%%"
    resp = sender.post_raw(sender.envelope(encrypt), encrypt)
    assert resp.status_code == 400 and core.calls == 0


@pytest.mark.parametrize(
    "body",
    [
        "this is not xml",
        "<xml><ToUserName>ww</ToUserName><Encrypt><![CDATA[abc",  # truncated
        "",
        "<xml><ToUserName>ww</ToUserName></xml>",  # no Encrypt
        '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>',
    ],
)
def test_unparsable_envelope(sender: CallbackSender, core: RecordingCore, body: str) -> None:
    resp = sender.post_raw(body, "abc")
    assert 400 <= resp.status_code < 500
    assert core.calls == 0


def test_truncated_inner_xml(sender: CallbackSender, core: RecordingCore) -> None:
    resp = sender.post_xml(text_xml()[:-20])  # validly encrypted and signed, but the message itself is cut
    assert resp.status_code == 400 and core.calls == 0


def test_non_xml_inner_message(sender: CallbackSender, core: RecordingCore) -> None:
    resp = sender.post_xml('{"msgtype": "text"}')
    assert resp.status_code == 400 and core.calls == 0


def test_huge_body(sender: CallbackSender, core: RecordingCore) -> None:
    encrypt = sender.crypto.encrypt(text_xml(content="长" * 30000))  # > 64 KiB once encrypted
    resp = sender.post_raw(sender.envelope(encrypt), encrypt)
    assert resp.status_code == 413
    assert core.calls == 0


def test_missing_query(sender: CallbackSender, core: RecordingCore) -> None:
    resp = sender.http.post("/wecom/callback", data="<xml/>", content_type="text/xml")
    assert resp.status_code == 400 and core.calls == 0


def test_userid_no_platform_id_can_be(sender: CallbackSender, core: RecordingCore) -> None:
    # well-formed and genuinely signed, but a 200-character userid: refused by the adapter itself, not a 500
    resp = sender.post_xml(text_xml(user="x" * 200))
    assert resp.status_code == 400 and resp.get_data(as_text=True) in ("malformed message (external_user_id)",
                                                                        "malformed message (recipient)")
    assert core.calls == 0


def test_clicks_are_checked_with_the_signer_the_root_hands_in(settings: Settings) -> None:
    # The adapter's settings carry no signing key (the root settings' secret_key, which signs SIGNER's keys, never
    # reaches it): a key from the signer passed to install() is a click, SIGNER's own key is refused unseen.
    theirs = TokenSigner(b"root-signer-for-this-test-0123456789abcdef")
    core = RecordingCore()
    app = Flask("t")
    assert install(app, core, theirs, WeComSettings.from_root(settings)) is not None
    sender = CallbackSender(app.test_client())
    refused = sender.post_xml(card_event_xml(key=SIGNER.sign(ActionToken("approve", 42))))
    assert refused.status_code == 400 and core.calls == 0
    ours = theirs.sign(ActionToken("approve", 42))
    assert sender.post_xml(card_event_xml(key=ours)).status_code == 200
    assert [a.token for a, _ in core.actions] == [ours]
