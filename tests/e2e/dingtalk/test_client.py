from __future__ import annotations

import threading

import pytest

from adapters.dingtalk.client import DingTalkClient
from bot.ports import PermanentFailure, RetryLater

from .conftest import adapter_settings
from .fake_dingtalk import FakeDingTalk


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_client(fake: FakeDingTalk, clock: FakeClock | None = None, **settings: object) -> DingTalkClient:
    return DingTalkClient(adapter_settings(dingtalk_api_url=fake.url, **settings), clock=clock or FakeClock(),
                          timeout=2.0)


def test_token_cached_and_refreshed_five_minutes_early(fake_dt: FakeDingTalk) -> None:
    clock = FakeClock()
    client = make_client(fake_dt, clock)
    first = client.access_token()
    assert client.access_token() == first and fake_dt.state.token_calls == 1
    clock.now += 7200 - 301
    assert client.access_token() == first
    clock.now += 2  # inside the last five minutes
    assert client.access_token() != first and fake_dt.state.token_calls == 2


def test_token_expiring_mid_run_is_refreshed_once_and_call_retried(fake_dt: FakeDingTalk) -> None:
    client = make_client(fake_dt)
    client.group_send("cidWarehouse==", "sampleText", {"content": "a"})
    fake_dt.state.revoke_tokens()  # DingTalk expired it before our clock said so
    assert client.group_send("cidWarehouse==", "sampleText", {"content": "b"}).startswith("pqk-")
    assert fake_dt.state.token_calls == 2
    assert [s["msgParam"] for s in fake_dt.state.group_sends] == ['{"content": "a"}', '{"content": "b"}']


def test_invalid_token_answer_once(fake_dt: FakeDingTalk) -> None:
    client = make_client(fake_dt)
    fake_dt.state.invalid_token_once = True
    client.group_send("cidWarehouse==", "sampleText", {"content": "a"})
    assert fake_dt.state.token_calls == 2 and len(fake_dt.state.group_sends) == 1


def test_concurrent_callers_share_one_token(fake_dt: FakeDingTalk) -> None:
    client = make_client(fake_dt)
    tokens: list[str] = []
    threads = [threading.Thread(target=lambda: tokens.append(client.access_token())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1 and fake_dt.state.token_calls == 1


def test_qps_limit_is_retry_later(fake_dt: FakeDingTalk) -> None:
    client = make_client(fake_dt)
    fake_dt.state.qps_limit_once = True
    with pytest.raises(RetryLater) as info:
        client.group_send("cidWarehouse==", "sampleText", {"content": "a"})
    assert info.value.retry_after is not None and info.value.retry_after >= 1.0
    assert client.group_send("cidWarehouse==", "sampleText", {"content": "a"})  # next try goes through


def test_server_error_is_retry_later(fake_dt: FakeDingTalk) -> None:
    fake_dt.state.server_error_once = True
    with pytest.raises(RetryLater, match="system.busy"):
        make_client(fake_dt).group_send("cidWarehouse==", "sampleText", {"content": "a"})


def test_permission_and_config_errors_are_permanent(fake_dt: FakeDingTalk) -> None:
    fake_dt.state.forbidden = True
    with pytest.raises(PermanentFailure, match="AccessTokenPermissionDenied"):
        make_client(fake_dt).group_send("cidWarehouse==", "sampleText", {"content": "a"})
    fake_dt.state.forbidden = False
    with pytest.raises(PermanentFailure, match="robotCode"):
        make_client(fake_dt, dingtalk_robot_code="wrong").group_send("cidW==", "sampleText", {"content": "a"})


def test_wrong_credentials_permanent(fake_dt: FakeDingTalk) -> None:
    with pytest.raises(PermanentFailure, match="invalidClientIdOrSecret"):
        make_client(fake_dt, dingtalk_app_secret="wrong").access_token()


def test_unreachable_is_retry_later() -> None:
    client = DingTalkClient(adapter_settings(dingtalk_api_url="http://127.0.0.1:9"), timeout=0.5)
    with pytest.raises(RetryLater, match="unreachable"):
        client.access_token()


def test_batch_send_reports_per_user_lists(fake_dt: FakeDingTalk) -> None:
    fake_dt.state.invalid_users = {"ghost"}
    fake_dt.state.flow_controlled_users = {"busy"}
    client = make_client(fake_dt)
    users = ["sales0107", "ghost", "busy"]
    result = client.batch_send(users, "sampleMarkdown", {"title": "t", "text": "x"})
    assert result.invalid == {"ghost"} and result.flow_controlled == {"busy"}
    assert result.delivered(users) == ["sales0107"]
    with pytest.raises(ValueError):
        client.batch_send([f"u{i}" for i in range(21)], "sampleText", {"content": "x"})


def test_send_to_user_raises_for_refused_users(fake_dt: FakeDingTalk) -> None:
    fake_dt.state.invalid_users = {"ghost"}
    fake_dt.state.flow_controlled_users = {"busy"}
    client = make_client(fake_dt)
    with pytest.raises(PermanentFailure, match="ghost"):
        client.send_to_user("ghost", "sampleText", {"content": "x"})
    with pytest.raises(RetryLater, match="busy"):
        client.send_to_user("busy", "sampleText", {"content": "x"})
    assert client.send_to_user("sales0107", "sampleText", {"content": "x"}).startswith("pqk-")


def test_secret_not_in_errors_or_repr(fake_dt: FakeDingTalk) -> None:
    client = make_client(fake_dt, dingtalk_app_secret="wrong-but-secret")
    with pytest.raises(PermanentFailure) as info:
        client.access_token()
    assert "wrong-but-secret" not in str(info.value) and "wrong-but-secret" not in repr(vars(client))


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def test_media_upload_on_the_old_api_with_a_token_refresh(fake_dt: FakeDingTalk) -> None:
    client = make_client(fake_dt, dingtalk_oapi_url=fake_dt.url)
    client.access_token()
    fake_dt.state.revoke_tokens()  # the old API answers errcode 40014: refreshed once, uploaded again
    media_id = client.upload_media("image", "chart.png", PNG, "image/png")
    assert fake_dt.state.token_calls == 2
    assert {k: fake_dt.state.media[media_id][k] for k in ("type", "filename", "mime", "data")} == {
        "type": "image", "filename": "chart.png", "mime": "image/png", "data": PNG}
    client.send_to_user("sales0107", "sampleImageMsg", {"photoURL": media_id})
    assert fake_dt.state.batch_sends[-1]["msgKey"] == "sampleImageMsg"


def test_media_upload_outage_is_retry_later_and_a_refusal_permanent(fake_dt: FakeDingTalk) -> None:
    client = make_client(fake_dt, dingtalk_oapi_url=fake_dt.url)
    fake_dt.state.uploads_down = 1
    with pytest.raises(RetryLater):
        client.upload_media("image", "chart.png", PNG, "image/png")
    fake_dt.state.uploads_refused = True
    with pytest.raises(PermanentFailure, match="40005"):
        client.upload_media("image", "chart.png", PNG, "image/png")
