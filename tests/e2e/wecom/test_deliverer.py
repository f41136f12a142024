"""WeComDeliverer end to end against the fake WeCom API: send, update with the receipt ref, groups, failures."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from adapters.wecom import install
from adapters.wecom.client import WeComClient
from adapters.wecom.deliverer import WeComDeliverer
from adapters.wecom.settings import WeComSettings
from bot.ports import Delivery, DeliveryReceipt, PermanentFailure, RetryLater
from tests.e2e.wecom.cards import approval_decided, approval_request, order_status, shipping_task
from tests.e2e.wecom.conftest import SIGNER, RecordingCore, make_settings
from tests.e2e.wecom.fake_api import FakeWeCom
from tests.e2e.wecom.test_render import check_card_rules


@pytest.fixture
def deliverer(client: WeComClient) -> WeComDeliverer:
    return WeComDeliverer(client)


def send(deliverer: WeComDeliverer, **kw: object) -> str | None:
    return receive(deliverer, **kw).ref


def receive(deliverer: WeComDeliverer, **kw: object) -> DeliveryReceipt:
    return deliverer.deliver(Delivery(id=kw.pop("id", 1), platform="wecom", **kw))  # type: ignore[arg-type]


def test_approval_card_sent_then_updated(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    sent = receive(deliverer, recipient="zhangsan", card=approval_request())
    body = fake.sends[0]
    assert body["msgtype"] == "template_card" and body["touser"] == "zhangsan" and body["agentid"] == 1000002
    check_card_rules(body["template_card"])
    task_id = body["template_card"]["task_id"]
    assert sent.ref is not None and json.loads(sent.ref)["task_id"] == task_id
    # the copy's handle (clicks name it by TaskId) and its first single-use ticket, the send answer's response_code
    assert sent.handle == task_id and sent.ticket == fake.sends_codes[0]

    updated = receive(deliverer, id=2, recipient="zhangsan", op="update", ref=sent.ref, ticket=sent.ticket,
                      card=approval_decided())
    update = fake.updates[0]
    assert update["userids"] == ["zhangsan"] and update["agentid"] == 1000002
    assert update["response_code"] == sent.ticket
    assert update["template_card"]["task_id"] == task_id
    assert update["template_card"]["replace_text"] == "已同意 · 王经理 · 14:03"
    check_card_rules(update["template_card"])
    assert len(fake.sends) == 1  # updated in place, no new message
    assert updated.handle == task_id and updated.ticket is None  # the code is spent


def test_a_click_code_updates_the_copy_again(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    sent = receive(deliverer, recipient="lisi", card=shipping_task())
    receive(deliverer, id=2, recipient="lisi", op="update", ref=sent.ref, ticket=sent.ticket, card=shipping_task())
    click = fake.click_code(str(sent.handle), "lisi")
    receive(deliverer, id=3, recipient="lisi", op="update", ref=sent.ref, ticket=click, card=approval_decided())
    assert [u["response_code"] for u in fake.updates] == [sent.ticket, click] and len(fake.sends) == 1


def test_update_without_a_ticket_falls_back_to_new_message(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    sent = receive(deliverer, recipient="zhangsan", card=approval_request())
    receive(deliverer, id=2, recipient="zhangsan", op="update", ref=sent.ref, ticket=sent.ticket,
            card=approval_decided())
    receive(deliverer, id=3, recipient="zhangsan", op="update", ref=sent.ref, card=approval_decided())
    assert len(fake.updates) == 1 and len(fake.sends) == 2
    assert fake.sends[1]["msgtype"] == "markdown" and "已同意" in fake.sends[1]["markdown"]["content"]


def test_update_with_used_code_sends_new_message(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    sent = receive(deliverer, recipient="zhangsan", card=approval_request())
    for n in (2, 3):  # the same code twice: the fake refuses it like WeCom, the outcome still arrives
        receive(deliverer, id=n, recipient="zhangsan", op="update", ref=sent.ref, ticket=sent.ticket,
                card=approval_decided())
    assert len(fake.updates) == 1 and fake.sends[-1]["msgtype"] == "markdown"
    assert fake.calls[-2] == ("message/update_template_card", 42022)


def test_update_keeps_clickable_buttons(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    sent = receive(deliverer, recipient="lisi", card=shipping_task())
    claimed = shipping_task().model_copy(update={"title": "发货任务 T-12 · 李四已领取"})
    receive(deliverer, id=2, recipient="lisi", op="update", ref=sent.ref, ticket=sent.ticket, card=claimed)
    assert fake.updates[0]["template_card"]["button_list"][0]["key"] == "tS.claim"


def test_update_without_ref_sends_fresh(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    send(deliverer, recipient="zhangsan", op="update", ref=None, card=approval_decided())
    assert not fake.updates and fake.sends[0]["msgtype"] == "markdown"


def test_card_without_buttons_is_markdown(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    ref = send(deliverer, recipient="lisi", card=order_status(lines=400), text="你要的订单：")
    body = fake.sends[0]
    assert body["msgtype"] == "markdown" and len(body["markdown"]["content"].encode()) <= 2048
    assert "你要的订单：" in body["markdown"]["content"]
    assert ref is not None and json.loads(ref)["t"] == "msg"


def test_plain_text(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    send(deliverer, recipient="lisi", text="收到")
    assert fake.sends[0]["msgtype"] == "text" and fake.sends[0]["text"]["content"] == "收到"


def test_group_message_to_warehouse_chat(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    chat = WeComSettings.from_root(make_settings()).wecom_warehouse_chat
    assert chat is not None
    ref = send(deliverer, recipient=chat, recipient_kind="group", card=shipping_task())
    body = fake.chat_sends[0]
    assert body["chatid"] == "warehouse01" and body["msgtype"] == "markdown"
    # messages in an app group chat never reach the app: no command to send there, only where to act instead
    content = body["markdown"]["content"]
    assert "发货 T-12" not in content and "请发送" not in content and "领取 T-" not in content
    assert "请在与「订单助手」的单聊中进行" in content
    assert not fake.sends
    assert ref is not None and json.loads(ref) == {"t": "chat", "chatid": "warehouse01"}
    send(deliverer, id=2, recipient=chat, recipient_kind="group", text="今日发货 3 单")
    assert fake.chat_sends[1]["text"]["content"] == "今日发货 3 单"


def test_unknown_group_is_permanent(deliverer: WeComDeliverer) -> None:
    with pytest.raises(PermanentFailure, match="40050"):
        send(deliverer, recipient="nochat", recipient_kind="group", text="x")


def test_expired_token_refreshed_during_delivery(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    send(deliverer, recipient="lisi", text="a")
    fake.faults = [42001]
    send(deliverer, id=2, recipient="zhangsan", card=approval_request())
    assert fake.token_calls == 2 and len(fake.sends) == 2


def test_rate_limit_propagates_as_retry_later(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    fake.faults = [45009]
    with pytest.raises(RetryLater):
        send(deliverer, recipient="zhangsan", card=approval_request())


def test_retried_send_uses_new_task_id(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    fake.faults = [-1]
    with pytest.raises(RetryLater):
        send(deliverer, recipient="zhangsan", card=approval_request())
    deliverer.deliver(
        Delivery(id=1, attempt=2, platform="wecom", recipient="zhangsan", card=approval_request())
    )
    assert len(fake.sends) == 1


@pytest.mark.parametrize("code", [60020, 81013])
def test_permanent_errors_propagate(deliverer: WeComDeliverer, fake: FakeWeCom, code: int) -> None:
    fake.faults = [code]
    with pytest.raises(PermanentFailure, match=str(code)):
        send(deliverer, recipient="zhangsan", card=approval_request())


def test_invalid_user_is_not_reported_delivered(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    with pytest.raises(PermanentFailure):
        send(deliverer, recipient="ghost", card=approval_request())
    fake.unlicensed = {"wangwu"}
    with pytest.raises(PermanentFailure, match="unlicenseduser"):
        send(deliverer, recipient="wangwu", text="x")


def test_home_is_a_no_op(deliverer: WeComDeliverer, fake: FakeWeCom) -> None:
    assert send(deliverer, recipient="lisi", op="home", cards=[order_status()]) is None
    assert not fake.sends


def test_empty_delivery_is_permanent(deliverer: WeComDeliverer) -> None:
    with pytest.raises(PermanentFailure):
        send(deliverer, recipient="lisi")


# -- install ----------------------------------------------------------------------------------------------------


def test_install_disabled_registers_nothing() -> None:
    app = Flask("t")
    assert install(app, RecordingCore(), SIGNER, WeComSettings.from_root(make_settings(wecom_secret=None))) is None
    assert not any(r.rule.startswith("/wecom") for r in app.url_map.iter_rules())


def test_install_enabled(api_url: str) -> None:
    app = Flask("t")
    deliverer = install(app, RecordingCore(), SIGNER, WeComSettings.from_root(make_settings(api_url)))
    assert deliverer is not None and deliverer.platform == "wecom"
    assert {r.rule for r in app.url_map.iter_rules()} >= {"/wecom/callback"}


def test_install_requires_agent_id() -> None:
    with pytest.raises(ValueError, match="AGENT_ID"):
        install(Flask("t"), RecordingCore(), SIGNER, WeComSettings.from_root(make_settings(wecom_agent_id=None)))


@pytest.mark.parametrize("ref", ["not json", "[1, 2]", '{"t": "card"}', '{"t": "msg", "msgid": "m1"}'])
def test_unusable_ref_sends_fresh(deliverer: WeComDeliverer, fake: FakeWeCom, ref: str) -> None:
    send(deliverer, recipient="zhangsan", op="update", ref=ref, card=approval_decided())
    assert not fake.updates and len(fake.sends) == 1
