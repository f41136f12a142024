from __future__ import annotations

import pytest

from adapters.wecom.inbound import Ignored, MalformedXml, parse_envelope, parse_message
from bot.ports import InboundAction, InboundMessage, ReplyTarget
from tests.e2e.wecom.conftest import card_event_xml, text_xml
from tests.e2e.wecom.test_crypto import B_MSG


def test_text_message_with_cdata() -> None:
    parsed, agent = parse_message(text_xml())
    assert parsed == InboundMessage(
        platform="wecom",
        external_user_id="lisi",
        text="订单 SO-20240518-0042 状态？",
        event_id="wecom:msg:7368001234567890123",
        reply_to=ReplyTarget(recipient="lisi"),
    )
    assert agent == "1000002"


def test_text_message_without_cdata_official_sample() -> None:
    parsed, _ = parse_message(B_MSG)
    assert isinstance(parsed, InboundMessage)
    assert (parsed.external_user_id, parsed.text, parsed.event_id) == (
        "ChenJiaShun",
        "你好",
        "wecom:msg:1456453720",
    )


def test_template_card_event() -> None:
    parsed, _ = parse_message(card_event_xml(key="tok.approve.42", task_id="ot-7-1-abc"))
    assert isinstance(parsed, InboundAction)
    assert parsed.token == "tok.approve.42"
    assert parsed.inputs == {}
    assert parsed.external_user_id == "zhangsan"
    assert parsed.event_id == "wecom:card:zhangsan:1716000300:ot-7-1-abc:tok.approve.42"
    assert parsed.reply_to is not None and parsed.reply_to.recipient == "zhangsan"
    # the click's fresh ResponseCode travels as the ticket for the clicked copy (named by its TaskId)
    assert parsed.ticket is not None and (parsed.ticket.code, parsed.ticket.handle) == ("opaque-code", "ot-7-1-abc")


@pytest.mark.parametrize(
    "xml",
    [
        "<xml><FromUserName>a</FromUserName><MsgType>event</MsgType><Event>enter_agent</Event></xml>",
        "<xml><FromUserName>a</FromUserName><MsgType>event</MsgType><Event>subscribe</Event></xml>",
        "<xml><FromUserName>a</FromUserName><MsgType>image</MsgType><MsgId>1</MsgId></xml>",
    ],
)
def test_other_messages_are_ignored(xml: str) -> None:
    assert isinstance(parse_message(xml)[0], Ignored)


@pytest.mark.parametrize(
    "xml",
    [
        "not xml",
        "<xml><FromUserName>a</FromUserName><MsgType>text</MsgType>",  # truncated
        "<notxml/>",
        "<xml><MsgType>text</MsgType></xml>",  # no FromUserName
        "<xml><FromUserName>a</FromUserName><MsgType>text</MsgType><Content>x</Content></xml>",  # no MsgId
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><FromUserName>&a;</FromUserName></xml>',
    ],
)
def test_malformed(xml: str) -> None:
    with pytest.raises(MalformedXml):
        parse_message(xml)


def test_envelope_requires_encrypt() -> None:
    with pytest.raises(MalformedXml):
        parse_envelope(b"<xml><ToUserName>ww</ToUserName></xml>")
    env = parse_envelope(
        b"<xml><ToUserName><![CDATA[ww]]></ToUserName><Encrypt><![CDATA[abc]]></Encrypt></xml>"
    )
    assert (env.to_user, env.encrypt, env.agent_id) == ("ww", "abc", None)
