"""WeCom's part of the fault suite, against the whole app on the test database: callbacks delivered three times,
broken, forged and hostile requests, tampered button keys, random bodies (hypothesis), and a forwarded card."""

from __future__ import annotations

import base64
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.wecom.crypto import WeComCrypto
from adapters.wecom.render import DONE_KEY
from bot.tokens import ActionToken, TokenSigner
from tests.e2e.wecom.conftest import AES_KEY, SIGNER, TOKEN
from tests.e2e.wecom.fake_api import AGENT_ID, CORP_ID
from tests.e2e.wecom.harness import USERIDS, Reply, SentCard, WeComDriver
from tests.e2e.wecom.test_crypto import _independent_cbc

FIRST = "SO-20261123-0001"


def submitted(wx: WeComDriver) -> SentCard:
    """An order waiting for approval, its cards delivered; returns wang's copy."""
    wx.say("li", "下单 华兴 SKU-002 x1")
    wx.drain()
    [card] = wx.cards("wang", FIRST)
    return card


def three_times(wx: WeComDriver, body: str, query: str) -> list[requests.Response]:
    """The same request three times at once, as WeCom's retries overlapping a slow answer would arrive."""
    with ThreadPoolExecutor(3) as pool:
        return list(pool.map(lambda _: wx.post(body, query), range(3)))


def clear_4xx(resp: requests.Response | Reply, case: str = "") -> None:
    assert 400 <= resp.status_code < 500, (case, resp.status_code, resp.text[:200])
    # a short reason: not empty, no stack trace, nothing of the (possibly huge) request echoed back
    assert resp.text and len(resp.content) < 200 and "Traceback" not in resp.text, (case, resp.text[:200])


# ---------------------------------------------------------------- the same callback three times


def test_text_message_delivered_three_times_has_one_effect(wx: WeComDriver) -> None:
    xml = wx.text_xml("li", "下单 华兴 SKU-002 x1", msg_id=7368999000000000001)
    encrypt = wx.crypto.encrypt(xml)
    body, query = wx.envelope(encrypt), wx.query(encrypt)
    assert [r.status_code for r in three_times(wx, body, query)] == [200, 200, 200]
    once = wx.snapshot()
    assert len(once.orders) == 1 and once.inbound == 1
    # a late fourth delivery, encrypted and signed afresh (new random prefix, timestamp, nonce): same MsgId
    assert wx.post_xml(xml, timestamp="1795000020", nonce="777").status_code == 200
    assert wx.snapshot() == once
    wx.drain()
    assert sum("已创建" in t for t in wx.texts_to("li")) == 1  # answered once
    assert len(wx.cards("wang")) == 1


def test_card_click_delivered_three_times_has_one_effect(wx: WeComDriver) -> None:
    card = submitted(wx)
    before = wx.snapshot()
    encrypt = wx.crypto.encrypt(wx.click_xml("wang", card, card.key("approve")))
    body, query = wx.envelope(encrypt), wx.query(encrypt)
    assert [r.status_code for r in three_times(wx, body, query)] == [200, 200, 200]
    once = wx.snapshot()
    assert once.inbound == before.inbound + 1 and wx.order(FIRST).status == "approved"
    assert len(wx.audit("approve")) == 1
    assert wx.post(body, query).status_code == 200  # and a late fourth delivery
    assert wx.snapshot() == once
    wx.drain()
    # one answer (no "already approved" for the repeats), one update per copy
    [answer] = [t for t in wx.texts_to("wang") if FIRST in t]
    assert answer.startswith(f"已同意订单 {FIRST}")
    assert len(wx.fake.updates) == 2 and len(wx.cards("sun")) == 1


# ---------------------------------------------------------------- broken, forged and hostile requests

Attack = Callable[[WeComDriver, str], tuple[bytes | str, str]]  # (driver, good xml) → (body, query)


def _signed(wx: WeComDriver, encrypt: str, body: bytes | str | None = None) -> tuple[bytes | str, str]:
    return (wx.envelope(encrypt) if body is None else body), wx.query(encrypt)


