"""SlackDeliverer against the fake Web API: send / update / home and the error mapping."""

from __future__ import annotations

import pytest

from adapters.slack.deliverer import SlackDeliverer, make_client
from adapters.slack.settings import SlackSettings
from adapters.slack.validate import validate_message, validate_view
from bot.ports import Delivery, PermanentFailure, RetryLater
from bot.settings import Settings
from tests.e2e.slack.fake_slack import FakeSlack
from tests.e2e.slack.fakes import approval_card, order_card


def delivery(**kw: object) -> Delivery:
    return Delivery(**{"id": 1, "platform": "slack", "recipient": "U0MGR01", "card": approval_card(), **kw})


def test_send_to_user_opens_dm_once_and_returns_channel_ts_ref(deliverer: SlackDeliverer,
                                                               fake_slack: FakeSlack) -> None:
    receipt = deliverer.deliver(delivery())
    [opened] = fake_slack.of("conversations.open")
    assert opened.args["users"] == "U0MGR01"
    [posted] = fake_slack.of("chat.postMessage")
    assert posted.args["channel"] == "D0MGR01"
    assert validate_message(posted.args) == []
    assert receipt.ref is not None and receipt.ref.startswith("D0MGR01:1712345678.")
    deliverer.deliver(delivery(id=2))
    assert len(fake_slack.of("conversations.open")) == 1  # cached
    assert fake_slack.calls[0].headers["Authorization"] == "Bearer xoxb-test"


