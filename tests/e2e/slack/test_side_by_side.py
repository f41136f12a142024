"""The dispatcher sends a batch side by side (distinct conversations in threads): the Slack deliverer against the fake
Slack with 8 deliveries released at once. Answers in 8 channels that only one person sees all put their chart in
that person's DM: the DM is opened once (conversations.open), and each chart is uploaded once, into the DM."""

from __future__ import annotations

from typing import Any

from adapters.slack.deliverer import SlackDeliverer, make_client
from adapters.slack.settings import SlackSettings
from bot.files import FileStore
from bot.ports import Delivery
from bot.settings import Settings
from tests.e2e.harness import side_by_side, stored_chart
from tests.e2e.slack.fake_slack import FakeSlack

PERSON = "U0MGR01"


def test_eight_answers_at_once_open_the_persons_dm_once(settings: Settings, fake_slack: FakeSlack,
                                                        session_factory: Any) -> None:
    chart = stored_chart(session_factory)
    own = SlackSettings.from_root(settings)
    deliverer = SlackDeliverer(own, client=make_client(own, rate_limit_retries=0), files=FileStore(session_factory))

    def answer(k: int) -> Any:
        deliverer.deliver(Delivery(id=10 + k, platform="slack", recipient=f"C0TEAM{k}", recipient_kind="group",
                                   op="image", attachment=chart, ephemeral_user=PERSON))
        return deliverer.deliver(Delivery(id=20 + k, platform="slack", recipient=PERSON, text=f"m{k}"))

    _, errors = side_by_side(answer)
    assert not errors
    [opened] = fake_slack.of("conversations.open")
    assert opened.args["users"] == PERSON
    dm = fake_slack.dm_with(PERSON)
    assert len(fake_slack.shared(dm)) == 8 and fake_slack.shared() == fake_slack.shared(dm)  # never in a channel
    assert sorted(c.args["text"] for c in fake_slack.of("chat.postMessage")) == sorted(f"m{k}" for k in range(8))
    assert {c.args["channel"] for c in fake_slack.of("chat.postMessage")} == {dm}