def _wrong_key(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    # correctly signed with our Token, encrypted with another EncodingAESKey: garbage padding after decryption
    return _signed(wx, WeComCrypto(TOKEN, "a" * 43, CORP_ID).encrypt(xml))


def _wrong_token(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    encrypt = wx.crypto.encrypt(xml)
    return wx.envelope(encrypt), wx.query(encrypt, sig=WeComCrypto("wrongToken", AES_KEY, CORP_ID).sign(
        "1795000000", "1372623149", encrypt))


def _other_corp(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    return _signed(wx, WeComCrypto(TOKEN, AES_KEY, "ww9999999999999999").encrypt(xml))


def _nonce_changed(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    encrypt = wx.crypto.encrypt(xml)
    return wx.envelope(encrypt), wx.query(encrypt, sig=wx.crypto.sign("1795000000", "1", encrypt), nonce="2")


def _tampered_ciphertext(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    encrypt = wx.crypto.encrypt(xml)
    flipped = encrypt[:10] + ("A" if encrypt[10] != "A" else "B") + encrypt[11:]
    return wx.envelope(flipped), wx.query(encrypt)  # the signature was over the original


def _bad_padding(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    return _signed(wx, base64.b64encode(_independent_cbc(AES_KEY, b"\x00" * 63 + b"\x40", encrypt=True)).decode())


def _truncated_envelope(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    body, query = _signed(wx, wx.crypto.encrypt(xml))
    return str(body)[: len(body) // 2], query


def _truncated_message(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    return _signed(wx, wx.crypto.encrypt(xml[:-25]))  # validly encrypted and signed, the message itself cut


def _not_xml_inside(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    return _signed(wx, wx.crypto.encrypt('{"MsgType": "text", "Content": "订单"}'))


def _json_envelope(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    encrypt = wx.crypto.encrypt(xml)
    return f'{{"tousername": "{CORP_ID}", "encrypt": "{encrypt}", "agentid": "{AGENT_ID}"}}', wx.query(encrypt)


def _entity_bomb(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    encrypt = wx.crypto.encrypt(xml)
    bomb = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">]>'
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt><X>&b;</X></xml>")
    return _signed(wx, encrypt, bomb)


def _huge(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    # a correctly signed envelope over 1 MiB: refused on its size before anything is parsed
    encrypt = wx.crypto.encrypt(xml + "<!--" + "长" * 400_000 + "-->")
    assert len(encrypt) > 1024 * 1024
    return _signed(wx, encrypt)


def _binary(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    return bytes(range(256)) * 4, wx.query("x")


def _empty(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    return b"", wx.query("")


def _no_query(wx: WeComDriver, xml: str) -> tuple[bytes | str, str]:
    body, _ = _signed(wx, wx.crypto.encrypt(xml))
    return body, "timestamp=1795000000"


ATTACKS: dict[str, Attack] = {
    "wrong AES key": _wrong_key, "wrong token (signature)": _wrong_token, "another corp id": _other_corp,
    "nonce changed": _nonce_changed, "tampered ciphertext": _tampered_ciphertext, "bad padding": _bad_padding,
    "truncated envelope": _truncated_envelope, "truncated message": _truncated_message,
    "not XML inside": _not_xml_inside, "JSON envelope": _json_envelope, "entity bomb": _entity_bomb,
    "over 1 MiB": _huge, "binary": _binary, "empty": _empty, "no signature": _no_query,
}


@pytest.mark.parametrize("kind", ["message", "click"])
def test_broken_and_forged_callbacks_get_a_clear_4xx_and_change_nothing(wx: WeComDriver, kind: str) -> None:
    card = submitted(wx)
    good = (wx.text_xml("li", "下单 华兴 SKU-001 x1") if kind == "message"
            else wx.click_xml("wang", card, card.key("approve")))
    before, calls = wx.snapshot(), len(wx.fake.calls)
    for name, attack in ATTACKS.items():
        body, query = attack(wx, good)
        resp = wx.post_in_process(body, query) if len(body) > 1024 * 1024 else wx.post(body, query)
        clear_4xx(resp, name)
        assert wx.snapshot() == before, name
    assert wx.drain() == 0 and len(wx.fake.calls) == calls  # nothing was queued for anybody
    assert wx.order(FIRST).status == "pending_approval"
    wx.post_xml(good)  # the genuine request still works afterwards
    assert wx.snapshot() != before


def test_huge_chunked_body_without_length_is_refused(wx: WeComDriver) -> None:
    # no Content-Length to check up front (chunked, as a proxy may forward it): refused on what was read
    before = wx.snapshot()
    encrypt = wx.crypto.encrypt(wx.text_xml("li", "长" * 400_000))
    body = wx.envelope(encrypt).encode()
    assert len(body) > 1024 * 1024
    resp = wx.post_in_process(body, wx.query(encrypt), chunked=True)
    clear_4xx(resp)
    assert resp.status_code == 413 and wx.snapshot() == before


def test_stale_timestamp_is_accepted_and_a_replay_has_no_second_effect(wx: WeComDriver) -> None:
    """Decision (adapters/wecom/callback.py): the signed timestamp is not checked for freshness. WeCom's own
    library does not, its retries may reuse the first timestamp, and replay protection is the event dedup."""
    encrypt = wx.crypto.encrypt(wx.text_xml("li", "下单 华兴 SKU-002 x1", msg_id=7368999000000000002))
    week_old = wx.query(encrypt, timestamp="1794395200")  # 7 days before the other callbacks of this file
    assert wx.post(wx.envelope(encrypt), week_old).status_code == 200
    once = wx.snapshot()
    assert len(once.orders) == 1
    # replayed a month later with a fresh, validly signed timestamp: still the same MsgId, still one order
    assert wx.post(wx.envelope(encrypt), wx.query(encrypt, timestamp="1797592000", nonce="99")).status_code == 200
    assert wx.snapshot() == once


# ---------------------------------------------------------------- tampered and unknown button keys


def forged_keys(card: SentCard) -> dict[str, str]:
    real = card.key("approve")
    action, target, version, arg, sig = real.split("@")
    return {
        "another target": "@".join([action, str(int(target) + 1), version, arg, sig]),
        "another action": "@".join(["reject", target, version, "price", sig]),
        "signature of another key": "@".join([action, target, version, arg, card.key("reject", "price").split("@")[-1]]),
        "signed with another secret": TokenSigner(b"old-secret").sign(ActionToken("approve", int(target))),
        "never issued": "approve@1@0@@AAAAAAAAAAAAAAAA",
        "not a key": "同意",
        "overlong": real + "A" * 300,
        "control characters": real + "\u0001",
    }


def test_unknown_or_tampered_action_keys_get_a_4xx_and_change_nothing(wx: WeComDriver) -> None:
    card = submitted(wx)
    before = wx.snapshot()
    for name, key in forged_keys(card).items():
        resp = wx.post_xml(wx.click_xml("wang", card, key))
        clear_4xx(resp, name)
        assert resp.status_code == 400 and ("key" in resp.text or "malformed" in resp.text), (name, resp.text)
        assert wx.snapshot() == before, name
    assert wx.order(FIRST).status == "pending_approval" and wx.drain() == 0
    # the greyed label of a decided card is ours: acknowledged, ignored
    assert wx.post_xml(wx.click_xml("wang", card, DONE_KEY)).status_code == 200
    assert wx.snapshot() == before


# ---------------------------------------------------------------- a forwarded card


def test_non_approver_clicking_a_forwarded_card_is_refused_and_audited(wx: WeComDriver) -> None:
    card = submitted(wx)
    version = wx.order(FIRST).version
    # finance is not an approver of the sales-manager step; the click is genuine, the refusal is the bot's answer
    wx.click("qian", card, card.key("approve"))

    order = wx.order(FIRST)
    assert order.status == "pending_approval" and order.version == version
    assert order.steps[0].status == "pending" and wx.audit("approve") == []
    [refused] = wx.audit("refused")
    assert (refused.actor_id, refused.platform, refused.order_id) == (wx.world["fin"], "wecom", order.id)
    assert refused.details["why"] == "not an approver of this step"

    wx.drain()
    [told] = wx.texts_to("qian")
    assert "不是" in told and "审批人" in told
    assert wx.fake.updates == []  # the real approvers' cards still wait for them
    assert wx.cards("qian") == [] and len(wx.cards("wang")) == 1
    wx.click("wang", card, card.key("approve"))  # and the real approver can still decide
    assert wx.order(FIRST).status == "approved"


# ---------------------------------------------------------------- random input (hypothesis)

HOSTILE = ["", "订单 SO-20261123-0001", "where is SO-20261123-0001", "下单 华兴 SKU-001 x1", "同意 SO-20261123-0001",
           "驳回 SO-20261123-0001 太贵", "发货 T-1 顺丰 SF1", "收款 SO-20261123-0001 1e9", "领取 T-1", "待审批", "帮助",
           "<![CDATA[", "]]>", "&amp;", "&#0;", "\ufffd", "x" * 3000]
# characters XML can carry (no C0 controls, no surrogates), plus strings that have broken chat bots before
texts = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=60) | st.sampled_from(HOSTILE)
users = st.sampled_from([*USERIDS.values(), *USERIDS.values(), "nobody", "x" * 200, ""]) | texts
# button keys we really signed (random action, target, version, preset) reach the core; others stop at the adapter
signed_keys = st.builds(lambda a, t, v, arg: SIGNER.sign(ActionToken(a, t, v, arg)),
                        st.sampled_from(["approve", "reject", "claim", "ship", "cancel", "nudge", "pay", "choose",
                                         "snooze", "promise", "open_form", "submit_order", "nope"]),
                        st.integers(0, 4), st.integers(0, 3), st.sampled_from(["", "price", "other", "1"]))
keys = signed_keys | st.sampled_from(["approve@1@0@@AAAAAAAAAAAAAAAA", DONE_KEY, ""]) | texts


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _message(tags: dict[str, str], dropped: set[str] | frozenset[str] = frozenset()) -> str:
    return "<xml>" + "".join(f"<{t}>{v}</{t}>" for t, v in tags.items() if t not in dropped) + "</xml>"


@st.composite
def text_messages(draw: st.DrawFn) -> str:
    """Well-formed chat messages: random sender, text and MsgId."""
    return _message({
        "ToUserName": _cdata(CORP_ID), "FromUserName": _cdata(draw(users)),
        "CreateTime": str(draw(st.integers(0, 2**32))), "MsgType": _cdata("text"),
        "Content": _cdata(draw(texts)), "MsgId": str(draw(st.integers(0, 2**64) | st.integers(-(2**70), 2**70))),
        "AgentID": str(AGENT_ID),
    })


@st.composite
def card_events(draw: st.DrawFn) -> str:
    """Well-formed template_card_event clicks: random clicker, key (often one we signed), task and code."""
    return _message({
        "ToUserName": _cdata(CORP_ID), "FromUserName": _cdata(draw(users)),
        "CreateTime": str(draw(st.integers(0, 2**32) | st.integers(-(2**70), 2**70))), "MsgType": _cdata("event"),
        "Event": _cdata("template_card_event"), "EventKey": _cdata(draw(keys)),
        "TaskId": _cdata(draw(st.sampled_from(["ot-1-1-abc", ""]) | texts)),
        "CardType": _cdata("button_interaction"), "ResponseCode": _cdata(draw(texts)), "AgentID": str(AGENT_ID),
    })


@st.composite
def odd_messages(draw: st.DrawFn) -> str:
    """Any mix of the known tags with random values, some left out, in odd wrappers."""
    tags = {
        "ToUserName": _cdata(draw(st.sampled_from([CORP_ID, ""]))),
        "FromUserName": _cdata(draw(users)),
        "CreateTime": draw(texts),
        "MsgType": _cdata(draw(st.sampled_from(["text", "event", "image", "location", ""]) | texts)),
        "Content": _cdata(draw(texts)),
        "MsgId": draw(texts),
        "Event": _cdata(draw(st.sampled_from(["template_card_event", "enter_agent", "subscribe", ""]) | texts)),
        "EventKey": _cdata(draw(keys)),
        "AgentID": draw(st.sampled_from([str(AGENT_ID), "1000099", ""]) | texts),
    }
    inner = _message(tags, draw(st.sets(st.sampled_from(sorted(tags)))))
    return draw(st.sampled_from([inner, inner[:-6], inner.replace("xml>", "root>"), inner[5:-6]]))


plaintexts = st.one_of(text_messages(), card_events(), odd_messages(), texts,
                       st.binary(max_size=200).map(lambda b: b.decode("latin-1")))
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(plain=plaintexts, mode=st.sampled_from(["signed", "signed", "signed", "unsigned", "raw"]),
       raw=st.binary(max_size=300))
def test_random_callbacks_never_get_a_5xx(wx: WeComDriver, plain: str, mode: str, raw: bytes) -> None:
    if not wx.snapshot().orders:  # once: an approved order with its shipping task, and one waiting, for keys to hit
        wang = submitted(wx)
        wx.click("wang", wang, wang.key("approve"))
        wx.say("li", "下单 华兴 SKU-001 x2")
    before = wx.snapshot()
    if mode == "raw":  # random bytes as the body, with a query signed over whatever they are
        resp = wx.post(raw, wx.query(raw.decode("latin-1")))
        assert 400 <= resp.status_code < 500 and wx.snapshot() == before, (raw, resp.text)
        return
    encrypt = wx.crypto.encrypt(plain)
    resp = wx.post(wx.envelope(encrypt), wx.query(encrypt, sig=None if mode == "signed" else "0" * 40))
    assert resp.status_code < 500, (plain, resp.status_code, resp.text[:300])
    if mode == "unsigned":
        assert resp.status_code == 403 and wx.snapshot() == before
