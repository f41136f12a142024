from __future__ import annotations

import json

import pytest
from flask import Flask

from adapters.dingtalk import install
from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.deliverer import DingTalkDeliverer, out_track_id
from bot.ports import Delivery, PermanentFailure, RetryLater

from .conftest import SIGNER, RecordingCore, adapter_settings, approval_card, shipping_card
from .fake_dingtalk import FakeDingTalk

TEMPLATES = {"dingtalk_card_template_approval": "appr-0001.schema", "dingtalk_card_template_task": "task-0001.schema"}


def make_deliverer(fake: FakeDingTalk, **overrides: object) -> DingTalkDeliverer:
    settings = adapter_settings(dingtalk_api_url=fake.url, **overrides)
    return DingTalkDeliverer(settings, DingTalkClient(settings, timeout=2.0))


def approval_delivery(**kw: object) -> Delivery:
    values: dict[str, object] = {"id": 7, "platform": "dingtalk", "recipient": "mgr0003", "card": approval_card(),
                                 "card_key": "approval:SO-20261122-0007"}
    values.update(kw)
    return Delivery(**values)


def test_approval_card_delivered_then_updated_by_out_track_id(fake_dt: FakeDingTalk) -> None:
    deliverer = make_deliverer(fake_dt, **TEMPLATES)
    receipt = deliverer.deliver(approval_delivery())
    ot_id = receipt.ref
    assert ot_id and ot_id.startswith("ot-7-") and len(ot_id) <= 64
    created = fake_dt.state.cards[ot_id]
    assert created["cardTemplateId"] == "appr-0001.schema"
    assert created["openSpaceId"] == "dtv1.card//IM_ROBOT.mgr0003"
    assert created["callbackType"] == "STREAM"
    assert created["imRobotOpenDeliverModel"] == {"spaceType": "IM_ROBOT", "robotCode": "dingorderbot01"}
    params = created["cardData"]["cardParamMap"]
    assert all(isinstance(v, str) for v in params.values())
    assert params["btn1_token"] == "tok-approve-0007"

    update = approval_delivery(id=9, op="update", ref=ot_id, card=approval_card(decided=True))
    assert deliverer.deliver(update).ref == ot_id
    sent = fake_dt.state.card_updates[-1]
    assert sent["outTrackId"] == ot_id and sent["cardUpdateOptions"]["updateCardDataByKey"] is True
    final = fake_dt.state.cards[ot_id]["cardData"]["cardParamMap"]
    assert final["subtitle"] == "已同意 · 王经理" and final["btn1_visible"] == "false" and final["btn1_token"] == ""


def test_retried_create_makes_no_second_card(fake_dt: FakeDingTalk) -> None:
    deliverer = make_deliverer(fake_dt, **TEMPLATES)
    first = deliverer.deliver(approval_delivery())
    again = deliverer.deliver(approval_delivery(attempt=2))  # e.g. the first answer was lost
    assert first.ref == again.ref and len(fake_dt.state.cards) == 1
    assert out_track_id(approval_delivery()) == out_track_id(approval_delivery(attempt=3))
    assert out_track_id(approval_delivery()) != out_track_id(approval_delivery(id=8))


def test_http_mode_cards_use_http_callbacks(fake_dt: FakeDingTalk) -> None:
    ref = make_deliverer(fake_dt, dingtalk_mode="http", **TEMPLATES).deliver(approval_delivery()).ref
    assert fake_dt.state.cards[ref]["callbackType"] == "HTTP"
    assert fake_dt.state.cards[ref]["callbackRouteKey"] == "ordertalk"


def test_markdown_fallback_without_template(fake_dt: FakeDingTalk) -> None:
    deliverer = make_deliverer(fake_dt)
    receipt = deliverer.deliver(approval_delivery())
    assert receipt.ref and receipt.ref.startswith("md:pqk-")
    assert fake_dt.state.cards == {}
    sent = fake_dt.state.batch_sends[-1]
    assert sent["userIds"] == ["mgr0003"] and sent["msgKey"] == "sampleMarkdown"
    param = json.loads(sent["msgParam"])
    assert param["title"] == "折扣审批：SO-20261122-0007"
    assert "dtmd://dingtalkclient/sendMessage?content=%E5%90%8C%E6%84%8F%20SO-20261122-0007" in param["text"]

    # the decided state of a markdown copy arrives as a new message
    update = approval_delivery(id=9, op="update", ref=receipt.ref, card=approval_card(decided=True))
    new = deliverer.deliver(update)
    assert new.ref != receipt.ref and len(fake_dt.state.batch_sends) == 2
    assert "已同意" in json.loads(fake_dt.state.batch_sends[-1]["msgParam"])["text"]


