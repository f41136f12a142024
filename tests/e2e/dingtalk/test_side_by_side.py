"""The dispatcher sends a batch side by side (distinct conversations in threads): the DingTalk client and deliverer
against the fake DingTalk with 8 sends released at once. One token fetch serves them all, a token DingTalk stops
taking is refreshed once for all of them (never in a loop), and one chart going to many people is uploaded once."""

from __future__ import annotations

import json
from typing import Any

from adapters.dingtalk.client import DingTalkClient
from adapters.dingtalk.deliverer import DingTalkDeliverer
from adapters.dingtalk.settings import DingTalkSettings
from bot.files import FileStore
from bot.ports import Delivery, RetryLater
from tests.e2e.harness import side_by_side, stored_chart

from .conftest import make_settings
from .fake_dingtalk import FakeDingTalk

PEOPLE = [f"staff{k}" for k in range(8)]


def _settings(fake: FakeDingTalk) -> DingTalkSettings:
    return DingTalkSettings.from_root(make_settings(dingtalk_api_url=fake.url, dingtalk_oapi_url=fake.url))


def _client(fake: FakeDingTalk) -> DingTalkClient:
    return DingTalkClient(_settings(fake), timeout=5.0)


def _send(client: DingTalkClient, k: int) -> str:
    return client.send_to_user(PEOPLE[k], "sampleText", {"content": f"m{k}"})


def _sent(fake: FakeDingTalk) -> list[str]:
    return sorted(json.loads(s["msgParam"])["content"] for s in fake.state.batch_sends)


def test_eight_sends_at_once_fetch_one_token(fake_dt: FakeDingTalk) -> None:
    client = _client(fake_dt)
    _, errors = side_by_side(lambda k: _send(client, k))
    assert not errors and fake_dt.state.token_calls == 1 and _sent(fake_dt) == sorted(f"m{k}" for k in range(8))


def test_a_token_revoked_under_eight_sends_is_refreshed_once(fake_dt: FakeDingTalk) -> None:
    client = _client(fake_dt)
    client.group_send("cidWarehouse==", "sampleText", {"content": "first"})
    fake_dt.state.revoke_tokens()
    _, errors = side_by_side(lambda k: _send(client, k))
    assert not errors and fake_dt.state.token_calls == 2  # the first refused refreshes; the others use its token
    assert _sent(fake_dt) == sorted(f"m{k}" for k in range(8))
    assert len(fake_dt.state.api_calls) <= 1 + 16  # each send retried at most once


class Refuses(set[str]):
    """DingTalk's valid tokens, for a DingTalk that refuses every token it hands out."""

    def add(self, token: str) -> None:
        pass


def test_tokens_that_never_work_end_each_send_after_one_refresh(fake_dt: FakeDingTalk) -> None:
    client = _client(fake_dt)
    fake_dt.state.valid_tokens = Refuses()
    _, errors = side_by_side(lambda k: _send(client, k))
    assert len(errors) == 8 and all(isinstance(e, RetryLater) for e in errors)  # the dispatcher tries later
    assert fake_dt.state.api_calls == ["POST /v1.0/robot/oToMessages/batchSend"] * 16  # twice each: no loop
    assert fake_dt.state.token_calls <= 1 + 8  # at most one refresh per send


def _deliverer(fake: FakeDingTalk, sessions: Any) -> DingTalkDeliverer:
    return DingTalkDeliverer(_settings(fake), _client(fake), files=FileStore(sessions))


def _image(k: int, chart: Any) -> Delivery:
    return Delivery(id=100 + k, platform="dingtalk", recipient=PEOPLE[k], op="image", attachment=chart)


def _photos(fake: FakeDingTalk) -> list[str]:
    return [json.loads(s["msgParam"])["photoURL"] for s in fake.state.batch_sends if s["msgKey"] == "sampleImageMsg"]


def test_one_chart_to_eight_people_at_once_is_uploaded_once(fake_dt: FakeDingTalk, session_factory: Any) -> None:
    chart = stored_chart(session_factory)
    deliverer = _deliverer(fake_dt, session_factory)
    _, errors = side_by_side(lambda k: deliverer.deliver(_image(k, chart)))
    assert not errors and len(fake_dt.state.media) == 1
    assert _photos(fake_dt) == list(fake_dt.state.media) * 8
    assert sorted(s["userIds"][0] for s in fake_dt.state.batch_sends) == PEOPLE


def test_a_kept_upload_dingtalk_forgot_is_uploaded_again_once(fake_dt: FakeDingTalk, session_factory: Any) -> None:
    chart = stored_chart(session_factory)
    deliverer = _deliverer(fake_dt, session_factory)
    deliverer.deliver(_image(0, chart))
    [old] = fake_dt.state.media
    fake_dt.state.forgotten_media.add(old)
    _, errors = side_by_side(lambda k: deliverer.deliver(_image(k, chart)))
    assert not errors and len(fake_dt.state.media) == 2  # every send refused with the old id; one new upload for all
    [new] = set(fake_dt.state.media) - {old}
    assert _photos(fake_dt) == [old] + [new] * 8
