"""The dispatcher sends a batch side by side (distinct conversations in threads): the WeCom client and deliverer
against the fake WeCom with 8 sends released at once. One token fetch serves them all, a token WeCom rejects is
refreshed once (not once per send, and never in a loop), and one chart going to many people is uploaded once."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.wecom.client import WeComClient
from adapters.wecom.deliverer import WeComDeliverer
from bot.files import FileStore
from bot.ports import Delivery, RetryLater
from tests.e2e.harness import side_by_side, stored_chart
from tests.e2e.wecom.fake_api import FakeWeCom

PEOPLE = [f"member{k}" for k in range(8)]


@pytest.fixture(autouse=True)
def _people(fake: FakeWeCom) -> None:
    fake.users |= set(PEOPLE)


def test_eight_sends_at_once_fetch_one_token(client: WeComClient, fake: FakeWeCom) -> None:
    _, errors = side_by_side(lambda k: client.send_text(PEOPLE[k], f"m{k}"))
    assert not errors and fake.token_calls == 1 and len(fake.sends) == 8


@pytest.mark.parametrize("how", ["expire", "revoke"])
def test_a_token_rejected_under_eight_sends_is_refreshed_once(client: WeComClient, fake: FakeWeCom, how: str) -> None:
    client.send_text("lisi", "first")
    fake.expire_all_tokens() if how == "expire" else fake.revoke_all_tokens()
    _, errors = side_by_side(lambda k: client.send_text(PEOPLE[k], f"m{k}"))
    assert not errors and fake.token_calls == 2  # the first to be refused refreshes; the others use its token
    assert sorted(s["text"]["content"] for s in fake.sends[1:]) == sorted(f"m{k}" for k in range(8))
    rejected = [c for c in fake.calls if c[1] in (40014, 42001)]
    assert len(rejected) <= 8 and len(fake.calls) == 1 + 8 + len(rejected)  # each send retried at most once


class Forgets(dict[str, float]):
    """WeCom's token store, for a WeCom that refuses every token it hands out (40014)."""

    def __setitem__(self, token: str, expires: float) -> None:
        pass


def test_tokens_that_never_work_end_each_send_after_one_refresh(client: WeComClient, fake: FakeWeCom) -> None:
    fake.tokens = Forgets()
    _, errors = side_by_side(lambda k: client.send_text(PEOPLE[k], f"m{k}"))
    assert len(errors) == 8 and all(isinstance(e, RetryLater) for e in errors)  # the dispatcher tries later
    assert fake.calls == [("message/send", 40014)] * 16  # each send tried twice, no more: no refresh loop
    # a refused token is refreshed once, by whoever was refused first; only a send whose first try already had the
    # new token (refused too) refreshes again: never more than one refresh per send
    assert 2 <= fake.token_calls <= 1 + 8


def _image(k: int, chart: Any) -> Delivery:
    return Delivery(id=100 + k, platform="wecom", recipient=PEOPLE[k], op="image", attachment=chart)


def test_one_chart_to_eight_people_at_once_is_uploaded_once(client: WeComClient, fake: FakeWeCom,
                                                            session_factory: Any) -> None:
    chart = stored_chart(session_factory)
    deliverer = WeComDeliverer(client, FileStore(session_factory))
    _, errors = side_by_side(lambda k: deliverer.deliver(_image(k, chart)))
    assert not errors and len(fake.media) == 1
    [media_id] = fake.media
    images = [s for s in fake.sends if s["msgtype"] == "image"]
    assert sorted(s["touser"] for s in images) == PEOPLE and {s["image"]["media_id"] for s in images} == {media_id}


def test_a_kept_upload_wecom_forgot_is_uploaded_again_once(client: WeComClient, fake: FakeWeCom,
                                                           session_factory: Any) -> None:
    chart = stored_chart(session_factory)
    deliverer = WeComDeliverer(client, FileStore(session_factory))
    deliverer.deliver(_image(0, chart))
    [old] = fake.media
    fake.media[old]["at"] -= 4 * 24 * 3600  # gone on WeCom's side before our three days were up
    _, errors = side_by_side(lambda k: deliverer.deliver(_image(k, chart)))
    assert not errors and len(fake.media) == 2  # every send refused with the old id; one new upload for all
    [new] = set(fake.media) - {old}
    assert [s["image"]["media_id"] for s in fake.sends if s["msgtype"] == "image"] == [old] + [new] * 8
