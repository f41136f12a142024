"""How this deployment receives DingTalk callbacks decides every card's callbackType; a process configured otherwise
refuses to start; `ordertalk dingtalk register-card-callback` sets up HTTP mode. Group messages carry only actions
that reach the robot, and the chat-list preview is in the reader's client language."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import main
from bot.receivers import Receivers
from domain.db import make_engine, make_session_factory
from domain.models import ShippingTask

from .fake_dingtalk import APP_KEY, APP_SECRET, FakeDingTalk
from .harness import STAFF, WAREHOUSE_GROUP, DingTalkDriver, robot_headers


@pytest.fixture
def env(tmp_path: Path, fake_dt: FakeDingTalk, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated SQLite file and DingTalk settings pointing at the fake, as the CLI reads them."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for key, value in {"DATABASE_URL": url, "DATA_DIR": str(tmp_path), "DINGTALK_APP_KEY": APP_KEY,
                       "DINGTALK_APP_SECRET": APP_SECRET, "DINGTALK_API_URL": fake_dt.url,
                       "PUBLIC_URL": "https://orders.example.com", "SECRET_KEY": "cli-test-secret-key-0123456789abcdef"}.items():
        monkeypatch.setenv(f"ORDERTALK_{key}", value)
    monkeypatch.delenv("ORDERTALK_SANDBOX", raising=False)
    assert CliRunner().invoke(main, ["db", "upgrade"]).exit_code == 0
    yield url


def run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.output  # stdout and stderr (click 8.2)


def recorded(url: str) -> str | None:
    row = Receivers(make_session_factory(make_engine(url))).recorded("dingtalk")
    return row.mode if row else None


def test_register_card_callback_sets_up_http_mode_and_records_it(env: str, fake_dt: FakeDingTalk,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERTALK_DINGTALK_MODE", "stream")
    code, out = run("dingtalk", "register-card-callback")
    assert code != 0 and "ORDERTALK_DINGTALK_MODE is stream" in out and fake_dt.state.callback_routes == {}

    monkeypatch.setenv("ORDERTALK_DINGTALK_MODE", "http")
    code, out = run("dingtalk", "register-card-callback")
    assert code == 0, out
    assert "https://orders.example.com/dingtalk/card-callback" in out
    assert fake_dt.state.callback_routes["ordertalk"] == {  # the route key cards name, the secret signatures use
        "callbackRouteKey": "ordertalk", "callbackUrl": "https://orders.example.com/dingtalk/card-callback",
        "apiSecret": APP_SECRET}
    assert recorded(env) == "http"
    assert APP_SECRET not in out  # never printed

    code, out = run("dingtalk", "register-card-callback", "--url", "https://new.example.com/dingtalk/card-callback",
                    "--force")
    assert code == 0 and fake_dt.state.callback_routes["ordertalk"]["callbackUrl"].startswith("https://new.")


def test_a_process_configured_for_the_other_mode_refuses_to_start(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORDERTALK_DINGTALK_MODE", "http")
    code, out = run("dingtalk-stream")  # a Stream receiver would get no clicks of cards made for HTTP
    assert code != 0 and "ORDERTALK_DINGTALK_MODE is http" in out and recorded(env) is None

    Receivers(make_session_factory(make_engine(env))).record("dingtalk", "stream", "ordertalk dingtalk-stream on h1")
    for command in (["worker"], ["serve", "--port", "1"]):
        code, out = run(*command)  # a worker configured http next to the Stream receiver: refused at start
        assert code != 0, command
        assert "receives DingTalk card clicks over stream" in out and "ORDERTALK_DINGTALK_MODE=stream" in out


def test_cards_follow_how_the_deployment_receives_clicks_not_the_senders_setting(
        make_driver: Callable[..., DingTalkDriver]) -> None:
    dt = make_driver(dingtalk_mode="http")
    dt.ot.receivers.record("dingtalk", "stream", "ordertalk dingtalk-stream on h1")  # started after this worker
    dt.say("li", "下单 华兴 SKU-002 x1")
    dt.drain()
    cards = dt.cards("approval_request")
    assert len(cards) == 2
    assert all(c.body["callbackType"] == "STREAM" and "callbackRouteKey" not in c.body for c in cards)


def test_the_chat_list_preview_is_in_the_readers_client_language(dt: DingTalkDriver) -> None:
    dt.say("li", "下单 华兴 SKU-002 x1")
    dt.drain()
    [wang] = dt.cards("approval_request", to="wang")  # wang reads Chinese; his DingTalk may be set to English
    number = dt.snapshot().orders[0][0]
    assert wang.body["imRobotOpenSpaceModel"]["lastMessageI18n"] == {
        "ZH_CN": f"待审批：订单 {number}", "EN_US": f"Approval needed: order {number}"}
    dt.click("wang", wang, "approve")
    dt.drain()
    [group] = dt.cards("shipping_task", group=WAREHOUSE_GROUP)
    preview = group.body["imGroupOpenSpaceModel"]["lastMessageI18n"]
    assert preview["ZH_CN"].startswith("发货任务 T-") and preview["EN_US"].startswith("Shipping task T-")


def test_group_markdown_carries_only_actions_that_reach_the_robot(make_driver: Callable[..., DingTalkDriver]) -> None:
    dt = make_driver(dingtalk_card_template_approval=None, dingtalk_card_template_task=None)  # no templates imported
    dt.say("li", "下单 华兴 SKU-002 x1")
    dt.drain()
    [to_wang] = [t for t in dt.texts_to("wang") if "待审批" in t]
    assert "dtmd://dingtalkclient/sendMessage" in to_wang  # 1:1, every message reaches the robot: links are fine
    approve = next(s for s in dt.fake.state.batch_sends if STAFF["wang"] in s["userIds"])
    link = json.loads(approve["msgParam"])["text"].split("sendMessage?content=", 1)[1].split(")", 1)[0]
    dt.say("wang", unquote(link))  # what the link sends, 1:1
    dt.drain()
    [group] = dt.texts_in(WAREHOUSE_GROUP)
    assert "dtmd://" not in group  # a link would post text without the @-mention the robot needs in a group
    ref = group.split("领取 ", 1)[1].split("」", 1)[0]
    assert f"在群里 @我 并发送「领取 {ref}」" in group
    [sun_direct] = [t for t in dt.texts_to("sun") if ref in t]
    assert "dtmd://dingtalkclient/sendMessage" in sun_direct  # his own copy keeps the one-tap link

    # the instruction works: an @-mention in the group claims the task
    body = dt.message_body("sun", f"@订单助手 领取 {ref}", group=True) | {"conversationId": WAREHOUSE_GROUP}
    assert dt.post("/dingtalk/callback", body, robot_headers()).status_code == 200
    dt.drain()
    with dt.ot.sessions() as s:
        [task] = s.scalars(select(ShippingTask)).all()
        assert task.claimed_by_id == dt.world["wh"]
