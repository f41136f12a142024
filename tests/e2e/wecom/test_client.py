"""WeComClient against the fake WeCom API on localhost."""

from __future__ import annotations

import threading
import time

import pytest

from adapters.wecom.client import WeComClient
from bot.ports import PermanentFailure, RetryLater
from tests.e2e.wecom.conftest import adapter_settings
from tests.e2e.wecom.fake_api import SECRET, FakeWeCom


def test_token_is_cached(client: WeComClient, fake: FakeWeCom) -> None:
    client.send_text("lisi", "a")
    client.send_text("lisi", "b")
    assert fake.token_calls == 1
    assert [s["text"]["content"] for s in fake.sends] == ["a", "b"]
    assert fake.sends[0]["agentid"] == 1000002 and fake.sends[0]["touser"] == "lisi"


def test_token_refreshed_before_expiry(api_url: str, fake: FakeWeCom) -> None:
    fake.token_ttl = 1
    now = [1000.0]
    client = WeComClient(adapter_settings(api_url), clock=lambda: now[0])
    client.send_text("lisi", "a")
    now[0] += 0.95  # inside expires_in, but within the refresh margin
    client.send_text("lisi", "b")
    assert fake.token_calls == 2


def test_expired_token_refreshed_once_and_retried(client: WeComClient, fake: FakeWeCom) -> None:
    client.send_text("lisi", "a")
    fake.expire_all_tokens()  # WeCom says 42001 although our cache thinks the token is fine
    client.send_text("lisi", "b")
    assert fake.token_calls == 2
    assert [s["text"]["content"] for s in fake.sends] == ["a", "b"]


def test_injected_42001_once(client: WeComClient, fake: FakeWeCom) -> None:
    fake.faults = [42001]
    client.send_markdown("lisi", "**x**")
    assert fake.token_calls == 2 and len(fake.sends) == 1


def test_token_error_twice_is_retry_later(client: WeComClient, fake: FakeWeCom) -> None:
    fake.faults = [40014, 40014]
    with pytest.raises(RetryLater):
        client.send_text("lisi", "a")
    assert fake.token_calls == 2  # one refresh, not a loop


def test_rate_limit_is_retry_later(client: WeComClient, fake: FakeWeCom) -> None:
    fake.faults = [45009]
    with pytest.raises(RetryLater) as err:
        client.send_text("lisi", "a")
    assert err.value.retry_after == 60.0 and "45009" in err.value.reason
    assert not fake.sends


@pytest.mark.parametrize("fault", [-1, 500, 502])
def test_system_busy_and_5xx_are_retry_later(client: WeComClient, fake: FakeWeCom, fault: int) -> None:
    fake.faults = [fault]
    with pytest.raises(RetryLater):
        client.send_text("lisi", "a")


def test_connection_refused_is_retry_later_without_secret() -> None:
    client = WeComClient(adapter_settings("http://127.0.0.1:9"), timeout=2)  # nothing listens on port 9
    with pytest.raises(RetryLater) as err:
        client.send_text("lisi", "a")
    assert SECRET not in err.value.reason and "corpsecret" not in err.value.reason


@pytest.mark.parametrize("code", [60020, 81013, 40003, 48002, 301002])
def test_other_errcodes_are_permanent(client: WeComClient, fake: FakeWeCom, code: int) -> None:
    fake.faults = [code]
    with pytest.raises(PermanentFailure) as err:
        client.send_text("lisi", "a")
    assert str(code) in err.value.reason


def test_all_recipients_invalid_is_permanent(client: WeComClient) -> None:
    with pytest.raises(PermanentFailure, match="81013"):
        client.send_text("nobody", "a")


def test_wrong_secret_is_permanent_and_not_leaked(api_url: str) -> None:
    client = WeComClient(adapter_settings(api_url, wecom_secret="wrong-secret-value"))
    with pytest.raises(PermanentFailure) as err:
        client.send_text("lisi", "a")
    assert "40001" in err.value.reason and "wrong-secret-value" not in err.value.reason


def test_invaliduser_in_errcode_0_is_not_delivered(client: WeComClient, fake: FakeWeCom) -> None:
    with pytest.raises(PermanentFailure, match="ghost"):
        client.send_text("lisi|Ghost", "a")  # WeCom answers 0 with invaliduser "ghost" (lower-cased)
    client.send_text("lisi", "a")  # a valid user alone is fine


def test_unlicensed_user_is_not_delivered(client: WeComClient, fake: FakeWeCom) -> None:
    fake.unlicensed = {"wangwu"}
    with pytest.raises(PermanentFailure, match="unlicenseduser"):
        client.send_text("wangwu", "a")


def test_update_template_card_invaliduser_array(client: WeComClient, fake: FakeWeCom) -> None:
    card = {
        "card_type": "button_interaction",
        "main_title": {"title": "t"},
        "task_id": "t1",
        "button_list": [{"text": "ok", "key": "k"}],
    }
    code = client.send_template_card("lisi", card)["response_code"]
    with pytest.raises(PermanentFailure, match="ghost"):
        client.update_template_card(["ghost"], code, replace_name="已处理")


def test_concurrent_callers_fetch_one_token(client: WeComClient, fake: FakeWeCom) -> None:
    errors: list[Exception] = []

    def work() -> None:
        try:
            client.send_text("lisi", "x")
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and fake.token_calls == 1 and len(fake.sends) == 8


def test_slow_server_times_out_as_retry_later(api_url: str, fake: FakeWeCom) -> None:
    import socket

    with socket.socket() as s:  # a listener that accepts but never answers
        s.bind(("127.0.0.1", 0))
        s.listen()
        client = WeComClient(adapter_settings(f"http://127.0.0.1:{s.getsockname()[1]}"), timeout=0.3)
        start = time.monotonic()
        with pytest.raises(RetryLater):
            client.access_token()
        assert time.monotonic() - start < 5


PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64  # enough of a PNG for the upload's checks


def test_media_upload_is_multipart_and_survives_a_token_refresh(client: WeComClient, fake: FakeWeCom) -> None:
    client.send_text("lisi", "a")
    fake.expire_all_tokens()  # the upload is answered 42001 first: refreshed once, the same parts sent again
    media_id = client.upload_media("image", "chart.png", PNG, "image/png")
    assert fake.token_calls == 2
    assert fake.media[media_id] | {"at": 0} == {"type": "image", "filename": "chart.png", "mime": "image/png",
                                                "data": PNG, "at": 0}
    client.send_image("lisi", media_id)
    assert fake.sends[-1] == {"touser": "lisi", "msgtype": "image", "agentid": 1000002, "image": {"media_id": media_id},
                              "safe": 0}


def test_media_upload_refused_is_permanent_and_an_unknown_media_id_too(client: WeComClient) -> None:
    with pytest.raises(PermanentFailure, match="40005"):
        client.upload_media("image", "chart.gif", PNG, "image/gif")  # WeCom takes JPG and PNG images
    with pytest.raises(PermanentFailure, match="40007"):
        client.send_image("lisi", "never-uploaded")