def test_send_to_channel_in_thread_and_ephemeral(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    receipt = deliverer.deliver(delivery(recipient="C0WAREHOUSE", recipient_kind="group", thread="1712.0001"))
    [posted] = fake_slack.of("chat.postMessage")
    assert (posted.args["channel"], posted.args["thread_ts"]) == ("C0WAREHOUSE", "1712.0001")
    assert receipt.ref is not None and receipt.ref.startswith("C0WAREHOUSE:")
    eph = deliverer.deliver(delivery(recipient="C0APPROVE", recipient_kind="group", ephemeral_user="U0MGR01",
                                     card=None, text="已同意 <SO-1> & 通知"))
    [call] = fake_slack.of("chat.postEphemeral")
    assert (call.args["channel"], call.args["user"]) == ("C0APPROVE", "U0MGR01")
    assert call.args["text"] == "已同意 &lt;SO-1&gt; &amp; 通知"
    assert eph.ref is None  # ephemeral messages cannot be updated
    assert fake_slack.of("conversations.open") == []


def test_update_uses_ref_channel_and_ts(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    receipt = deliverer.deliver(delivery(op="update", ref="C0APPROVE:1712345678.000200", text="王经理已同意"))
    [call] = fake_slack.of("chat.update")
    assert (call.args["channel"], call.args["ts"]) == ("C0APPROVE", "1712345678.000200")
    assert call.args["text"].startswith("王经理已同意\n")
    assert validate_message(call.args) == []
    assert receipt.ref == "C0APPROVE:1712345678.000200"


def test_update_of_a_vanished_message_posts_a_new_one(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.update", "message_not_found")
    receipt = deliverer.deliver(delivery(op="update", ref="C0APPROVE:1712345678.000200"))
    [posted] = fake_slack.of("chat.postMessage")
    assert posted.args["channel"] == "C0APPROVE"
    assert receipt.ref is not None and receipt.ref != "C0APPROVE:1712345678.000200"


def test_update_of_an_ephemeral_copy(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    """An ephemeral copy (ref None) is replaced through the response_url of a click on it, else left alone: no
    chat.update that cannot work and no alert about it."""
    assert deliverer.deliver(delivery(op="update", ref=None)).ref is None
    url = fake_slack.issue_response_url("U0MGR01", "C0SALES")
    deliverer.deliver(delivery(op="update", ref=None, ticket=url, text="王经理已同意"))
    [call] = fake_slack.of(url.removeprefix(fake_slack.url))
    assert call.args["replace_original"] is True and "王经理已同意" in call.args["text"]
    assert fake_slack.of("chat.update") == [] and fake_slack.of("chat.postMessage") == []
    with pytest.raises(PermanentFailure):
        deliverer.deliver(delivery(op="update", ref="no-colon"))


def test_home_publishes_view(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    deliverer.deliver(delivery(op="home", card=None, cards=[approval_card(), order_card(300)]))
    [call] = fake_slack.of("views.publish")
    assert call.args["user_id"] == "U0MGR01"
    assert validate_view(call.args["view"]) == []


def test_429_becomes_retry_later_with_retry_after(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", status=429, headers={"Retry-After": "7"})
    with pytest.raises(RetryLater) as info:
        deliverer.deliver(delivery(recipient="C0X", recipient_kind="group"))
    assert info.value.retry_after == 7.0


def test_client_retries_a_single_429_itself(settings: Settings, fake_slack: FakeSlack) -> None:
    deliverer = SlackDeliverer(SlackSettings.from_root(settings))  # default client: one RateLimitErrorRetryHandler retry
    fake_slack.fail("chat.postMessage", status=429, headers={"Retry-After": "0"})
    receipt = deliverer.deliver(delivery(recipient="C0X", recipient_kind="group"))
    assert receipt.ref is not None and len(fake_slack.of("chat.postMessage")) == 2


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "invalid_auth", "account_inactive",
                                   "token_revoked", "is_archived", "invalid_blocks"])
def test_permanent_errors(deliverer: SlackDeliverer, fake_slack: FakeSlack, error: str) -> None:
    fake_slack.fail("chat.postMessage", error)
    with pytest.raises(PermanentFailure) as info:
        deliverer.deliver(delivery(recipient="C0X", recipient_kind="group"))
    assert error in info.value.reason


def test_unknown_user_is_permanent(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    fake_slack.fail("conversations.open", "user_not_found")
    with pytest.raises(PermanentFailure, match="user_not_found"):
        deliverer.deliver(delivery(recipient="U0GONE"))


def test_server_errors_are_retry_later(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    fake_slack.fail("chat.postMessage", status=503, times=1)
    with pytest.raises(RetryLater):
        deliverer.deliver(delivery(recipient="C0X", recipient_kind="group"))
    fake_slack.fail("chat.postMessage", "internal_error")
    with pytest.raises(RetryLater):
        deliverer.deliver(delivery(recipient="C0X", recipient_kind="group"))


def test_connection_errors_are_retry_later(tmp_path: object) -> None:
    settings = SlackSettings(_env_file=None, slack_bot_token="xoxb-test", slack_signing_secret="s",
                             slack_api_url="http://127.0.0.1:9/api/")  # discard port: connection refused
    deliverer = SlackDeliverer(settings, client=make_client(settings, rate_limit_retries=0))
    deliverer.client.retry_handlers = []  # no backoff sleep in the test
    with pytest.raises(RetryLater):
        deliverer.deliver(delivery(recipient="C0X", recipient_kind="group"))


def test_link_by_email(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    assert deliverer.link_by_email("li.na@example.com") == "ULINA"
    assert deliverer.link_by_email("nobody@example.com") is None
    assert [c.args["email"] for c in fake_slack.of("users.lookupByEmail")] == ["li.na@example.com",
                                                                                 "nobody@example.com"]


def test_an_answer_goes_to_its_response_url_ephemerally(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    url = fake_slack.issue_response_url("U0MGR01", "C0SALES", "commands")  # the bot is not in #sales
    receipt = deliverer.deliver(delivery(recipient="C0SALES", recipient_kind="group", ephemeral_user="U0MGR01",
                                         extra={"response_url": url}, text="已同意 SO-1"))
    [call] = fake_slack.of(url.removeprefix(fake_slack.url))
    assert call.args["response_type"] == "ephemeral" and call.args["replace_original"] is False
    assert call.args["text"].startswith("已同意 SO-1") and validate_message(call.args) == []
    assert receipt.ref is None and fake_slack.of("chat.postEphemeral") == [] and fake_slack.of("chat.postMessage") == []


@pytest.mark.parametrize("how", ["expired", "used up", "never issued"])
def test_a_response_url_slack_no_longer_takes_falls_back_to_a_dm(deliverer: SlackDeliverer, fake_slack: FakeSlack,
                                                                 how: str) -> None:
    url = fake_slack.issue_response_url("U0MGR01", "C0SALES")
    if how == "expired":
        fake_slack.expire(url)
    elif how == "used up":
        for n in range(5):
            deliverer.deliver(delivery(id=n, extra={"response_url": url}, ephemeral_user="U0MGR01", text="x"))
    else:
        url = fake_slack.url + "/webhook/actions/never"
    receipt = deliverer.deliver(delivery(id=9, recipient="C0SALES", recipient_kind="group", ephemeral_user="U0MGR01",
                                         extra={"response_url": url}, text="已同意 SO-1"))
    [dm] = [c for c in fake_slack.of("chat.postMessage") if "已同意 SO-1" in c.args["text"]]
    assert dm.args["channel"] == "D0MGR01" and receipt.ref is not None and receipt.ref.startswith("D0MGR01:")


def test_a_response_url_that_fails_for_a_while_is_retried(deliverer: SlackDeliverer, fake_slack: FakeSlack) -> None:
    url = fake_slack.issue_response_url("U0MGR01", "C0SALES")
    fake_slack.fail(url.removeprefix(fake_slack.url), status=503)
    with pytest.raises(RetryLater):
        deliverer.deliver(delivery(extra={"response_url": url}, ephemeral_user="U0MGR01", text="x"))
    assert fake_slack.of("chat.postMessage") == []  # not a DM yet: the URL is still good for a retry


def test_an_ephemeral_answer_where_the_bot_is_not_a_member_becomes_a_dm(deliverer: SlackDeliverer,
                                                                        fake_slack: FakeSlack) -> None:
    for channel, error in (("C0SALES", "not_in_channel"), ("G0PRIVATE", "channel_not_found"),
                           ("D0HUMANS", "channel_not_found")):  # a public channel, a private one, a DM between people
        deliverer.deliver(delivery(recipient=channel, recipient_kind="group", ephemeral_user="U0MGR01", card=None,
                                   text=f"answer in {channel}"))
        assert fake_slack.of("chat.postEphemeral")[-1].reply["error"] == error
        assert fake_slack.of("chat.postMessage")[-1].args["channel"] == "D0MGR01"
    # a post meant for the whole channel has nobody to DM: a permanent failure, the dispatcher alerts an admin
    with pytest.raises(PermanentFailure, match="channel_not_found"):
        deliverer.deliver(delivery(recipient="G0PRIVATE", recipient_kind="group"))
