from __future__ import annotations

import json

import pytest

from adapters.dingtalk.inbound import (
    MalformedPayload,
    UnsupportedMessage,
    card_event_id,
    parse_card_callback,
    parse_robot_message,
)

from .payloads import card_click, robot_message


def test_group_message() -> None:
    msg = parse_robot_message(robot_message(" @销售助手 查订单 SO-20261122-0007 "))
    assert msg.platform == "dingtalk"
    assert msg.external_user_id == "sales0107"
    assert msg.text == "查订单 SO-20261122-0007"
    assert msg.event_id == "dingtalk:msg:msgQk3r9bT1xHn2Yd0aLq=="
    assert msg.reply_to is not None
    assert msg.reply_to.kind == "group" and msg.reply_to.recipient == "cidSales7yZ0kQ2vX9=="
    assert msg.reply_to.extra["sessionWebhook"].startswith("https://oapi.dingtalk.com/robot/sendBySession")
    assert msg.reply_to.extra["sessionWebhookExpiredTime"] == "1723378200123"
    assert msg.display_name == "王五"


def test_direct_message_replies_to_the_user_and_keeps_at_text() -> None:
    msg = parse_robot_message(robot_message("转交 @张三", group=False))
    assert msg.reply_to is not None and msg.reply_to.kind == "user" and msg.reply_to.recipient == "sales0107"
    assert msg.text == "转交 @张三"


def test_redelivery_has_identical_event_id() -> None:
    assert parse_robot_message(robot_message()).event_id == parse_robot_message(robot_message()).event_id


def test_sender_id_fallback_for_external_users() -> None:
    msg = parse_robot_message(robot_message(staff_id=""))
    assert msg.external_user_id == "$:LWCP_v1:$A1b2C3d4E5=="


def test_voice_and_rich_text() -> None:
    voice = robot_message(msgtype="audio", content={"recognition": "查订单 SO-1", "duration": 3000})
    del voice["text"]
    assert parse_robot_message(voice).text == "查订单 SO-1"
    rich = robot_message(msgtype="richText", content={"richText": [{"text": "查订单 "}, {"type": "picture"},
                                                                    {"text": "SO-1"}]})
    assert parse_robot_message(rich).text == "查订单 SO-1"


def test_unsupported_kind() -> None:
    with pytest.raises(UnsupportedMessage):
        parse_robot_message(robot_message(msgtype="picture", content={"downloadCode": "x"}))


@pytest.mark.parametrize("body", [
    [], "x", {}, robot_message(msgId=""), robot_message(text=None), robot_message(senderStaffId="", senderId=""),
    robot_message(conversationId=""), robot_message(msgId="msg\x00=="), robot_message(msgId="m" * 129),
    robot_message(senderStaffId="sales\ud8000107"), robot_message(conversationId="cid\n=="),
])
def test_malformed_messages(body: object) -> None:
    with pytest.raises(MalformedPayload):
        parse_robot_message(body)


def test_text_and_inputs_lose_what_no_database_stores() -> None:
    assert parse_robot_message(robot_message("查订单\x00 SO-1\ud800\n第二行")).text == "查订单 SO-1\ufffd\n第二行"
    action = parse_card_callback(card_click(extra_params={"reason": "价格\x00太低\udc00", "x\x00": "1"}))
    assert action.inputs == {"reason": "价格太低\ufffd", "x": "1"}


def test_card_click() -> None:
    action = parse_card_callback(card_click(extra_params={"reason": "价格太低"}))
    assert action.platform == "dingtalk"
    assert action.external_user_id == "mgr0003"
    assert action.token == "tok-approve-0007"
    assert action.inputs == {"reason": "价格太低"}
    assert action.event_id == card_event_id("ot-7-abc", "mgr0003", "tok-approve-0007", {"reason": "价格太低"})


def test_card_click_form_data_and_value_twin() -> None:
    body = card_click(extra_params={"form_data": {"tracking_no": "SF123", "qty": 2}})
    del body["content"]  # only the `value` twin present
    action = parse_card_callback(body)
    assert action.inputs == {"tracking_no": "SF123", "qty": "2"}


@pytest.mark.parametrize("mutate", [
    lambda b: b.pop("outTrackId"),
    lambda b: b.pop("userId"),
    lambda b: b.update(content="{not json", value="{not json"),
    lambda b: b.update(content=json.dumps({"cardPrivateData": {"params": {}}}), value=""),
    lambda b: b.update(content=json.dumps([1]), value=""),
    lambda b: b.update(outTrackId="ot-" + "x" * 200),
    lambda b: b.update(userId="mgr\x000003"),
])
def test_malformed_card_clicks(mutate) -> None:
    body = card_click()
    mutate(body)
    with pytest.raises(MalformedPayload):
        parse_card_callback(body)