def test_shipping_task_card_to_warehouse_group(fake_dt: FakeDingTalk) -> None:
    deliverer = make_deliverer(fake_dt, dingtalk_warehouse_group="cidWarehouse==", **TEMPLATES)
    delivery = Delivery(id=11, platform="dingtalk", recipient="cidWarehouse==", recipient_kind="group",
                        card=shipping_card(), card_key="ship:SO-20261122-0007")
    ref = deliverer.deliver(delivery).ref
    created = fake_dt.state.cards[ref]
    assert created["cardTemplateId"] == "task-0001.schema"
    assert created["openSpaceId"] == "dtv1.card//IM_GROUP.cidWarehouse=="
    assert created["imGroupOpenDeliverModel"] == {"robotCode": "dingorderbot01"}
    assert created["cardData"]["cardParamMap"]["btn1_token"] == "tok-claim"


def test_group_text_and_markdown(fake_dt: FakeDingTalk) -> None:
    deliverer = make_deliverer(fake_dt)
    receipt = deliverer.deliver(Delivery(id=12, platform="dingtalk", recipient="cidSales==", recipient_kind="group",
                                         text="SO-20261122-0007：已发货"))
    assert receipt.ref and receipt.ref.startswith("md:")
    assert json.loads(fake_dt.state.group_sends[-1]["msgParam"])["text"] == "SO-20261122-0007：已发货"


def test_per_user_failure_inside_200_is_not_delivered(fake_dt: FakeDingTalk) -> None:
    deliverer = make_deliverer(fake_dt)
    fake_dt.state.invalid_users = {"ghost"}
    fake_dt.state.flow_controlled_users = {"busy"}
    with pytest.raises(PermanentFailure):
        deliverer.deliver(Delivery(id=1, platform="dingtalk", recipient="ghost", text="hi"))
    with pytest.raises(RetryLater):
        deliverer.deliver(Delivery(id=2, platform="dingtalk", recipient="busy", text="hi"))


def test_qps_limit_propagates_as_retry_later(fake_dt: FakeDingTalk) -> None:
    deliverer = make_deliverer(fake_dt, **TEMPLATES)
    fake_dt.state.qps_limit_once = True
    with pytest.raises(RetryLater):
        deliverer.deliver(approval_delivery())
    assert deliverer.deliver(approval_delivery()).ref in fake_dt.state.cards


def test_token_expiring_between_deliveries(fake_dt: FakeDingTalk) -> None:
    deliverer = make_deliverer(fake_dt, **TEMPLATES)
    ref = deliverer.deliver(approval_delivery()).ref
    fake_dt.state.revoke_tokens()
    deliverer.deliver(approval_delivery(id=9, op="update", ref=ref, card=approval_card(decided=True)))
    assert fake_dt.state.token_calls == 2 and len(fake_dt.state.card_updates) == 1


def test_card_created_but_not_delivered_is_not_success(fake_dt: FakeDingTalk) -> None:
    fake_dt.state.card_deliver_fails = True
    deliverer = make_deliverer(fake_dt, **TEMPLATES)
    with pytest.raises(PermanentFailure, match="robot not in group"):
        deliverer.deliver(Delivery(id=3, platform="dingtalk", recipient="cidWarehouse==", recipient_kind="group",
                                   card=shipping_card()))


def test_update_of_unknown_card_is_permanent(fake_dt: FakeDingTalk) -> None:
    deliverer = make_deliverer(fake_dt, **TEMPLATES)
    with pytest.raises(PermanentFailure, match="cardNotExist"):
        deliverer.deliver(approval_delivery(op="update", ref="ot-1-gone", card=approval_card(decided=True)))


def test_home_is_a_no_op(fake_dt: FakeDingTalk) -> None:
    assert make_deliverer(fake_dt).deliver(Delivery(id=1, platform="dingtalk", recipient="u1", op="home")).ref is None
    assert fake_dt.state.api_calls == []


def test_install(core: RecordingCore) -> None:
    app = Flask("t")
    assert install(app, core, SIGNER, adapter_settings(dingtalk_app_key=None)) is None
    assert "dingtalk" not in app.blueprints
    deliverer = install(app, core, SIGNER, adapter_settings())
    assert deliverer is not None and deliverer.platform == "dingtalk"
    rules = {r.rule for r in app.url_map.iter_rules()}
    assert {"/dingtalk/callback", "/dingtalk/card-callback"} <= rules
